// A pool worker: runs plan() (or a sweep) off the main thread, one job at a time (serveTasks
// of the thread pool), streams progress events back and stops when told to: plan() and
// each budget of a sweep read the task's stop flags synchronously (solver/util/stop.ts) and
// return the best they have, which goes back like any result. A WASM heap abort is a solver failure
// (MEMPLAN_ERR_SOLVER_ABORTED); it leaves the thread's WASM unusable, so it is reported as
// fatal and the pool replaces the thread.
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
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

// Internal strategies for the service's own tests only (enabled by a pool option that no
// HTTP client can set): a slow cooperative solve, a solve that blocks its thread the way a
// WASM solve does, one that blocks it for three times its time limit (a solver that
// overruns), a solve whose heap aborts, and one that throws. Their plans are real plans
// replayed by the simulator.
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
  if (options.strategy === 'test:spin' || options.strategy === 'test:overrun') {
    const spinMs = options.strategy === 'test:overrun' ? 3 * limitMs : limitMs;
    while (Date.now() - started < spinMs) {
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

/** The strategy of the task running now, named by a heap abort's error. */
let currentStrategy = 'the solve';

/**
 * A failed job's error as the caller gets it: catalogued errors as they are, a WASM abort
 * as MEMPLAN_ERR_SOLVER_ABORTED, anything else fatal as a crash, the rest as a solver failure.
 */
function toWire(error: unknown, fatal: boolean): WireError {
  if (isMemplanError(error)) return { code: error.code, message: error.message, details: error.details };
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (isWasmAbort(error)) return new MemplanError('MEMPLAN_ERR_SOLVER_ABORTED', { phase: currentStrategy, detail }).toJSON();
  return new MemplanError(fatal ? 'MEMPLAN_ERR_WORKER_CRASHED' : 'MEMPLAN_ERR_SOLVER_FAILED', { detail }).toJSON();
}

serveTasks<JobPayload, Plan, ProgressEvent, WireError>(
  async ({ graph: rawGraph, options, kind = 'plan', sweep: sweepOptions }, task) => {
    // Each kind of job has its branch here and its result writer in lifecycle.ts (settleJob).
    if (kind !== 'plan' && !(kind === 'sweep' && sweepOptions))
      throw new MemplanError('MEMPLAN_ERR_INTERNAL', { detail: `unknown job kind ${JSON.stringify(kind)}` });
    currentStrategy = String((sweepOptions ?? options).strategy ?? 'auto');
    const graph = indexGraph(typeof rawGraph === 'string' ? (JSON.parse(rawGraph) as Graph) : rawGraph);
    const onProgress = (event: ProgressEvent) => task.progress(event);
    if (kind === 'sweep' && sweepOptions) {
      // A stopped sweep returns what it has; the manager decides what the stop means.
      const outcome = await sweep(graph, sweepOptions, { signal: task.signal, stopFlags: task.stopFlags, onProgress });
      const answer: SweepAnswer = { sweep: outcome.result, planTexts: outcome.plans.map(planText) };
      return answer as unknown as Plan;
    }
    const result =
      testStrategies && currentStrategy.startsWith('test:')
        ? await runTestStrategy(graph, options, task.signal, onProgress)
        : await plan(graph, options, { signal: task.signal, stopFlags: task.stopFlags, onProgress });
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
