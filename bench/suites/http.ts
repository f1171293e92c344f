// The HTTP suite (`npm run bench -- --suite http [--duration S] [--connections N]`):
// autocannon against the real server in a child process: req/s and p99 for a small cached
// plan and a small uncached plan, and /health p99 while two long solves hold both workers.
//
// The child runs this same file with --serve-child: build() with the service's internal
// test strategies, so a "long solve" (test:spin) blocks a worker thread the way a WASM
// MILP solve does, without exposing that strategy on a normal server.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { argValue, markdownTable, writeOut } from '../lib.js';

const SELF = fileURLToPath(import.meta.url);

/** The part of autocannon's options and result this suite uses (it ships no types). */
interface CannonOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  duration: number;
  connections: number;
  requests?: { setupRequest?: (request: Record<string, unknown>) => Record<string, unknown> }[];
}
interface CannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: CannonOptions) => Promise<CannonResult>;

interface Row {
  scenario: string;
  requests: number;
  reqPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function serveChild(): Promise<void> {
  const { build } = await import('../../src/app.js');
  const app = await build({ dataDir: ':memory:', workers: 2, apiKeys: [], maxQueue: 1000, internal: { testStrategies: true } });
  app.memplan.pool.warm();
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`LISTENING ${address}\n`);
  process.on('SIGTERM', () => {
    void app.close().then(() => process.exit(0));
  });
}

function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve-child'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = /LISTENING (\S+)/.exec(output);
      if (match) {
        resolve({
          url: match[1],
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}: ${output}`)));
  });
}

async function cannon(scenario: string, options: CannonOptions): Promise<Row> {
  const result = await autocannon(options);
  return {
    scenario,
    requests: result.requests.total,
    reqPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** Runs the suite; see the module comment. */
export async function run(args: string[]): Promise<void> {
  const duration = Number(argValue(args, 'duration') ?? 10);
  const connections = Number(argValue(args, 'connections') ?? 10);
  const { EXAMPLE_PLAN_REQUEST } = await import('../../src/schemas/index.js');
  const server = await startServer();
  const rows: Row[] = [];
  try {
    const json = { 'content-type': 'application/json' };
    const cachedBody = JSON.stringify(EXAMPLE_PLAN_REQUEST);
    const warm = await fetch(`${server.url}/v1/plans?wait=30`, { method: 'POST', headers: json, body: cachedBody });
    if (warm.status !== 200) throw new Error(`warm-up plan answered ${warm.status}: ${await warm.text()}`);
    rows.push(
      await cannon('POST /v1/plans, cached (tiny-chain, 14 nodes)', {
        url: `${server.url}/v1/plans`,
        method: 'POST',
        headers: json,
        body: cachedBody,
        duration,
        connections,
      }),
    );
    let counter = 0;
    rows.push(
      await cannon('POST /v1/plans, uncached (tiny-chain, auto)', {
        url: `${server.url}/v1/plans?wait=30`,
        method: 'POST',
        headers: json,
        duration,
        connections,
        // A new graph name per request: a new hash, so every request is solved.
        requests: [
          {
            setupRequest: (request) => ({
              ...request,
              body: JSON.stringify({ ...EXAMPLE_PLAN_REQUEST, graph: { ...EXAMPLE_PLAN_REQUEST.graph, name: `bench-${counter++}` } }),
            }),
          },
        ],
      }),
    );
    // Two solves that block both worker threads for the whole measurement.
    const spin = (seconds: number) =>
      fetch(`${server.url}/v1/plans?wait=0`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ ...EXAMPLE_PLAN_REQUEST, strategy: 'test:spin', timeLimitSeconds: seconds }),
      }).then((response) => response.json() as Promise<{ jobId: string }>);
    const jobs = await Promise.all([spin(duration + 5), spin(duration + 5.1)]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const health = (await (await fetch(`${server.url}/health`)).json()) as { busyWorkers: number };
    if (health.busyWorkers !== 2) throw new Error(`expected two busy workers, saw ${health.busyWorkers}`);
    rows.push(
      await cannon('GET /health, two long solves running (1 connection)', { url: `${server.url}/health`, duration, connections: 1 }),
    );
    rows.push(
      await cannon(`GET /health, two long solves running (${connections} connections)`, {
        url: `${server.url}/health`,
        duration,
        connections,
      }),
    );
    for (const job of jobs) await fetch(`${server.url}/v1/jobs/${job.jobId}`, { method: 'DELETE' });
  } finally {
    await server.stop();
  }
  const table = markdownTable(
    ['scenario', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
    rows.map((row) => [row.scenario, row.requests, row.reqPerSecond, row.p50, row.p99, row.non2xx, row.errors]),
  );
  console.log(`## HTTP (autocannon, ${duration} s per scenario, ${connections} connections unless noted)\n\n${table}`);
  writeOut('http.md', `${table}\n`);
}

if (process.argv[1] === SELF && process.argv.includes('--serve-child')) void serveChild();
