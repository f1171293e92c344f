// Cancellation on the service (issue 12, items 5 and 6): cancelled jobs leave the queue at
// once, one key's cancel flood neither fills the queue nor starves another key, /health
// and /metrics agree, and a cancel stops a running auto, MILP and local search
// cooperatively: no worker thread is terminated and replaced, the job ends well before
// the solver's own limit, and a plan found before the stop is kept with its gap.
// (The 250 ms figure itself is measured by `npm run bench -- --suite cancel`.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chain, fractionalChain } from '../fixtures/generators.js';
import type { Graph } from '../solver/graph/schema.js';
import type { Plan } from '../solver/plan-schema.js';
import { expectReplays, testApp, until } from './api-helpers.js';

const A = { 'x-api-key': 'a' };
const B = { 'x-api-key': 'b' };

async function submit(app: FastifyInstance, headers: Record<string, string>, body: object): Promise<string> {
  const reply = await app.inject({ method: 'POST', url: '/v1/plans?wait=0', headers, payload: body });
  expect(reply.statusCode, reply.body).toBe(202);
  return reply.json().jobId;
}

function metric(text: string, name: string): number {
  const line = text.split('\n').find((row) => row.startsWith(`${name} `));
  return Number(line?.split(' ')[1]);
}

describe('a cancel flood from one key', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp({ workers: 2, maxQueue: 4, maxJobsPerKey: 4, apiKeys: ['a', 'b'], metricsPublic: true });
    app.memplan.pool.warm();
  });
  afterAll(async () => {
    await app.close();
  });

  it('leaves nothing queued, keeps /health and /metrics in agreement and respawns no worker', async () => {
    const long = (seed: number) => ({ graph: chain(30 + seed), budget: 1, strategy: 'test:slow', timeLimitSeconds: 30 });
    // Both workers busy with A's jobs: each flood job waits in the queue until its cancel.
    const running = [await submit(app, A, long(0)), await submit(app, A, long(1))];
    await until(() => app.memplan.pool.busy === 2);
    const spawned = app.memplan.pool.spawned;
    for (let round = 0; round < 64; round++) {
      const id = await submit(app, A, {
        graph: chain(3 + (round % 9)),
        budget: 1 - round / 1000,
        strategy: 'test:slow',
        timeLimitSeconds: 30,
      });
      const cancelled = await app.inject({ method: 'DELETE', url: `/v1/jobs/${id}`, headers: A });
      expect(cancelled.json().state).toBe('cancelled');
    }
    const health = (await app.inject({ url: '/health' })).json();
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(health.queued).toBe(0);
    expect(metric(metrics, 'memplan_queue_length')).toBe(0);
    expect(metric(metrics, 'memplan_jobs{state="queued"}')).toBe(0);
    // Another key is accepted, and served as soon as a worker frees up.
    const other = await submit(app, B, { graph: chain(5), budget: { fraction: 1 }, strategy: 'auto', timeLimitSeconds: 5 });
    for (const id of running) {
      const reply = await app.inject({ method: 'DELETE', url: `/v1/jobs/${id}`, headers: A });
      // test:slow had a plan when cancelled: it is kept.
      expect(reply.json().plan.cancelled).toBe(true);
    }
    await until(async () => (await app.inject({ url: `/v1/jobs/${other}`, headers: B })).json().state === 'done');
    const done = (await app.inject({ url: `/v1/jobs/${other}`, headers: B })).json();
    expectReplays(chain(5), done.plan);
    // Every cancel was cooperative: no thread was terminated and replaced.
    expect(app.memplan.pool.spawned).toBe(spawned);
  });

  it('lets the other key run first when a worker frees up (the key with fewer running jobs goes first)', async () => {
    const long = (seed: number) => ({ graph: chain(20 + seed), budget: 1, strategy: 'test:slow', timeLimitSeconds: 30 });
    const running = [await submit(app, A, long(0)), await submit(app, A, long(1))];
    await until(() => app.memplan.pool.busy === 2);
    const waitingA = [await submit(app, A, long(2)), await submit(app, A, long(3))];
    const waitingB = await submit(app, B, long(4));
    expect((await app.inject({ url: '/health' })).json().queued).toBe(3);
    // A's jobs queued first, yet B's starts when one of A's running jobs ends.
    await app.inject({ method: 'DELETE', url: `/v1/jobs/${running[0]}`, headers: A });
    await until(async () => (await app.inject({ url: `/v1/jobs/${waitingB}`, headers: B })).json().state === 'running');
    for (const id of waitingA) expect((await app.inject({ url: `/v1/jobs/${id}`, headers: A })).json().state).toBe('queued');
    for (const id of [running[1], ...waitingA]) await app.inject({ method: 'DELETE', url: `/v1/jobs/${id}`, headers: A });
    await app.inject({ method: 'DELETE', url: `/v1/jobs/${waitingB}`, headers: B });
    await until(() => app.memplan.pool.busy === 0);
    expect((await app.inject({ url: '/health' })).json().queued).toBe(0);
  });
});

