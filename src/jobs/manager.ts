// Jobs: a bounded queue in front of the worker pool, the state machine (queued, running,
// done, failed, cancelled), progress folding, event fan-out for Server-Sent Events, the
// store writes, and graceful shutdown.
import { randomUUID } from 'node:crypto';
import { isMemplanError, MemplanError, type ErrorCode } from '../../solver/errors.js';
import { assertFinite } from '../../solver/finite.js';
import type { Graph } from '../../solver/graph/schema.js';
import type { PlanOptions } from '../../solver/plan.js';
import type { Plan } from '../../solver/plan-schema.js';
import type { ProgressEvent } from '../../solver/strategies/types.js';
import type { SweepOptions, SweepResult } from '../../solver/sweep/schema.js';
import type { JobState } from '../schemas/index.js';
import type { WorkerPool } from './pool.js';
import { statusOfPlanText, type SweepAnswer, type WireError } from './protocol.js';
import type { JobRecord, Store } from './store.js';
import { DEFAULT_MAX_JOBS_PER_KEY, DEFAULT_MAX_QUEUE, DEFAULT_WATCHDOG_GRACE_SECONDS, MAX_JOB_EVENTS } from '../../solver/limits.js';

/** The event with every non-finite number left out. */
function finiteOnly(event: ProgressEvent): Partial<ProgressEvent> & Pick<ProgressEvent, 'kind'> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) if (typeof value !== 'number' || Number.isFinite(value)) kept[key] = value;
  return kept as Partial<ProgressEvent> & Pick<ProgressEvent, 'kind'>;
}

/** One event of a job's stream, as SSE sends it. */
export type JobEvent =
  | { event: 'progress'; data: ProgressEvent & { gap?: number } }
  | { event: 'plan'; data?: Plan; text: string }
  | { event: 'sweep'; data: SweepResult }
  | { event: 'error'; data: WireError }
  | { event: 'cancelled'; data: WireError };

interface LiveJob {
  record: JobRecord;
  /** The graph's canonical JSON (validated) and its hash, as the store keeps them; the worker parses the text. */
  graphText: string;
  graphHash: string;
  options: PlanOptions;
  baseCost: number;
  events: JobEvent[];
  listeners: Set<(event: JobEvent) => void>;
  waiters: Set<() => void>;
  /** A sweep job's options (POST /v1/sweeps); absent for a plan job. */
  sweep?: SweepOptions;
  /** A sweep job's points reported so far (a point may be reported again when it improves). */
  pointsSeen?: Set<number>;
}

export interface ManagerOptions {
  /** Jobs that may wait for a worker; beyond it submissions get 429. */
  maxQueue?: number;
  /** Seconds beyond a job's own time limit before the watchdog stops it. */
  watchdogGraceSeconds?: number;
  /** Queued plus running jobs one owner may have; beyond it submissions get 429. */
  maxJobsPerOwner?: number;
}

const TERMINAL: ReadonlySet<JobState> = new Set(['done', 'failed', 'cancelled']);
/** Histogram buckets of solve seconds for /metrics. */
export const SOLVE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/** Whether a job state is final. */
export function isTerminal(state: JobState): boolean {
  return TERMINAL.has(state);
}

function wire(code: ErrorCode, params: Record<string, unknown> = {}): WireError {
  return new MemplanError(code, params).toJSON();
}

/** The queue, the state machine and the event fan-out; see the module comment. */
export class JobManager {
  private readonly live = new Map<string, LiveJob>();
  private readonly queue: LiveJob[] = [];
  private readonly maxQueue: number;
  private readonly maxJobsPerOwner: number;
  private readonly watchdogGraceSeconds: number;
  private shuttingDown = false;
  readonly solveSeconds = { buckets: SOLVE_BUCKETS.map(() => 0), sum: 0, count: 0 };

