// Jobs (plans, and sweeps: POST /v1/sweeps): a bounded queue in front of the worker pool,
// the state machine (queued, running, done, failed, cancelled), progress folding, event
// fan-out for Server-Sent Events, the store writes, and graceful shutdown.
// - The queue is fair between API keys: a free worker takes the oldest job of the key
//   with the fewest running jobs, so one key's burst cannot starve another's.
// - A cancelled queued job leaves the queue at once. A running one is asked to stop (its
//   solver reads the stop flag within about 250 ms) and answers with the best plan it had:
//   the job ends 'cancelled' with that plan kept (Plan.cancelled, its gap as proven) when
//   there is one (a sweep keeps nothing). Its thread is terminated only when it does not
//   answer within the grace.
// - The watchdog asks a job that overran its time limit by the grace to stop the same way:
//   its plan is the result; a job that does not answer ends MEMPLAN_ERR_TIME_LIMIT_EXCEEDED.
import { randomUUID } from 'node:crypto';
import { MemplanError } from '../../solver/errors.js';
import type { Graph } from '../../solver/graph/schema.js';
import type { PlanOptions } from '../../solver/plan.js';
import type { Plan } from '../../solver/plan-schema.js';
import type { ProgressEvent } from '../../solver/strategies/types.js';
import type { SweepOptions } from '../../solver/sweep/schema.js';
import type { JobState } from '../schemas/index.js';
import type { Awaitable, JobRecord, JobStore } from './job-store.js';
import { foldProgress, isTerminal, type JobEvent, settleJob, wire, workerAnswer } from './lifecycle.js';
import type { JobStopReason, WorkerPool } from './pool.js';
import type { SweepAnswer, WireError } from './protocol.js';
import { emptyHistogram, type JobInput, type JobService, type JobStats, observe } from './service.js';
import {
  CANCEL_REPLY_SLACK_MS,
  DEFAULT_MAX_JOBS_PER_KEY,
  DEFAULT_MAX_QUEUE,
  DEFAULT_TIME_LIMIT_SECONDS,
  DEFAULT_WATCHDOG_GRACE_SECONDS,
  MAX_JOB_EVENTS,
} from '../../solver/limits.js';

export type { JobEvent } from './lifecycle.js';
export { isTerminal } from './lifecycle.js';
export { SOLVE_BUCKETS } from './service.js';

interface LiveJob {
  record: JobRecord;
  /** The graph's canonical JSON (validated) and its hash, as the store keeps them; the worker parses the text. */
  graphText: string;
  graphHash: string;
  options: PlanOptions;
  /** A sweep job's options (kind 'sweep'); absent for a plan job. */
  sweep?: SweepOptions;
  /** A sweep job's points reported so far (a point may be reported again when it improves). */
  points: Set<number>;
  baseCost: number;
  events: JobEvent[];
  listeners: Set<(event: JobEvent) => void>;
  waiters: Set<() => void>;
  /** Set once the job was asked to stop: by a cancel, or by the watchdog past its time limit. */
  stopping?: JobStopReason;
  /** Set once the job has ended here (its final write may still be under way). */
  ended?: boolean;
  /** The job's store writes not yet done, in order (a store that answers with promises). */
  writes?: Promise<unknown>;
}

export interface ManagerOptions {
  /** Jobs that may wait for a worker; beyond it submissions get 429. */
  maxQueue?: number;
  /** Seconds beyond a job's own time limit before the watchdog stops it. */
  watchdogGraceSeconds?: number;
  /** Queued plus running jobs one owner may have; beyond it submissions get 429. */
  maxJobsPerOwner?: number;
  /** Called when an asynchronous store write fails (default: printed to stderr). */
  onWriteError?: (error: unknown) => void;
}

