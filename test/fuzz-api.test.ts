// 2000 random or mutated request bodies: only 2xx or 4xx, always a catalogued error body
// on 4xx, and the server stays up. Ids such as "__proto__" and "constructor" are plain ids.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { ERROR_CATALOGUE } from '../solver/errors.js';
import { EXAMPLE_GRAPH, EXAMPLE_PLAN_REQUEST } from '../src/schemas/index.js';
import { testApp, until } from './api-helpers.js';

let app: FastifyInstance;
beforeAll(async () => {
  // Plans are cheap strategies on tiny graphs; wait=0 keeps the fuzzer from waiting on solves.
  app = await testApp({ workers: 1, maxQueue: 10_000, maxNodes: 200, shutdownGraceMs: 100 });
});
afterAll(async () => {
  await app.close();
});

const NASTY_IDS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', '💥', 'a'.repeat(600), '0', 'nodes'];
const id = fc.oneof(fc.constantFrom(...NASTY_IDS), fc.string({ maxLength: 8 }));
const number = fc.oneof(
  fc.integer({ min: -5, max: 5000 }),
  fc.double({ noNaN: false }),
  fc.constantFrom(0, -0, 1e308, -1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 0.5),
);
const anything = fc.anything({ maxDepth: 3, withNullPrototype: true, withObjectString: true });
const node = fc.record(
  {
    id,
    op: fc.oneof(fc.string({ maxLength: 5 }), anything),
    kind: fc.oneof(fc.constantFrom('input', 'forward', 'loss', 'backward'), anything),
    inputs: fc.oneof(fc.array(id, { maxLength: 3 }), anything),
    bytes: fc.oneof(number, anything),
    cost: fc.oneof(number, anything),
    workspaceBytes: number,
    recomputable: fc.oneof(fc.boolean(), anything),
    keep: fc.boolean(),
  },
  { requiredKeys: [] },
);
const graph = fc.oneof(
  fc.record({ nodes: fc.array(node, { maxLength: 8 }), residentBytes: fc.oneof(number, anything) }, { requiredKeys: ['nodes'] }),
  anything,
);
const budget = fc.oneof(
  fc.record({ bytes: number }),
  fc.record({ fraction: number }),
  fc.record({ bytes: number, fraction: number }),
  anything,
);
const strategy = fc.oneof(fc.constantFrom('checkpoint-all', 'chen-sqrtn', 'dtr', 'griewank', '__proto__'), anything);

/** A mutation of the example: one path replaced by something random. */
const mutated = fc.tuple(fc.integer({ min: 0, max: 1000 }), anything).map(([seed, value]) => {
  const body = JSON.parse(JSON.stringify(EXAMPLE_PLAN_REQUEST)) as Record<string, unknown> & {
    graph: { nodes: Record<string, unknown>[] };
  };
  const nodes = body.graph.nodes;
  const target = nodes[seed % nodes.length];
  const fields = ['id', 'inputs', 'bytes', 'cost', 'kind', 'keep', 'workspaceBytes'];
  switch (seed % 5) {
    case 0:
      target[fields[seed % fields.length]] = value;
      break;
    case 1:
      body[['budget', 'strategy', 'timeLimitSeconds', 'relativeGap', 'transfer', 'formulation'][seed % 6]] = value;
      break;
    case 2:
      target.id = NASTY_IDS[seed % NASTY_IDS.length];
      if (seed % 2) nodes[(seed + 1) % nodes.length].inputs = [target.id];
      break;
    case 3:
      nodes.splice(seed % nodes.length, 1);
      break;
    default:
      return value;
  }
  return { ...body, strategy: 'checkpoint-all', timeLimitSeconds: 1 };
});

const request = fc.oneof(
  fc.record({
    url: fc.constant('/v1/plans?wait=0'),
    body: fc.oneof(mutated, fc.record({ graph, budget, strategy, timeLimitSeconds: fc.oneof(number, anything) }, { requiredKeys: [] })),
  }),
  fc.record({ url: fc.constant('/v1/analyze'), body: fc.oneof(fc.record({ graph }), anything) }),
  fc.record({
    url: fc.constant('/v1/simulate'),
    body: fc.oneof(
      fc.record({
        graph: fc.oneof(fc.constant(EXAMPLE_GRAPH), graph),
        schedule: fc.array(fc.record({ op: fc.oneof(fc.constantFrom('compute', 'free', 'swapOut', 'swapIn'), anything), node: id }), {
          maxLength: 12,
        }),
        transfer: fc.oneof(fc.constant(undefined), fc.record({ bandwidth: number, latency: number })),
      }),
      anything,
    ),
  }),
);

describe('fuzzing the API', () => {
  it('answers 2000 random or mutated bodies with 2xx or 4xx only and stays up', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async ({ url, body }) => {
        const payload = JSON.stringify(body) ?? 'null';
        const reply = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });
        statuses.set(reply.statusCode, (statuses.get(reply.statusCode) ?? 0) + 1);
        expect(reply.statusCode, `${url} ${payload.slice(0, 300)} -> ${reply.body.slice(0, 300)}`).toBeLessThan(500);
        if (reply.statusCode >= 400) {
          const error = reply.json();
          expect(Object.keys(ERROR_CATALOGUE)).toContain(error.code);
          expect(error.details).toBeTypeOf('object');
        }
      }),
      { numRuns: 2000, seed: 20261126 },
    );
    // The generators reach both sides: accepted and refused requests.
    const accepted = [...statuses].filter(([status]) => status < 300).reduce((sum, [, count]) => sum + count, 0);
    expect(accepted).toBeGreaterThan(20);
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
    // The accepted plans ran on the worker: none of them may have failed.
    await until(() => app.memplan.manager.queued === 0 && app.memplan.pool.busy === 0, 120_000);
    const failed = (await app.inject({ url: '/v1/jobs?state=failed&limit=500' })).json().jobs;
    expect(failed.map((job: { error: unknown }) => job.error)).toEqual([]);
    const done = (await app.inject({ url: '/v1/jobs?state=done&limit=500' })).json().jobs;
    expect(done.length).toBeGreaterThan(10);
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/plans?wait=30',
      payload: { ...EXAMPLE_PLAN_REQUEST, strategy: 'checkpoint-all', budget: { fraction: 1 } },
    });
    expect(ok.statusCode).toBe(200);
  });

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
