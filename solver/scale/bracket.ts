// A bracket for the smallest feasible budget of a graph: a proven floor (no legal schedule
// peaks lower) and the smallest peak of a legal schedule found (a budget that has a plan).
// The floor is the contract's (graph/analysis.ts: single nodes and the keep nodes at the
// end), raised without a host link by the closure floors: what every remat schedule holds
// at each node's first computation (bounds/closure.ts), and at the last computation of any
// node of a set of wide ones (bounds/last-computation.ts); and by the last-arrival floor:
// the nodes a computation needs at once, traced back to the sources (bounds/arrival.ts).
// The highest of them is the floor. The top is the smallest of the last-arrival search's
// schedule, the smallest-peak search (smallest-peak.ts), and what the caller reached
// already; the search is skipped once the top meets the floor. Both ends are reported in
// infeasible plans and by analyze. On a graph with node options the floors are taken on its
// two relaxations (bounds/relaxation.ts: by smallest forms, and the options relaxation), the
// higher of the two.
import { arrivalFloor } from '../bounds/arrival.js';
import { rematFloor } from '../bounds/closure.js';
import { firstComputations } from '../bounds/closure-milp.js';
import { lastComputationFloor } from '../bounds/last-computation.js';
import { floorRelaxations } from '../bounds/relaxation.js';
import { peakFloor } from '../graph/analysis.js';
import type { IndexedGraph } from '../graph/validate.js';
import { BOUND_MAX_NODES, BRACKET_SEARCH_MAX_NODES, LAST_FLOOR_TIME_SHARE } from '../limits.js';
import type { SmallestBudget } from '../plan-schema.js';
import { profileOf, sequenceToSteps } from './sequence.js';
import { type SmallestPeak, smallestPeakSearch, smallestPeakSearchAsync } from './smallest-peak.js';

/** Options: the time, whether swaps are allowed, and a peak already reached. */
export interface BracketOptions {
  /** Date.now() by which the search stops (the floor gets half of the time up to it). */
  deadline: number;
  /** A host link is given: the floor with swaps, and no remat-only argument. */
  swaps?: boolean;
  /** The smallest peak already reached elsewhere (residentBytes included). */
  reachedBytes?: number;
  /** Skip the search: only the floor and `reachedBytes`. */
  floorOnly?: boolean;
  /** A floor proven earlier (auto's smallest-peak phase): the floor is the higher of it and what this call proves. */
  knownFloor?: ProvenFloor;
  signal?: AbortSignal;
}

/** A proven floor and the argument that gives it. */
export type ProvenFloor = Pick<SmallestBudget, 'floorBytes' | 'floorSource'>;

/** A proven floor, and a schedule the last-arrival argument built on the way (its peak replayed), where it built one. */
export interface FloorAndSchedule extends ProvenFloor {
  reached?: SmallestPeak;
}

/**
 * The proven floor of a graph: the contract's, and without swaps the closure and last-arrival
 * floors until `deadline`; with `known` (a floor proven earlier), the higher of it and those,
 * each working out only what could beat it. `reached` is the last-arrival search's schedule
 * where it built one (at the floor on graphs without keep nodes whose nodes are all
 * recomputable).
 */
