// What the routes need from the jobs, wherever they run: in this process (manager.ts, the
// default: a queue in front of this process's worker threads) or through Redis
// (distributed/jobs.ts with MEMPLAN_REDIS_URL: a BullMQ queue served by `memplan worker`
// processes, no job state in the API process). Methods may answer at once or with a
// promise; the routes await them.
import type { PlanOptions } from '../../solver/plan.js';
import type { SweepOptions } from '../../solver/sweep/schema.js';
import type { Awaitable, JobKind, JobRecord } from './job-store.js';
import type { JobEvent } from './lifecycle.js';

/** A job to queue: who asks, the request's hash, the validated graph and the options of its kind. */
export interface JobInput {
  owner: string;
  hash: string;
  /** The graph's canonical JSON (validated) and its hash, as the store keeps them. */
  graphText: string;
  graphHash: string;
  options: PlanOptions;
  baseCost: number;
  /** What the job computes (default a plan). */
  kind?: JobKind;
  /** A sweep's options (kind 'sweep'): its strategy and time limit are the job's, `options` unused. */
  sweep?: SweepOptions;
}

/** Histogram of solve seconds (cumulative buckets), for /metrics. */
export interface SolveHistogram {
  buckets: number[];
  sum: number;
  count: number;
}

/** Histogram buckets of solve seconds for /metrics. */
export const SOLVE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** An empty solve histogram. */
export function emptyHistogram(): SolveHistogram {
  return { buckets: SOLVE_BUCKETS.map(() => 0), sum: 0, count: 0 };
}

/** Adds one solve's seconds to a histogram. */
export function observe(histogram: SolveHistogram, seconds: number): void {
  histogram.sum += seconds;
  histogram.count++;
  SOLVE_BUCKETS.forEach((bound, position) => {
    if (seconds <= bound) histogram.buckets[position]++;
  });
}

/** The load of the job system, for /health and /metrics. */
export interface JobStats {
  /** Jobs waiting for a worker. */
  queued: number;
  /** Jobs queued and running now. */
  live: Partial<Record<'queued' | 'running', number>>;
  /** Solver threads (all worker processes' in scaled-out mode), busy ones, and those that crashed. */
  workers: { started: number; busy: number; crashes: number };
  solveSeconds: SolveHistogram;
  /** False when the queue (Redis) cannot be reached: submissions answer 503. */
  queueAvailable: boolean;
}

/** The jobs as the routes see them; see the module comment. */
export interface JobService {
  /** 'local' (this process's threads) or 'distributed' (BullMQ on Redis). */
  readonly mode: 'local' | 'distributed';
  /** True once shutdown() has begun. */
  readonly closing: boolean;
  /** Queues a job; throws SHUTTING_DOWN, QUOTA_EXCEEDED, QUEUE_FULL or QUEUE_UNAVAILABLE. */
  submit(input: JobInput): Awaitable<JobRecord>;
  /** A queued or running job of this owner with the same request hash (one solve for identical requests). */
  findActive(hash: string, owner: string): Awaitable<JobRecord | undefined>;
  /** A job of this owner, with its freshest progress, or undefined. */
  get(id: string, owner: string): Awaitable<{ record: JobRecord } | undefined>;
  /** Cancels a job (see manager.ts); resolves with the job after the cancel, or undefined when unknown. */
  cancel(id: string, owner: string): Promise<JobRecord | undefined>;
  /** Resolves when the job (of `owner`) is final or after `ms`. */
  waitFor(id: string, ms: number, owner: string): Promise<void>;
  /**
   * Streams a live job's events (past ones first); undefined when the job is not live, so
   * the caller answers from the store. The returned function unsubscribes.
   */
  subscribe(id: string, owner: string, listener: (event: JobEvent) => void): Awaitable<(() => void) | undefined>;
  /** The load of the job system. */
  stats(): Awaitable<JobStats>;
  /** Stops taking jobs and lets this process's part of the work end within `graceMs`. */
  shutdown(graceMs: number): Promise<void>;
}
