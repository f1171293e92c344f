// Bounds on an integer grid. Without a host link or node options a schedule's makespan is
// the sum of the costs of its computations, so where every cost is an integer (Checkmate's
// public graphs: their costs are integers) every makespan is one too, and a lower bound L
// proves ceil(L). The rounding closes gaps that a bound's fraction leaves open: vgg_unet at
// 71.4 % of its peak has the closure bound 31,916.03 beside the optimal plan's 31,920, a gap
// of 0.0124 %; 31,917 leaves 0.0094 %, within the default 0.01 %.
import type { IndexedGraph } from '../graph/validate.js';
import { INTEGRAL_BOUND_SLACK } from '../limits.js';
import type { Transfer } from '../schedule/types.js';

const integralCache = new WeakMap<IndexedGraph, boolean>();

/** True when every remat-only makespan of the graph is an integer: no node options and integer costs. */
export function integralMakespans(graph: IndexedGraph): boolean {
  let integral = integralCache.get(graph);
  if (integral === undefined) {
    integral = !graph.hasOptions && graph.cost.every((cost) => Number.isInteger(cost));
    integralCache.set(graph, integral);
  }
  return integral;
}

/**
 * A proven lower bound on the makespan, rounded up to the next integer where every makespan
 * is one (no host link: copies take fractions of time), less INTEGRAL_BOUND_SLACK of it for
 * the solvers' float error; unchanged elsewhere.
 */
export function roundBoundUp(graph: IndexedGraph, transfer: Transfer | undefined, makespan: number): number {
  if (transfer !== undefined || !Number.isFinite(makespan) || !integralMakespans(graph)) return makespan;
  const rounded = Math.ceil(makespan - INTEGRAL_BOUND_SLACK * Math.max(1, Math.abs(makespan)));
  return Math.max(makespan, rounded);
}
