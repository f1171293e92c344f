// The closure bound on its own thread (bound-worker.mjs loads this): the WASM HiGHS solves
// one model at a time and the separation rounds between its solves are plain JavaScript,
// so auto runs the bound here while its search runs on the main thread (both cores busy).
// Messages in: {type: 'closure', graph, budgetBytes, timeLimitSeconds} (the raw Graph,
// indexed again here), {type: 'stop'}. Out: {type: 'done', result} or {type: 'error', message}.
import { parentPort } from 'node:worker_threads';
import type { Graph } from '../graph/schema.js';
import { indexGraph } from '../graph/validate.js';
import { shutdownHighsWorkers } from '../milp/highs-backend.js';
import { closureBoundOf } from './relaxation.js';

/** A request of the main thread. */
export type BoundRequest =
  | { type: 'closure'; graph: Graph; budgetBytes: number; timeLimitSeconds: number; maxNodes: number }
  | { type: 'stop' };

const port = parentPort;
if (port) {
  const controller = new AbortController();
  port.on('message', async (request: BoundRequest) => {
    if (request.type === 'stop') {
      controller.abort();
      return;
    }
    try {
      const graph = indexGraph(request.graph, { maxNodes: request.maxNodes });
      const result = await closureBoundOf(graph, request.budgetBytes, {
        timeLimitSeconds: request.timeLimitSeconds,
        signal: controller.signal,
      });
      port.postMessage({ type: 'done', result });
    } catch (error) {
      port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) });
    } finally {
      await shutdownHighsWorkers();
    }
  });
}
