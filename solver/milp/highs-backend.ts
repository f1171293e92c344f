// HiGHS (npm `highs`, WebAssembly) behind the backend interface. Every solve runs on a
// thread of the thread pool (solver/util/thread-pool.ts) in highs-worker.mjs: a solve
// blocks its thread, so the main thread stays live and two solves can run at once.
// Stop-on-request goes through the task's stop flag, which the worker's interrupt
// callbacks read, and through the stop flags of the caller's StopSignal (util/stop.ts),
// which they read too, so a job's cancel interrupts its solve at once. HiGHS polls them
// only from its MIP search on, so a cancelled caller does not wait: it gets the best
// incumbent streamed so far at once, and the worker is left HIGHS_CANCEL_GRACE_SECONDS to
// answer (and stay for the next solve) before it is terminated. The time limit is HiGHS's own and is also enforced from outside (a
// solve past it plus a grace is asked to stop, and its thread terminated if it does not,
// keeping the best incumbent it streamed). A thread whose WASM heap aborted, or grew past
// RETIRE_HEAP_BYTES (the heap never shrinks), is replaced.
import {
  BOUND_EVERY_SECONDS,
  BOUND_PROGRESS_STEP,
  HIGHS_CANCEL_GRACE_SECONDS,
  HIGHS_GRACE_SECONDS,
  HIGHS_PSEUDOCOST_RELIABLE,
  HIGHS_STOP_GRACE_SECONDS,
  MAX_IDLE_HIGHS_WORKERS,
  MIN_HIGHS_SECONDS,
  RETIRE_HEAP_BYTES,
} from '../limits.js';
import { stopCauseOf, stopFlagsOf } from '../util/stop.js';
import { ThreadPool } from '../util/thread-pool.js';
import type { MilpBackend, SolveOptions, SolveProgress, SolveResult } from './backend.js';
import { writeLp } from './lp-writer.js';
import type { Model, ModelArrays } from './model.js';
import { statusMeaning } from './status.js';

/** The version of the HiGHS solver inside highs@1.15.3. */
export const HIGHS_VERSION = '1.15.1 (highs-js 1.15.3, WebAssembly)';

/** What a HiGHS worker returns for a solve. */
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

/** What a HiGHS worker streams while it solves. */
type WorkerProgress =
  | { type: 'incumbent'; elapsedSeconds: number; objective?: number; bound?: number; gap?: number; values: Float64Array }
  | { type: 'bound'; elapsedSeconds: number; bound: number; gap?: number };

let pool: ThreadPool<WorkerDone, WorkerProgress> | undefined;

/** The HiGHS threads: as many as solves at once, a few kept idle, one retired once its heap grew too large. */
function highsPool(): ThreadPool<WorkerDone, WorkerProgress> {
  pool ??= new ThreadPool<WorkerDone, WorkerProgress>({
    url: new URL('./highs-worker.mjs', import.meta.url),
    workerOptions: { execArgv: [] },
    maxIdle: MAX_IDLE_HIGHS_WORKERS,
    graceMs: HIGHS_STOP_GRACE_SECONDS * 1000,
    reusable: (done) => done.heapBytes < RETIRE_HEAP_BYTES,
  });
  return pool;
}

/**
 * The HiGHS threads of this thread's pool: started so far, alive, busy, and lost to crashes
 * (a terminated solve's thread is gone from `threads`; the next solve starts a new one).
 */
export function highsThreadStats(): { spawned: number; threads: number; busy: number; crashes: number } {
  return { spawned: pool?.spawned ?? 0, threads: pool?.threads ?? 0, busy: pool?.busy ?? 0, crashes: pool?.crashes ?? 0 };
}

