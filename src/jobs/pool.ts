// A worker_threads pool that runs plan() off the main thread: one job per worker,
// progress streamed back over the worker's port, cancellation that asks first and
// terminates the thread when it does not answer (a WASM solve blocks its thread), and a
// fresh worker for every one that crashes or is terminated.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MemplanError } from '../../solver/errors.js';
import type { Graph } from '../../solver/graph/schema.js';
import type { PlanOptions } from '../../solver/plan.js';
import type { Plan } from '../../solver/plan-schema.js';
import type { ProgressEvent } from '../../solver/strategies/types.js';
import type { SweepOptions } from '../../solver/sweep/schema.js';
import type { SweepOutcome } from '../../solver/sweep/sweep.js';
import type { ToMain, ToWorker, WireError } from './protocol.js';

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
  onDone: (plan: Plan) => void;
  /** A sweep job's result and plans. */
  onSweepDone?: (outcome: SweepOutcome) => void;
  onFailed: (error: WireError) => void;
}

interface Slot {
  worker: Worker;
  jobId?: string;
  handlers?: TaskHandlers;
  /** Set when the pool itself stops the thread (cancel, close): not a crash. */
  stopping?: boolean;
  lastError?: string;
  cancelTimer?: NodeJS.Timeout;
}

const WORKER_URL = new URL('./worker-entry.mjs', import.meta.url);

/** Runs plan() jobs on worker threads; see the module comment. */
export class WorkerPool {
  readonly size: number;
  private readonly cancelGraceMs: number;
  private readonly testStrategies: boolean;
  private readonly slots = new Set<Slot>();
  private closed = false;
  /** Called whenever a worker becomes free. */
  onIdle: () => void = () => {};
  /** Counts crashed workers, for /metrics. */
  crashes = 0;

  constructor(options: PoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism());
    this.cancelGraceMs = options.cancelGraceMs ?? 500;
    this.testStrategies = options.testStrategies ?? false;
  }

  /** Threads started so far. */
  get workers(): number {
    return this.slots.size;
  }

  /** Threads running a job. */
  get busy(): number {
    let count = 0;
    for (const slot of this.slots) if (slot.jobId) count++;
    return count;
  }

  /** True when a job can start now. */
  hasCapacity(): boolean {
    return !this.closed && this.busy < this.size;
  }

  /** Starts every thread now instead of on first use (servers do this at boot). */
  warm(): void {
    while (!this.closed && this.slots.size < this.size) this.spawn();
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, {
      workerData: { testStrategies: this.testStrategies },
      stdout: false,
      stderr: false,
    });
    const slot: Slot = { worker };
    this.slots.add(slot);
    worker.on('message', (message: ToMain) => this.receive(slot, message));
    worker.on('error', (error) => {
      slot.lastError = `${error.name}: ${error.message}`;
    });
    worker.on('exit', (code) => this.exited(slot, code));
    worker.unref();
    return slot;
  }

  private receive(slot: Slot, message: ToMain): void {
    if (!slot.jobId || message.jobId !== slot.jobId || !slot.handlers) return;
    const handlers = slot.handlers;
    if (message.type === 'progress') {
      handlers.onProgress(message.event);
      return;
    }
    this.release(slot);
    if (message.type === 'done') handlers.onDone(message.plan);
    else if (message.type === 'sweepDone') handlers.onSweepDone?.(message.outcome);
    else handlers.onFailed(message.error);
    if (message.type === 'failed' && message.fatal) {
      // The worker exits on its own; do not report its exit as a second failure.
      slot.stopping = true;
    }
  }

  private release(slot: Slot): void {
    if (slot.cancelTimer) clearTimeout(slot.cancelTimer);
    slot.cancelTimer = undefined;
    slot.jobId = undefined;
    slot.handlers = undefined;
    // An idle thread must not keep the process alive; a busy one does.
    slot.worker.unref();
    if (!slot.stopping) queueMicrotask(() => this.onIdle());
  }

  private exited(slot: Slot, code: number): void {
    this.slots.delete(slot);
    const { jobId, handlers, stopping } = slot;
    if (slot.cancelTimer) clearTimeout(slot.cancelTimer);
    if (jobId && handlers && !stopping) {
      this.crashes++;
      const detail = slot.lastError ?? `the thread exited with code ${code}`;
      handlers.onFailed(new MemplanError('MEMPLAN_ERR_WORKER_CRASHED', { detail, job: jobId }).toJSON());
    } else if (!stopping) {
      this.crashes++;
    }
    if (this.closed) return;
    // Keep the pool at its size: replace the thread now if work may be waiting.
    if (this.slots.size < this.size) this.spawn();
    queueMicrotask(() => this.onIdle());
  }

  /** Starts a job on a free worker (a sweep when `sweep` is given); the caller checks hasCapacity() first. */
  start(jobId: string, graph: Graph, options: PlanOptions, handlers: TaskHandlers, sweep?: SweepOptions): void {
    if (!this.hasCapacity()) throw new MemplanError('MEMPLAN_ERR_INTERNAL', { detail: 'no free worker' });
    let slot = [...this.slots].find((candidate) => !candidate.jobId && !candidate.stopping);
    if (!slot) slot = this.spawn();
    slot.jobId = jobId;
    slot.handlers = handlers;
    slot.worker.ref();
    handlers.onStart?.();
    const message: ToWorker = sweep ? { type: 'sweep', jobId, graph, options: sweep } : { type: 'run', jobId, graph, options };
    slot.worker.postMessage(message);
  }

  /** Asks the job's worker to stop; terminates the thread if it has not within the grace. */
  cancel(jobId: string): boolean {
    const slot = this.slotOf(jobId);
    if (!slot) return false;
    // The job is over for the caller: a cooperative stop still answers (done or failed),
    // which frees the slot, but its result goes nowhere.
    slot.handlers = { onProgress: () => {}, onDone: () => {}, onSweepDone: () => {}, onFailed: () => {} };
    slot.worker.postMessage({ type: 'cancel', jobId } satisfies ToWorker);
    slot.cancelTimer = setTimeout(() => {
      if (slot.jobId === jobId) this.terminate(slot);
    }, this.cancelGraceMs);
    return true;
  }

  /** Internal (tests, operators): kills the thread running a job, as a crash would. */
  killWorkerOf(jobId: string): boolean {
    const slot = this.slotOf(jobId);
    if (!slot) return false;
    slot.lastError = 'the worker thread was killed';
    void slot.worker.terminate();
    return true;
  }

  private slotOf(jobId: string): Slot | undefined {
    return [...this.slots].find((slot) => slot.jobId === jobId);
  }

  private terminate(slot: Slot): void {
    slot.stopping = true;
    slot.jobId = undefined;
    slot.handlers = undefined;
    void slot.worker.terminate();
  }

  /** Stops every thread; running jobs get no further messages. */
  async close(): Promise<void> {
    this.closed = true;
    const exits = [...this.slots].map((slot) => {
      slot.stopping = true;
      slot.handlers = undefined;
      return slot.worker.terminate();
    });
    await Promise.allSettled(exits);
    this.slots.clear();
  }
}
