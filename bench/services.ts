// The real engines of the scale-out tests (test/scaleout/) and of the scaleout benchmark: a
// PostgreSQL database made for each run (on the server of MEMPLAN_TEST_DATABASE_URL, which
// scripts/test-scaleout.sh provides through scripts/scaleout-services.sh), Redis servers of
// their own, started from Debian's redis-server on a free port so a test can stop and
// restart one, and child processes (API and worker processes) with their output kept.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';

/** The PostgreSQL URL the scale-out tests make their databases on. */
export function baseDatabaseUrl(): string {
  const url = process.env.MEMPLAN_TEST_DATABASE_URL;
  if (!url) {
    throw new Error(
      'MEMPLAN_TEST_DATABASE_URL is not set: run the scale-out tests with `npm run test:scaleout`, or set it from ' +
        'scripts/scaleout-services.sh (its MEMPLAN_DATABASE_URL)',
    );
  }
  return url;
}

/** A child process, with its output kept. */
export interface Child {
  process: ChildProcess;
  output: string;
  exited: Promise<number | null>;
}

/** Starts `node ...command` in `cwd` with `env`; its stdout and stderr are kept in `output`. */
export function startNode(command: string[], env: NodeJS.ProcessEnv, cwd: string): Child {
  const child = spawn(process.execPath, command, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const started: Child = { process: child, output: '', exited: new Promise((done) => child.once('exit', done)) };
  const keep = (chunk: Buffer) => {
    started.output += chunk.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return started;
}

/** Ends a child with SIGKILL unless it has ended, and waits for it. */
export async function killChild(child: Child): Promise<void> {
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  await child.exited;
}

/** A new, empty database on the test server; drop() removes it. */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = new URL(baseDatabaseUrl());
  const name = `memplan_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base.href });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base.href);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    drop: async () => {
      const client = new pg.Client({ connectionString: base.href });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A redis-server of a test's own: stop() and start() again on the same port. */
export class TestRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  /** Starts a server on a free port and waits until it answers. */
  static async start(): Promise<TestRedis> {
    const redis = new TestRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port; resolves once it accepts connections. */
  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${output}`));
      });
    });
  }

  /** Stops the server (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
