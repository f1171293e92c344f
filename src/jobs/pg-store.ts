// The PostgreSQL store (MEMPLAN_DATABASE_URL=postgres://...): the same jobs, plans, sweep
// results and graphs as the SQLite store (store.ts), shared by every API and worker process. The
// schema is created and upgraded by numbered migrations (MIGRATIONS), applied in order at
// open under an advisory lock, so processes starting together migrate once. Times are
// milliseconds since the epoch (BIGINT, read back as numbers); plans and graphs are kept
// as the exact JSON text the service serves.
import pg from 'pg';
import { MemplanError } from '../../solver/errors.js';
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

/** One schema change: applied once, in order of version. */
interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** The schema's history; append, never edit. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'jobs, plans and graphs',
    sql: `
      CREATE TABLE jobs (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, hash TEXT NOT NULL, state TEXT NOT NULL,
        strategy TEXT NOT NULL, created_at BIGINT NOT NULL, started_at BIGINT, finished_at BIGINT,
        progress TEXT, error TEXT, plan_id TEXT, kind TEXT);
      CREATE INDEX jobs_owner ON jobs (owner, created_at);
      CREATE INDEX jobs_active ON jobs (owner) WHERE state IN ('queued', 'running');
      CREATE TABLE graphs (hash TEXT PRIMARY KEY, graph TEXT NOT NULL);
      CREATE TABLE plans (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, hash TEXT NOT NULL, plan TEXT NOT NULL,
        graph_hash TEXT NOT NULL, created_at BIGINT NOT NULL);
      CREATE INDEX plans_hash ON plans (owner, hash);
      CREATE INDEX plans_graph ON plans (graph_hash);
      CREATE INDEX plans_created ON plans (created_at);
    `,
  },
  {
    version: 2,
    description: 'sweep results',
    sql: `
      CREATE TABLE sweeps (id TEXT PRIMARY KEY, owner TEXT NOT NULL, result TEXT NOT NULL, created_at BIGINT NOT NULL);
      CREATE INDEX sweeps_created ON sweeps (created_at);
    `,
  },
];

/** The advisory lock key that serializes migrations across processes ("mplan" in ASCII). */
const MIGRATION_LOCK = 0x6d706c616e;

/** BIGINT columns hold milliseconds (well within 2^53): read them as numbers, not strings. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const JOB_INSERT = `
  INSERT INTO jobs (id, owner, hash, state, strategy, created_at, started_at, finished_at, progress, error, plan_id, kind)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
  ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, hash = EXCLUDED.hash, state = EXCLUDED.state,
    strategy = EXCLUDED.strategy, created_at = EXCLUDED.created_at, started_at = EXCLUDED.started_at,
    finished_at = EXCLUDED.finished_at, progress = EXCLUDED.progress, error = EXCLUDED.error,
    plan_id = EXCLUDED.plan_id, kind = EXCLUDED.kind`;

function jobValues(job: JobRecord): unknown[] {
  const columns = jobColumns(job);
  return [
    columns.id,
    columns.owner,
    columns.hash,
    columns.state,
    columns.strategy,
    columns.createdAt,
    columns.startedAt,
    columns.finishedAt,
    columns.progress,
    columns.error,
    columns.planId,
    columns.kind,
  ];
}

/** Error codes of a database that cannot be reached or is going away (SQLSTATE classes 08, 57P, 53300, 3D000; socket errors). */
const UNAVAILABLE = /^(08|57P0|53300|3D000|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)/;

/** A database that cannot be reached becomes MEMPLAN_ERR_STORE_UNAVAILABLE (503, retry); anything else is rethrown. */
function mapError(error: unknown): never {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  if ((typeof code === 'string' && UNAVAILABLE.test(code)) || /Connection terminated|connection timeout/i.test(text)) {
    throw new MemplanError('MEMPLAN_ERR_STORE_UNAVAILABLE', { detail: text });
  }
  throw error;
}

/** Jobs, plans and graphs in PostgreSQL; open with PgStore.open(url). */
export class PgStore implements JobStore {
  private constructor(readonly pool: pg.Pool) {}