  constructor(
    readonly store: Store,
    readonly pool: WorkerPool,
    options: ManagerOptions = {},
  ) {
    this.maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.maxJobsPerOwner = options.maxJobsPerOwner ?? DEFAULT_MAX_JOBS_PER_KEY;
    this.watchdogGraceSeconds = options.watchdogGraceSeconds ?? DEFAULT_WATCHDOG_GRACE_SECONDS;
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
  submit(input: {
    owner: string;
    hash: string;
    graphText: string;
    graphHash: string;
    options: PlanOptions;
    baseCost: number;
    /** Makes the job a sweep with these options. */
    sweep?: SweepOptions;
  }): JobRecord {
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
      kind: input.sweep ? 'sweep' : undefined,
    };
    const job: LiveJob = {
      record,
      graphText: input.graphText,
      graphHash: input.graphHash,
      options: input.options,
      baseCost: input.baseCost,
      sweep: input.sweep,
      events: [],
      listeners: new Set(),
      waiters: new Set(),
    };
    this.live.set(record.id, job);
    this.store.saveJob(record);
    this.queue.push(job);
    this.pump();
    return record;
  }

  /** Starts queued jobs while workers are free. */
  private pump(): void {
    while (this.queue.length > 0 && this.pool.hasCapacity()) {
      const job = this.queue.shift()!;
      if (job.record.state !== 'queued') continue;
      this.startJob(job);
    }
  }

  private startJob(job: LiveJob): void {
    const record = job.record;
    record.state = 'running';
    record.startedAt = Date.now();
    record.progress = { elapsedSeconds: 0, bound: job.baseCost };
    this.store.saveJob(record);
    const limit = ((job.sweep ?? job.options).timeLimitSeconds ?? 60) + this.watchdogGraceSeconds;
    const watchdog = setTimeout(() => {
      if (record.state !== 'running') return;
      this.pool.cancel(record.id);
      this.finish(job, 'failed', {
        error: wire('MEMPLAN_ERR_SOLVER_FAILED', {
          detail: `the solve did not stop within its time limit plus ${this.watchdogGraceSeconds} s`,
        }),
      });
    }, limit * 1000);
    watchdog.unref();
    // The graph travels as its JSON text: copying a string to the worker costs the event loop
    // far less than cloning a 20k-node object graph, and the worker parses it (src/jobs/worker.ts).
    this.pool.start(
      record.id,
      job.graphText as unknown as Graph,
      job.options,
      {
        onProgress: (event) => this.progress(job, event),
        // The worker sends the plan as its JSON text (protocol.ts, PlanText), a sweep as a SweepAnswer.
        onDone: (plan) => {
          clearTimeout(watchdog);
          if (job.sweep) this.finish(job, 'done', { sweep: plan as unknown as SweepAnswer });
          else this.finish(job, 'done', { plan });
        },
        onFailed: (error) => {
          clearTimeout(watchdog);
          this.finish(job, 'failed', { error });
        },
      },
      job.sweep,
    );
  }

  /** A sweep's progress: every point solved is forwarded (a sweep's plans at different budgets are not one incumbent). */
  private sweepProgress(job: LiveJob, event: Partial<ProgressEvent> & Pick<ProgressEvent, 'kind'>): void {
    if (event.kind !== 'point') return;
    const progress = job.record.progress ?? { elapsedSeconds: 0 };
    if (event.elapsedSeconds !== undefined) progress.elapsedSeconds = event.elapsedSeconds;
    if (event.point !== undefined) {
      job.pointsSeen ??= new Set();
      job.pointsSeen.add(event.point);
      progress.pointsDone = job.pointsSeen.size;
    }
    if (event.points !== undefined) progress.points = event.points;
    if (event.message) progress.message = event.message;
    job.record.progress = progress;
    this.emit(job, { event: 'progress', data: { ...event, elapsedSeconds: progress.elapsedSeconds } });
  }

