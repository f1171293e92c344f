// API keys: with MEMPLAN_API_KEYS set every /v1 request needs a key, and a key sees only
// its own jobs and plans.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chain } from '../fixtures/generators.js';
import { EXAMPLE_PLAN_REQUEST } from '../src/schemas/index.js';
import { testApp, until } from './api-helpers.js';

const A = { 'x-api-key': 'key-a' };
const B = { authorization: 'Bearer key-b' };
let app: FastifyInstance;

beforeAll(async () => {
  app = await testApp({ apiKeys: ['key-a', 'key-b'] });
});
afterAll(async () => {
  await app.close();
});

describe('API keys', () => {
  it('refuses /v1 without a valid key and leaves /health and /docs open', async () => {
    for (const headers of [{}, { 'x-api-key': 'key-c' }, { authorization: 'Bearer ' }, { authorization: 'Basic key-a' }]) {
      const reply = await app.inject({ url: '/v1/strategies', headers });
      expect(reply.statusCode).toBe(401);
      expect(reply.json().code).toBe('MEMPLAN_ERR_UNAUTHORIZED');
    }
    expect((await app.inject({ url: '/v1/strategies', headers: A })).statusCode).toBe(200);
    expect((await app.inject({ url: '/v1/strategies', headers: B })).statusCode).toBe(200);
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/docs/json' })).statusCode).toBe(200);
  });

  it("key B cannot read, stream, cancel or list key A's jobs and plans", async () => {
    const done = await app.inject({ method: 'POST', url: '/v1/plans?wait=30', headers: A, payload: EXAMPLE_PLAN_REQUEST });
    expect(done.statusCode).toBe(200);
    const plan = done.json();
    const slow = await app.inject({
      method: 'POST',
      url: '/v1/plans?wait=0',
      headers: A,
      payload: { graph: chain(6), budget: { fraction: 1 }, strategy: 'test:slow', timeLimitSeconds: 30 },
    });
    expect(slow.statusCode).toBe(202);
    const running = slow.json().jobId;
    await until(async () => (await app.inject({ url: `/v1/jobs/${running}`, headers: A })).json().state === 'running');

    for (const url of [
      `/v1/jobs/${plan.id}`,
      `/v1/jobs/${running}`,
      `/v1/jobs/${running}/events`,
      `/v1/plans/${plan.id}`,
      `/v1/plans/${plan.id}/memory.svg`,
    ]) {
      const reply = await app.inject({ url, headers: B });
      expect(reply.statusCode, url).toBe(404);
      expect(reply.json().code).toBe('MEMPLAN_ERR_NOT_FOUND');
    }
    const cancel = await app.inject({ method: 'DELETE', url: `/v1/jobs/${running}`, headers: B });
    expect(cancel.statusCode).toBe(404);
    expect((await app.inject({ url: `/v1/jobs/${running}`, headers: A })).json().state).toBe('running');
    const listB = (await app.inject({ url: '/v1/jobs', headers: B })).json().jobs;
    expect(listB).toEqual([]);
    const listA = (await app.inject({ url: '/v1/jobs', headers: A })).json().jobs.map((job: { id: string }) => job.id);
    expect(listA).toEqual(expect.arrayContaining([plan.id, running]));

    // B's identical request is planned for B, not served from A's results.
    const mine = await app.inject({ method: 'POST', url: '/v1/plans?wait=30', headers: B, payload: EXAMPLE_PLAN_REQUEST });
    expect(mine.statusCode).toBe(200);
    expect(mine.headers['x-memplan-cache']).toBe('miss');
    expect(mine.json().id).not.toBe(plan.id);
    expect((await app.inject({ url: `/v1/plans/${mine.json().id}`, headers: B })).statusCode).toBe(200);

    const cancelA = await app.inject({ method: 'DELETE', url: `/v1/jobs/${running}`, headers: A });
    expect(cancelA.json().state).toBe('cancelled');
  });
});
