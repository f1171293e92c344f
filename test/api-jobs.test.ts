// Long solves: the event stream, cancellation mid-solve, a killed worker, /health under
// load, the bounded queue, shutdown and a restart over a file-backed store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chain } from '../fixtures/generators.js';
import { parseSseFrame } from '../src/client.js';
import { build } from '../src/app.js';
import { EXAMPLE_GRAPH, EXAMPLE_PLAN_REQUEST } from '../src/schemas/index.js';
import { expectReplays, testApp, until } from './api-helpers.js';

const graph = chain(10);

function slow(strategy: string, seconds: number) {
  return { graph, budget: { fraction: 1 }, strategy, timeLimitSeconds: seconds };
}

async function submit(app: FastifyInstance, body: object): Promise<string> {
  const reply = await app.inject({ method: 'POST', url: '/v1/plans?wait=0', payload: body });
  expect(reply.statusCode, reply.body).toBe(202);
  return reply.json().jobId;
}

async function state(app: FastifyInstance, id: string) {
  return (await app.inject({ url: `/v1/jobs/${id}` })).json();
}

describe('long solves on the worker pool', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    // A short cancel grace: a thread that ignores its stop flag (test:spin) is ended soon.
    app = await testApp({ workers: 2, maxQueue: 1, internal: { cancelGraceMs: 300 } });
  });
  afterAll(async () => {
    await app.close();
  });

  it('streams improving events, then the final plan (SSE)', async () => {
    const id = await submit(app, slow('test:slow', 0.6));
    const reply = await app.inject({ url: `/v1/jobs/${id}/events` });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toContain('text/event-stream');
    const events = reply.body
      .split('\n\n')
      .map(parseSseFrame)
      .filter((event) => event !== null);
    const progress = events.filter((event) => event!.event === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(1);
    const last = events.at(-1)!;
    expect(last.event).toBe('plan');
    const plan = last.data as import('../solver/plan-schema.js').Plan;
    expectReplays(graph, plan);
    // Each progress event improves the incumbent or the bound; the last incumbent is the plan's.
    const makespans = progress.map((event) => (event!.data as { makespan: number }).makespan);
    for (let position = 1; position < makespans.length; position++)
      expect(makespans[position]).toBeLessThanOrEqual(makespans[position - 1]);
    expect(makespans.at(-1)).toBe(plan.predicted!.makespan);
    // A stream opened after the end answers with the final plan at once.
    const again = await app.inject({ url: `/v1/jobs/${id}/events` });
    expect(again.body).toContain('event: plan');
  });

  it('cancels a cooperative solve mid-solve within a second', async () => {
    const id = await submit(app, slow('test:slow', 30));
    await until(async () => (await state(app, id)).state === 'running');
    const started = Date.now();
    const reply = await app.inject({ method: 'DELETE', url: `/v1/jobs/${id}` });
    expect(reply.statusCode).toBe(200);
    expect(reply.json().state).toBe('cancelled');
    expect(reply.json().error.code).toBe('MEMPLAN_ERR_CANCELLED');
    await until(() => app.memplan.pool.busy === 0, 1000);
    expect(Date.now() - started).toBeLessThan(1000);
    const events = await app.inject({ url: `/v1/jobs/${id}/events` });
    expect(events.body).toContain('event: cancelled');
  });

  it('cancels a solve that ignores its stop flag by replacing the worker after the grace', async () => {
    const id = await submit(app, slow('test:spin', 30));
    await until(async () => (await state(app, id)).state === 'running');
    const spawned = app.memplan.pool.spawned;
    const started = Date.now();
    await app.inject({ method: 'DELETE', url: `/v1/jobs/${id}` });
    await until(() => app.memplan.pool.busy === 0, 3000);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(app.memplan.pool.spawned).toBe(spawned + 1);
    expect((await state(app, id)).state).toBe('cancelled');
    // The pool is whole again: the next job succeeds.
    const next = await app.inject({
      method: 'POST',
      url: '/v1/plans?wait=30',
      payload: { graph, budget: { fraction: 0.9 }, strategy: 'chen-sqrtn' },
    });
    expect(next.statusCode, next.body).toBe(200);
    expectReplays(graph, next.json());
  });

  it('fails the job of a killed worker clearly, and the next job succeeds', async () => {
    const crashesBefore = app.memplan.pool.crashes;
    const id = await submit(app, slow('test:slow', 30));
    await until(async () => (await state(app, id)).state === 'running');
    expect(app.memplan.pool.killWorkerOf(id)).toBe(true);
    await until(async () => (await state(app, id)).state === 'failed');
    const failed = await state(app, id);
    expect(failed.error.code).toBe('MEMPLAN_ERR_WORKER_CRASHED');
    expect(failed.error.message).toContain('killed');
    expect(app.memplan.pool.crashes).toBe(crashesBefore + 1);
    const next = await app.inject({ method: 'POST', url: '/v1/plans?wait=30', payload: { ...EXAMPLE_PLAN_REQUEST, strategy: 'dtr' } });
    expect(next.statusCode, next.body).toBe(200);
    expectReplays(EXAMPLE_GRAPH, next.json());
  });

  it('fails a job whose WASM heap aborts with its own code (never infeasible), replaces its worker, and serves the next', async () => {
    const reply = await app.inject({ method: 'POST', url: '/v1/plans?wait=30', payload: slow('test:abort', 5) });
    expect(reply.statusCode).toBe(422);
    expect(reply.json().code).toBe('MEMPLAN_ERR_SOLVER_ABORTED');
    expect(reply.json().details).toMatchObject({ phase: 'test:abort' });
    expect(reply.json().message).toContain('Aborted()');
    const next = await app.inject({
      method: 'POST',
      url: '/v1/plans?wait=30',
      payload: { ...EXAMPLE_PLAN_REQUEST, strategy: 'chen-greedy' },
    });
    expect(next.statusCode, next.body).toBe(200);
  });

  it('answers /health within 50 ms while two long solves block both workers, and 429 when the queue is full', async () => {
    const first = await submit(app, slow('test:spin', 3));
    const second = await submit(app, slow('test:spin', 3.1));
    expect(second).not.toBe(first);
    await until(() => app.memplan.pool.busy === 2);
    // Over a real socket, as a client sees it.
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const times: number[] = [];
    for (let round = 0; round < 20; round++) {
      const started = performance.now();
      const response = await fetch(`${address}/health`);
      expect(response.status).toBe(200);
      await response.json();
      times.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    times.sort((a, b) => a - b);
    // The target is 50 ms. The solves spin for 3 s: had they run on the main thread, every
    // answer would wait seconds. The margin on the slowest answer covers a loaded 2-core
    // machine whose cores both spin here; the exact p99 is a bench figure.
    expect(times[Math.floor(times.length / 2)]).toBeLessThan(50);
    expect(times[times.length - 1]).toBeLessThan(1000);
    // Both workers busy: one job may wait, the next is refused with Retry-After.
    const queued = await submit(app, slow('test:slow', 0.2));
    expect((await state(app, queued)).state).toBe('queued');
    const refused = await app.inject({ method: 'POST', url: '/v1/plans?wait=0', payload: slow('test:slow', 0.3) });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('MEMPLAN_ERR_QUEUE_FULL');
    expect(refused.headers['retry-after']).toBe('5');
    for (const id of [first, second, queued]) await app.inject({ method: 'DELETE', url: `/v1/jobs/${id}` });
  });
});

