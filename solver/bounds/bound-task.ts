// The closure bound on its own thread (bound-worker.mjs loads this): the WASM HiGHS solves
// one model at a time and the separation rounds between its solves are plain JavaScript,
// so auto runs the bound here while its search runs on the main thread (both cores busy).
// It serves the thread pool's tasks (util/thread-worker.mjs), so the thread, its loader, its
// modules and its HiGHS thread (kept idle as on any thread, retired once its heap grows
// large: milp/highs-backend.ts) outlive one bound, and the next bound starts at once. A
// task's payload is a BoundRequest (the raw Graph, indexed again here); its result is the
// bound, and with intervals its one progress message the plain bound; a stop request aborts
// the task's signal, and the bound then returns its best dual bound.
import type { Graph } from '../graph/schema.js';
import { indexGraph } from '../graph/validate.js';
import { serveTasks } from '../util/thread-worker.mjs';
import type { ClosureBound } from './closure-milp.js';
import { closureBoundOf } from './relaxation.js';

/** A request of the main thread. */
export interface BoundRequest {
  graph: Graph;
  budgetBytes: number;
  timeLimitSeconds: number;
  maxNodes: number;
  /** Split nodes for intervals once the plain rows are met (closure-milp.ts; 0: none). */
  splitCount: number;
}

serveTasks<BoundRequest, ClosureBound | undefined, ClosureBound>(async (request, context) => {
  const graph = indexGraph(request.graph, { maxNodes: request.maxNodes });
  // This thread's time costs the search on the main thread nothing: once the plain rows are
  // met, the bound may go on with intervals (interval-closure.ts), and a round that stopped
  // at its slice is solved again with the time left (closure-milp.ts). The plain bound, with
  // its recomputed set, goes back as progress then: the search takes its guide from it.
  return await closureBoundOf(graph, request.budgetBytes, {
    timeLimitSeconds: request.timeLimitSeconds,
    signal: context.signal,
    resolve: true,
    splitCount: request.splitCount,
    onPlain: (bound) => context.progress(bound),
  });
});
