// The scale search on a second thread (search-worker.mjs loads this). auto's final search
// runs on the main thread; once the closure bound's thread is done, the second core would
// idle, so a search with other seeds runs here beside it (parallel-search.ts). It serves
// the thread pool's tasks (util/thread-worker.mjs): a task's payload is a SearchRequest
// (the raw Graph, indexed again here), its result the best plan found or null; a stop
// request aborts the task's signal, and the search then returns what it has.
import type { Graph } from '../graph/schema.js';
import { indexGraph } from '../graph/validate.js';
import type { IndexedStep } from '../schedule/simulate.js';
import { serveTasks } from '../util/thread-worker.mjs';
import { scaleSearch } from './multistart.js';

/** A request of the main thread. */
export interface SearchRequest {
  graph: Graph;
  budgetBytes: number;
  /** Seconds the search may take. */
  seconds: number;
  /** Plans to start from (compute/free schedules). */
  starts: IndexedStep[][];
  /** The search's round: its random moves' seeds (scale/multistart.ts). */
  round: number;
  /** Values the greedy evicts first (the closure bound's recomputed set), or none. */
  prefer?: number[];
  climb: boolean;
  maxNodes: number;
}

/** The best plan of a search on the second thread. */
export interface SearchAnswer {
  steps: IndexedStep[];
  cost: number;
}

serveTasks<SearchRequest, SearchAnswer | null>(async (request, context) => {
  const graph = indexGraph(request.graph, { maxNodes: request.maxNodes });
  const found = await scaleSearch(graph, request.budgetBytes, {
    deadline: Date.now() + Math.max(0, request.seconds) * 1000,
    starts: request.starts.map((steps) => ({ steps, from: 'second thread' })),
    restarts: true,
    climb: request.climb,
    prefer: request.prefer ? new Set(request.prefer) : undefined,
    round: request.round,
    signal: context.signal,
  });
  return found.found ? { steps: found.steps, cost: found.cost } : null;
});
