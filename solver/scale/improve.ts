// A local-search improver for remat plans: it takes a legal compute sequence within the
// budget and removes recomputations while the memory still fits. Removing the compute of
// x at position p (x was computed before, at p') keeps the earlier copy alive instead:
// the positions strictly between the earlier copy's last read and p gain bytes(x), the
// positions from p on are unchanged (the same value is alive there either way), and the
// inputs read at p may die earlier (only less memory). So the move fits exactly when
// max(during over that gap) + bytes(x) <= available is enough (a quick, safe test against
// the exact profile of sequence.ts); when no move passes it, moves are re-tried with the
// exact test of fitsWithout. Every pass starts from a full re-profile, so no figure drifts.
import type { IndexedGraph } from '../graph/validate.js';
import { profileOf, type SequenceProfile } from './sequence.js';

/** Options of the improver. */
export interface ImproveOptions {
  /** Stop starting new passes after this Date.now(). */
  deadline?: number;
  /** At most this many passes. */
  maxPasses?: number;
  /** Stop (keeping what was removed so far) once it aborts. */
  signal?: AbortSignal;
}

/** Result of an improvement: the sequence and its exact peak and cost. */
export interface Improved {
  sequence: number[];
  peak: number;
  cost: number;
  removed: number;
}

/**
 * Removes recomputations from a legal compute sequence while its peak stays within
 * `available` bytes (residentBytes excluded). The sequence's peak must already fit.
 */
export function improveSequence(graph: IndexedGraph, input: readonly number[], available: number, options: ImproveOptions = {}): Improved {
  let sequence = input.slice();
  let removed = 0;
  const maxPasses = options.maxPasses ?? 10_000;
  for (let pass = 0; pass < maxPasses; pass++) {
    if (pass > 0 && ((options.deadline !== undefined && Date.now() > options.deadline) || options.signal?.aborted)) break;
    const profile = profileOf(graph, sequence);
    if (typeof profile === 'string') throw new Error(`improveSequence: illegal sequence: ${profile}`);
    if (profile.peak > available) throw new Error('improveSequence: the starting sequence exceeds the budget');
    const length = sequence.length;
    const during = profile.during;
    const end = profile.end.slice();
    const previous = profile.previous.slice();
    const next = new Int32Array(length).fill(-1);
    for (let position = 0; position < length; position++) if (previous[position] >= 0) next[previous[position]] = position;
    const deleted = new Uint8Array(length);
    let acceptedThisPass = 0;

    // First, copies nobody reads (and that are not the copy a keep node ends with) go:
    // another copy of the node exists, and dropping one only lowers memory.
    for (let position = 0; position < length; position++) {
      const hasOther = previous[position] >= 0 || next[position] >= 0;
      if (end[position] === position && hasOther) {
        deleted[position] = 1;
        const before = previous[position];
        const after = next[position];
        if (after >= 0) previous[after] = before;
        if (before >= 0) next[before] = after;
        acceptedThisPass++;
      }
    }

    // Then recomputations, dearest first.
    const candidates: number[] = [];
    for (let position = 0; position < length; position++) if (!deleted[position] && previous[position] >= 0) candidates.push(position);
    candidates.sort(
      (a, b) => graph.cost[sequence[b]] - graph.cost[sequence[a]] || graph.bytes[sequence[a]] - graph.bytes[sequence[b]] || a - b,
    );
    let checked = 0;
    for (const position of candidates) {
      // The moves accepted so far keep the sequence legal and within the budget.
      if ((++checked & 63) === 0 && options.signal?.aborted) break;
      if (deleted[position]) continue;
      const before = previous[position];
      if (before < 0) continue;
      const node = sequence[position];
      const bytes = graph.bytes[node];
      const from = end[before] + 1;
      let fits = true;
      for (let at = from; at < position; at++) {
        if (!deleted[at] && during[at] + bytes > available) {
          fits = false;
          break;
        }
      }
      if (!fits) continue;
      for (let at = from; at < position; at++) during[at] += bytes;
      end[before] = end[position];
      deleted[position] = 1;
      const after = next[position];
      if (after >= 0) previous[after] = before;
      next[before] = after;
      acceptedThisPass++;
    }
    if (acceptedThisPass > 0) {
      removed += acceptedThisPass;
      sequence = sequence.filter((_, position) => !deleted[position]);
      continue;
    }
    // No move passed the quick test, which ignores that inputs read only by the removed
    // compute die earlier. Try the moves again with the exact test, dearest first, and take
    // the first that fits.
    let exact: number[] | null = null;
    const reads = readsOf(graph, sequence);
    for (const position of candidates) {
      if ((options.deadline !== undefined && Date.now() > options.deadline) || options.signal?.aborted) break;
      if (fitsWithout(graph, sequence, profile, position, available, reads)) {
        exact = sequence.slice(0, position).concat(sequence.slice(position + 1));
        break;
      }
    }
    if (!exact) break;
    removed++;
    sequence = exact;
  }
  const final = profileOf(graph, sequence);
  if (typeof final === 'string') throw new Error(`improveSequence: produced an illegal sequence: ${final}`);
  return { sequence, peak: final.peak, cost: final.cost, removed };
}

