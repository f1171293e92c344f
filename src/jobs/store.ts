// The embedded store: jobs, plans, sweep results and graphs in SQLite (better-sqlite3). A file in the
// data directory by default, ':memory:' in tests. Plans are looked up by a hash of
// (graph, request) so an identical request is answered from the store; graphs are kept
// once per content hash however many plans share them. It implements JobStore
// (job-store.ts) synchronously; several processes on one machine may share its file
// (WAL mode, a busy timeout), which is how `memplan worker` processes share it when no
// PostgreSQL is configured.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { JobState } from '../schemas/index.js';
import {
  ACTIVE_STATES,
  type Deleted,
  INTERRUPTED_ERROR,
  type JobRecord,
  type JobRow,
  type JobStore,
  jobColumns,
  type PlanRow,
  type PlanWrite,
  type StoredPlan,
  type SweepWrite,
  sanitizeJob,
  toStoredPlan,
  unreadable,
} from './job-store.js';

export type { JobRecord, PlanWrite, StoredPlan, SweepWrite } from './job-store.js';
export { unreadable } from './job-store.js';

/** Milliseconds a write waits for another process holding the database's write lock. */
const BUSY_TIMEOUT_MS = 10_000;

/** Jobs, plans and graphs in one SQLite database. */
export class Store implements JobStore {
  readonly db: Database.Database;

  /** Opens ':memory:' or `<dataDir>/memplan.sqlite`, creating the directory and migrating older layouts. */
  constructor(location: string) {
    if (location === ':memory:') {
      this.db = new Database(':memory:');
    } else {
      mkdirSync(location, { recursive: true });
      this.db = new Database(join(location, 'memplan.sqlite'), { timeout: BUSY_TIMEOUT_MS });
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
    this.migrateKinds();
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS sweeps (id TEXT PRIMARY KEY, owner TEXT NOT NULL, result TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS sweeps_created ON sweeps (created_at);
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

  /** Stores before job kinds had no `kind` column: add it (absent means a plan job). */
  private migrateKinds(): void {
    const columns = this.db.prepare("SELECT name FROM pragma_table_info('jobs')").all() as { name: string }[];
    if (!columns.some((column) => column.name === 'kind')) this.db.exec('ALTER TABLE jobs ADD COLUMN kind TEXT');
  }

  /** Marks jobs left queued or running by an earlier process as failed; returns how many. */
  failInterrupted(): number {
    const result = this.db
      .prepare(`UPDATE jobs SET state = 'failed', finished_at = ?, error = ? WHERE state IN ('queued', 'running')`)
      .run(Date.now(), JSON.stringify(INTERRUPTED_ERROR));
    return result.changes;
  }

  /** Inserts or replaces a job. */
  saveJob(job: JobRecord): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO jobs (id, owner, hash, state, strategy, created_at, started_at, finished_at, progress, error, plan_id, kind)
         VALUES (@id, @owner, @hash, @state, @strategy, @createdAt, @startedAt, @finishedAt, @progress, @error, @planId, @kind)`,
      )
      .run(jobColumns(job));
  }

  /** Writes the job only when its stored state is one of `from`. */
  updateJobIf(job: JobRecord, from: readonly JobState[]): boolean {
    const update = this.db.transaction(() => {
      const row = this.db.prepare('SELECT state FROM jobs WHERE id = ? AND owner = ?').get(job.id, job.owner) as
        | { state: unknown }
        | undefined;
      if (!row || !from.includes(row.state as JobState)) return false;
      this.saveJob(job);
      return true;
    });
    return update.immediate();
  }

  /** Ends a job with its plan or its sweep in one transaction, only while it is still queued or running. */
  finishJob(job: JobRecord, plan?: PlanWrite, sweep?: SweepWrite): boolean {
    const finish = this.db.transaction(() => {
      const row = this.db.prepare('SELECT state FROM jobs WHERE id = ? AND owner = ?').get(job.id, job.owner) as
        | { state: unknown }
        | undefined;
      if (!row || !ACTIVE_STATES.includes(row.state as JobState)) return false;
      if (plan) this.savePlan(plan);
      if (sweep) {
        for (const point of sweep.plans) this.savePlan(point);
        this.db
          .prepare('INSERT OR REPLACE INTO sweeps (id, owner, result, created_at) VALUES (?, ?, ?, ?)')
          .run(sweep.id, sweep.owner, sweep.resultText, sweep.createdAt);
      }
      this.saveJob(job);
      return true;
    });
    return finish.immediate();
  }

  /** A job of this owner (sanitized, see the module comment), or undefined. */
  getJob(id: string, owner: string): JobRecord | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ? AND owner = ?').get(id, owner) as JobRow | undefined;
    return row ? sanitizeJob(row, id, owner) : undefined;
  }

  /** This owner's latest jobs, newest first (sanitized). */
  listJobs(owner: string, limit: number, state?: JobState): JobRecord[] {
    const rows = (
      state
        ? this.db.prepare('SELECT * FROM jobs WHERE owner = ? AND state = ? ORDER BY created_at DESC LIMIT ?').all(owner, state, limit)
        : this.db.prepare('SELECT * FROM jobs WHERE owner = ? ORDER BY created_at DESC LIMIT ?').all(owner, limit)
    ) as JobRow[];
    return rows.map((row) => sanitizeJob(row, typeof row.id === 'string' ? row.id : String(row.id), owner));
  }

  /** Queued plus running jobs of this owner. */
  countActive(owner: string): number {
    const row = this.db.prepare(`SELECT COUNT(*) AS count FROM jobs WHERE owner = ? AND state IN ('queued', 'running')`).get(owner) as {
      count: number;
    };
    return row.count;
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

  /** A plan of this owner by id, as text (unchecked). */
  getPlan(id: string, owner: string): StoredPlan | undefined {
    const row = this.db.prepare('SELECT * FROM plans WHERE id = ? AND owner = ?').get(id, owner) as PlanRow | undefined;
    return row ? toStoredPlan(row, id, owner) : undefined;
  }

  /** A sweep result of this owner by its job's id, as text (unchecked). */
  getSweep(id: string, owner: string): string | undefined {
    const row = this.db.prepare('SELECT result FROM sweeps WHERE id = ? AND owner = ?').get(id, owner) as { result: unknown } | undefined;
    return typeof row?.result === 'string' ? row.result : undefined;
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
    return row ? toStoredPlan(row, String(row.id), owner) : undefined;
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
  deleteOlderThan(cutoff: number): Deleted {
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
  counts(): Deleted {
    const count = (table: string) => (this.db.prepare(`SELECT COUNT(*) AS count FROM ${table}`).get() as { count: number }).count;
    return { jobs: count('jobs'), plans: count('plans'), graphs: count('graphs') };
  }

  /** Closes the database. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}
