// HiGHS (npm `highs`, WebAssembly) behind the backend interface. Every solve runs in a
// worker_threads Worker (highs-worker.mjs): a solve blocks its thread, so the main
// thread stays live and two solves can run at once. Stop-on-request goes through a
// shared flag that the worker's interrupt callbacks read; the time limit is HiGHS's own
// and is also enforced from outside (a worker that overruns it is terminated, keeping
// the best incumbent it streamed). A worker whose WASM heap aborted, or grew past
// RETIRE_HEAP_BYTES (the heap never shrinks), is replaced.
import { Worker } from 'node:worker_threads';
import {
  BOUND_EVERY_SECONDS,
  BOUND_PROGRESS_STEP,
  HIGHS_GRACE_SECONDS,
  HIGHS_STOP_GRACE_SECONDS,
  MAX_IDLE_HIGHS_WORKERS,
  MIN_HIGHS_SECONDS,
  RETIRE_HEAP_BYTES,
} from '../limits.js';
import type { MilpBackend, SolveOptions, SolveProgress, SolveResult } from './backend.js';
import { writeLp } from './lp-writer.js';
import type { Model, ModelArrays } from './model.js';
import { statusMeaning } from './status.js';

/** The version of the HiGHS solver inside highs@1.15.3. */
export const HIGHS_VERSION = '1.15.1 (highs-js 1.15.3, WebAssembly)';

interface WorkerDone {
  code: number;
  hasSolution: boolean;
  objective?: number;
  bound?: number;
  gap?: number;
  values?: Float64Array;
  nodes: number;
  wallSeconds: number;
  threadId: number;
  heapBytes: number;
}

type WorkerMessage =
  | { type: 'incumbent'; id: number; elapsedSeconds: number; objective?: number; bound?: number; gap?: number; values: Float64Array }
  | { type: 'bound'; id: number; elapsedSeconds: number; bound: number; gap?: number }
  | { type: 'done'; id: number; result: WorkerDone }
  | { type: 'error'; id: number; message: string; fatal: boolean };

const idle: Worker[] = [];
let nextId = 1;

function spawnWorker(): Worker {
  const worker = new Worker(new URL('./highs-worker.mjs', import.meta.url), { execArgv: [] });
  worker.unref();
  return worker;
}

function acquireWorker(): Worker {
  return idle.pop() ?? spawnWorker();
}

function releaseWorker(worker: Worker, healthy: boolean): void {
  if (healthy && idle.length < MAX_IDLE_HIGHS_WORKERS) {
    worker.removeAllListeners('message');
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    idle.push(worker);
    return;
  }
  void worker.terminate();
}

/** Terminates the idle HiGHS workers (tests, shutdown). */
export async function shutdownHighsWorkers(): Promise<void> {
  const workers = idle.splice(0);
  await Promise.all(workers.map((worker) => worker.terminate()));
}

/** Solves models with HiGHS in worker threads. */
export class HighsBackend implements MilpBackend {
  readonly name = 'highs';
  readonly version = HIGHS_VERSION;

  /** Solves a model (or its LP relaxation); never throws for solver trouble, it reports stop 'error'. */
  solve(model: Model, options: SolveOptions): Promise<SolveResult> {
    const payload = options.viaLpText ? { lpText: writeLp(model) } : { arrays: model.toArrays() };
    return this.run(payload, !options.relaxation && model.hasIntegers, options);
  }

  /** Solves a model given as CPLEX-LP text (debugging, models written elsewhere). */
  solveLpText(lpText: string, options: SolveOptions): Promise<SolveResult> {
    return this.run({ lpText }, !options.relaxation, options);
  }

