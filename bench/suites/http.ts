// The HTTP suite (`npm run bench -- --suite http [--duration S] [--connections N] [--only loop]`):
// autocannon against the real server in a child process: req/s and p99 for a small cached
// plan and a small uncached plan, and /health p99 while two long solves hold both workers.
// Then the event loop of the server (perf_hooks.monitorEventLoopDelay, in the server
// process) while a 20k-node plan is posted, read back and drawn, and 20 MB simulate
// requests are replayed: its p99 and max delay (target p99 <= 100 ms), and /health's
// latency seen by a client polling it meanwhile.
//
// The child runs this same file with --serve-child: build() with the service's internal
// test strategies, so a "long solve" (test:spin) blocks a worker thread the way a WASM
// MILP solve does, without exposing that strategy on a normal server.
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
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

/** Event-loop delay figures of the server process, in milliseconds. */
interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

async function serveChild(): Promise<void> {
  const { build } = await import('../../src/app.js');
  const app = await build({
    dataDir: ':memory:',
    workers: 2,
    apiKeys: [],
    maxQueue: 1000,
    maxJobsPerKey: 1000,
    internal: { testStrategies: true },
  });
  app.memplan.pool.warm();
  // The server's own event loop, sampled every 10 ms; the parent resets and reads it over IPC.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  process.on('message', (message: { type: string }) => {
    if (message.type === 'reset') delay.reset();
    if (message.type === 'report') {
      const ms = (nanoseconds: number) => Math.round(nanoseconds / 1e5) / 10;
      const report: LoopDelay = { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), mean: ms(delay.mean) };
      process.send?.({ type: 'report', report });
    }
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`LISTENING ${address}\n`);
  process.on('SIGTERM', () => {
    void app.close().then(() => process.exit(0));
  });
}

interface ServerHandle {
  url: string;
  stop: () => Promise<void>;
  /** Starts a new event-loop delay measurement in the server. */
  resetLoop: () => void;
  /** The server's event-loop delay since the last reset. */
  loop: () => Promise<LoopDelay>;
}

function startServer(): Promise<ServerHandle> {
  const child = spawn(
    process.execPath,
    [...(process.env.MEMPLAN_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean), '--import', 'tsx', SELF, '--serve-child'],
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
  );
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
          resetLoop: () => child.send({ type: 'reset' }),
          loop: () =>
            new Promise((done) => {
              child.once('message', (message: { report: LoopDelay }) => done(message.report));
              child.send({ type: 'report' });
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}: ${output}`)));
  });
}

/**
 * The event-loop scenario: a 20k-node plan (auto) posted, its plan, job and SVG read back,
 * and big simulate requests (a 20k-node graph and about 500k steps, near 20 MB) replayed,
 * while a client polls /health every 50 ms.
 */
async function eventLoopScenario(
  server: ServerHandle,
): Promise<{ loop: LoopDelay; healthMaxMs: number; healthP99Ms: number; notes: string }> {
  const { chain } = await import('../../fixtures/generators.js');
  const graph = chain(9999);
  const ids = graph.nodes.map((node) => node.id);
  const forward = graph.nodes
    .filter((node) => node.kind !== 'input' && node.kind !== 'backward' && node.kind !== 'loss')
    .map((node) => node.id);
  const schedule: { op: string; node: string }[] = ids.map((node) => ({ op: 'compute', node }));
  for (let round = 0; round < 24; round++) for (const node of forward) schedule.push({ op: 'free', node }, { op: 'compute', node });
  const simulateBody = JSON.stringify({ graph, schedule });
  const planBody = JSON.stringify({ graph, budget: '60%', strategy: 'chen-sqrtn', timeLimitSeconds: 10 });
  const json = { 'content-type': 'application/json' };
  const latencies: number[] = [];
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const started = performance.now();
      await fetch(`${server.url}/health`).then((response) => response.text());
      latencies.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 500));
  server.resetLoop();
  const planned = (async () => {
    const response = await fetch(`${server.url}/v1/plans?wait=60`, { method: 'POST', headers: json, body: planBody });
    const plan = (await response.json()) as { id?: string; status?: string; schedule?: unknown[] };
    if (!plan.id) return `plan: ${response.status}`;
    for (const url of [`/v1/plans/${plan.id}`, `/v1/jobs/${plan.id}`, `/v1/plans/${plan.id}/memory.svg`]) {
      await (await fetch(`${server.url}${url}`)).arrayBuffer();
    }
    return `plan ${plan.status}, ${plan.schedule?.length} steps`;
  })();
  const simulated = (async () => {
    const sizes: number[] = [];
    for (let round = 0; round < 3; round++) {
      const response = await fetch(`${server.url}/v1/simulate`, { method: 'POST', headers: json, body: simulateBody });
      sizes.push((await response.arrayBuffer()).byteLength);
      if (response.status !== 200) return `simulate: ${response.status}`;
    }
    return `simulate ${(simulateBody.length / 1e6).toFixed(1)} MB, ${schedule.length} steps, replies ${(Math.max(...sizes) / 1e6).toFixed(1)} MB`;
  })();
  const notes = (await Promise.all([planned, simulated])).join('; ');
  const loop = await server.loop();
  polling = false;
  await poll;
  latencies.sort((a, b) => a - b);
  const healthP99Ms = Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]);
  return { loop, healthMaxMs: Math.round(latencies[latencies.length - 1]), healthP99Ms, notes };
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
  const only = argValue(args, 'only');
  const { EXAMPLE_PLAN_REQUEST } = await import('../../src/schemas/index.js');
  const server = await startServer();
  const rows: Row[] = [];
  let loopTable = '';
  try {
    const loop = await eventLoopScenario(server);
    loopTable = markdownTable(
      ['scenario', 'loop p50 ms', 'loop p99 ms', 'loop max ms', '/health p99 ms', '/health max ms', 'what ran'],
      [
        [
          '20k-node plan (post, read, SVG) + 3 big simulates',
          loop.loop.p50,
          loop.loop.p99,
          loop.loop.max,
          loop.healthP99Ms,
          loop.healthMaxMs,
          loop.notes,
        ],
      ],
    );
    console.log(`## Event loop of the server (monitorEventLoopDelay, target p99 <= 100 ms)\n\n${loopTable}\n`);
    if (only === 'loop') {
      writeOut('http-loop.md', `${loopTable}\n`);
      return;
    }
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
  writeOut('http.md', `${loopTable}\n\n${table}\n`);
}

if (process.argv[1] === SELF && process.argv.includes('--serve-child')) void serveChild();