/** The queue, the state machine and the event fan-out; see the module comment. */
export class JobManager implements JobService {
  readonly mode = 'local' as const;
  private readonly live = new Map<string, LiveJob>();
  private readonly queue: LiveJob[] = [];
  private readonly maxQueue: number;
  private readonly maxJobsPerOwner: number;
  private readonly watchdogGraceSeconds: number;
  private readonly onWriteError: (error: unknown) => void;
  private shuttingDown = false;
  readonly solveSeconds = emptyHistogram();

  constructor(
    readonly store: JobStore,
    readonly pool: WorkerPool,
    options: ManagerOptions = {},
  ) {
    this.maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.maxJobsPerOwner = options.maxJobsPerOwner ?? DEFAULT_MAX_JOBS_PER_KEY;
    this.watchdogGraceSeconds = options.watchdogGraceSeconds ?? DEFAULT_WATCHDOG_GRACE_SECONDS;
    this.onWriteError = options.onWriteError ?? ((error) => console.error('memplan: a job store write failed:', error));
    pool.onIdle = () => this.pump();
  }

  /** True once shutdown() has begun. */
  get closing(): boolean {
    return this.shuttingDown;
  }

  /** Jobs waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** A queued or running job of this owner with the same request hash. */
  findActive(hash: string, owner: string): JobRecord | undefined {
    for (const job of this.live.values()) {
      if (job.record.owner === owner && job.record.hash === hash && !isTerminal(job.record.state)) return job.record;
    }
    return undefined;
  }

  /** Queues a job; throws SHUTTING_DOWN, QUOTA_EXCEEDED or QUEUE_FULL. */
  submit(input: JobInput): JobRecord {
    if (this.shuttingDown) throw new MemplanError('MEMPLAN_ERR_SHUTTING_DOWN');
    let owned = 0;
    for (const job of this.live.values()) if (job.record.owner === input.owner && !isTerminal(job.record.state)) owned++;
    if (owned >= this.maxJobsPerOwner) throw new MemplanError('MEMPLAN_ERR_QUOTA_EXCEEDED', { count: owned });
    if (!this.pool.hasCapacity() && this.queue.length >= this.maxQueue) {
      throw new MemplanError('MEMPLAN_ERR_QUEUE_FULL', { size: this.maxQueue });
    }
    const record: JobRecord = {
      id: randomUUID(),
      owner: input.owner,
      hash: input.hash,
      state: 'queued',
      strategy: (input.sweep ?? input.options).strategy ?? 'auto',
      createdAt: Date.now(),
      kind: input.kind,
    };
    const job: LiveJob = {
      record,
      graphText: input.graphText,
      graphHash: input.graphHash,
      options: input.options,
      sweep: input.sweep,
      points: new Set(),
      baseCost: input.baseCost,
      events: [],
      listeners: new Set(),
      waiters: new Set(),
    };
    this.live.set(record.id, job);
    this.write(job, (snapshot) => this.store.saveJob(snapshot));
    this.queue.push(job);
    this.pump();
    return record;
  }

  /** Starts queued jobs while workers are free. */
  private pump(): void {
    while (this.queue.length > 0 && this.pool.hasCapacity()) {
      const job = this.takeNext();
      if (job.record.state !== 'queued') continue;
      this.startJob(job);
    }
  }

  /** Takes the queued job to start next: the oldest of the owner with the fewest running jobs. */
  private takeNext(): LiveJob {
    const running = new Map<string, number>();
    for (const job of this.live.values()) {
      if (job.record.state === 'running') running.set(job.record.owner, (running.get(job.record.owner) ?? 0) + 1);
    }
    let chosen = 0;
    let fewest = Infinity;
    this.queue.forEach((job, position) => {
      const count = running.get(job.record.owner) ?? 0;
      if (count < fewest) {
        fewest = count;
        chosen = position;
      }
    });
    return this.queue.splice(chosen, 1)[0];
  }