describe('shutdown and restart', () => {
  it('refuses new work with 503 while shutting down and fails what it could not finish', async () => {
    const app = await testApp({ workers: 1, shutdownGraceMs: 200 });
    const id = await submit(app, slow('test:slow', 30));
    await until(async () => (await state(app, id)).state === 'running');
    const closing = app.memplan.shutdown();
    const refused = await app.inject({
      method: 'POST',
      url: '/v1/plans',
      payload: { ...EXAMPLE_PLAN_REQUEST, budget: { fraction: 0.95 } },
    });
    expect(refused.statusCode).toBe(503);
    expect(refused.json().code).toBe('MEMPLAN_ERR_SHUTTING_DOWN');
    expect(refused.headers['retry-after']).toBe('5');
    expect((await app.inject({ url: '/health' })).json().status).toBe('shutting-down');
    const job = await state(app, id);
    await closing;
    expect(['running', 'failed']).toContain(job.state);
    await app.close();
  });

  it('keeps finished results across a restart and marks interrupted jobs failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'memplan-store-'));
    try {
      const first = await build({ dataDir: dir, workers: 1, apiKeys: [], internal: { testStrategies: true } });
      const done = await first.inject({ method: 'POST', url: '/v1/plans?wait=30', payload: EXAMPLE_PLAN_REQUEST });
      expect(done.statusCode).toBe(200);
      const plan = done.json();
      const interrupted = await submit(first, slow('test:slow', 30));
      await until(async () => (await state(first, interrupted)).state === 'running');
      // A crash of the whole process: the store is left with a running job.
      await first.memplan.pool.close();
      first.memplan.store.close();

      const second = await build({ dataDir: dir, workers: 1, apiKeys: [] });
      try {
        expect((await second.inject({ url: `/v1/plans/${plan.id}` })).json()).toEqual(plan);
        const cached = await second.inject({ method: 'POST', url: '/v1/plans', payload: EXAMPLE_PLAN_REQUEST });
        expect(cached.headers['x-memplan-cache']).toBe('hit');
        expect(cached.json()).toEqual(plan);
        const job = (await second.inject({ url: `/v1/jobs/${interrupted}` })).json();
        expect(job.state).toBe('failed');
        expect(job.error.code).toBe('MEMPLAN_ERR_INTERRUPTED');
        expect((await second.inject({ url: `/v1/plans/${plan.id}/memory.svg` })).statusCode).toBe(200);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
