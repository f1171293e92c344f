// A local-search improver for remat plans: it takes a legal compute sequence within the
// budget and removes recomputations while the memory still fits. Removing the compute of
// x at position p (x was computed before, at p') keeps the earlier copy alive instead:
// the positions strictly between the earlier copy's last read and p gain bytes(x), the
// positions from p on are unchanged (the same value is alive there either way), and the
// inputs read at p may die earlier (only less memory). So the move fits exactly when
// max(during over that gap) + bytes(x) <= available is enough (a quick, safe test against
// the exact profile of sequence.ts); when no move passes it, moves are re-tried with an
// exact re-profile. Every pass starts from a full re-profile, so no figure drifts.
import type { IndexedGraph } from '../graph/validate.js';
import { profileOf } from './sequence.js';

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
    // compute die earlier. Try the moves again with an exact re-profile, dearest first,
    // and take the first that fits.
    let exact: number[] | null = null;
    for (const position of candidates) {
      if ((options.deadline !== undefined && Date.now() > options.deadline) || options.signal?.aborted) break;
      const trial = sequence.slice(0, position).concat(sequence.slice(position + 1));
      const profiled = profileOf(graph, trial);
      if (typeof profiled !== 'string' && profiled.peak <= available) {
        exact = trial;
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
