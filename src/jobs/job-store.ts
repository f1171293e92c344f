// What every store of jobs, plans and graphs offers: the embedded SQLite store (store.ts,
// the default) and PostgreSQL (pg-store.ts, with MEMPLAN_DATABASE_URL). Both pass one
// conformance suite (test/store-conformance.ts). Methods may answer at once (SQLite) or
// with a promise (PostgreSQL): callers await them.
//
// Nothing read back is trusted: job rows are sanitized into a valid record (an unreadable
// one reads as a failed job with MEMPLAN_ERR_STORED_RECORD_INVALID, see sanitizeJob);
// plans, sweep results and graphs come back as text, checked by the caller
// (src/codec/tasks.ts planProblem, src/routes/sweeps.ts) before they are served.
import { MemplanError } from '../../solver/errors.js';
import { findNonFinite } from '../../solver/finite.js';
import { ErrorSchema, JOB_STATES, JobProgressSchema, type JobKind, type JobProgress, type JobState } from '../schemas/index.js';

export type { JobKind } from '../schemas/index.js';

/** A value now, or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/** A job as the store keeps it. */
export interface JobRecord {
  id: string;
  owner: string;
  hash: string;
  state: JobState;
  strategy: string;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  progress?: JobProgress;
  error?: { code: string; message: string; details: Record<string, unknown> };
  planId?: string;
  /** What the job computes; absent means a plan. */
  kind?: JobKind;
}

/** A plan to store: its JSON text (checked by the caller) and its graph's text and hash. */
export interface PlanWrite {
  id: string;
  owner: string;
  hash: string;
  planText: string;
  graphHash: string;
  graphText: string;
  createdAt: number;
}

/** A stored plan as text, with the hash of its graph. */
export interface StoredPlan {
  id: string;
  owner: string;
  hash: string;
  planText: string;
  graphHash: string;
  createdAt: number;
}

/**
 * A finished sweep to store (POST /v1/sweeps): its result as JSON text (checked by the
 * caller) and the plans its points and answers name, each a PlanWrite.
 */
export interface SweepWrite {
  id: string;
  owner: string;
  resultText: string;
  createdAt: number;
  plans: PlanWrite[];
}

/** Rows deleted by a retention sweep (sweep results go with their plans, uncounted). */
export interface Deleted {
  jobs: number;
  plans: number;
  graphs: number;
}

/** The job states that are not final. */
export const ACTIVE_STATES: readonly JobState[] = ['queued', 'running'];

/** Jobs, plans and graphs; see the module comment. */
export interface JobStore {
  /** Marks jobs left queued or running by an earlier process as failed; returns how many. */
  failInterrupted(): Awaitable<number>;
  /** Inserts or replaces a job. */
  saveJob(job: JobRecord): Awaitable<void>;
  /** Writes the job only when its stored state is one of `from`; false when it was not (another process moved it on). */
  updateJobIf(job: JobRecord, from: readonly JobState[]): Awaitable<boolean>;
  /**
   * Ends a job in one transaction: its plan or its sweep (result and plans) when given, and
   * its final record, only when its stored state is still queued or running. False (and
   * nothing written) when the job had already ended: a result is stored once however many
   * workers computed it.
   */
  finishJob(job: JobRecord, plan?: PlanWrite, sweep?: SweepWrite): Awaitable<boolean>;
  /** A job of this owner (sanitized), or undefined. */
  getJob(id: string, owner: string): Awaitable<JobRecord | undefined>;
  /** This owner's latest jobs, newest first (sanitized). */
  listJobs(owner: string, limit: number, state?: JobState): Awaitable<JobRecord[]>;
  /** Number of jobs in each state, all owners. */
  countJobs(): Awaitable<Record<string, number>>;
  /** Queued plus running jobs of this owner (the per-key quota). */
  countActive(owner: string): Awaitable<number>;
  /** Stores a finished plan (text checked by the caller) and its graph, once per graph hash. */
  savePlan(record: PlanWrite): Awaitable<void>;
  /** A plan of this owner by id, as text (unchecked). */
  getPlan(id: string, owner: string): Awaitable<StoredPlan | undefined>;
  /** A sweep result of this owner by its job's id, as text (unchecked). */
  getSweep(id: string, owner: string): Awaitable<string | undefined>;
  /** The stored graph text of a hash, if any. */
  getGraph(hash: string): Awaitable<string | undefined>;
  /** The newest stored plan for this owner and request hash, as text (unchecked). */
  findPlanByHash(hash: string, owner: string): Awaitable<StoredPlan | undefined>;
  /** Records that a stored plan cannot be read: its job reads as failed, the plan leaves the cache. */
  markPlanUnreadable(id: string, owner: string, detail: string): Awaitable<void>;
  /** Deletes this owner's plan and the finished job of the same id; whether anything went. */
  deletePlan(id: string, owner: string): Awaitable<boolean>;
  /** Deletes finished jobs, plans and sweep results created before `cutoff` (ms since the epoch), and graphs no plan uses. */
  deleteOlderThan(cutoff: number): Awaitable<Deleted>;
  /** Rows in each table, for tests and operators. */
  counts(): Awaitable<Deleted>;
  /** Closes the store. */
  close(): Awaitable<void>;
}