  private startJob(job: LiveJob): void {
    const record = job.record;
    record.state = 'running';
    record.startedAt = Date.now();
    record.progress = { elapsedSeconds: 0, bound: job.baseCost };
    this.write(job, (snapshot) => this.store.saveJob(snapshot));
    const timeLimit = (job.sweep ?? job.options).timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS;
    // plan() and sweeps stop at the time limit themselves; past the grace the watchdog asks them to stop.
    const watchdog = setTimeout(
      () => {
        if (record.state !== 'running' || job.stopping) return;
        job.stopping = 'deadline';
        this.pool.stop(record.id, 'deadline');
      },
      (timeLimit + this.watchdogGraceSeconds) * 1000,
    );
    watchdog.unref();
    const stopped = () => job.stopping === 'cancel';
    // The graph travels as its JSON text: copying a string to the worker costs the event loop
    // far less than cloning a 20k-node object graph, and the worker parses it (src/jobs/worker.ts).
    this.pool.start(
      record.id,
      job.graphText as unknown as Graph,
      job.options,
      {
        onProgress: (event) => this.progress(job, event),
        // The worker sends the plan as its JSON text (protocol.ts, PlanText), a sweep as a SweepAnswer.
        onDone: (answer) => {
          clearTimeout(watchdog);
          this.finish(job, stopped() ? 'cancelled' : 'done', workerAnswer(record.kind, answer));
        },
        onFailed: (error) => {
          clearTimeout(watchdog);
          this.finish(job, stopped() ? 'cancelled' : 'failed', { error: stopped() ? wire('MEMPLAN_ERR_CANCELLED') : error });
        },
        onStopped: (reason) => {
          clearTimeout(watchdog);
          if (reason === 'cancel' || stopped()) this.finish(job, 'cancelled', { error: wire('MEMPLAN_ERR_CANCELLED') });
          else
            this.finish(job, 'failed', {
              error: wire('MEMPLAN_ERR_TIME_LIMIT_EXCEEDED', { limit: timeLimit, grace: this.watchdogGraceSeconds }),
            });
        },
      },
      record.kind,
      job.sweep,
    );
  }

  /** Folds an event into the job's progress; forwards only improvements. */
  private progress(job: LiveJob, rawEvent: ProgressEvent): void {
    const improved = foldProgress(job.record, rawEvent, job.points);
    if (improved) this.emit(job, improved);
  }

  private emit(job: LiveJob, event: JobEvent): void {
    if (job.events.length < MAX_JOB_EVENTS) job.events.push(event);
    else job.events[job.events.length - 1] = event;
    for (const listener of job.listeners) listener(event);
  }

  /**
   * Writes a job's record to the store after its earlier writes (a store may answer with
   * promises, and a later state must not be overtaken by an earlier one). `write` gets a
   * copy of the record as it is now.
   */
  private write(job: LiveJob, write: (snapshot: JobRecord) => Awaitable<unknown>, then?: () => void): void {
    const snapshot = { ...job.record };
    // A synchronous store (SQLite) writes at once and throws at once, as it always has; a
    // failed asynchronous write is reported and the job goes on in memory.
    const run = (): Promise<void> | undefined => {
      const result = write(snapshot);
      if (!(result instanceof Promise)) {
        then?.();
        return undefined;
      }
      return result.then(
        () => then?.(),
        (error: unknown) => {
          this.onWriteError(error);
          then?.();
        },
      );
    };
    if (job.writes) job.writes = job.writes.then(run);
    else job.writes = run();
  }

  /** Ends a job (lifecycle.ts settleJob), stores its result, then tells its listeners and waiters. */
  private finish(job: LiveJob, state: JobState, result: { plan?: Plan | string; sweep?: SweepAnswer; error?: WireError }): void {
    if (job.ended || isTerminal(job.record.state)) return;
    job.ended = true;
    const settled = settleJob(job.record, state, result, job);
    if (job.record.startedAt !== undefined) observe(this.solveSeconds, (settled.record.finishedAt! - job.record.startedAt) / 1000);
    this.write(
      job,
      () => this.store.finishJob(settled.record, settled.plan, settled.sweep),
      () => {
        Object.assign(job.record, settled.record);
        this.emit(job, settled.event);
        for (const waiter of job.waiters) waiter();
        job.waiters.clear();
        job.listeners.clear();
        this.live.delete(job.record.id);
        this.pump();
      },
    );
  }