  /** Folds an event into the job's progress; forwards only improvements. */
  private progress(job: LiveJob, rawEvent: ProgressEvent): void {
    // A figure that is not finite would not survive JSON: progress keeps finite ones only.
    const event = finiteOnly(rawEvent);
    if (job.sweep) {
      this.sweepProgress(job, event);
      return;
    }
    const progress = job.record.progress ?? { elapsedSeconds: 0 };
    if (event.elapsedSeconds !== undefined) progress.elapsedSeconds = event.elapsedSeconds;
    let improved = false;
    if (
      event.kind === 'incumbent' &&
      event.makespan !== undefined &&
      (progress.incumbent === undefined || event.makespan < progress.incumbent)
    ) {
      progress.incumbent = event.makespan;
      progress.peakBytes = event.peakBytes;
      if (event.strategy) progress.strategy = event.strategy;
      improved = true;
    }
    if (event.bound !== undefined && (progress.bound === undefined || event.bound > progress.bound)) {
      progress.bound = event.bound;
      improved = true;
    }
    if (event.kind === 'phase' && event.message) progress.message = event.message;
    if (progress.incumbent !== undefined && progress.bound !== undefined && progress.incumbent > 0) {
      progress.gap = Math.max(0, (progress.incumbent - progress.bound) / progress.incumbent);
    }
    job.record.progress = progress;
    if (improved)
      this.emit(job, {
        event: 'progress',
        data: {
          ...event,
          elapsedSeconds: progress.elapsedSeconds,
          makespan: progress.incumbent,
          bound: progress.bound,
          gap: progress.gap,
        },
      });
  }

  private emit(job: LiveJob, event: JobEvent): void {
    if (job.events.length < MAX_JOB_EVENTS) job.events.push(event);
    else job.events[job.events.length - 1] = event;
    for (const listener of job.listeners) listener(event);
  }

  /**
   * Stores a finished sweep: each plan under the id `<job id>-<n>` (the points and answers
   * name them so), then the result; a figure that is not finite fails the job instead.
   */
  private storeSweep(job: LiveJob, answer: SweepAnswer): { result?: SweepResult; error?: WireError } {
    const record = job.record;
    const rename = (local?: string) => (local === undefined ? undefined : `${record.id}-${local}`);
    try {
      const swept = answer.sweep;
      const result = assertFinite('sweep', {
        ...swept,
        points: swept.points.map((point) => ({ ...point, planId: rename(point.planId) })),
        maxOverhead: swept.maxOverhead && { ...swept.maxOverhead, planId: rename(swept.maxOverhead.planId) },
        smallestFeasible: swept.smallestFeasible && { ...swept.smallestFeasible, planId: rename(swept.smallestFeasible.planId) },
      });
      const createdAt = record.finishedAt ?? Date.now();
      const plans = answer.planTexts.map((text, index) => {
        const id = rename(String(index))!;
        if (statusOfPlanText(text) === undefined)
          throw new MemplanError('MEMPLAN_ERR_INTERNAL', { detail: 'the worker sent a plan in an unknown form' });
        return {
          id,
          owner: record.owner,
          // Never served from the plan cache: a sweep point's plan answers its own budget within the sweep's time.
          hash: `sweep:${id}`,
          // Text from the worker: checked there (sweep() returns only finite figures).
          planText: `{"id":${JSON.stringify(id)},${text.slice(1)}`,
          graphHash: job.graphHash,
          graphText: job.graphText,
          createdAt,
        };
      });
      this.store.saveSweep({ id: record.id, owner: record.owner, resultText: JSON.stringify(result), createdAt, plans });
      return { result };
    } catch (problem) {
      if (!isMemplanError(problem)) throw problem;
      return { error: problem.toJSON() };
    }
  }

