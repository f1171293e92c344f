// The jobs of a scaled-out API process (MEMPLAN_REDIS_URL): a BullMQ queue on Redis that
// `memplan worker` processes serve, and the shared store (PostgreSQL, or SQLite on one
// machine). The API process holds no job state: a job's record is in the store, its
// events in Redis, so any API process answers for any job.
// - submit: the per-key quota from the store, the queue depth from Redis (429 beyond it),
//   one job per (owner, request hash) across processes (a Redis key set only if absent),
//   the job row, then the BullMQ job whose id is the job's.
// - cancel: marks the job cancelled in Redis and tells every worker; a job still waiting
//   leaves the queue at once, a running one is stopped by its worker, which keeps its best
//   plan (lifecycle.ts, as in one process).
// - subscribe / waitFor: Redis events (events.ts), with the store read every JOB_POLL_MS
//   as a safety net; the end is read from the store.
// Redis that cannot be reached makes submissions and cancels answer 503
// MEMPLAN_ERR_QUEUE_UNAVAILABLE (typed, with Retry-After) within REDIS_COMMAND_TIMEOUT_MS;
// reads of jobs and plans need only the store.
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { MemplanError } from '../../../solver/errors.js';
import {
  CANCEL_REPLY_SLACK_MS,
  DEFAULT_CANCEL_GRACE_MS,
  DEFAULT_JOB_ATTEMPTS,
  DEFAULT_MAX_JOBS_PER_KEY,
  DEFAULT_MAX_QUEUE,
  JOB_POLL_MS,
  JOB_REDIS_TTL_SECONDS,
  JOB_RETRY_BACKOFF_MS,
  WORKER_HEARTBEAT_MS,
} from '../../../solver/limits.js';
import type { JobRecord, JobStore } from '../job-store.js';
import { isTerminal, type JobEvent, settleJob, wire } from '../lifecycle.js';
import { emptyHistogram, type JobInput, type JobService, type JobStats, type SolveHistogram } from '../service.js';
import { compareStreamIds, EventHub, publishEntry, readEntries, type StreamEntry } from './events.js';
import { apiConnectionOptions, connect, queueCall, type RedisKeys, type RedisSettings, redisKeys } from './redis.js';

/** A job as it waits in the queue: what a worker needs to run it and store its result. */
export interface QueuedJob {
  record: JobRecord;
  graphText: string;
  graphHash: string;
  options: JobInput['options'];
  /** A sweep's options (kind 'sweep'). */
  sweep?: JobInput['sweep'];
  baseCost: number;
}

/** What a worker process reports in its heartbeat. */
export interface WorkerHeartbeat {
  name: string;
  concurrency: number;
  busy: number;
  crashes: number;
  solveSeconds: SolveHistogram;
  at: number;
}

export interface DistributedJobsOptions {
  maxQueue?: number;
  maxJobsPerOwner?: number;
  /** Times a job is started before it is given up (MEMPLAN_JOB_ATTEMPTS). */
  attempts?: number;
  /** Reports a Redis connection error (ioredis reconnects by itself). */
  onRedisError?: (error: Error) => void;
}

/** Removes a key only while it still holds `value` (the job's own dedup key, not a newer job's). */
const DELETE_IF_EQUAL = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Milliseconds between two reports of a Redis connection error (ioredis retries often while Redis is away). */
const ERROR_REPORT_INTERVAL_MS = 30_000;

/** Reports the first error and then at most one per ERROR_REPORT_INTERVAL_MS. */
function throttled(report: (error: Error) => void): (error: Error) => void {
  let last = 0;
  return (error) => {
    if (Date.now() - last < ERROR_REPORT_INTERVAL_MS) return;
    last = Date.now();
    report(error);
  };
}

/** The BullMQ job options every memplan job is queued with. */
export function queuedJobOptions(id: string, attempts: number) {
  return {
    jobId: id,
    attempts,
    backoff: { type: 'exponential', delay: JOB_RETRY_BACKOFF_MS },
    // The store keeps results; BullMQ keeps a failed job a day for operators.
    removeOnComplete: true,
    removeOnFail: { age: JOB_REDIS_TTL_SECONDS },
  };
}

