// A `memplan worker` process: takes jobs (plans and sweeps) from the BullMQ queue on Redis
// and solves them on this process's worker threads (the one thread pool of pool.ts), as
// many at once as its concurrency. For each job it
// - skips it when the store says it already ended (an earlier attempt finished it, or it
//   was cancelled while it waited), and ends it cancelled at once when it was cancelled;
// - streams every improvement to the job's Redis stream and channel (events.ts) and
//   writes the job's progress to the store at most every PROGRESS_WRITE_INTERVAL_MS;
// - stops it on a cancel from any API process (the cancels channel) or past its time
//   limit plus the watchdog grace, as the in-process manager does;
// - ends it with lifecycle.ts's settleJob and stores the result with finishJob, which
//   writes only while the job is still active: one result however many workers ran it.
// A worker that dies leaves its jobs locked until JOB_LOCK_MS passes; another worker's
// stalled-job check then puts them back in the queue (BullMQ), and they are solved again.
// On SIGTERM (stop()) it takes no new jobs and lets the running ones finish within the
// grace; the rest are stopped and handed back to the queue (a retry, with backoff).
import { availableParallelism, hostname } from 'node:os';
import { type Job, Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { MemplanError } from '../../../solver/errors.js';
import type { Graph } from '../../../solver/graph/schema.js';
import {
  DEFAULT_JOB_ATTEMPTS,
  DEFAULT_TIME_LIMIT_SECONDS,
  DEFAULT_WATCHDOG_GRACE_SECONDS,
  DEFAULT_WORKER_SHUTDOWN_GRACE_MS,
  JOB_LOCK_MS,
  MAX_STALLED_COUNT,
  PROGRESS_WRITE_INTERVAL_MS,
  STALLED_CHECK_MS,
  WORKER_HEARTBEAT_MS,
} from '../../../solver/limits.js';
import type { Plan } from '../../../solver/plan-schema.js';
import { ACTIVE_STATES, type JobRecord, type JobStore } from '../job-store.js';
import { foldProgress, isTerminal, settleJob, wire, workerAnswer } from '../lifecycle.js';
import { type JobStopReason, WorkerPool } from '../pool.js';
import type { SweepAnswer, WireError } from '../protocol.js';
import { emptyHistogram, observe } from '../service.js';
import { publishEntry } from './events.js';
import { type QueuedJob, releaseActive, type WorkerHeartbeat } from './jobs.js';
import { connect, type RedisKeys, type RedisSettings, redisKeys, workerConnectionOptions } from './redis.js';

export interface WorkerProcessOptions {
  settings: RedisSettings;
  store: JobStore;
  /** Jobs at once (and solver threads); default the machine's cores. */
  concurrency?: number;
  /** Times a job is started before it is given up; must match the API processes' (MEMPLAN_JOB_ATTEMPTS). */
  attempts?: number;
  /** Milliseconds a stopped job may take to answer before its thread is terminated. */
  cancelGraceMs?: number;
  /** Seconds past a job's time limit before the watchdog stops it. */
  watchdogGraceSeconds?: number;
  /** This worker's name in heartbeats and in BullMQ (default host:pid). */
  name?: string;
  /** Lines for the operator (default stderr). */
  log?: (line: string) => void;
  /** Internal: lets the threads run the service's test strategies ("test:*"). */
  testStrategies?: boolean;
}

/** A job this process runs. */
interface Running {
  record: JobRecord;
  /** A sweep's points reported so far (lifecycle.ts foldProgress). */
  points: Set<number>;
  stopping?: JobStopReason;
  /** Set when shutdown stops it: it goes back to the queue instead of ending. */
  handBack?: boolean;
}

/** What a job's run came to: the state it ends in and the worker's answer, or "hand it back". */
type RunEnd = { state: 'done' | 'failed' | 'cancelled'; plan?: Plan | string; sweep?: SweepAnswer; error?: WireError } | { handBack: true };

/** A worker process; see the module comment. */
export class WorkerProcess {
  readonly name: string;
  readonly pool: WorkerPool;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly worker: Worker;
  /** BullMQ's events of the whole queue: jobs it gave up on (attempts used up, stalled too often). */
  private readonly queueEvents: QueueEvents;
  private readonly queue: Queue;
  private readonly keys: RedisKeys;
  private readonly running = new Map<string, Running>();
  private readonly solveSeconds = emptyHistogram();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly log: (line: string) => void;
  private readonly watchdogGraceSeconds: number;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: WorkerProcessOptions) {
    const concurrency = Math.max(1, options.concurrency ?? availableParallelism());
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.watchdogGraceSeconds = options.watchdogGraceSeconds ?? DEFAULT_WATCHDOG_GRACE_SECONDS;
    this.keys = redisKeys(options.settings);
    const onError = (error: Error) => this.log(`memplan worker: redis: ${error.message}`);
    this.redis = connect(options.settings.url, workerConnectionOptions(), onError);
    this.subscriber = connect(options.settings.url, workerConnectionOptions(), onError);
    this.pool = new WorkerPool({ size: concurrency, cancelGraceMs: options.cancelGraceMs, testStrategies: options.testStrategies });
    this.pool.warm();
    // Cancels from any API process: the job is stopped here if it runs here.
    void this.subscriber.subscribe(this.keys.cancels);
    this.subscriber.on('message', (_channel: string, id: string) => this.stop(id, 'cancel'));
    this.worker = new Worker(options.settings.queue, (job) => this.process(job), {
      connection: this.redis,
      prefix: options.settings.prefix,
      concurrency,
      name: this.name,
      lockDuration: JOB_LOCK_MS,
      stalledInterval: STALLED_CHECK_MS,
      maxStalledCount: MAX_STALLED_COUNT,
    });
    this.worker.on('error', onError);
    // A job BullMQ gave up on (its attempts used up, or it stalled too often, which the
    // stalled check decides in Redis, not here) ends failed in the store.
    this.queue = new Queue(options.settings.queue, { connection: this.redis, prefix: options.settings.prefix });
    this.queue.on('error', onError);
    this.queueEvents = new QueueEvents(options.settings.queue, { connection: this.redis, prefix: options.settings.prefix });
    this.queueEvents.on('error', onError);
    this.queueEvents.on('failed', ({ jobId, failedReason }) => void this.failedForGood(jobId, failedReason));
    this.heartbeat = setInterval(() => void this.beat(), WORKER_HEARTBEAT_MS);
    void this.beat();
    this.log(`memplan worker ${this.name}: ${concurrency} solver threads on queue "${options.settings.queue}"`);
  }

  /** Asks a job running here to stop (a cancel, or its watchdog). */
  private stop(id: string, reason: JobStopReason): void {
    const job = this.running.get(id);
    if (!job) return;
    job.stopping = reason;
    this.pool.stop(id, reason);
  }

  private async beat(): Promise<void> {
    const heartbeat: WorkerHeartbeat = {
      name: this.name,
      concurrency: this.pool.size,
      busy: this.pool.busy,
      crashes: this.pool.crashes,
      solveSeconds: this.solveSeconds,
      at: Date.now(),
    };
    await this.redis
      .multi()
      .sadd(this.keys.workers, this.name)
      .set(this.keys.worker(this.name), JSON.stringify(heartbeat), 'PX', 5 * WORKER_HEARTBEAT_MS)
      .exec()
      .catch(() => {});
  }

  /** Runs one job of the queue; see the module comment. */
  private async process(job: Job): Promise<string> {
    const queued = job.data as QueuedJob;
    const { id, owner } = queued.record;
    const stored = await this.options.store.getJob(id, owner);
    if (!stored || isTerminal(stored.state)) {
      await releaseActive(this.redis, this.keys, queued.record).catch(() => {});
      return 'ended before';
    }
    const record: JobRecord = {
      ...stored,
      state: 'running',
      startedAt: Date.now(),
      progress: { elapsedSeconds: 0, bound: queued.baseCost },
    };
    if ((await this.redis.exists(this.keys.cancelled(id))) === 1) {
      await this.end(queued, stored, { state: 'cancelled', error: wire('MEMPLAN_ERR_CANCELLED') });
      return 'cancelled';
    }
    if (!(await this.options.store.updateJobIf(record, ACTIVE_STATES))) return 'ended before';
    const running: Running = { record, points: new Set() };
    this.running.set(id, running);
    // A cancel that came between the check above and now found no running job here: look again.
    if ((await this.redis.exists(this.keys.cancelled(id))) === 1) running.stopping = 'cancel';
    this.log(`memplan worker ${this.name}: job ${id} started (${record.strategy}, attempt ${job.attemptsMade + 1})`);
    try {
      const end = await this.solve(queued, running);
      if ('handBack' in end) {
        this.log(`memplan worker ${this.name}: job ${id} handed back to the queue`);
        throw new Error('handed back: the worker shut down before the job finished');
      }
      await this.end(queued, record, end);
      this.log(`memplan worker ${this.name}: job ${id} ${end.state} after ${((Date.now() - record.startedAt!) / 1000).toFixed(1)} s`);
      return end.state;
    } finally {
      this.running.delete(id);
    }
  }

  /** Solves on a thread: progress to Redis and (now and then) the store, stops on cancel or past the time limit. */
  private solve(queued: QueuedJob, running: Running): Promise<RunEnd> {
    const { record } = running;
    const store = this.options.store;
    const timeLimit = (queued.sweep ?? queued.options).timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS;
    // Events leave in order; progress reaches the store at most every PROGRESS_WRITE_INTERVAL_MS.
    let published: Promise<unknown> = Promise.resolve();
    let lastWrite = 0;
    return new Promise<RunEnd>((resolve) => {
      const watchdog = setTimeout(() => this.stop(record.id, 'deadline'), (timeLimit + this.watchdogGraceSeconds) * 1000);
      watchdog.unref();
      const settle = (end: RunEnd) => {
        clearTimeout(watchdog);
        // The last events go out before the end.
        void published.then(() => resolve(running.handBack ? { handBack: true } : end));
      };
      const cancelled = () => running.stopping === 'cancel';
      this.pool.start(
        record.id,
        queued.graphText as unknown as Graph,
        queued.options,
        {
          onProgress: (event) => {
            const improved = foldProgress(record, event, running.points);
            if (improved) {
              const data = { ...improved.data, at: Date.now() };
              published = published.then(() => publishEntry(this.redis, this.keys, record.id, { type: 'progress', data }).catch(() => {}));
            }
            if (Date.now() - lastWrite >= PROGRESS_WRITE_INTERVAL_MS) {
              lastWrite = Date.now();
              const snapshot = { ...record };
              published = published.then(() => Promise.resolve(store.updateJobIf(snapshot, ['running'])).catch(() => {}));
            }
          },
          onDone: (answer) => settle({ state: cancelled() ? 'cancelled' : 'done', ...workerAnswer(record.kind, answer) }),
          onFailed: (error) =>
            settle(cancelled() ? { state: 'cancelled', error: wire('MEMPLAN_ERR_CANCELLED') } : { state: 'failed', error }),
          onStopped: (reason) => {
            if (reason === 'cancel' || cancelled()) settle({ state: 'cancelled', error: wire('MEMPLAN_ERR_CANCELLED') });
            else
              settle({
                state: 'failed',
                error: wire('MEMPLAN_ERR_TIME_LIMIT_EXCEEDED', { limit: timeLimit, grace: this.watchdogGraceSeconds }),
              });
          },
        },
        record.kind,
        queued.sweep,
      );
      if (running.stopping) this.pool.stop(record.id, running.stopping);
    });
  }

  /** Stores a job's end (once: finishJob writes only while the job is active), tells the streams, frees its dedup key. */
  private async end(queued: QueuedJob, record: JobRecord, end: Exclude<RunEnd, { handBack: true }>): Promise<void> {
    const settled = settleJob(record, end.state, end, queued);
    if (record.startedAt !== undefined) observe(this.solveSeconds, (settled.record.finishedAt! - record.startedAt) / 1000);
    if (await this.options.store.finishJob(settled.record, settled.plan, settled.sweep)) {
      await publishEntry(this.redis, this.keys, record.id, { type: 'end' }).catch(() => {});
    }
    await releaseActive(this.redis, this.keys, record).catch(() => {});
  }

  /**
   * A job BullMQ gave up on ends failed in the store, so nobody waits for it forever. Every
   * worker hears the event; the first to store it wins (finishJob), the others change nothing.
   */
  private async failedForGood(jobId: string, reason: string): Promise<void> {
    try {
      const job = await this.queue.getJob(jobId);
      // A failure with attempts left is a retry, not an end.
      if (!job || (await job.getState()) !== 'failed') return;
      const queued = job.data as QueuedJob;
      const stored = await this.options.store.getJob(queued.record.id, queued.record.owner);
      if (!stored || isTerminal(stored.state)) return;
      const attempts = job.opts.attempts ?? DEFAULT_JOB_ATTEMPTS;
      const detail = `${reason} (after ${job.attemptsMade} of ${attempts} attempts)`;
      const error = new MemplanError('MEMPLAN_ERR_WORKER_CRASHED', { detail, job: stored.id }).toJSON();
      await this.end(queued, stored, { state: 'failed', error });
      this.log(`memplan worker ${this.name}: job ${stored.id} failed for good: ${detail}`);
    } catch (error) {
      this.log(`memplan worker ${this.name}: job ${jobId} failed and could not be marked so: ${(error as Error).message}`);
    }
  }

  /**
   * Stops taking jobs; running ones may finish within `graceMs`, then they are stopped and
   * handed back to the queue; then closes everything. Resolves when done.
   */
  stopGracefully(graceMs = DEFAULT_WORKER_SHUTDOWN_GRACE_MS): Promise<void> {
    this.stopping ??= (async () => {
      this.log(`memplan worker ${this.name}: stopping (${this.running.size} running; they get ${graceMs / 1000} s)`);
      const handBack = setTimeout(() => {
        for (const [id, job] of this.running) {
          job.handBack = true;
          this.pool.stop(id, 'cancel');
        }
      }, graceMs);
      // close() takes no new jobs and resolves once the running ones have been processed.
      await this.worker.close();
      await this.queueEvents.close().catch(() => {});
      await this.queue.close().catch(() => {});
      clearTimeout(handBack);
      clearInterval(this.heartbeat);
      await this.redis
        .multi()
        .srem(this.keys.workers, this.name)
        .del(this.keys.worker(this.name))
        .exec()
        .catch(() => {});
      await this.pool.close();
      this.subscriber.disconnect();
      await this.redis.quit().catch(() => {});
      await this.options.store.close();
    })();
    return this.stopping;
  }
}
