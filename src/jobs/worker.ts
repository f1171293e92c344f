// A pool worker: runs plan() off the main thread, one job at a time, streams progress
// events back over its port and stops when told to cancel. A WASM heap abort leaves the
// solver unusable, so the worker reports it and exits; the pool replaces it.
import { parentPort, workerData } from 'node:worker_threads';
import { isMemplanError, MemplanError } from '../../solver/errors.js';
import type { Graph } from '../../solver/graph/schema.js';
import { indexGraph, type IndexedGraph } from '../../solver/graph/validate.js';
import { plan, type PlanOptions } from '../../solver/plan.js';
import type { Plan } from '../../solver/plan-schema.js';
import type { ProgressEvent } from '../../solver/strategies/types.js';
import type { SweepOptions } from '../../solver/sweep/schema.js';
import { sweep } from '../../solver/sweep/sweep.js';
import type { ToMain, ToWorker } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('worker.ts runs inside a worker thread');
const testStrategies = Boolean((workerData as { testStrategies?: boolean } | undefined)?.testStrategies);
const controllers = new Map<string, AbortController>();

function send(message: ToMain): void {
  port!.postMessage(message);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

// Internal strategies for the service's own tests only (enabled by a pool option that no
// HTTP client can set): a slow cooperative solve, a solve that blocks its thread the way a
// WASM solve does, a solve whose heap aborts, and one that throws. Their plans are real
// plans replayed by the simulator.
async function runTestStrategy(
  graph: IndexedGraph,
  options: PlanOptions,
  signal: AbortSignal,
  onProgress: (event: ProgressEvent) => void,
): Promise<Plan> {
  const started = Date.now();
  const limitMs = (options.timeLimitSeconds ?? 2) * 1000;
  const base = { ...options, strategy: 'checkpoint-all' };
  if (options.strategy === 'test:throw') throw new TypeError('a bug in a strategy');
  if (options.strategy === 'test:abort') {
    await sleep(100, signal);
    throw new WebAssembly.RuntimeError('Aborted()');
  }
  if (options.strategy === 'test:spin') {
    while (Date.now() - started < limitMs) {
      // Busy on purpose: nothing on this thread runs until the loop ends.
    }
    return plan(graph, base);
  }
  const first = await plan(graph, base);
  const elapsed = () => (Date.now() - started) / 1000;
  if (first.predicted)
    onProgress({
      kind: 'incumbent',
      elapsedSeconds: elapsed(),
      makespan: first.predicted.makespan,
      peakBytes: first.predicted.peakBytes,
      strategy: 'checkpoint-all',
    });
  while (!signal.aborted && Date.now() - started < limitMs) {
    onProgress({ kind: 'bound', elapsedSeconds: elapsed(), bound: graph.baseCost, makespan: first.predicted?.makespan });
    await sleep(100, signal);
  }
  if (signal.aborted) return first;
  const second = await plan(graph, { ...options, strategy: 'auto' });
  if (!second.predicted || (first.predicted && first.predicted.makespan <= second.predicted.makespan)) return first;
  onProgress({
    kind: 'incumbent',
    elapsedSeconds: elapsed(),
    makespan: second.predicted.makespan,
    peakBytes: second.predicted.peakBytes,
    strategy: 'auto',
  });
  return second;
}

async function run(jobId: string, rawGraph: Graph, options: PlanOptions, sweepOptions?: SweepOptions): Promise<void> {
  const controller = new AbortController();
  controllers.set(jobId, controller);
  const onProgress = (event: ProgressEvent) => send({ type: 'progress', jobId, event });
  try {
    const graph = indexGraph(rawGraph);
    const hooks = { signal: controller.signal, onProgress };
    if (sweepOptions) {
      send({ type: 'sweepDone', jobId, outcome: await sweep(graph, sweepOptions, hooks) });
      return;
    }
    const result =
      testStrategies && String(options.strategy).startsWith('test:')
        ? await runTestStrategy(graph, options, controller.signal, onProgress)
        : await plan(graph, options, hooks);
    send({ type: 'done', jobId, plan: result });
  } catch (error) {
    if (isMemplanError(error)) {
      send({ type: 'failed', jobId, error: { code: error.code, message: error.message, details: error.details } });
    } else {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      // A WASM abort poisons the module instance: report it and let the pool replace us.
      const fatal = error instanceof WebAssembly.RuntimeError || /Aborted\(/.test(detail);
      const wire = new MemplanError(fatal ? 'MEMPLAN_ERR_WORKER_CRASHED' : 'MEMPLAN_ERR_SOLVER_FAILED', { detail }).toJSON();
      send({ type: 'failed', jobId, fatal, error: wire });
      if (fatal) setImmediate(() => process.exit(70));
    }
  } finally {
    controllers.delete(jobId);
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'run') void run(message.jobId, message.graph, message.options);
  else if (message.type === 'sweep') void run(message.jobId, message.graph, { budget: '100%' }, message.options);
  else if (message.type === 'cancel') controllers.get(message.jobId)?.abort();
});