/** Deletes a job's dedup key when it still names the job. */
export async function releaseActive(redis: Redis, keys: RedisKeys, record: JobRecord): Promise<void> {
  await redis.eval(DELETE_IF_EQUAL, 1, keys.active(record.owner, record.hash), record.id);
}

/** The jobs through Redis; see the module comment. */
export class DistributedJobs implements JobService {
  readonly mode = 'distributed' as const;
  /** Made once Redis first answers: BullMQ's setup fails for good on a connection that is not ready. */
  private bullQueue: Queue | undefined;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly hub: EventHub;
  private readonly keys: RedisKeys;
  private readonly maxQueue: number;
  private readonly maxJobsPerOwner: number;
  private readonly attempts: number;
  private shuttingDown = false;

  constructor(
    readonly settings: RedisSettings,
    readonly store: JobStore,
    options: DistributedJobsOptions = {},
  ) {
    const onError = throttled(options.onRedisError ?? (() => {}));
    this.keys = redisKeys(settings);
    this.redis = connect(settings.url, apiConnectionOptions(), onError);
    this.subscriber = connect(settings.url, { ...apiConnectionOptions(), commandTimeout: undefined }, onError);
    this.hub = new EventHub(this.subscriber, this.keys);
    this.redis.once('ready', () => {
      this.bullQueue = new Queue(settings.queue, { connection: this.redis, prefix: settings.prefix, skipWaitingForReady: true });
      this.bullQueue.on('error', onError);
    });
    this.maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.maxJobsPerOwner = options.maxJobsPerOwner ?? DEFAULT_MAX_JOBS_PER_KEY;
    this.attempts = options.attempts ?? DEFAULT_JOB_ATTEMPTS;
  }

  get closing(): boolean {
    return this.shuttingDown;
  }

  /** The BullMQ queue; MEMPLAN_ERR_QUEUE_UNAVAILABLE until Redis has answered once. */
  get queue(): Queue {
    if (!this.bullQueue)
      throw new MemplanError('MEMPLAN_ERR_QUEUE_UNAVAILABLE', { detail: `no connection to Redis yet (${this.redis.status})` });
    return this.bullQueue;
  }