  private run(payload: { lpText: string } | { arrays: ModelArrays }, isMip: boolean, options: SolveOptions): Promise<SolveResult> {
    const id = nextId++;
    const started = Date.now();
    const stopBuffer = new SharedArrayBuffer(4);
    const stopFlag = new Int32Array(stopBuffer);
    const worker = acquireWorker();
    let best: { objective: number; values: Float64Array; bound?: number; gap?: number } | null = null;
    let bestBound: number | undefined;

    return new Promise<SolveResult>((resolve) => {
      let settled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const elapsed = () => (Date.now() - started) / 1000;
      const finish = (result: SolveResult, healthy: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(watchdog);
        if (killTimer) clearTimeout(killTimer);
        options.signal?.removeEventListener('abort', onAbort);
        releaseWorker(worker, healthy);
        resolve(result);
      };
      // The result when the worker cannot answer: the best incumbent it streamed.
      const fromStream = (stop: SolveResult['stop'], error?: string): SolveResult => ({
        stop,
        solverStatus: stop,
        hasSolution: best !== null,
        optimal: false,
        objective: best?.objective,
        bound: bestBound,
        gap: best && bestBound !== undefined ? relativeGap(best.objective, bestBound) : undefined,
        values: best?.values,
        nodes: 0,
        wallSeconds: elapsed(),
        threadId: worker.threadId,
        error,
      });
      const kill = (stop: SolveResult['stop'], error?: string) => finish(fromStream(stop, error), false);
      const onAbort = () => {
        Atomics.store(stopFlag, 0, 1);
        if (!killTimer) killTimer = setTimeout(() => kill('interrupted'), HIGHS_STOP_GRACE_SECONDS * 1000);
      };
      const watchdog = setTimeout(
        () => {
          Atomics.store(stopFlag, 0, 1);
          killTimer = setTimeout(() => kill('timeLimit'), HIGHS_STOP_GRACE_SECONDS * 1000);
        },
        (options.timeLimitSeconds + HIGHS_GRACE_SECONDS) * 1000,
      );
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });

      worker.on('message', (message: WorkerMessage) => {
        if (message.id !== id) return;
        if (message.type === 'incumbent') {
          if (message.objective !== undefined && (!best || message.objective < best.objective)) {
            best = { objective: message.objective, values: message.values, bound: message.bound, gap: message.gap };
          }
          if (message.bound !== undefined) bestBound = Math.max(bestBound ?? -Infinity, message.bound);
          options.onProgress?.({
            kind: 'incumbent',
            elapsedSeconds: elapsed(),
            objective: message.objective,
            bound: message.bound,
            gap: message.gap,
            values: message.values,
          } satisfies SolveProgress);
        } else if (message.type === 'bound') {
          bestBound = Math.max(bestBound ?? -Infinity, message.bound);
          options.onProgress?.({
            kind: 'bound',
            elapsedSeconds: elapsed(),
            bound: message.bound,
            gap: message.gap,
            objective: best?.objective,
          });
        } else if (message.type === 'done') {
          const done = message.result;
          const meaning = statusMeaning(done.code);
          let values = done.values;
          let objective = done.objective;
          let hasSolution = done.hasSolution;
          // An interrupted MIP may report no final solution although one was streamed.
          if (!hasSolution && best) {
            values = best.values;
            objective = best.objective;
            hasSolution = true;
          }
          const bound = isMip ? done.bound : meaning.stop === 'optimal' ? done.objective : undefined;
          finish(
            {
              stop: Atomics.load(stopFlag, 0) && meaning.stop === 'interrupted' && !options.signal?.aborted ? 'timeLimit' : meaning.stop,
              solverStatus: meaning.highs,
              hasSolution,
              optimal: meaning.stop === 'optimal',
              objective,
              bound,
              gap: done.gap ?? (objective !== undefined && bound !== undefined ? relativeGap(objective, bound) : undefined),
              values,
              nodes: done.nodes,
              wallSeconds: elapsed(),
              threadId: done.threadId,
            },
            done.heapBytes < RETIRE_HEAP_BYTES,
          );
        } else if (message.type === 'error') {
          finish({ ...fromStream('error', message.message) }, !message.fatal);
        }
      });
      worker.on('error', (error) => kill('error', `worker failed: ${error.message}`));
      worker.on('exit', (code) => kill('error', `worker exited with code ${code}`));

      worker.postMessage({
        type: 'solve',
        id,
        ...payload,
        stopFlag: stopBuffer,
        options: {
          timeLimitSeconds: options.timeLimitSeconds,
          relativeGap: options.relativeGap,
          relaxation: options.relaxation ?? false,
          start: options.start ? Float64Array.from(options.start) : undefined,
          minSeconds: MIN_HIGHS_SECONDS,
          boundEverySeconds: BOUND_EVERY_SECONDS,
          boundStep: BOUND_PROGRESS_STEP,
        },
      });
    });
  }
}

/** The relative gap of an objective over a lower bound. */
function relativeGap(objective: number, bound: number): number {
  if (objective === 0) return bound >= 0 ? 0 : Infinity;
  return Math.max(0, (objective - bound) / Math.abs(objective));
}

let shared: HighsBackend | null = null;

/** The process-wide HiGHS backend. */
export function highsBackend(): HighsBackend {
  shared ??= new HighsBackend();
  return shared;
}
