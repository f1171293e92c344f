// The scaled-out service end to end, on real engines (issue 13's acceptance): two API
// processes and two `memplan worker` processes on one Redis (a redis-server of this test's
// own, which it stops and restarts) and one PostgreSQL database. Every plan is replayed by
// the simulator. Runs in `npm run test:scaleout` (scripts/test-scaleout.sh), not `npm test`.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chain, fractionalChain } from '../../fixtures/generators.js';
import type { Graph } from '../../solver/graph/schema.js';
import type { Plan } from '../../solver/plan-schema.js';
import type { SweepResult } from '../../solver/sweep/schema.js';
import { ownerOf } from '../../src/app.js';
import { MemplanClient } from '../../src/client.js';
import { expectReplays, until } from '../api-helpers.js';
import { type Child, freePort, freshDatabase, killChild, startNode, TestRedis } from '../../bench/services.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEY_A = { 'x-api-key': 'key-a' };
const KEY_B = { 'x-api-key': 'key-b' };

function start(command: string[], env: NodeJS.ProcessEnv): Child {
  return startNode(command, env, ROOT);
}

/** A JSON request to an API process. */
async function call(base: string, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...KEY_A, ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(90_000),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** A plan request that runs for a while (auto, never proven within a gap of 0). */
function longRequest(seed: number, timeLimitSeconds: number) {
  const graph: Graph = { ...fractionalChain(30), name: `long #${seed}` };
  return { graph, budget: 0.45, strategy: 'auto', timeLimitSeconds, relativeGap: 0 };
}

describe('memplan scaled out: 2 API processes, 2 workers, Redis and PostgreSQL', () => {
  let redis: TestRedis;
  let database: { url: string; drop: () => Promise<void> };
  let sql: pg.Client;
  let env: NodeJS.ProcessEnv;
  const apis: { child: Child; url: string }[] = [];
  const workers: Child[] = [];

  async function startApi(): Promise<{ child: Child; url: string }> {
    const port = await freePort();
    const child = start(['--import', 'tsx', 'src/server.ts'], { ...env, PORT: String(port), HOST: '127.0.0.1', MEMPLAN_LOG: '0' });
    const url = `http://127.0.0.1:${port}`;
    await until(async () => (await fetch(`${url}/health`).catch(() => undefined))?.status === 200, 60_000, 100);
    // Ready once it has reached Redis.
    await until(async () => (await call(url, '/health')).body.queue === 'ok', 30_000, 100);
    return { child, url };
  }

  function startWorker(extra: NodeJS.ProcessEnv = {}): Child {
    const worker = start(['bin/memplan.mjs', 'worker', '--concurrency', '1'], { ...env, ...extra });
    workers.push(worker);
    return worker;
  }

  /** The worker whose log says it started the job. */
  async function workerOf(id: string): Promise<Child> {
    let found: Child | undefined;
    await until(() => {
      found = workers.find((worker) => worker.process.exitCode === null && worker.output.includes(`job ${id} started`));
      return found !== undefined;
    }, 60_000);
    return found!;
  }

  async function stateOf(base: string, id: string): Promise<string> {
    return (await call(base, `/v1/jobs/${id}`)).body.state;
  }

  async function planRows(id: string): Promise<number> {
    return Number((await sql.query('SELECT COUNT(*) AS count FROM plans WHERE id = $1', [id])).rows[0].count);
  }

  beforeAll(async () => {
    redis = await TestRedis.start();
    database = await freshDatabase();
    sql = new pg.Client({ connectionString: database.url });
    env = {
      ...process.env,
      MEMPLAN_REDIS_URL: redis.url,
      MEMPLAN_DATABASE_URL: database.url,
      MEMPLAN_API_KEYS: 'key-a,key-b',
      MEMPLAN_WORKER_SHUTDOWN_GRACE_MS: '60000',
    };
    apis.push(await startApi());
    await sql.connect();
    apis.push(await startApi());
    startWorker();
    startWorker();
    await until(async () => (await call(apis[0].url, '/health')).body.workers === 2, 60_000, 100);
  }, 180_000);

  afterAll(async () => {
    for (const child of [...apis.map((api) => api.child), ...workers]) await killChild(child);
    await sql?.end();
    await redis?.stop();
    await database?.drop();
  }, 60_000);

  it('streams a job posted to API 1 from API 2 and cancels it through API 2, its best plan kept', async () => {
    const [api1, api2] = apis.map((api) => api.url);
    const request = longRequest(1, 30);
    const posted = await call(api1, '/v1/plans?wait=0', { method: 'POST', body: request });
    expect(posted.status).toBe(202);
    const id: string = posted.body.jobId;
    const stream = await fetch(`${api2}/v1/jobs/${id}/events`, { headers: KEY_A });
    expect(stream.status).toBe(200);
    const frames: string[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let split = buffer.indexOf('\n\n'); split >= 0; split = buffer.indexOf('\n\n')) {
          frames.push(buffer.slice(0, split));
          buffer = buffer.slice(split + 2);
        }
      }
    })();
    // Once a plan has been found (a progress event with an incumbent), cancel.
    await until(() => frames.some((frame) => frame.startsWith('event: progress') && frame.includes('"makespan"')), 60_000);
    const cancelled = await call(api2, `/v1/jobs/${id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    const plan = cancelled.body.plan as Plan;
    expect(plan.cancelled).toBe(true);
    expectReplays(request.graph, plan);
    await reading;
    expect(frames.at(-1)).toContain('event: cancelled');
    expect((await call(api1, `/v1/jobs/${id}`)).body.state).toBe('cancelled');
    // Key isolation across processes: key B sees nothing of key A's job on either API.
    for (const api of [api1, api2]) {
      expect((await call(api, `/v1/jobs/${id}`, { headers: KEY_B })).status).toBe(404);
      expect((await call(api, `/v1/plans/${id}`, { headers: KEY_B })).status).toBe(404);
      expect((await call(api, `/v1/jobs/${id}`, { method: 'DELETE', headers: KEY_B })).status).toBe(404);
      expect((await fetch(`${api}/v1/jobs/${id}/events`, { headers: KEY_B })).status).toBe(404);
      const listed = (await call(api, '/v1/jobs', { headers: KEY_B })).body.jobs as { id: string }[];
      expect(listed.map((job) => job.id)).not.toContain(id);
    }
  });

  it('solves the same request posted to both APIs at once once, and gives both the same plan', async () => {
    const request = { graph: { ...chain(12), name: 'twice' }, budget: 0.6, strategy: 'auto', timeLimitSeconds: 5 };
    const [first, second] = await Promise.all(apis.map((api) => call(api.url, '/v1/plans?wait=60', { method: 'POST', body: request })));
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expectReplays(request.graph, first.body);
    const jobs = await sql.query('SELECT COUNT(*) AS count FROM jobs WHERE owner = $1 AND hash = (SELECT hash FROM jobs WHERE id = $2)', [
      ownerOf('key-a'),
      first.body.id,
    ]);
    expect(Number(jobs.rows[0].count)).toBe(1);
    expect(await planRows(first.body.id)).toBe(1);
  });

  it('serves the CLI and the client unchanged from either API process', async () => {
    const graphFile = resolve(ROOT, 'fixtures/graphs/small-cnn.json');
    const cli = start(['bin/memplan.mjs', 'plan', graphFile, '--budget', '60%', '--time-limit', '2', '--server', apis[1].url, '--json'], {
      ...env,
      MEMPLAN_API_KEY: 'key-a',
    });
    expect(await cli.exited, cli.output).toBe(0);
    const printed = JSON.parse(cli.output.slice(cli.output.indexOf('{'))) as Plan;
    const graph = JSON.parse(readFileSync(graphFile, 'utf8')) as Graph;
    expectReplays(graph, printed);
    const client = new MemplanClient({ baseUrl: apis[0].url, apiKey: 'key-a' });
    const events: number[] = [];
    const planned = await client.plan(
      { graph: { ...graph, name: 'through the client' }, budget: '70%', timeLimitSeconds: 2 },
      { wait: 0, onProgress: (event) => events.push(event.elapsedSeconds) },
    );
    expectReplays(graph, planned);
    expect(await client.getPlan(planned.id!)).toEqual(planned);
    expect((await client.jobs()).map((job) => job.id)).toContain(planned.id);
    expect((await client.cancel(planned.id!)).state).toBe('done');
  });

  it("runs a sweep on the workers: posted to API 1, streamed and read from API 2, every point's plan stored once", async () => {
    const [api1, api2] = apis.map((api) => api.url);
    const graph: Graph = { ...chain(12), name: 'swept' };
    const body = { graph, budgets: { points: 4 }, timeLimitSeconds: 4, smallestFeasible: true };
    const posted = await call(api1, '/v1/sweeps?wait=0', { method: 'POST', body });
    expect(posted.status, JSON.stringify(posted.body)).toBe(202);
    const id: string = posted.body.jobId;
    const stream = await fetch(`${api2}/v1/jobs/${id}/events`, { headers: KEY_A, signal: AbortSignal.timeout(90_000) });
    const frames = (await stream.text()).split('\n\n').filter((frame) => frame.startsWith('event: '));
    expect(frames.at(-1)).toMatch(/^event: sweep\n/);
    const read = await call(api2, `/v1/sweeps/${id}`);
    expect(read.status).toBe(200);
    const result = read.body as SweepResult;
    expect(JSON.parse(frames.at(-1)!.slice(frames.at(-1)!.indexOf('data: ') + 6))).toEqual(result);
    expect(result.points).toHaveLength(4);
    const makespans = result.points.map((point) => point.predicted?.makespan ?? Infinity);
    for (let index = 1; index < makespans.length; index++) expect(makespans[index]).toBeLessThanOrEqual(makespans[index - 1]);
    const planIds = [...result.points.map((point) => point.planId), result.smallestFeasible?.planId].filter(
      (planId) => planId !== undefined,
    );
    expect(planIds.length).toBeGreaterThan(0);
    for (const planId of planIds) {
      const plan = (await call(api1, `/v1/plans/${planId}`)).body as Plan;
      expectReplays(graph, plan);
      expect(await planRows(planId)).toBe(1);
    }
    for (const point of result.points) {
      if (point.planId) expect(((await call(api2, `/v1/plans/${point.planId}`)).body as Plan).budgetBytes).toBe(point.budgetBytes);
    }
    const job = (await call(api1, `/v1/jobs/${id}`)).body;
    expect(job.kind).toBe('sweep');
    expect(job.progress.pointsDone).toBe(4);
    const svg = await fetch(`${api1}/v1/sweeps/${id}/pareto.svg`, { headers: KEY_A });
    expect(svg.status).toBe(200);
    expect(await svg.text()).toContain('class="pareto"');
    expect((await call(api2, `/v1/sweeps/${id}`, { headers: KEY_B })).status).toBe(404);
  });

  it('finishes the job of a worker killed with SIGKILL on another worker within 60 s, with one plan row', async () => {
    const api = apis[0].url;
    const request = longRequest(2, 8);
    const id: string = (await call(api, '/v1/plans?wait=0', { method: 'POST', body: request })).body.jobId;
    const victim = await workerOf(id);
    victim.process.kill('SIGKILL');
    await victim.exited;
    const killedAt = Date.now();
    await until(async () => (await stateOf(api, id)) === 'done', 90_000, 250);
    expect(Date.now() - killedAt).toBeLessThan(60_000);
    const job = (await call(apis[1].url, `/v1/jobs/${id}`)).body;
    expectReplays(request.graph, job.plan);
    expect(await planRows(id)).toBe(1);
    // The other worker took it over.
    expect(workers.some((worker) => worker !== victim && worker.output.includes(`job ${id} done`))).toBe(true);
    startWorker();
  });

  it('lets a worker given SIGTERM finish its running job, then exit', async () => {
    const api = apis[1].url;
    const request = longRequest(3, 5);
    const id: string = (await call(api, '/v1/plans?wait=0', { method: 'POST', body: request })).body.jobId;
    const worker = await workerOf(id);
    worker.process.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(await stateOf(api, id)).toBe('done');
    expect(worker.output).toContain(`job ${id} done`);
    expect(await planRows(id)).toBe(1);
    startWorker();
  });

  it('hands a running job back when the shutdown grace runs out, and another worker finishes it', async () => {
    const api = apis[0].url;
    // Both other workers busy first, so the impatient one takes the job.
    const busy = [longRequest(4, 12), longRequest(5, 12)];
    const others: string[] = [];
    for (const request of busy) others.push((await call(api, '/v1/plans?wait=0', { method: 'POST', body: request })).body.jobId);
    for (const other of others) await workerOf(other);
    const impatient = startWorker({ MEMPLAN_WORKER_SHUTDOWN_GRACE_MS: '300' });
    const request = longRequest(6, 6);
    const id: string = (await call(api, '/v1/plans?wait=0', { method: 'POST', body: request })).body.jobId;
    expect(await workerOf(id)).toBe(impatient);
    impatient.process.kill('SIGTERM');
    expect(await impatient.exited).toBe(0);
    expect(impatient.output).toContain(`job ${id} handed back`);
    for (const other of others) await call(api, `/v1/jobs/${other}`, { method: 'DELETE' });
    await until(async () => (await stateOf(api, id)) === 'done', 90_000, 250);
    expectReplays(request.graph, (await call(api, `/v1/jobs/${id}`)).body.plan);
    expect(await planRows(id)).toBe(1);
  });

  it('answers 503 with a typed error while Redis is down, without hanging, and recovers when it is back', async () => {
    const request = { graph: { ...chain(8), name: 'redis away' }, budget: 0.7, strategy: 'auto', timeLimitSeconds: 3 };
    const done = (await call(apis[0].url, '/v1/plans?wait=30', { method: 'POST', body: { ...request, budget: 0.8 } })).body;
    await redis.stop();
    for (const api of apis.map((entry) => entry.url)) {
      const started = Date.now();
      const refused = await call(api, '/v1/plans?wait=5', { method: 'POST', body: request });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('MEMPLAN_ERR_QUEUE_UNAVAILABLE');
      expect(refused.headers.get('retry-after')).toBe('5');
      const health = await call(api, '/health');
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'degraded', queue: 'unavailable' });
      // What is in the store is still served.
      expect((await call(api, `/v1/plans/${done.id}`)).status).toBe(200);
      expect((await call(api, `/v1/jobs/${done.id}`)).body.state).toBe('done');
    }
    await redis.start();
    let answer: Awaited<ReturnType<typeof call>> | undefined;
    await until(
      async () => {
        answer = await call(apis[1].url, '/v1/plans?wait=30', { method: 'POST', body: request });
        return answer.status === 200;
      },
      60_000,
      500,
    );
    expectReplays(request.graph, answer!.body);
  });
});