  /** Jobs waiting for a worker (waiting, or delayed before a retry). */
  private async waiting(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed');
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  async submit(input: JobInput): Promise<JobRecord> {
    if (this.shuttingDown) throw new MemplanError('MEMPLAN_ERR_SHUTTING_DOWN');
    const owned = await this.store.countActive(input.owner);
    if (owned >= this.maxJobsPerOwner) throw new MemplanError('MEMPLAN_ERR_QUOTA_EXCEEDED', { count: owned });
    const waiting = await queueCall('queue depth', () => this.waiting());
    if (waiting >= this.maxQueue) throw new MemplanError('MEMPLAN_ERR_QUEUE_FULL', { size: this.maxQueue });
    const record: JobRecord = {
      id: randomUUID(),
      owner: input.owner,
      hash: input.hash,
      state: 'queued',
      strategy: (input.sweep ?? input.options).strategy ?? 'auto',
      createdAt: Date.now(),
      kind: input.kind,
    };
    // One job per (owner, request hash) across API processes: the first to set the key solves.
    // The worker deletes the key when the job ends; the expiry only collects keys of lost jobs.
    const ttl = JOB_REDIS_TTL_SECONDS * 1000;
    const activeKey = this.keys.active(record.owner, record.hash);
    const claimed = await queueCall('dedup', () => this.redis.set(activeKey, record.id, 'PX', ttl, 'NX'));
    if (claimed !== 'OK') {
      const existing = await this.activeJob(activeKey, record.owner);
      if (existing) return existing;
      await queueCall('dedup', () => this.redis.set(activeKey, record.id, 'PX', ttl));
    }
    await this.store.saveJob(record);
    const queued: QueuedJob = {
      record,
      graphText: input.graphText,
      graphHash: input.graphHash,
      options: input.options,
      sweep: input.sweep,
      baseCost: input.baseCost,
    };
    try {
      await queueCall('queue', () => this.queue.add(input.kind ?? 'plan', queued, queuedJobOptions(record.id, this.attempts)));
    } catch (error) {
      // Never queued: the job fails at once, and the next identical request may try again.
      const failed = settleJob(record, 'failed', { error: (error as MemplanError).toJSON() }, queued).record;
      await this.store.finishJob(failed);
      await releaseActive(this.redis, this.keys, record).catch(() => {});
      throw error;
    }
    return record;
  }

  /** The active job a dedup key names, or undefined when it has ended (or its row is not there yet). */
  private async activeJob(key: string, owner: string): Promise<JobRecord | undefined> {
    const id = await queueCall('dedup', () => this.redis.get(key));
    if (!id) return undefined;
    // The process that set the key writes the row just after: give it a moment.
    for (let attempt = 0; attempt < 20; attempt++) {
      const record = await this.store.getJob(id, owner);
      if (record) return isTerminal(record.state) ? undefined : record;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return undefined;
  }

  async findActive(hash: string, owner: string): Promise<JobRecord | undefined> {
    return this.activeJob(this.keys.active(owner, hash), owner);
  }

  async get(id: string, owner: string): Promise<{ record: JobRecord } | undefined> {
    const record = await this.store.getJob(id, owner);
    if (!record) return undefined;
    if (record.state === 'running' && record.startedAt !== undefined && record.progress) {
      record.progress = { ...record.progress, elapsedSeconds: (Date.now() - record.startedAt) / 1000 };
    }
    return { record };
  }

  async cancel(id: string, owner: string): Promise<JobRecord | undefined> {
    const record = await this.store.getJob(id, owner);
    if (!record || isTerminal(record.state)) return record;
    // Every worker hears it; one that starts the job later sees the mark.
    await queueCall('cancel', () =>
      this.redis.multi().set(this.keys.cancelled(id), '1', 'EX', JOB_REDIS_TTL_SECONDS).publish(this.keys.cancels, id).exec(),
    );
    // Still waiting: it leaves the queue at once (0 when a worker holds it: the worker ends it).
    const removed = await queueCall('cancel', () => this.queue.remove(id));
    if (removed === 1) {
      const settled = settleJob(record, 'cancelled', { error: wire('MEMPLAN_ERR_CANCELLED') }, { graphHash: '', graphText: '' });
      if (await this.store.finishJob(settled.record)) {
        await releaseActive(this.redis, this.keys, record).catch(() => {});
        await publishEntry(this.redis, this.keys, id, { type: 'end' }).catch(() => {});
      }
    } else {
      await this.waitFor(id, DEFAULT_CANCEL_GRACE_MS + CANCEL_REPLY_SLACK_MS, owner);
    }
    return (await this.store.getJob(id, owner)) ?? record;
  }

  /** Resolves when the job of `owner` is final, or after `ms`. */
  async waitFor(id: string, ms: number, owner: string): Promise<void> {
    if (ms <= 0) return;
    await new Promise<void>((resolve) => {
      let stopListening: (() => void) | undefined;
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        clearInterval(poll);
        stopListening?.();
        resolve();
      };
      const timer = setTimeout(done, ms);
      const check = async () => {
        const record = await Promise.resolve(this.store.getJob(id, owner)).catch(() => undefined);
        if (!record || isTerminal(record.state)) done();
      };
      const poll = setInterval(() => void check(), JOB_POLL_MS);
      this.hub
        .listen(id, (_, entry) => {
          if (entry.type === 'end') done();
        })
        .then((stop) => {
          if (finished) stop();
          else stopListening = stop;
        })
        .catch(() => {});
      void check();
    });
  }

  async subscribe(id: string, owner: string, listener: (event: JobEvent) => void): Promise<(() => void) | undefined> {
    const record = await this.store.getJob(id, owner);
    if (!record || isTerminal(record.state)) return undefined;
    let lastId = '0-0';
    let replaying = true;
    let ended = false;
    const buffered: { id: string; entry: StreamEntry }[] = [];
    let stopListening: (() => void) | undefined;
    const stop = () => {
      ended = true;
      clearInterval(poll);
      stopListening?.();
    };
    const finish = async () => {
      if (ended) return;
      stop();
      listener(await this.finalEvent(id, owner));
    };
    const deliver = (streamId: string, entry: StreamEntry) => {
      if (ended || compareStreamIds(streamId, lastId) <= 0) return;
      lastId = streamId;
      if (entry.type === 'progress') listener({ event: 'progress', data: entry.data });
      else void finish();
    };
    const poll = setInterval(async () => {
      const current = await Promise.resolve(this.store.getJob(id, owner)).catch(() => undefined);
      if (current && isTerminal(current.state)) void finish();
    }, JOB_POLL_MS);
    // Subscribe first, then replay: nothing falls between the two.
    stopListening = await this.hub
      .listen(id, (streamId, entry) => {
        if (replaying) buffered.push({ id: streamId, entry });
        else deliver(streamId, entry);
      })
      .catch(() => undefined);
    const past = await readEntries(this.redis, this.keys, id).catch(() => []);
    for (const { id: streamId, entry } of past) deliver(streamId, entry);
    replaying = false;
    for (const { id: streamId, entry } of buffered.sort((a, b) => compareStreamIds(a.id, b.id))) deliver(streamId, entry);
    return stop;
  }

  /** The last event of a finished job's stream, from the store: its plan (a sweep: its result), its cancel or its error. */
  private async finalEvent(id: string, owner: string): Promise<JobEvent> {
    const record = await this.store.getJob(id, owner);
    if (record?.state === 'cancelled') return { event: 'cancelled', data: record.error ?? wire('MEMPLAN_ERR_CANCELLED') };
    if (record?.state === 'done' && record.kind === 'sweep') {
      const text = await this.store.getSweep(id, owner);
      if (text !== undefined) return { event: 'sweep', text };
    }
    if (record?.state === 'done' && record.planId) {
      const stored = await this.store.getPlan(record.planId, owner);
      if (stored) return { event: 'plan', text: stored.planText };
    }
    return { event: 'error', data: record?.error ?? wire('MEMPLAN_ERR_INTERNAL', { detail: 'the job has no result' }) };
  }

  /** The queue from Redis; the workers from their heartbeats. */
  async stats(): Promise<JobStats> {
    const solveSeconds = emptyHistogram();
    try {
      const [counts, beats, names] = await queueCall('stats', async () => {
        const counts = await this.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
        const names = await this.redis.smembers(this.keys.workers);
        const values = names.length > 0 ? await this.redis.mget(names.map((name) => this.keys.worker(name))) : [];
        return [counts, values, names] as const;
      });
      const workers = { started: 0, busy: 0, crashes: 0 };
      // Workers whose heartbeat expired (stopped, or dead) leave the set.
      const gone = names.filter((_, position) => !beats[position]);
      if (gone.length > 0) void this.redis.srem(this.keys.workers, ...gone).catch(() => {});
      for (const text of beats) {
        if (!text) continue;
        const beat = JSON.parse(text) as WorkerHeartbeat;
        if (Date.now() - beat.at > 5 * WORKER_HEARTBEAT_MS) continue;
        workers.started += beat.concurrency;
        workers.busy += beat.busy;
        workers.crashes += beat.crashes;
        beat.solveSeconds.buckets.forEach((count, position) => {
          solveSeconds.buckets[position] += count;
        });
        solveSeconds.sum += beat.solveSeconds.sum;
        solveSeconds.count += beat.solveSeconds.count;
      }
      const queued = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
      return { queued, live: { queued, running: counts.active ?? 0 }, workers, solveSeconds, queueAvailable: true };
    } catch {
      return { queued: 0, live: {}, workers: { started: 0, busy: 0, crashes: 0 }, solveSeconds, queueAvailable: false };
    }
  }

  /** Stops taking jobs and closes the connections; the jobs go on in the worker processes. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    await this.bullQueue?.close().catch(() => {});
    this.subscriber.disconnect();
    this.redis.disconnect();
  }
}
