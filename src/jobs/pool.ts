// The plan() and sweep workers of the job manager: one job per thread of the thread pool
// (solver/util/thread-pool.ts), progress streamed back, cancellation that asks first (the
// task's stop flag, which plan()'s StopSignal reads synchronously, and the cancel message)
// and terminates the thread only when it does not answer within the grace, and a fresh
// thread for every one that crashes, fails fatally or is terminated, so the pool keeps its
// size. A job asked to stop still answers: its plan (the best found before the stop) goes
// to onDone, and the manager decides what the stop means.
import { availableParallelism } from 'node:os';
import { MemplanError } from '../../solver/errors.js';
import { DEFAULT_CANCEL_GRACE_MS } from '../../solver/limits.js';
import type { Graph } from '../../solver/graph/schema.js';
import type { PlanOptions } from '../../solver/plan.js';
import type { Plan } from '../../solver/plan-schema.js';
import type { ProgressEvent } from '../../solver/strategies/types.js';
import type { SweepOptions } from '../../solver/sweep/schema.js';
import { type TaskHandle, ThreadPool } from '../../solver/util/thread-pool.js';
import type { JobKind } from './job-store.js';
import type { JobPayload, WireError } from './protocol.js';

export interface PoolOptions {
  /** Number of worker threads; default: the machine's cores. */
  size?: number;
  /** How long a cancelled job may take to stop before its thread is terminated. */
  cancelGraceMs?: number;
  /** Internal: lets workers run the service's test-only strategies ("test:*"). */
  testStrategies?: boolean;
}

export interface TaskHandlers {
  onStart?: () => void;
  onProgress: (event: ProgressEvent) => void;
  /** The plan as its text (protocol.ts, PlanText); a sweep's SweepAnswer. */
  onDone: (plan: Plan) => void;
  onFailed: (error: WireError) => void;
  /** Asked to stop, the job did not answer within the grace: its thread was terminated (and replaced). */
  onStopped: (reason: JobStopReason) => void;
}

/** Why the manager stops a job: the client cancelled it, or it overran its time limit. */
export type JobStopReason = 'cancel' | 'deadline';

const WORKER_URL = new URL('./worker-entry.mjs', import.meta.url);

/** Runs plan() jobs on worker threads; see the module comment. */
export class WorkerPool {
  readonly size: number;
  private readonly threads: ThreadPool<Plan, ProgressEvent, WireError>;
  /** The running jobs whose caller still waits for them (a cancelled job is dropped at once). */
  private readonly running = new Map<string, TaskHandle<Plan, WireError>>();

  constructor(options: PoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism());
    this.threads = new ThreadPool<Plan, ProgressEvent, WireError>({
      url: WORKER_URL,
      workerData: { testStrategies: options.testStrategies ?? false },
      workerOptions: { stdout: false, stderr: false },
      maxThreads: this.size,
      respawn: true,
      graceMs: options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS,
    });
  }

  /** Milliseconds a stopped job may take to answer before its thread is terminated. */
  get graceMs(): number {
    return this.threads.graceMs;
  }

  /** Called whenever a worker becomes free. */
  set onIdle(callback: () => void) {
    this.threads.onIdle = callback;
  }

  /** Crashed workers, for /metrics. */
  get crashes(): number {
    return this.threads.crashes;
  }

  /** Threads running now. */
  get workers(): number {
    return this.threads.threads;
  }

  /** Threads started since the pool was made, replacements included (a cooperative cancel starts none). */
  get spawned(): number {
    return this.threads.spawned;
  }

  /** Threads running a job. */
  get busy(): number {
    return this.threads.busy;
  }

  /** True when a job can start now. */
  hasCapacity(): boolean {
    return this.threads.hasCapacity();
  }

  /** Starts every thread now instead of on first use (servers do this at boot). */
  warm(): void {
    this.threads.warm();
  }

  /** Starts a job of `kind` (default a plan; a sweep with `sweep`'s options) on a free worker; the caller checks hasCapacity() first. */
  start(jobId: string, graph: Graph, options: PlanOptions, handlers: TaskHandlers, kind?: JobKind, sweep?: SweepOptions): void {
    if (!this.hasCapacity()) throw new MemplanError('MEMPLAN_ERR_INTERNAL', { detail: 'no free worker' });
    const payload: JobPayload = { graph, options, kind, sweep };
    const task = this.threads.run(payload, {
      onProgress: (event) => {
        if (this.running.get(jobId) === task) handlers.onProgress(event);
      },
    });
    this.running.set(jobId, task);
    handlers.onStart?.();
    void task.outcome.then((outcome) => {
      if (this.running.get(jobId) !== task) return;
      this.running.delete(jobId);
      if (outcome.kind === 'done') handlers.onDone(outcome.result);
      else if (outcome.kind === 'failed') handlers.onFailed(outcome.error);
      else if (outcome.kind === 'crashed') {
        handlers.onFailed(new MemplanError('MEMPLAN_ERR_WORKER_CRASHED', { detail: outcome.error, job: jobId }).toJSON());
      } else if (outcome.kind === 'stopped' && outcome.reason !== 'close') {
        handlers.onStopped(outcome.reason === 'deadline' ? 'deadline' : 'cancel');
      }
    });
  }

  /**
   * Asks the job's worker to stop (its plan comes back through onDone); terminates the
   * thread if it has not answered within the grace (onStopped). False when it is not running.
   */
  stop(jobId: string, reason: JobStopReason = 'cancel'): boolean {
    const task = this.running.get(jobId);
    if (!task) return false;
    task.stop(reason);
    return true;
  }

  /** Internal (tests, operators): kills the thread running a job, as a crash would. */
  killWorkerOf(jobId: string): boolean {
    const task = this.running.get(jobId);
    if (!task) return false;
    task.kill();
    return true;
  }

  /** Stops every thread; running jobs get no further messages. */
  async close(): Promise<void> {
    this.running.clear();
    await this.threads.close();
  }
}