  /**
   * A job of this owner (live or stored), or undefined. A finished job's plan is not read
   * here: routes read its text from the store and check it before serving it.
   */
  get(id: string, owner: string): Awaitable<{ record: JobRecord } | undefined> {
    const job = this.live.get(id);
    if (job) {
      if (job.record.owner !== owner) return undefined;
      const record = { ...job.record };
      if (record.state === 'running' && record.startedAt !== undefined && record.progress) {
        record.progress = { ...record.progress, elapsedSeconds: (Date.now() - record.startedAt) / 1000 };
      }
      return { record };
    }
    const wrap = (record: JobRecord | undefined) => (record ? { record } : undefined);
    const stored = this.store.getJob(id, owner);
    return stored instanceof Promise ? stored.then(wrap) : wrap(stored);
  }

  /**
   * Cancels a queued job at once; asks a running one to stop and resolves once it has
   * (with its best plan kept) or its thread was ended. A finished job is left as it is.
   */
  async cancel(id: string, owner: string): Promise<JobRecord | undefined> {
    const job = this.live.get(id);
    if (!job) return this.store.getJob(id, owner);
    if (job.record.owner !== owner) return undefined;
    const queuedAt = this.queue.indexOf(job);
    if (queuedAt >= 0) this.queue.splice(queuedAt, 1);
    if (job.record.state !== 'running' || !this.pool.stop(id, 'cancel')) {
      this.finish(job, 'cancelled', { error: wire('MEMPLAN_ERR_CANCELLED') });
      // Ended at once; an asynchronous store answers after its write.
      await this.waitFor(id, CANCEL_REPLY_SLACK_MS);
      return job.record;
    }
    job.stopping = 'cancel';
    await this.waitFor(id, this.pool.graceMs + CANCEL_REPLY_SLACK_MS);
    return job.record;
  }

  /** Resolves when the job is final or after `ms`. */
  waitFor(id: string, ms: number): Promise<void> {
    const job = this.live.get(id);
    if (!job || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        job.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      job.waiters.add(done);
    });
  }

  /**
   * Subscribes to a live job's events: replays the past ones, then streams. Returns
   * undefined when the job is not live (the caller answers from the store).
   */
  subscribe(id: string, owner: string, listener: (event: JobEvent) => void): (() => void) | undefined {
    const job = this.live.get(id);
    if (!job || job.record.owner !== owner) return undefined;
    for (const event of job.events) listener(event);
    job.listeners.add(listener);
    return () => job.listeners.delete(listener);
  }

  /** Number of live jobs in each state. */
  liveCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const job of this.live.values()) counts[job.record.state] = (counts[job.record.state] ?? 0) + 1;
    return counts;
  }

  /** The queue, the live jobs and this process's worker threads. */
  stats(): JobStats {
    return {
      queued: this.queue.length,
      live: this.liveCounts(),
      workers: { started: this.pool.workers, busy: this.pool.busy, crashes: this.pool.crashes },
      solveSeconds: this.solveSeconds,
      queueAvailable: true,
    };
  }

  /**
   * Stops taking jobs, fails queued ones, lets running ones finish within `graceMs`, then
   * fails what is left as interrupted and stops the workers.
   */
  async shutdown(graceMs: number): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const job of this.queue.splice(0)) {
      this.finish(job, 'failed', { error: wire('MEMPLAN_ERR_INTERRUPTED', { detail: 'the server shut down before it started' }) });
    }
    const running = [...this.live.values()].filter((job) => job.record.state === 'running');
    await Promise.all(running.map((job) => this.waitFor(job.record.id, graceMs)));
    for (const job of [...this.live.values()]) {
      this.finish(job, 'failed', { error: wire('MEMPLAN_ERR_INTERRUPTED', { detail: 'the server shut down while it ran' }) });
    }
    await this.pool.close();
  }
}
