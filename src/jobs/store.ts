// The embedded store: jobs, plans and graphs in SQLite (better-sqlite3). A file in the
// data directory by default, ':memory:' in tests. Plans are looked up by a hash of
// (graph, request) so an identical request is answered from the store; graphs are kept
// once per content hash however many plans share them.
//
// Nothing read back is trusted: a row written by an older version or planted by hand can
// hold anything. Job rows are sanitized into a valid record (an unreadable one reads as
// a failed job with MEMPLAN_ERR_STORED_RECORD_INVALID); plans and graphs come back as
// text, checked by the caller (src/codec/tasks.ts planProblem) before they are served.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MemplanError } from '../../solver/errors.js';
import { findNonFinite } from '../../solver/finite.js';
import { ErrorSchema, JOB_STATES, JobProgressSchema, type JobKind, type JobProgress, type JobState } from '../schemas/index.js';

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
  /** A sweep job (POST /v1/sweeps); absent for a plan job. */
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

interface JobRow {
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

interface PlanRow {
  id: unknown;
  owner: unknown;
  hash: unknown;
  plan: unknown;
  graph_hash: unknown;
  created_at: unknown;
}

/** The error a job reads with when its stored row (or its plan) cannot be read. */
export function unreadable(what: 'job' | 'plan' | 'graph', id: string, detail: string): MemplanError {
  return new MemplanError('MEMPLAN_ERR_STORED_RECORD_INVALID', { what, id, detail });
}

const JOB_STATE_SET: ReadonlySet<string> = new Set(JOB_STATES);

function optionalTime(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
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
function toRecord(row: JobRow, id: string, owner: string): JobRecord {
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
  const kind: JobKind | undefined = row.kind === 'sweep' ? 'sweep' : undefined;
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
    kind,
  };
  if (problems.length > 0) {
    record.state = 'failed';
    record.error = unreadable('job', id, problems.join('; ')).toJSON();
    record.planId = undefined;
  }
  return record;
}

/** Jobs, plans and graphs in one SQLite database. */
export class Store {
  readonly db: Database.Database;

