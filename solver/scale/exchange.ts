// The exchange descent: one recomputation of a plan goes, and the memory it saved is found
// again with cheaper recomputations elsewhere. Without the removed compute, the earlier copy
// of its value stays on the device up to the reads it served, and the sequence exceeds the
// budget at some positions. The repair then splits the lifetime of other values live at the
// first such position: a value is computed again just before its next read, so its earlier
// copy goes after its last read before that position. When that copy's inputs are no longer
// on the device there, they come too: a later computation of an input is moved up (no extra
// cost), or the input is computed once more. The repair takes at each step the split that
// lowers the excess the most per unit of cost (profiling a split only when a bound on that,
// reductionBound, beats the best so far), until the sequence fits, and gives up once
// what it added costs as much as what was removed. The local search of improve.ts then
// removes what the new sequence no longer needs, and the result replaces the plan when it is
// cheaper (first improvement: the pass starts again from the new plan).
// This is a move that neither the greedy nor the exclusion descent of multistart.ts makes:
// on mobilenet_v2 at 30 % the greedy recomputes a costly batch norm whose memory the cheap
// activation after it could have given, and on resnet50 at 30 % a plan recomputes layers
// whose memory a few cheaper recomputations free.
import type { IndexedGraph } from '../graph/validate.js';
import { EXCHANGE_CANDIDATES, EXCHANGE_INPUT_DEPTH, EXCHANGE_REPAIR_STEPS } from '../limits.js';
import { improveSequence } from './improve.js';
import { profileOf, type SequenceProfile } from './sequence.js';

/** Options of the exchange descent. */
export interface ExchangeOptions {
  /** Date.now() after which no new move is tried. */
  deadline: number;
  signal?: AbortSignal;
  /** Called between moves: the caller hands the event loop back there. */
  pause?: () => Promise<void>;
}

/** The result: the cheapest sequence found (the input when no move helped) and its figures. */
export interface Exchanged {
  sequence: number[];
  cost: number;
  peak: number;
  /** Moves accepted. */
  accepted: number;
}

/** The bytes by which a profile exceeds `available`, summed over positions, and the first such position (-1: none). */
export function excessOf(profile: SequenceProfile, available: number): { total: number; first: number } {
  let total = 0;
  let first = -1;
  for (let position = 0; position < profile.during.length; position++) {
    const over = profile.during[position] - available;
    if (over > 0) {
      total += over;
      if (first < 0) first = position;
    }
  }
  return { total, first };
}

function profiled(graph: IndexedGraph, sequence: readonly number[]): SequenceProfile | undefined {
  const profile = profileOf(graph, sequence);
  return typeof profile === 'string' ? undefined : profile;
}

/** The positions at which each node is computed, in order. */
function occurrencesOf(graph: IndexedGraph, sequence: readonly number[]): number[][] {
  const lists: number[][] = Array.from({ length: graph.size }, () => []);
  for (let position = 0; position < sequence.length; position++) lists[sequence[position]].push(position);
  return lists;
}

