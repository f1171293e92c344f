// A pool worker: runs plan() (or a sweep) off the main thread, one job at a time (serveTasks
// of the thread pool), streams progress events back and stops when told to cancel. A WASM heap
// abort leaves the solver unusable: it is reported as fatal and the pool replaces the thread.
import { workerData } from 'node:worker_threads';
import { isMemplanError, MemplanError } from '../../solver/errors.js';
import type { Graph } from '../../solver/graph/schema.js';
import { indexGraph, type IndexedGraph } from '../../solver/graph/validate.js';
import { plan, type PlanOptions } from '../../solver/plan.js';
import type { Plan } from '../../solver/plan-schema.js';
import type { ProgressEvent } from '../../solver/strategies/types.js';
import { sweep } from '../../solver/sweep/sweep.js';
import { isWasmAbort, serveTasks } from '../../solver/util/thread-worker.mjs';
import { type JobPayload, planText, type SweepAnswer, type WireError } from './protocol.js';

const testStrategies = Boolean((workerData as { testStrategies?: boolean } | undefined)?.testStrategies);

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

/** A failed job's error as the caller gets it: catalogued errors as they are, anything else as a solver failure or a crash. */
function toWire(error: unknown, fatal: boolean): WireError {
  if (isMemplanError(error)) return { code: error.code, message: error.message, details: error.details };
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new MemplanError(fatal ? 'MEMPLAN_ERR_WORKER_CRASHED' : 'MEMPLAN_ERR_SOLVER_FAILED', { detail }).toJSON();
}

serveTasks<JobPayload, Plan, ProgressEvent, WireError>(
  async ({ graph: rawGraph, options, sweep: sweepOptions }, task) => {
    const graph = indexGraph(typeof rawGraph === 'string' ? (JSON.parse(rawGraph) as Graph) : rawGraph);
    const onProgress = (event: ProgressEvent) => task.progress(event);
    if (sweepOptions) {
      const outcome = await sweep(graph, sweepOptions, { signal: task.signal, onProgress });
      const answer: SweepAnswer = { sweep: outcome.result, planTexts: outcome.plans.map(planText) };
      return answer as unknown as Plan;
    }
    const result =
      testStrategies && String(options.strategy).startsWith('test:')
        ? await runTestStrategy(graph, options, task.signal, onProgress)
        : await plan(graph, options, { signal: task.signal, onProgress });
    // plan() returned only finite figures (it throws otherwise); the text keeps them exact
    // and crosses the thread boundary without a structured clone of a large object.
    return planText(result) as unknown as Plan;
  },
  {
    // A WASM abort poisons the module instance: the pool replaces the thread.
    isFatal: (error) => !isMemplanError(error) && isWasmAbort(error),
    describeError: toWire,
  },
);