/** The error a job reads with when its stored row (or its plan) cannot be read. */
export function unreadable(what: 'job' | 'plan' | 'sweep' | 'graph', id: string, detail: string): MemplanError {
  return new MemplanError('MEMPLAN_ERR_STORED_RECORD_INVALID', { what, id, detail });
}

/** The JSON error every store writes for a job an earlier process left unfinished. */
export const INTERRUPTED_ERROR = {
  code: 'MEMPLAN_ERR_INTERRUPTED',
  message: 'The job was interrupted before it finished (server restart); submit it again',
  details: { detail: 'server restart' },
};

/** A job row as any store reads it: columns by name, values of any type. */
export interface JobRow {
  id: unknown;
  owner: unknown;
  hash: unknown;
  state: unknown;
  strategy: unknown;
  created_at: unknown;
  started_at: unknown;
  finished_at: unknown;
  progress: unknown;
  error: unknown;
  plan_id: unknown;
  kind?: unknown;
}

/** A plan row as any store reads it. */
export interface PlanRow {
  id: unknown;
  owner: unknown;
  hash: unknown;
  plan: unknown;
  graph_hash: unknown;
  created_at: unknown;
}

const JOB_STATE_SET: ReadonlySet<string> = new Set(JOB_STATES);

function optionalTime(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

function parseJson(value: unknown): { ok: true; value: unknown } | { ok: false } {
  if (typeof value !== 'string') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(value) };
  } catch {
    return { ok: false };
  }
}

/** A job row as a valid record; an unreadable row reads as failed, with the reason. */
export function sanitizeJob(row: JobRow, id: string, owner: string): JobRecord {
  const problems: string[] = [];
  const state = typeof row.state === 'string' && JOB_STATE_SET.has(row.state) ? (row.state as JobState) : undefined;
  if (!state) problems.push(`unknown state ${JSON.stringify(row.state)}`);
  const createdAt = optionalTime(row.created_at);
  if (createdAt === undefined) problems.push('no creation time');
  let progress: JobProgress | undefined;
  if (row.progress !== null && row.progress !== undefined) {
    const parsed = parseJson(row.progress);
    const checked = parsed.ok ? JobProgressSchema.safeParse(parsed.value) : undefined;
    // Progress is informative only: an unreadable one is dropped, not fatal.
    if (checked?.success && !findNonFinite(checked.data)) progress = checked.data;
  }
  let error: JobRecord['error'];
  if (row.error !== null && row.error !== undefined) {
    const parsed = parseJson(row.error);
    const checked = parsed.ok ? ErrorSchema.safeParse(parsed.value) : undefined;
    if (checked?.success) error = checked.data;
    else problems.push('an unreadable error');
  }
  const planId = typeof row.plan_id === 'string' && row.plan_id !== '' ? row.plan_id : undefined;
  const kind: JobKind | undefined = row.kind === 'plan' || row.kind === 'sweep' ? row.kind : undefined;
  // A finished sweep's result is in the sweeps table, read (and checked) by its routes.
  if (state === 'done' && !planId && kind !== 'sweep') problems.push('a finished job without a plan');
  const record: JobRecord = {
    id,
    owner,
    hash: typeof row.hash === 'string' ? row.hash : '',
    state: state ?? 'failed',
    strategy: typeof row.strategy === 'string' ? row.strategy.slice(0, 64) : String(row.strategy ?? ''),
    createdAt: createdAt ?? 0,
    startedAt: optionalTime(row.started_at),
    finishedAt: optionalTime(row.finished_at),
    progress,
    error,
    planId,
  };
  if (kind) record.kind = kind;
  if (problems.length > 0) {
    record.state = 'failed';
    record.error = unreadable('job', id, problems.join('; ')).toJSON();
    record.planId = undefined;
  }
  return record;
}

/** A plan row as a stored plan (text unchecked). */
export function toStoredPlan(row: PlanRow, id: string, owner: string): StoredPlan {
  return {
    id,
    owner,
    hash: typeof row.hash === 'string' ? row.hash : '',
    planText: typeof row.plan === 'string' ? row.plan : '',
    graphHash: typeof row.graph_hash === 'string' ? row.graph_hash : '',
    createdAt: optionalTime(row.created_at) ?? 0,
  };
}

/** The column values of a job record, as both stores write them. */
export function jobColumns(job: JobRecord): Record<string, string | number | null> {
  return {
    id: job.id,
    owner: job.owner,
    hash: job.hash,
    state: job.state,
    strategy: job.strategy,
    createdAt: job.createdAt,
    startedAt: job.startedAt ?? null,
    finishedAt: job.finishedAt ?? null,
    progress: job.progress ? JSON.stringify(job.progress) : null,
    error: job.error ? JSON.stringify(job.error) : null,
    planId: job.planId ?? null,
    kind: job.kind ?? null,
  };
}