/**
 * For each position and each input its compute reads: the position of the copy it reads
 * and that copy's read before this one (-1 when this is its first), flattened by
 * `start` (the reads of position p are start[p] .. start[p + 1] - 1). One pass over the
 * sequence; fitsWithout reads it instead of walking back from every move it tests.
 */
export interface SequenceReads {
  start: Int32Array;
  copy: Int32Array;
  readBefore: Int32Array;
}

/** The reads of a legal compute sequence (SequenceReads). */
export function readsOf(graph: IndexedGraph, sequence: readonly number[]): SequenceReads {
  const start = new Int32Array(sequence.length + 1);
  for (let position = 0; position < sequence.length; position++)
    start[position + 1] = start[position] + graph.inputs[sequence[position]].length;
  const copy = new Int32Array(start[sequence.length]);
  const readBefore = new Int32Array(start[sequence.length]);
  const latest = new Int32Array(graph.size).fill(-1);
  // The last read so far of the copy made at each position.
  const lastRead = new Int32Array(sequence.length).fill(-1);
  for (let position = 0; position < sequence.length; position++) {
    const node = sequence[position];
    const inputs = graph.inputs[node];
    for (let index = 0; index < inputs.length; index++) {
      const made = latest[inputs[index]];
      copy[start[position] + index] = made;
      readBefore[start[position] + index] = made >= 0 ? lastRead[made] : -1;
      if (made >= 0) lastRead[made] = position;
    }
    latest[node] = position;
  }
  return { start, copy, readBefore };
}

/**
 * True when the sequence without its recomputation at `position` stays within `available`
 * (the sequence itself must fit): the exact peak of that sequence, as profileOf would give
 * it, without building it. When the removed copy is read, the earlier copy of the node
 * lives on from its last read to `position` (those positions gain its bytes); an input whose
 * copy was last read at `position` dies at its read before (or where it was made), so the
 * positions from there to `position` lose its bytes; every other position keeps its memory,
 * and `position` itself goes. `reads` (readsOf) may be shared by the tests of one sequence.
 */
export function fitsWithout(
  graph: IndexedGraph,
  sequence: readonly number[],
  profile: Pick<SequenceProfile, 'during' | 'end' | 'previous'>,
  position: number,
  available: number,
  reads: SequenceReads = readsOf(graph, sequence),
): boolean {
  const { during, end, previous } = profile;
  const node = sequence[position];
  const before = previous[position];
  if (before < 0) return false;
  // A copy nobody reads leaves the earlier copy's life as it was: nothing gains.
  if (end[position] === position) return true;
  const from = end[before] + 1;
  const bytes = graph.bytes[node];
  // At most every input dies earlier: a position above the budget even then refuses the
  // move without the walk below.
  const inputs = graph.inputs[node];
  let inputBytes = 0;
  for (const input of inputs) inputBytes += graph.bytes[input];
  for (let at = from; at < position; at++) if (during[at] + bytes - inputBytes > available) return false;
  // An input copy dies at `position` only when nothing after it reads it; without the
  // removed compute it dies at its read before, or where it was made when none.
  const dyingAt: number[] = [];
  const dyingBytes: number[] = [];
  for (let index = 0; index < inputs.length; index++) {
    const made = reads.copy[reads.start[position] + index];
    if (end[made] !== position) continue;
    const readBefore = reads.readBefore[reads.start[position] + index];
    dyingAt.push(readBefore >= 0 ? readBefore : made);
    dyingBytes.push(graph.bytes[inputs[index]]);
  }
  for (let at = from; at < position; at++) {
    let bytesAt = during[at] + bytes;
    for (let index = 0; index < dyingAt.length; index++) if (dyingAt[index] < at) bytesAt -= dyingBytes[index];
    if (bytesAt > available) return false;
  }
  return true;
}