export function provenFloor(graph: IndexedGraph, swaps: boolean, deadline: number, known?: ProvenFloor): FloorAndSchedule {
  const contract = peakFloor(graph, { swaps });
  const start: ProvenFloor =
    known && known.floorBytes > contract
      ? { floorBytes: known.floorBytes, floorSource: known.floorSource }
      : { floorBytes: contract, floorSource: 'contract-floor' };
  if (swaps || graph.size > BOUND_MAX_NODES) return start;
  // The last-computation floor first, in at most LAST_FLOOR_TIME_SHARE of the time: where it
  // bites it takes a fraction of the first-computation floor's time (0.8 s against 3 s on a
  // 4,000-node LSTM), and what it proves lets that one skip the nodes that cannot beat it.
  // With options, both relaxations give floors: the higher.
  const relaxations = floorRelaxations(graph);
  const now = Date.now();
  const lastDeadline = now + (deadline - now) * LAST_FLOOR_TIME_SHARE;
  let best = { bytes: start.floorBytes, witness: -1 };
  let source: ProvenFloor['floorSource'] = 'closure-floor';
  for (const relaxed of relaxations) {
    const last = lastComputationFloor(relaxed, { above: best.bytes, deadline: lastDeadline });
    if (last.witness >= 0) best = last;
  }
  // Then the first-computation floor, and the last-arrival floor in the time left: each
  // works out only what could beat the floors before it.
  for (const relaxed of relaxations) {
    const { ancestry, firsts } = firstComputations(relaxed);
    const closure = rematFloor(ancestry, firsts, best.bytes, deadline);
    if (closure.witness >= 0 && closure.bytes > best.bytes) best = closure;
  }
  let reached: SmallestPeak | undefined;
  for (const relaxed of relaxations) {
    // A floor this argument proved before: its search goes on from every node, for the schedule.
    const arrival = arrivalFloor(relaxed, { above: best.bytes, deadline, full: known?.floorSource === 'arrival-floor' });
    if (arrival.witness >= 0 && arrival.bytes > best.bytes) {
      best = arrival;
      source = 'arrival-floor';
    }
    // Its schedule, where it built one on the graph itself: often the smallest peak known.
    if (arrival.sequence && relaxed === graph) reached = scheduleAt(graph, arrival.sequence);
  }
  const floor = best.witness >= 0 ? { floorBytes: best.bytes, floorSource: source } : start;
  return reached ? { ...floor, reached } : floor;
}

/** A legal compute sequence as a schedule with its replayed peak (residentBytes included); undefined when illegal. */
function scheduleAt(graph: IndexedGraph, sequence: readonly number[]): SmallestPeak | undefined {
  const profile = profileOf(graph, sequence);
  if (typeof profile === 'string') return undefined;
  return { peakBytes: profile.peak + graph.residentBytes, steps: sequenceToSteps(graph, sequence) };
}

/** Whether a peak reached (the floor's schedule, or the caller's) meets the floor: no search can go lower. */
function closedAtFloor(floor: FloorAndSchedule, reachedBytes: number | undefined): boolean {
  return Math.min(floor.reached?.peakBytes ?? Infinity, reachedBytes ?? Infinity) <= floor.floorBytes;
}

/** The bracket of the smallest feasible budget (see the file comment). */
export function smallestBudget(graph: IndexedGraph, options: BracketOptions): SmallestBudget {
  const now = Date.now();
  const floor = provenFloor(graph, options.swaps ?? false, now + (options.deadline - now) / 2, options.knownFloor);
  // The search builds its starting orders in full before its first check of the deadline:
  // past BRACKET_SEARCH_MAX_NODES a synchronous caller gets the floor alone.
  const search =
    options.floorOnly || graph.size > BRACKET_SEARCH_MAX_NODES || closedAtFloor(floor, options.reachedBytes)
      ? undefined
      : smallestPeakSearch(graph, { deadline: options.deadline, floorBytes: floor.floorBytes, signal: options.signal });
  return withTop(floor, options.reachedBytes, search?.peakBytes, floor.reached?.peakBytes);
}

/** The same bracket, its search handing the event loop back now and then (auto). */
export async function smallestBudgetAsync(graph: IndexedGraph, options: BracketOptions): Promise<SmallestBudget> {
  const now = Date.now();
  const floor = provenFloor(graph, options.swaps ?? false, now + (options.deadline - now) / 2, options.knownFloor);
  // A schedule at the floor closes the bracket: no search can go lower.
  const search =
    options.floorOnly || closedAtFloor(floor, options.reachedBytes)
      ? undefined
      : await smallestPeakSearchAsync(graph, { deadline: options.deadline, floorBytes: floor.floorBytes, signal: options.signal });
  return withTop(floor, options.reachedBytes, search?.peakBytes, floor.reached?.peakBytes);
}

/** The floor with the smallest of the peaks reached as its top (none when none was). */
function withTop(floor: ProvenFloor, ...peaks: (number | undefined)[]): SmallestBudget {
  const reached = peaks.filter((peak): peak is number => peak !== undefined);
  const proven = { floorBytes: floor.floorBytes, floorSource: floor.floorSource };
  return reached.length ? { ...proven, foundBytes: Math.min(...reached) } : proven;
}
