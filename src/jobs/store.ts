// The embedded store: jobs and plans in SQLite (better-sqlite3). A file in the data
// directory by default, ':memory:' in tests. Plans are looked up by a hash of
// (graph, request) so an identical request is answered from the store.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Graph } from '../../solver/graph/schema.js';
import type { Plan } from '../../solver/plan-schema.js';
import type { JobProgress, JobState } from '../schemas/index.js';

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
}

/** A stored plan with the graph it was made for (the SVG replays it). */
export interface PlanRecord {
  id: string;
  owner: string;
  hash: string;
  plan: Plan;
  graph: Graph;
  createdAt: number;
}

interface JobRow {
  id: string;
  owner: string;
  hash: string;
  state: string;
  strategy: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  progress: string | null;
  error: string | null;
  plan_id: string | null;
}

/** JSON with sorted object keys, so equal values hash equally. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => stableStringify(item)).join(',')}]`;
  const entries = Object.keys(value as object)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${stableStringify((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

/** The cache key of a request: sha256 of its canonical JSON. */
export function requestHash(request: unknown): string {
  return createHash('sha256').update(stableStringify(request)).digest('hex');
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    owner: row.owner,
    hash: row.hash,
    state: row.state as JobState,
    strategy: row.strategy,
    createdAt: row.created_at,
    startedAt: row.started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
    progress: row.progress ? JSON.parse(row.progress) : undefined,
    error: row.error ? JSON.parse(row.error) : undefined,
    planId: row.plan_id ?? undefined,
  };
}

/** Jobs and plans in one SQLite database. */
export class Store {
  readonly db: Database.Database;

  /** Opens ':memory:' or `<dataDir>/memplan.sqlite`, creating the directory. */
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
      CREATE TABLE IF NOT EXISTS plans (
        id TEXT PRIMARY KEY, owner TEXT NOT NULL, hash TEXT NOT NULL, plan TEXT NOT NULL,
        graph TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS plans_hash ON plans (owner, hash);
    `);
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
        `INSERT OR REPLACE INTO jobs (id, owner, hash, state, strategy, created_at, started_at, finished_at, progress, error, plan_id)
         VALUES (@id, @owner, @hash, @state, @strategy, @createdAt, @startedAt, @finishedAt, @progress, @error, @planId)`,
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
      });
  }

  /** A job of this owner, or undefined. */
  getJob(id: string, owner: string): JobRecord | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ? AND owner = ?').get(id, owner) as JobRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  /** This owner's latest jobs, newest first. */
  listJobs(owner: string, limit: number, state?: JobState): JobRecord[] {
    const rows = state
      ? this.db.prepare('SELECT * FROM jobs WHERE owner = ? AND state = ? ORDER BY created_at DESC LIMIT ?').all(owner, state, limit)
      : this.db.prepare('SELECT * FROM jobs WHERE owner = ? ORDER BY created_at DESC LIMIT ?').all(owner, limit);
    return (rows as JobRow[]).map(toRecord);
  }

  /** Number of jobs in each state, all owners. */
  countJobs(): Record<string, number> {
    const rows = this.db.prepare('SELECT state, COUNT(*) AS count FROM jobs GROUP BY state').all() as { state: string; count: number }[];
    return Object.fromEntries(rows.map((row) => [row.state, row.count]));
  }

  /** Stores a finished plan. */
  savePlan(record: PlanRecord): void {
    this.db
      .prepare('INSERT OR REPLACE INTO plans (id, owner, hash, plan, graph, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(record.id, record.owner, record.hash, JSON.stringify(record.plan), JSON.stringify(record.graph), record.createdAt);
  }

  /** A plan of this owner by id. */
  getPlan(id: string, owner: string): PlanRecord | undefined {
    const row = this.db.prepare('SELECT * FROM plans WHERE id = ? AND owner = ?').get(id, owner) as
      | { id: string; owner: string; hash: string; plan: string; graph: string; created_at: number }
      | undefined;
    if (!row) return undefined;
    return {
      id: row.id,
      owner: row.owner,
      hash: row.hash,
      plan: JSON.parse(row.plan),
      graph: JSON.parse(row.graph),
      createdAt: row.created_at,
    };
  }

  /** The stored plan for this owner and request hash, if any. */
  findPlanByHash(hash: string, owner: string): Plan | undefined {
    const row = this.db.prepare('SELECT plan FROM plans WHERE owner = ? AND hash = ? ORDER BY created_at DESC LIMIT 1').get(owner, hash) as
      | { plan: string }
      | undefined;
    return row ? JSON.parse(row.plan) : undefined;
  }

  /** Closes the database. */
  close(): void {
    if (this.db.open) this.db.close();
  }
}