  /** Opens ':memory:' or `<dataDir>/memplan.sqlite`, creating the directory and migrating older layouts. */
  constructor(location: string) {
    if (location === ':memory:') {
      this.db = new Database(':memory:');
    } else {
      mkdirSync(location, { recursive: true });
      this.db = new Database(join(location, 'memplan.sqlite'));
      this.db.pragma('journal_mode = WAL');
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, hash TEXT NOT NULL, state TEXT NOT NULL,
        strategy TEXT NOT NULL, created_at INTEGER NOT NULL, started_at INTEGER, finished_at INTEGER,
        progress TEXT, error TEXT, plan_id TEXT);
      CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, created_at);
      CREATE TABLE IF NOT EXISTS graphs (hash TEXT PRIMARY KEY, graph TEXT NOT NULL);
    `);
    this.migratePlans();
    this.migrateSweeps();
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS plans (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, hash TEXT NOT NULL, plan TEXT NOT NULL,
        graph_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS plans_hash ON plans (owner, hash);
      CREATE INDEX IF NOT EXISTS plans_graph ON plans (graph_hash);
      CREATE INDEX IF NOT EXISTS plans_created ON plans (created_at);
    `);
  }

  /** Older stores kept a copy of the graph in every plan row: move them to `graphs`, once per hash. */
  private migratePlans(): void {
    const columns = this.db.prepare("SELECT name FROM pragma_table_info('plans')").all() as { name: string }[];
    if (!columns.some((column) => column.name === 'graph')) return;
    const migrate = this.db.transaction(() => {
      this.db.exec(`
        CREATE TABLE plans_v2 (
          id TEXT PRIMARY KEY, owner TEXT NOT NULL, hash TEXT NOT NULL, plan TEXT NOT NULL,
          graph_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
      `);
      const insertGraph = this.db.prepare('INSERT OR IGNORE INTO graphs (hash, graph) VALUES (?, ?)');
      const insertPlan = this.db.prepare('INSERT INTO plans_v2 (id, owner, hash, plan, graph_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)');
      for (const row of this.db.prepare('SELECT * FROM plans').all() as Record<string, unknown>[]) {
        const graphText = String(row.graph ?? '');
        const graphHash = createHash('sha256').update(graphText).digest('hex');
        insertGraph.run(graphHash, graphText);
        insertPlan.run(row.id, row.owner, row.hash, row.plan, graphHash, row.created_at);
      }
      this.db.exec('DROP TABLE plans; ALTER TABLE plans_v2 RENAME TO plans;');
    });
    migrate();
  }

  /** Stores before sweeps had no job kind and no sweeps table: add them. */
  private migrateSweeps(): void {
    const columns = this.db.prepare("SELECT name FROM pragma_table_info('jobs')").all() as { name: string }[];
    if (!columns.some((column) => column.name === 'kind')) this.db.exec('ALTER TABLE jobs ADD COLUMN kind TEXT');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS sweeps (id TEXT PRIMARY KEY, owner TEXT NOT NULL, result TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS sweeps_created ON sweeps (created_at);
    `);
  }

  /** Stores a finished sweep's result text and its plans in one transaction. */
  saveSweep(record: { id: string; owner: string; resultText: string; createdAt: number; plans: PlanWrite[] }): void {
    const write = this.db.transaction(() => {
      for (const plan of record.plans) this.savePlan(plan);
      this.db
        .prepare('INSERT OR REPLACE INTO sweeps (id, owner, result, created_at) VALUES (?, ?, ?, ?)')
        .run(record.id, record.owner, record.resultText, record.createdAt);
    });
    write();
  }

  /** A sweep result of this owner by id, as text (unchecked). */
  getSweep(id: string, owner: string): string | undefined {
    const row = this.db.prepare('SELECT result FROM sweeps WHERE id = ? AND owner = ?').get(id, owner) as { result: unknown } | undefined;
    return typeof row?.result === 'string' ? row.result : undefined;
  }

  /** Marks jobs left queued or running by an earlier process as failed; returns how many. */
  failInterrupted(): number {
    const error = {
      code: 'MEMPLAN_ERR_INTERRUPTED',
      message: 'The job was interrupted before it finished (server restart); submit it again',
      details: { detail: 'server restart' },
    };
    const result = this.db
      .prepare(`UPDATE jobs SET state = 'failed', finished_at = ?, error = ? WHERE state IN ('queued', 'running')`)
      .run(Date.now(), JSON.stringify(error));
    return result.changes;
  }

  /** Inserts or replaces a job. */
  saveJob(job: JobRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO jobs (id, owner, hash, state, strategy, created_at, started_at, finished_at, progress, error, plan_id, kind)
         VALUES (@id, @owner, @hash, @state, @strategy, @createdAt, @startedAt, @finishedAt, @progress, @error, @planId, @kind)`,
      )
      .run({
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
      });
  }

  /** A job of this owner (sanitized, see the module comment), or undefined. */
  getJob(id: string, owner: string): JobRecord | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ? AND owner = ?').get(id, owner) as JobRow | undefined;
    return row ? toRecord(row, id, owner) : undefined;
  }

  /** This owner's latest jobs, newest first (sanitized). */
  listJobs(owner: string, limit: number, state?: JobState): JobRecord[] {
    const rows = (
      state
        ? this.db.prepare('SELECT * FROM jobs WHERE owner = ? AND state = ? ORDER BY created_at DESC LIMIT ?').all(owner, state, limit)
        : this.db.prepare('SELECT * FROM jobs WHERE owner = ? ORDER BY created_at DESC LIMIT ?').all(owner, limit)
    ) as JobRow[];
    return rows.map((row) => toRecord(row, typeof row.id === 'string' ? row.id : String(row.id), owner));
  }

  /** Number of jobs in each state, all owners. */
  countJobs(): Record<string, number> {
    const rows = this.db.prepare('SELECT state, COUNT(*) AS count FROM jobs GROUP BY state').all() as { state: unknown; count: number }[];
    return Object.fromEntries(rows.filter((row) => typeof row.state === 'string').map((row) => [row.state, row.count]));
  }

  /** Stores a finished plan (text checked by the caller) and its graph, once per graph hash. */
  savePlan(record: PlanWrite): void {
    const write = this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO graphs (hash, graph) VALUES (?, ?)').run(record.graphHash, record.graphText);
      this.db
        .prepare('INSERT OR REPLACE INTO plans (id, owner, hash, plan, graph_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(record.id, record.owner, record.hash, record.planText, record.graphHash, record.createdAt);
    });
    write();
  }

  private toStoredPlan(row: PlanRow, id: string, owner: string): StoredPlan {
    return {
      id,
      owner,
      hash: typeof row.hash === 'string' ? row.hash : '',
      planText: typeof row.plan === 'string' ? row.plan : '',
      graphHash: typeof row.graph_hash === 'string' ? row.graph_hash : '',
      createdAt: optionalTime(row.created_at) ?? 0,
    };
  }

  /** A plan of this owner by id, as text (unchecked). */
  getPlan(id: string, owner: string): StoredPlan | undefined {
    const row = this.db.prepare('SELECT * FROM plans WHERE id = ? AND owner = ?').get(id, owner) as PlanRow | undefined;
    return row ? this.toStoredPlan(row, id, owner) : undefined;
  }

  /** The stored graph text of a hash, if any. */
  getGraph(hash: string): string | undefined {
    const row = this.db.prepare('SELECT graph FROM graphs WHERE hash = ?').get(hash) as { graph: unknown } | undefined;
    return typeof row?.graph === 'string' ? row.graph : undefined;
  }

  /** The newest stored plan for this owner and request hash, as text (unchecked). */
  findPlanByHash(hash: string, owner: string): StoredPlan | undefined {
    const row = this.db.prepare('SELECT * FROM plans WHERE owner = ? AND hash = ? ORDER BY created_at DESC LIMIT 1').get(owner, hash) as
      | PlanRow
      | undefined;
    return row ? this.toStoredPlan(row, String(row.id), owner) : undefined;
  }

  /**
   * Records that a stored plan cannot be read: its job reads as failed with the reason, and
   * the plan no longer answers cache lookups. The rows stay until deleted or expired.
   */
  markPlanUnreadable(id: string, owner: string, detail: string): void {
    const error = unreadable('plan', id, detail).toJSON();
    const mark = this.db.transaction(() => {
      this.db
        .prepare(`UPDATE plans SET hash = 'unreadable:' || hash WHERE id = ? AND owner = ? AND hash NOT LIKE 'unreadable:%'`)
        .run(id, owner);
      this.db
        .prepare(`UPDATE jobs SET state = 'failed', error = ?, plan_id = NULL WHERE owner = ? AND (id = ? OR plan_id = ?)`)
        .run(JSON.stringify(error), owner, id, id);
    });
    mark();
  }

  /**
   * Deletes this owner's plan `id` and the finished job of the same id (a job's plan has its
   * id); a queued or running job is left alone. Returns whether anything was deleted.
   */
  deletePlan(id: string, owner: string): boolean {
    const remove = this.db.transaction(() => {
      const plans = this.db.prepare('DELETE FROM plans WHERE id = ? AND owner = ?').run(id, owner).changes;
      const jobs = this.db
        .prepare(`DELETE FROM jobs WHERE id = ? AND owner = ? AND state NOT IN ('queued', 'running')`)
        .run(id, owner).changes;
      this.deleteOrphanGraphs();
      return plans + jobs > 0;
    });
    return remove();
  }

  /** Deletes finished jobs and plans created before `cutoff` (ms since the epoch); returns how many rows went. */
  deleteOlderThan(cutoff: number): { jobs: number; plans: number; graphs: number } {
    const sweep = this.db.transaction(() => {
      const jobs = this.db
        .prepare(`DELETE FROM jobs WHERE state NOT IN ('queued', 'running') AND COALESCE(finished_at, created_at) < ?`)
        .run(cutoff).changes;
      const plans = this.db.prepare('DELETE FROM plans WHERE created_at < ?').run(cutoff).changes;
      this.db.prepare('DELETE FROM sweeps WHERE created_at < ?').run(cutoff);
      const graphs = this.deleteOrphanGraphs();
      return { jobs, plans, graphs };
    });
    return sweep();
  }

  private deleteOrphanGraphs(): number {
    return this.db.prepare('DELETE FROM graphs WHERE hash NOT IN (SELECT graph_hash FROM plans)').run().changes;
  }

  /** Rows in each table, for tests and operators. */
  counts(): { jobs: number; plans: number; graphs: number } {
    const count = (table: string) => (this.db.prepare(`SELECT COUNT(*) AS count FROM ${table}`).get() as { count: number }).count;
    return { jobs: count('jobs'), plans: count('plans'), graphs: count('graphs') };
  }

  /** Closes the database. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}