  /** Connects, applies the migrations this database lacks, and returns the store. */
  static async open(url: string, options: { maxConnections?: number } = {}): Promise<PgStore> {
    const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10, types: TYPES });
    // An idle connection the server closed is replaced; it must not crash the process.
    pool.on('error', () => {});
    const store = new PgStore(pool);
    try {
      await store.migrate();
    } catch (error) {
      await pool.end();
      throw error;
    }
    return store;
  }

  /** The schema version this database is at after open(). */
  async schemaVersion(): Promise<number> {
    const result = await this.query('SELECT COALESCE(MAX(version), 0) AS version FROM memplan_schema');
    return Number(result.rows[0].version);
  }

  private async migrate(): Promise<void> {
    await this.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS memplan_schema (version INTEGER PRIMARY KEY, description TEXT, applied_at BIGINT)');
      const applied = new Set((await client.query('SELECT version FROM memplan_schema')).rows.map((row) => Number(row.version)));
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        await client.query(migration.sql);
        await client.query('INSERT INTO memplan_schema (version, description, applied_at) VALUES ($1, $2, $3)', [
          migration.version,
          migration.description,
          Date.now(),
        ]);
      }
    });
  }

  /** One query; a database that cannot be reached is MEMPLAN_ERR_STORE_UNAVAILABLE. */
  private query(text: string, values?: unknown[]): Promise<pg.QueryResult> {
    return this.pool.query(text, values).catch(mapError);
  }

  /** Runs `work` in one transaction on one connection; rolls back when it throws. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch(mapError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      return mapError(error);
    } finally {
      client.release();
    }
  }

  async failInterrupted(): Promise<number> {
    const result = await this.query(`UPDATE jobs SET state = 'failed', finished_at = $1, error = $2 WHERE state IN ('queued', 'running')`, [
      Date.now(),
      JSON.stringify(INTERRUPTED_ERROR),
    ]);
    return result.rowCount ?? 0;
  }

  async saveJob(job: JobRecord): Promise<void> {
    await this.query(JOB_INSERT, jobValues(job));
  }

  async updateJobIf(job: JobRecord, from: readonly JobState[]): Promise<boolean> {
    return this.transaction(async (client) => {
      const row = await client.query('SELECT state FROM jobs WHERE id = $1 AND owner = $2 FOR UPDATE', [job.id, job.owner]);
      if (row.rowCount === 0 || !from.includes(row.rows[0].state)) return false;
      await client.query(JOB_INSERT, jobValues(job));
      return true;
    });
  }

  async finishJob(job: JobRecord, plan?: PlanWrite, sweep?: SweepWrite): Promise<boolean> {
    return this.transaction(async (client) => {
      // The row lock makes two workers finishing the same job take turns: the second sees it ended.
      const row = await client.query('SELECT state FROM jobs WHERE id = $1 AND owner = $2 FOR UPDATE', [job.id, job.owner]);
      if (row.rowCount === 0 || !ACTIVE_STATES.includes(row.rows[0].state)) return false;
      if (plan) await this.writePlan(client, plan);
      if (sweep) {
        for (const point of sweep.plans) await this.writePlan(client, point);
        await client.query(
          `INSERT INTO sweeps (id, owner, result, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, result = EXCLUDED.result, created_at = EXCLUDED.created_at`,
          [sweep.id, sweep.owner, sweep.resultText, sweep.createdAt],
        );
      }
      await client.query(JOB_INSERT, jobValues(job));
      return true;
    });
  }

  async getJob(id: string, owner: string): Promise<JobRecord | undefined> {
    const result = await this.query('SELECT * FROM jobs WHERE id = $1 AND owner = $2', [id, owner]);
    return result.rowCount ? sanitizeJob(result.rows[0] as JobRow, id, owner) : undefined;
  }

  async listJobs(owner: string, limit: number, state?: JobState): Promise<JobRecord[]> {
    const result = state
      ? await this.query('SELECT * FROM jobs WHERE owner = $1 AND state = $2 ORDER BY created_at DESC LIMIT $3', [owner, state, limit])
      : await this.query('SELECT * FROM jobs WHERE owner = $1 ORDER BY created_at DESC LIMIT $2', [owner, limit]);
    return (result.rows as JobRow[]).map((row) => sanitizeJob(row, String(row.id), owner));
  }

  async countJobs(): Promise<Record<string, number>> {
    const result = await this.query('SELECT state, COUNT(*)::int AS count FROM jobs GROUP BY state');
    return Object.fromEntries(result.rows.map((row) => [row.state, Number(row.count)]));
  }

  async countActive(owner: string): Promise<number> {
    const result = await this.query(`SELECT COUNT(*)::int AS count FROM jobs WHERE owner = $1 AND state IN ('queued', 'running')`, [owner]);
    return Number(result.rows[0].count);
  }

  private async writePlan(client: pg.PoolClient | pg.Pool, record: PlanWrite): Promise<void> {
    await client.query('INSERT INTO graphs (hash, graph) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING', [
      record.graphHash,
      record.graphText,
    ]);
    await client.query(
      `INSERT INTO plans (id, owner, hash, plan, graph_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, hash = EXCLUDED.hash, plan = EXCLUDED.plan,
         graph_hash = EXCLUDED.graph_hash, created_at = EXCLUDED.created_at`,
      [record.id, record.owner, record.hash, record.planText, record.graphHash, record.createdAt],
    );
  }

  async savePlan(record: PlanWrite): Promise<void> {
    await this.transaction((client) => this.writePlan(client, record));
  }

  async getPlan(id: string, owner: string): Promise<StoredPlan | undefined> {
    const result = await this.query('SELECT * FROM plans WHERE id = $1 AND owner = $2', [id, owner]);
    return result.rowCount ? toStoredPlan(result.rows[0] as PlanRow, id, owner) : undefined;
  }

  async getSweep(id: string, owner: string): Promise<string | undefined> {
    const result = await this.query('SELECT result FROM sweeps WHERE id = $1 AND owner = $2', [id, owner]);
    const text = result.rows[0]?.result;
    return typeof text === 'string' ? text : undefined;
  }

  async getGraph(hash: string): Promise<string | undefined> {
    const result = await this.query('SELECT graph FROM graphs WHERE hash = $1', [hash]);
    const graph = result.rows[0]?.graph;
    return typeof graph === 'string' ? graph : undefined;
  }

  async findPlanByHash(hash: string, owner: string): Promise<StoredPlan | undefined> {
    const result = await this.query('SELECT * FROM plans WHERE owner = $1 AND hash = $2 ORDER BY created_at DESC LIMIT 1', [owner, hash]);
    return result.rowCount ? toStoredPlan(result.rows[0] as PlanRow, String(result.rows[0].id), owner) : undefined;
  }

  async markPlanUnreadable(id: string, owner: string, detail: string): Promise<void> {
    const error = JSON.stringify(unreadable('plan', id, detail).toJSON());
    await this.transaction(async (client) => {
      await client.query(`UPDATE plans SET hash = 'unreadable:' || hash WHERE id = $1 AND owner = $2 AND hash NOT LIKE 'unreadable:%'`, [
        id,
        owner,
      ]);
      await client.query(`UPDATE jobs SET state = 'failed', error = $1, plan_id = NULL WHERE owner = $2 AND (id = $3 OR plan_id = $3)`, [
        error,
        owner,
        id,
      ]);
    });
  }

  async deletePlan(id: string, owner: string): Promise<boolean> {
    return this.transaction(async (client) => {
      const plans = (await client.query('DELETE FROM plans WHERE id = $1 AND owner = $2', [id, owner])).rowCount ?? 0;
      const jobs =
        (await client.query(`DELETE FROM jobs WHERE id = $1 AND owner = $2 AND state NOT IN ('queued', 'running')`, [id, owner]))
          .rowCount ?? 0;
      await this.deleteOrphanGraphs(client);
      return plans + jobs > 0;
    });
  }

  async deleteOlderThan(cutoff: number): Promise<Deleted> {
    return this.transaction(async (client) => {
      const jobs =
        (
          await client.query(`DELETE FROM jobs WHERE state NOT IN ('queued', 'running') AND COALESCE(finished_at, created_at) < $1`, [
            cutoff,
          ])
        ).rowCount ?? 0;
      const plans = (await client.query('DELETE FROM plans WHERE created_at < $1', [cutoff])).rowCount ?? 0;
      await client.query('DELETE FROM sweeps WHERE created_at < $1', [cutoff]);
      const graphs = await this.deleteOrphanGraphs(client);
      return { jobs, plans, graphs };
    });
  }

  private async deleteOrphanGraphs(client: pg.PoolClient): Promise<number> {
    const result = await client.query('DELETE FROM graphs WHERE NOT EXISTS (SELECT 1 FROM plans WHERE plans.graph_hash = graphs.hash)');
    return result.rowCount ?? 0;
  }

  async counts(): Promise<Deleted> {
    const result = await this.query(
      'SELECT (SELECT COUNT(*) FROM jobs)::int AS jobs, (SELECT COUNT(*) FROM plans)::int AS plans, (SELECT COUNT(*) FROM graphs)::int AS graphs',
    );
    const row = result.rows[0];
    return { jobs: Number(row.jobs), plans: Number(row.plans), graphs: Number(row.graphs) };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