/** The index of the first entry of an ascending list that is at least `value` (the length when none is). */
function firstAtOrAfter(list: readonly number[], value: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (list[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The split of `node`'s lifetime: computed again just before position `at` (before the read
 * there), with the inputs that are no longer on the device at `moment` computed again, or
 * with `moveUp` moved up from a later computation where there is one (up to `depth` levels);
 * undefined when an input lies deeper. `extra` is the compute cost it adds, `moved` the
 * positions of the computations moved up (splitSequence builds the sequence).
 */
function splitLifetime(
  graph: IndexedGraph,
  profile: SequenceProfile,
  occurrences: readonly (readonly number[])[],
  node: number,
  at: number,
  moment: number,
  moveUp: boolean,
  depth: number,
): Split | undefined {
  const chain: number[] = [];
  const moved = new Set<number>();
  let extra = graph.cost[node];
  const add = (value: number, depth: number): boolean => {
    for (const input of graph.inputs[value]) {
      if (chain.includes(input)) continue;
      // The input's computations last before `at` and first at or after it (-1: none).
      const list = occurrences[input];
      const index = firstAtOrAfter(list, at);
      const latest = index > 0 ? list[index - 1] : -1;
      // An input still on the device at the moment is read where it is (its copy lives on to `at`).
      if (latest < 0 || profile.end[latest] >= moment || !graph.recomputable[input] || graph.bytes[input] === 0) continue;
      const later = moveUp && index < list.length ? list[index] : -1;
      if (later >= 0 && !moved.has(later)) moved.add(later);
      else if (depth === 0) return false;
      else extra += graph.cost[input];
      if (!add(input, depth - 1)) return false;
    }
    chain.push(value);
    return true;
  };
  if (!add(node, depth)) return undefined;
  return { chain, at, extra, moved };
}

/** A split of splitLifetime: `chain` computed just before position `at`, the positions in `moved` taken out, `extra` the compute cost it adds. */
export interface Split {
  chain: number[];
  at: number;
  extra: number;
  moved: Set<number>;
}

/** The sequence of a split. */
export function splitSequence(sequence: readonly number[], split: Split): number[] {
  const result: number[] = [];
  for (let position = 0; position < sequence.length; position++) {
    if (position === split.at) result.push(...split.chain);
    if (!split.moved.has(position)) result.push(sequence[position]);
  }
  if (split.at === sequence.length) result.push(...split.chain);
  return result;
}

/**
 * For each position up to `moment`, the last position up to `moment` that reads the value
 * it computes (the position itself when none does).
 */
function lastReadsUpTo(graph: IndexedGraph, sequence: readonly number[], moment: number): Int32Array {
  const lastRead = new Int32Array(moment + 1);
  const latest = new Int32Array(graph.size).fill(-1);
  for (let position = 0; position <= moment; position++) {
    const node = sequence[position];
    for (const input of graph.inputs[node]) if (latest[input] >= 0) lastRead[latest[input]] = position;
    lastRead[position] = position;
    latest[node] = position;
  }
  return lastRead;
}

/**
 * An upper bound on how much a split lowers the summed excess over `available`, without
 * profiling its sequence. Only two things in it lower the memory at a position: the split
 * value's earlier copy goes after its last read up to the moment instead of at its next
 * read, and a computation moved up leaves its position (its own excess goes) and reads its
 * inputs earlier (the copies it read last may go sooner, between the read and where it was). Everything
 * else a split does (the chain's new copies, inputs kept to the chain) only adds memory.
 * Each position's decrease is capped by its excess.
 */
function reductionBound(
  graph: IndexedGraph,
  sequence: readonly number[],
  profile: SequenceProfile,
  available: number,
  split: Split,
  position: number,
  lastRead: Int32Array,
  occurrences: readonly (readonly number[])[],
): number {
  const over = (at: number) => Math.max(0, profile.during[at] - available);
  const capped = (from: number, to: number, bytes: number) => {
    let sum = 0;
    for (let at = from; at <= to; at++) sum += Math.min(bytes, over(at));
    return sum;
  };
  let bound = capped(lastRead[position] + 1, Math.min(profile.end[position], split.at - 1), graph.bytes[sequence[position]]);
  for (const moved of split.moved) {
    // Only an input copy whose last read was the moved computation can go sooner.
    let inputBytes = 0;
    for (const input of graph.inputs[sequence[moved]]) {
      const list = occurrences[input];
      const instance = list[firstAtOrAfter(list, moved) - 1];
      if (instance !== undefined && profile.end[instance] === moved) inputBytes += graph.bytes[input];
    }
    bound += over(moved) + capped(split.at, moved - 1, inputBytes);
  }
  return bound;
}

/** A split a repair step may take, with an upper bound on its score (reductionBound over its extra cost) and its rank in candidate order. */
export interface CandidateSplit {
  split: Split;
  bound: number;
  rank: number;
}

/**
 * The splits of a repair step at `moment` (the first position over `available`) for the
 * values computed at `positions`, in candidate order: each split's value is computed again
 * before its next read after the moment, moving its inputs' later computations up where it
 * can and computing them again otherwise (both when they differ), each with a compute cost
 * that keeps `cost.added` (what the repair added so far) under `cost.allowance`.
 */
export function candidateSplits(
  graph: IndexedGraph,
  sequence: readonly number[],
  profile: SequenceProfile,
  available: number,
  moment: number,
  positions: readonly number[],
  cost: { added: number; allowance: number },
  limits: RepairLimits,
): CandidateSplit[] {
  const occurrences = occurrencesOf(graph, sequence);
  const lastRead = lastReadsUpTo(graph, sequence, moment);
  // Each value's next read after the moment (the end of the sequence for a kept value read no more).
  const nextRead = new Int32Array(graph.size).fill(sequence.length);
  for (let later = sequence.length - 1; later > moment; later--) for (const input of graph.inputs[sequence[later]]) nextRead[input] = later;
  const splits: CandidateSplit[] = [];
  for (const position of positions) {
    const read = nextRead[sequence[position]];
    // Moving an input's later computation up costs nothing but keeps it longer; computing it again costs.
    for (const moveUp of [true, false]) {
      const split = splitLifetime(graph, profile, occurrences, sequence[position], read, moment, moveUp, limits.inputDepth);
      if (!split || cost.added + split.extra >= cost.allowance) continue;
      const reduction = reductionBound(graph, sequence, profile, available, split, position, lastRead, occurrences);
      splits.push({ split, bound: reduction / Math.max(split.extra, Number.MIN_VALUE), rank: splits.length });
      if (split.moved.size === 0) break;
    }
  }
  return splits;
}

/** How far a repair may go: the levels of inputs a split brings along, and the splits it makes at most. */
export interface RepairLimits {
  inputDepth: number;
  steps: number;
}

/** The exchange descent's limits: a move is small, and gives up soon. */
const EXCHANGE_REPAIR: RepairLimits = { inputDepth: EXCHANGE_INPUT_DEPTH, steps: EXCHANGE_REPAIR_STEPS };

/**
 * Brings a sequence that exceeds `available` back within it by splitting lifetimes (file
 * comment), adding less than `allowance` of compute cost; undefined when it cannot (or the deadline passed).
 */
export function repair(
  graph: IndexedGraph,
  start: number[],
  available: number,
  allowance: number,
  deadline: number,
  limits: RepairLimits = EXCHANGE_REPAIR,
  signal?: AbortSignal,
): number[] | undefined {
  let sequence = start;
  let added = 0;
  // Each step starts from the profile of the split the step before took.
  let current = profiled(graph, sequence);
  // One step profiles a sequence per candidate whose bound may beat the best so far: up to
  // EXCHANGE_CANDIDATES times two, on a 4,000-node graph most of a second.
  for (let step = 0; step < limits.steps && Date.now() <= deadline && signal?.aborted !== true; step++) {
    const profile = current;
    if (!profile) return undefined;
    const excess = excessOf(profile, available);
    if (excess.first < 0) return sequence;
    const moment = excess.first;
    // The values live across the moment that a later read needs again, the most bytes per cost first.
    const live: number[] = [];
    for (let position = 0; position < moment; position++) {
      const node = sequence[position];
      if (!(profile.end[position] > moment) || !graph.recomputable[node] || graph.bytes[node] === 0) continue;
      if (added + graph.cost[node] < allowance) live.push(position);
    }
    const worth = (node: number) => graph.bytes[node] / Math.max(graph.cost[node], Number.MIN_VALUE);
    live.sort((a, b) => worth(sequence[b]) - worth(sequence[a]) || a - b);
    if (live.length === 0) return undefined;
    const splits = candidateSplits(
      graph,
      sequence,
      profile,
      available,
      moment,
      live.slice(0, EXCHANGE_CANDIDATES),
      { added, allowance },
      limits,
    );
    // Profiled in decreasing bound, each only while it may beat the best so far: the highest
    // score wins, the earliest in candidate order among equals, as when every split was
    // profiled (profiling is most of a repair's time).
    splits.sort((a, b) => b.bound - a.bound || a.rank - b.rank);
    let best: { sequence: number[]; profile: SequenceProfile; extra: number; score: number; rank: number } | undefined;
    for (const { split, bound, rank } of splits) {
      if (best && (bound < best.score || (bound === best.score && rank > best.rank))) break;
      const candidate = splitSequence(sequence, split);
      const after = profiled(graph, candidate);
      if (after && after.during[moment] < profile.during[moment]) {
        const score = (excess.total - excessOf(after, available).total) / Math.max(split.extra, Number.MIN_VALUE);
        if (!best || score > best.score || (score === best.score && rank < best.rank))
          best = { sequence: candidate, profile: after, extra: split.extra, score, rank };
      }
    }
    if (!best) return undefined;
    sequence = best.sequence;
    current = best.profile;
    added += best.extra;
  }
  return undefined;
}

/**
 * The exchange descent from a legal sequence within `available` bytes (residentBytes
 * excluded): the file comment. Every accepted sequence is legal, within `available`, and
 * cheaper than the one before.
 */
export async function exchangeDescent(
  graph: IndexedGraph,
  input: readonly number[],
  available: number,
  options: ExchangeOptions,
): Promise<Exchanged> {
  const start = profiled(graph, input);
  if (!start || start.peak > available) throw new Error('exchangeDescent: the starting sequence is illegal or exceeds the budget');
  let current = { sequence: input.slice(), cost: start.cost, peak: start.peak };
  let accepted = 0;
  const stopped = () => options.signal?.aborted === true || Date.now() > options.deadline;
  // After an accepted move the scan goes on from where it was (the removals before it
  // failed a moment ago and mostly fail again): it ends once every removal of the current
  // plan has failed in a row.
  let resume = 0;
  for (let moved = true; moved && !stopped(); ) {
    moved = false;
    const profile = profiled(graph, current.sequence)!;
    // Each recomputation of the plan, the costliest first.
    const recomputations = [...current.sequence.keys()]
      .filter((position) => profile.previous[position] >= 0 && graph.cost[current.sequence[position]] > 0)
      .sort((a, b) => graph.cost[current.sequence[b]] - graph.cost[current.sequence[a]] || a - b);
    for (let step = 0; step < recomputations.length && !stopped(); step++) {
      const index = (resume + step) % recomputations.length;
      const position = recomputations[index];
      await options.pause?.();
      const removed = current.sequence[position];
      const without = current.sequence.slice();
      without.splice(position, 1);
      const repaired = repair(graph, without, available, graph.cost[removed], options.deadline);
      const improved = repaired && improveSequence(graph, repaired, available, { deadline: options.deadline, signal: options.signal });
      if (improved && improved.cost < current.cost * (1 - Number.EPSILON * 16)) {
        current = { sequence: improved.sequence, cost: improved.cost, peak: improved.peak };
        accepted++;
        resume = index;
        moved = true;
        break;
      }
    }
  }
  return { ...current, accepted };
}