  private finish(job: LiveJob, state: JobState, result: { plan?: Plan; sweep?: SweepAnswer; error?: WireError }): void {
    const record = job.record;
    if (isTerminal(record.state)) return;
    if (result.sweep) {
      record.finishedAt = Date.now();
      if (record.startedAt !== undefined && record.progress) record.progress.elapsedSeconds = (record.finishedAt - record.startedAt) / 1000;
      if (record.startedAt !== undefined) this.observeSolve((record.finishedAt - record.startedAt) / 1000);
      const stored = this.storeSweep(job, result.sweep);
      if (stored.result) {
        record.state = 'done';
        this.store.saveJob(record);
        this.emit(job, { event: 'sweep', data: stored.result });
        this.close(job);
      } else this.finish(job, 'failed', { error: stored.error });
      return;
    }
    const startedAt = record.startedAt;
    record.finishedAt = Date.now();
    if (startedAt !== undefined && record.progress) record.progress.elapsedSeconds = (record.finishedAt - startedAt) / 1000;
    if (startedAt !== undefined) this.observeSolve((record.finishedAt - startedAt) / 1000);
    let plan: Plan | undefined;
    let planText: string | undefined;
    let status: string | undefined;
    let error = result.error;
    if (typeof result.plan === 'string') {
      // Text from a worker: already checked there (plan() never returns a non-finite figure).
      status = statusOfPlanText(result.plan);
      if (status === undefined) error = wire('MEMPLAN_ERR_INTERNAL', { detail: 'the worker sent a plan in an unknown form' });
      else planText = `{"id":${JSON.stringify(record.id)},${(result.plan as string).slice(1)}`;
    } else if (result.plan) {
      try {
        // A plan with a non-finite figure is never stored or returned: the job fails instead.
        plan = assertFinite('plan', { ...result.plan, id: record.id });
        planText = JSON.stringify(plan);
        status = plan.status;
      } catch (problem) {
        if (!isMemplanError(problem)) throw problem;
        error = problem.toJSON();
      }
    }
    if (planText !== undefined) {
      record.state = state;
      record.planId = record.id;
      // A plan the strategy got wrong is kept for inspection but never served from the cache.
      const hash = status === 'error' ? `error:${record.hash}` : record.hash;
      this.store.savePlan({
        id: record.id,
        owner: record.owner,
        hash,
        planText,
        graphHash: job.graphHash,
        graphText: job.graphText,
        createdAt: record.finishedAt,
      });
      this.store.saveJob(record);
      this.emit(job, { event: 'plan', data: plan, text: planText });
    } else {
      record.state = state === 'done' ? 'failed' : state;
      record.error = error ?? wire('MEMPLAN_ERR_INTERNAL', { detail: 'no result' });
      this.store.saveJob(record);
      this.emit(job, { event: record.state === 'cancelled' ? 'cancelled' : 'error', data: record.error });
    }
    this.close(job);
  }

  /** Wakes the job's waiters, drops its listeners and starts the next queued job. */
  private close(job: LiveJob): void {
    const record = job.record;
    for (const waiter of job.waiters) waiter();
    job.waiters.clear();
    job.listeners.clear();
    this.live.delete(record.id);
    this.pump();
  }

  private observeSolve(seconds: number): void {
    this.solveSeconds.sum += seconds;
    this.solveSeconds.count++;
    SOLVE_BUCKETS.forEach((bound, position) => {
      if (seconds <= bound) this.solveSeconds.buckets[position]++;
    });
  }

  /**
   * A job of this owner (live or stored), or undefined. A finished job's plan is not read
   * here: routes read its text from the store and check it before serving it.
   */
  get(id: string, owner: string): { record: JobRecord } | undefined {
    const job = this.live.get(id);
    if (job) {
      if (job.record.owner !== owner) return undefined;
      const record = { ...job.record };
      if (record.state === 'running' && record.startedAt !== undefined && record.progress) {
        record.progress = { ...record.progress, elapsedSeconds: (Date.now() - record.startedAt) / 1000 };
      }
      return { record };
    }
    const record = this.store.getJob(id, owner);
    return record ? { record } : undefined;
  }

  /** Cancels a queued or running job; a finished one is left as it is. */
  cancel(id: string, owner: string): JobRecord | undefined {
    const job = this.live.get(id);
    if (!job) return this.store.getJob(id, owner);
    if (job.record.owner !== owner) return undefined;
    if (job.record.state === 'running') this.pool.cancel(id);
    this.finish(job, 'cancelled', { error: wire('MEMPLAN_ERR_CANCELLED') });
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