describe('a cancel stops real solves cooperatively', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp({ workers: 1, apiKeys: [] });
    app.memplan.pool.warm();
  });
  afterAll(async () => {
    await app.close();
  });

  /** Submits, waits until `ready`, cancels; returns the cancel's reply and how long it took. */
  async function cancelWhen(graph: Graph, options: object, ready: (job: { progress?: { incumbent?: number } }) => boolean) {
    const id = await submit(app, {}, { graph, ...options });
    await until(async () => {
      const job = (await app.inject({ url: `/v1/jobs/${id}` })).json();
      return job.state === 'running' && ready(job);
    }, 60_000);
    const spawned = app.memplan.pool.spawned;
    const crashes = app.memplan.pool.crashes;
    const started = Date.now();
    const reply = await app.inject({ method: 'DELETE', url: `/v1/jobs/${id}` });
    const seconds = (Date.now() - started) / 1000;
    await until(() => app.memplan.pool.busy === 0);
    // Cooperative: the same threads serve on, none was terminated and replaced.
    expect(app.memplan.pool.spawned).toBe(spawned);
    expect(app.memplan.pool.crashes).toBe(crashes);
    expect(reply.statusCode).toBe(200);
    expect(reply.json().state).toBe('cancelled');
    return { id, job: reply.json(), seconds };
  }

  it('auto: stops long before its 60 s limit and keeps its best plan, with its gap', async () => {
    const graph = fractionalChain(30);
    const { id, job, seconds } = await cancelWhen(
      graph,
      { budget: { fraction: 0.45 }, strategy: 'auto', timeLimitSeconds: 60, relativeGap: 0 },
      (running) => running.progress?.incumbent !== undefined,
    );
    expect(seconds).toBeLessThan(10);
    const plan = job.plan as Plan;
    expect(plan.cancelled).toBe(true);
    expectReplays(graph, plan);
    expect(plan.bound?.gap).toBeTypeOf('number');
    expect(job.error).toMatchObject({ code: 'MEMPLAN_ERR_CANCELLED', details: { planId: id } });
    // The kept plan is stored and served, but never answers a later identical request.
    const stored = (await app.inject({ url: `/v1/plans/${id}` })).json();
    expect(stored).toEqual(plan);
    const events = await app.inject({ url: `/v1/jobs/${id}/events` });
    expect(events.body).toContain('event: cancelled');
  });

  it('checkmate-milp: the HiGHS solve is interrupted through the shared stop flag', async () => {
    const started = Date.now();
    const { seconds } = await cancelWhen(
      chain(25),
      { budget: { fraction: 0.4 }, strategy: 'checkmate-milp', timeLimitSeconds: 60 },
      () => Date.now() - started > 1500,
    );
    expect(seconds).toBeLessThan(10);
  });

  it('local-search: the search loops stop on the flag', async () => {
    const started = Date.now();
    const { job, seconds } = await cancelWhen(
      chain(1500),
      { budget: { fraction: 0.4 }, strategy: 'local-search', timeLimitSeconds: 60 },
      () => Date.now() - started > 1500,
    );
    // Its own limit is 10 s of search.
    expect(seconds).toBeLessThan(8);
    if (job.plan) expectReplays(chain(1500), job.plan);
  });
});