/** Terminates the idle HiGHS workers (tests, shutdown). */
export async function shutdownHighsWorkers(): Promise<void> {
  await pool?.closeIdle();
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

  private async run(payload: { lpText: string } | { arrays: ModelArrays }, isMip: boolean, options: SolveOptions): Promise<SolveResult> {
    const started = Date.now();
    const elapsed = () => (Date.now() - started) / 1000;
    let best: { objective: number; values: Float64Array; bound?: number; gap?: number } | null = null;
    let bestBound: number | undefined;
    const onProgress = (message: WorkerProgress) => {
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
      } else {
        bestBound = Math.max(bestBound ?? -Infinity, message.bound);
        options.onProgress?.({
          kind: 'bound',
          elapsedSeconds: elapsed(),
          bound: message.bound,
          gap: message.gap,
          objective: best?.objective,
        });
      }
    };
    const task = highsPool().run(
      {
        ...payload,
        options: {
          timeLimitSeconds: options.timeLimitSeconds,
          relativeGap: options.relativeGap,
          relaxation: options.relaxation ?? false,
          heuristics: options.heuristics ?? true,
          pseudoCostReliable: options.pseudoCostReliable ?? HIGHS_PSEUDOCOST_RELIABLE,
          start: options.start ? Float64Array.from(options.start) : undefined,
          minSeconds: MIN_HIGHS_SECONDS,
          boundEverySeconds: BOUND_EVERY_SECONDS,
          boundStep: BOUND_PROGRESS_STEP,
        },
      },
      {
        onProgress,
        signal: options.signal,
        signalGraceMs: HIGHS_CANCEL_GRACE_SECONDS * 1000,
        linkedStopFlags: stopFlagsOf(options.signal),
        deadlineMs: (options.timeLimitSeconds + HIGHS_GRACE_SECONDS) * 1000,
      },
    );
    // A stop from the caller answers at once from the stream; the worker finishes on its own.
    const stop = stopped(options.signal, task.thread.worker.threadId);
    const outcome = await Promise.race([task.outcome, stop.promise]);
    stop.detach();
    // The result when the worker cannot answer: the best incumbent it streamed.
    const fromStream = (stop: SolveResult['stop'], error?: string, aborted?: boolean): SolveResult => {
      const streamed = best as { objective: number; values: Float64Array } | null;
      return {
        stop,
        solverStatus: stop,
        hasSolution: streamed !== null,
        optimal: false,
        objective: streamed?.objective,
        bound: bestBound,
        gap: streamed && bestBound !== undefined ? relativeGap(streamed.objective, bestBound) : undefined,
        values: streamed?.values,
        nodes: 0,
        wallSeconds: elapsed(),
        threadId: outcome.threadId,
        error,
        aborted,
      };
    };
    // The caller's signal past its deadline is a time limit too, not an interruption.
    const deadline = stopCauseOf(options.signal) === 'deadline';
    if (outcome.kind === 'stopped') return fromStream(outcome.reason === 'deadline' || deadline ? 'timeLimit' : 'interrupted');
    if (outcome.kind === 'crashed') return fromStream('error', `worker failed: ${outcome.error}`);
    // A fatal failure is the WASM instance aborting (its heap exhausted): the thread was replaced.
    if (outcome.kind === 'failed') return fromStream('error', String(outcome.error), outcome.fatal);
    const done = outcome.result;
    const meaning = statusMeaning(done.code);
    let values = done.values;
    let objective = done.objective;
    let hasSolution = done.hasSolution;
    // An interrupted MIP may report no final solution although one was streamed.
    const streamed = best as { objective: number; values: Float64Array } | null;
    if (!hasSolution && streamed) {
      values = streamed.values;
      objective = streamed.objective;
      hasSolution = true;
    }
    const bound = isMip ? done.bound : meaning.stop === 'optimal' ? done.objective : undefined;
    // Stopped by the outside time limit, HiGHS says interrupted: that is a time limit.
    const outsideLimit = (task.stopReason === 'deadline' && !options.signal?.aborted) || deadline;
    return {
      stop: outsideLimit && meaning.stop === 'interrupted' ? 'timeLimit' : meaning.stop,
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
    };
  }
}

/** A promise of a 'stopped' outcome once the signal aborts (never when there is none), and the means to stop listening. */
function stopped(
  signal: AbortSignal | undefined,
  threadId: number,
): { promise: Promise<{ kind: 'stopped'; reason: 'signal'; threadId: number }>; detach: () => void } {
  let detach = () => {};
  const promise = new Promise<{ kind: 'stopped'; reason: 'signal'; threadId: number }>((resolve) => {
    if (!signal) return;
    const answer = () => resolve({ kind: 'stopped', reason: 'signal', threadId });
    if (signal.aborted) answer();
    else {
      signal.addEventListener('abort', answer, { once: true });
      detach = () => signal.removeEventListener('abort', answer);
    }
  });
  return { promise, detach };
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
