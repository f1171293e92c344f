// Acceptance 1 of issue 12: 10,000 hostile requests (test/fuzz-hostile.ts: extreme finite
// numbers, long cycles, huge graphs, bad content types, query, path and method abuse):
// never a 5xx, a catalogued error body on every 4xx, /health fine after every one. A slow
// test (about a minute): the fast suite runs 2000 of them (fuzz-api.test.ts).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp, until } from './api-helpers.js';
import { runFuzz } from './fuzz-hostile.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp({ workers: 1, maxQueue: 100_000, maxJobsPerKey: 100_000, shutdownGraceMs: 100 });
});
afterAll(async () => {
  await app.close();
});

describe('fuzzing the API with 10,000 hostile requests', () => {
  it('answers every one with 2xx or a catalogued 4xx and keeps /health fine', async () => {
    const statuses = await runFuzz(app, 10_000, 12);
    const total = [...statuses.values()].reduce((sum, count) => sum + count, 0);
    expect(total).toBe(10_000);
    expect([...statuses.keys()].every((status) => status < 500)).toBe(true);
    await until(() => app.memplan.manager.queued === 0 && app.memplan.pool.busy === 0, 300_000);
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
  }, 900_000);
});
