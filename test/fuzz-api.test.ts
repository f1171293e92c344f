// 2000 hostile requests (test/fuzz-hostile.ts; the 10,000-body run is fuzz-api.slow.test.ts):
// only 2xx or 4xx, always a catalogued error body on 4xx, /health fine after each. Ids such
// as "__proto__" and "constructor" are plain ids.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ERROR_CATALOGUE } from '../solver/errors.js';
import { EXAMPLE_PLAN_REQUEST } from '../src/schemas/index.js';
import { testApp, until } from './api-helpers.js';
import { runFuzz } from './fuzz-hostile.js';

let app: FastifyInstance;
beforeAll(async () => {
  // Plans are cheap strategies on tiny graphs; wait=0 keeps the fuzzer from waiting on solves.
  // The default node limit, so long cycles and big graphs reach validation; no per-key quota.
  app = await testApp({ workers: 1, maxQueue: 100_000, maxJobsPerKey: 100_000, shutdownGraceMs: 100 });
});
afterAll(async () => {
  await app.close();
});

describe('fuzzing the API', () => {
  it('answers 2000 hostile requests with 2xx or a catalogued 4xx, /health fine after each', async () => {
    const statuses = await runFuzz(app, 2000, 20261126);
    // The generators reach both sides: accepted and refused requests.
    const accepted = [...statuses].filter(([status]) => status < 300).reduce((sum, [, count]) => sum + count, 0);
    expect(accepted).toBeGreaterThan(20);
    // The accepted plans ran on the worker: none may have failed but with a typed 4xx-class code.
    await until(() => app.memplan.manager.queued === 0 && app.memplan.pool.busy === 0, 120_000);
    const failed = (await app.inject({ url: '/v1/jobs?state=failed&limit=500' })).json().jobs;
    for (const job of failed)
      expect(ERROR_CATALOGUE[job.error.code as keyof typeof ERROR_CATALOGUE].status, job.error.message).toBeLessThan(500);
    const done = (await app.inject({ url: '/v1/jobs?state=done&limit=500' })).json().jobs;
    // Most accepted plans are answered from the store (mutations repeat); the rest ran on the worker.
    expect(done.length).toBeGreaterThanOrEqual(5);
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/plans?wait=30',
      payload: { ...EXAMPLE_PLAN_REQUEST, strategy: 'checkpoint-all', budget: { fraction: 1 } },
    });
    expect(ok.statusCode).toBe(200);
  }, 300_000);

  it('treats "__proto__" and "constructor" as plain node ids', async () => {
    const graph = {
      nodes: [
        { id: '__proto__', kind: 'input', bytes: 10, cost: 0 },
        { id: 'constructor', inputs: ['__proto__'], bytes: 20, cost: 3 },
        { id: 'toString', inputs: ['constructor', '__proto__'], bytes: 5, cost: 2, keep: true },
      ],
    };
    const payload = JSON.stringify({ graph, budget: { fraction: 1 }, strategy: 'checkpoint-all' });
    const reply = await app.inject({ method: 'POST', url: '/v1/plans?wait=30', headers: { 'content-type': 'application/json' }, payload });
    expect(reply.statusCode, reply.body).toBe(200);
    expect(reply.json().nodes.map((entry: { id: string }) => entry.id)).toEqual(['__proto__', 'constructor', 'toString']);
    const stats = await app.inject({
      method: 'POST',
      url: '/v1/analyze',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ graph }),
    });
    expect(stats.json()).toMatchObject({ nodes: 3, edges: 3 });
  });
});
