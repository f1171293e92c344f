// A bracket for the smallest feasible budget of a graph: a proven floor (no legal schedule
// peaks lower) and the smallest peak of a legal schedule found (a budget that has a plan).
// The floor is the contract's (graph/analysis.ts: single nodes and the keep nodes at the
// end), raised without a host link by the closure floors: what every remat schedule holds
// at each node's first computation (bounds/closure.ts), and at the last computation of any
// node of a set of wide ones (bounds/last-computation.ts), the higher of the two. The top
// is the smallest-peak search (smallest-peak.ts), or what the caller reached already. Both are reported in
// infeasible plans and by analyze. On a graph with node options the closure floor is
// taken on its two relaxations (bounds/relaxation.ts: by smallest forms, and the options
// relaxation), the higher of the two.
import { rematFloor } from '../bounds/closure.js';
import { firstComputations } from '../bounds/closure-milp.js';
import { lastComputationFloor } from '../bounds/last-computation.js';
import { floorRelaxations } from '../bounds/relaxation.js';
import { peakFloor } from '../graph/analysis.js';
import type { IndexedGraph } from '../graph/validate.js';
import { BOUND_MAX_NODES, BRACKET_SEARCH_MAX_NODES, LAST_FLOOR_TIME_SHARE } from '../limits.js';
import type { SmallestBudget } from '../plan-schema.js';
import { smallestPeakSearch, smallestPeakSearchAsync } from './smallest-peak.js';

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

/**
 * The proven floor of a graph: the contract's, and without swaps the closure floors until
 * `deadline`; with `known` (a floor proven earlier), the higher of it and those, the closure
 * floors working out only what could beat it.
 */
export function provenFloor(graph: IndexedGraph, swaps: boolean, deadline: number, known?: ProvenFloor): ProvenFloor {
  const contract = peakFloor(graph, { swaps });
  const start: ProvenFloor = known && known.floorBytes > contract ? known : { floorBytes: contract, floorSource: 'contract-floor' };
  if (swaps || graph.size > BOUND_MAX_NODES) return start;
  // The last-computation floor first, in at most LAST_FLOOR_TIME_SHARE of the time: where it
  // bites it takes a fraction of the first-computation floor's time (0.8 s against 3 s on a
  // 4,000-node LSTM), and what it proves lets that one skip the nodes that cannot beat it.
  // With options, both relaxations give floors: the higher.
  const relaxations = floorRelaxations(graph);
  const now = Date.now();
  const lastDeadline = now + (deadline - now) * LAST_FLOOR_TIME_SHARE;
  let best = { bytes: start.floorBytes, witness: -1 };
  for (const relaxed of relaxations) {
    const last = lastComputationFloor(relaxed, { above: best.bytes, deadline: lastDeadline });
    if (last.witness >= 0) best = last;
  }
  for (const relaxed of relaxations) {
    const { ancestry, firsts } = firstComputations(relaxed);
    const closure = rematFloor(ancestry, firsts, best.bytes, deadline);
    if (closure.witness >= 0 && closure.bytes > best.bytes) best = closure;
  }
  return best.witness >= 0 ? { floorBytes: best.bytes, floorSource: 'closure-floor' } : start;
}

/** The bracket of the smallest feasible budget (see the file comment). */
export function smallestBudget(graph: IndexedGraph, options: BracketOptions): SmallestBudget {
  const now = Date.now();
  const floor = provenFloor(graph, options.swaps ?? false, now + (options.deadline - now) / 2, options.knownFloor);
  // The search builds its starting orders in full before its first check of the deadline:
  // past BRACKET_SEARCH_MAX_NODES a synchronous caller gets the floor alone.
  const search =
    options.floorOnly || graph.size > BRACKET_SEARCH_MAX_NODES
      ? undefined
      : smallestPeakSearch(graph, { deadline: options.deadline, floorBytes: floor.floorBytes, signal: options.signal });
  return withTop(floor, options.reachedBytes, search?.peakBytes);
}

/** The same bracket, its search handing the event loop back now and then (auto). */
export async function smallestBudgetAsync(graph: IndexedGraph, options: BracketOptions): Promise<SmallestBudget> {
  const now = Date.now();
  const floor = provenFloor(graph, options.swaps ?? false, now + (options.deadline - now) / 2, options.knownFloor);
  const search = options.floorOnly
    ? undefined
    : await smallestPeakSearchAsync(graph, { deadline: options.deadline, floorBytes: floor.floorBytes, signal: options.signal });
  return withTop(floor, options.reachedBytes, search?.peakBytes);
}

/** The floor with the smallest of the peaks reached as its top (none when none was). */
function withTop(floor: ProvenFloor, ...peaks: (number | undefined)[]): SmallestBudget {
  const reached = peaks.filter((peak): peak is number => peak !== undefined);
  return reached.length ? { ...floor, foundBytes: Math.min(...reached) } : floor;
}
