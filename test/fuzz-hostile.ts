// Hostile traffic for the API fuzz tests (test/fuzz-api.test.ts, a fast run, and
// test/fuzz-api.slow.test.ts, 10,000 bodies): random and mutated bodies with extreme
// finite numbers, long cycles, huge graphs, bad content types, and abused queries, paths
// and methods. runFuzz asserts what the service promises for each: never a 5xx, a
// catalogued error body on every 4xx, and /health fine after every request.
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { chain } from '../fixtures/generators.js';
import { ERROR_CATALOGUE } from '../solver/errors.js';
import type { Graph } from '../solver/graph/schema.js';
import { EXAMPLE_GRAPH, EXAMPLE_PLAN_REQUEST } from '../src/schemas/index.js';

const NASTY_IDS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', '💥', 'a'.repeat(600), '0', 'nodes'];
const id = fc.oneof(fc.constantFrom(...NASTY_IDS), fc.string({ maxLength: 8 }));

/** Numbers at and beyond every limit of DESIGN.md "Numbers", and the extremes of a double. */
const EXTREMES = [
  0,
  -0,
  1,
  -1,
  0.5,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  5e-324,
  1e-300,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 2,
  2 ** 50,
  2 ** 50 + 1,
  2 ** 53,
  1e12,
  1e12 + 1,
  1e15,
  1e15 + 1,
  1e-6,
  1e-7,
];
const number = fc.oneof(fc.integer({ min: -5, max: 5000 }), fc.double({ noNaN: false }), fc.constantFrom(...EXTREMES));
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
  fc.constantFrom('60%', '0.6', '12GB', '800MiB', '1e3GB', '%', '-5%', 'lots', '60 %', `${'9'.repeat(70)}`),
  number,
  anything,
);
const transfer = fc.oneof(
  fc.constantFrom('pcie3', 'pcie4', 'nvlink-c2c', 'warp-drive'),
  fc.record({ bandwidth: number, latency: number }, { requiredKeys: [] }),
  anything,
);
const strategy = fc.oneof(fc.constantFrom('checkpoint-all', 'chen-sqrtn', 'dtr', 'griewank', '__proto__'), anything);

/** A mutation of the example: one path replaced by something random. */
const mutated = fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.oneof(anything, number)).map(([seed, value]) => {
  const body = JSON.parse(JSON.stringify(EXAMPLE_PLAN_REQUEST)) as Record<string, unknown> & {
    graph: { nodes: Record<string, unknown>[]; residentBytes?: unknown };
  };
  const nodes = body.graph.nodes;
  const target = nodes[seed % nodes.length];
  const fields = ['id', 'inputs', 'bytes', 'cost', 'kind', 'keep', 'workspaceBytes'];
  switch (seed % 6) {
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
    case 4:
      // A cycle: an early node takes a later one as input.
      nodes[seed % 4].inputs = [nodes[4 + (seed % (nodes.length - 4))].id];
      break;
    default:
      return value;
  }
  return { ...body, strategy: 'checkpoint-all', timeLimitSeconds: 1 };
});

/** A cycle through every node of a `count`-node graph, ids `idLength` long. */
function longCycle(count: number, idLength: number): Graph {
  const name = (position: number) => `n${String(position).padStart(idLength - 1, '0')}`;
  return {
    nodes: Array.from({ length: count }, (_, position) => ({
      id: name(position),
      inputs: [name(position === 0 ? count - 1 : position - 1)],
      bytes: 1,
      cost: 1,
    })),
  };
}

/** Big bodies, built once: long cycles, graphs over and at the node limit, a huge schedule. */
function bigBodies(): { url: string; payload: string }[] {
  const atLimit = chain(9990);
  const schedule = atLimit.nodes.flatMap((entry) => [{ op: 'compute', node: entry.id }]);
  const over = { nodes: Array.from({ length: 200_000 }, (_, position) => ({ id: `n${position}`, bytes: 1, cost: 1 })) };
  return [
    { url: '/v1/plans?wait=0', payload: JSON.stringify({ graph: longCycle(7000, 8), budget: '60%' }) },
    { url: '/v1/analyze', payload: JSON.stringify({ graph: longCycle(6000, 500) }) },
    { url: '/v1/plans?wait=0', payload: JSON.stringify({ graph: over, budget: 1 }) },
    { url: '/v1/analyze', payload: JSON.stringify({ graph: chain(12_000) }) },
    { url: '/v1/analyze', payload: JSON.stringify({ graph: atLimit }) },
    { url: '/v1/simulate', payload: JSON.stringify({ graph: atLimit, schedule, budgetBytes: 1 }) },
    { url: '/v1/simulate', payload: JSON.stringify({ graph: atLimit, schedule: schedule.slice(0, -1) }) },
  ];
}

/** One request: method, URL, headers and the raw payload. */
export interface HostileRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH' | 'OPTIONS' | 'HEAD';
  url: string;
  headers: Record<string, string>;
  payload?: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const BAD_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/jsonp',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/json;;;',
  'application/*',
  '*/*',
  '',
  ';',
  'application/json, text/plain',
];
const PATH_PIECES = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('..', '%2e%2e', '%00', '%E0%A4%A', '%', '%%', '__proto__', 'constructor', '💥', ' ', '?', '#', '//'),
  fc.integer({ min: 90, max: 5000 }).map((length) => 'x'.repeat(length)),
);

/** Everything the fuzzer sends. */
export function hostileRequests(): fc.Arbitrary<HostileRequest> {
  const big = bigBodies();
  const json = (url: string, body: unknown): HostileRequest => ({
    method: 'POST',
    url,
    headers: JSON_TYPE,
    payload: JSON.stringify(body) ?? 'null',
  });
  return fc.oneof(
    {
      weight: 30,
      arbitrary: fc
        .oneof(
          { weight: 3, arbitrary: mutated },
          {
            weight: 1,
            arbitrary: fc.record({ graph, budget, strategy, transfer, timeLimitSeconds: fc.oneof(number, anything) }, { requiredKeys: [] }),
          },
        )
        .map((body) => json('/v1/plans?wait=0', body)),
    },
    { weight: 10, arbitrary: fc.oneof(fc.record({ graph }), anything).map((body) => json('/v1/analyze', body)) },
    {
      weight: 15,
      arbitrary: fc
        .record({
          graph: fc.oneof(fc.constant(EXAMPLE_GRAPH as unknown), graph),
          schedule: fc.array(fc.record({ op: fc.oneof(fc.constantFrom('compute', 'free', 'swapOut', 'swapIn'), anything), node: id }), {
            maxLength: 12,
          }),
          transfer: fc.oneof(fc.constant(undefined), transfer),
          budgetBytes: fc.oneof(fc.constant(undefined), number),
          timelineFrom: fc.oneof(fc.constant(undefined), number),
          timelineLimit: fc.oneof(fc.constant(undefined), number),
        })
        .map((body) => json('/v1/simulate', body)),
    },
    // Bad content types and raw bytes that are not JSON.
    {
      weight: 10,
      arbitrary: fc
        .record({
          url: fc.constantFrom('/v1/plans', '/v1/analyze', '/v1/simulate'),
          type: fc.oneof(fc.constantFrom(...BAD_TYPES), fc.string({ maxLength: 30 })),
          payload: fc.oneof(fc.string({ maxLength: 50 }), fc.constant(JSON.stringify(EXAMPLE_PLAN_REQUEST)), fc.constant('{"graph":')),
        })
        .map(({ url, type, payload }) => ({ method: 'POST' as const, url, headers: { 'content-type': type }, payload })),
    },
    // Query, path and method abuse.
    {
      weight: 20,
      arbitrary: fc
        .record({
          method: fc.constantFrom('GET', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD', 'POST'),
          route: fc.constantFrom(
            '/v1/jobs/',
            '/v1/plans/',
            '/v1/plans/{}/memory.svg',
            '/v1/jobs/{}/events',
            '/v1/',
            '/',
            '/docs/',
            '/metrics/',
          ),
          piece: PATH_PIECES,
          query: fc.oneof(
            fc.constant(''),
            fc
              .tuple(
                fc.constantFrom('wait', 'limit', 'state', '__proto__', 'timeline'),
                fc.oneof(fc.string({ maxLength: 10 }), number.map(String)),
              )
              .map(([key, value]) => `?${key}=${encodeURIComponent(value)}`),
            fc.constantFrom(
              '?wait=forever',
              '?wait=-1',
              '?wait=1e308',
              '?limit=0',
              '?limit=501',
              '?state=__proto__',
              '?limit=1&limit=2',
              '?%',
            ),
          ),
        })
        .map(({ method, route, piece, query }) => {
          const path = route.includes('{}') ? route.replace('{}', piece) : `${route}${piece}`;
          const withQuery = route === '/v1/jobs/' && piece === '' ? `/v1/jobs${query}` : `${path}${query}`;
          return { method, url: withQuery, headers: method === 'POST' ? JSON_TYPE : {}, payload: method === 'POST' ? '{}' : undefined };
        }),
    },
    // Now and then a big one.
    {
      weight: 1,
      arbitrary: fc.constantFrom(...big).map(({ url, payload }) => ({ method: 'POST' as const, url, headers: JSON_TYPE, payload })),
    },
  );
}

/** Sends `numRuns` hostile requests; asserts the promises of the module comment. Returns the status counts. */
export async function runFuzz(app: FastifyInstance, numRuns: number, seed: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  const codes = new Set(Object.keys(ERROR_CATALOGUE));
  await fc.assert(
    fc.asyncProperty(hostileRequests(), async (request) => {
      const reply = await app.inject({ method: request.method, url: request.url, headers: request.headers, payload: request.payload });
      statuses.set(reply.statusCode, (statuses.get(reply.statusCode) ?? 0) + 1);
      const shown = `${request.method} ${request.url.slice(0, 200)} ${JSON.stringify(request.headers)} ${(request.payload ?? '').slice(0, 300)} -> ${reply.statusCode} ${reply.body.slice(0, 300)}`;
      expect(reply.statusCode, shown).toBeLessThan(500);
      if (reply.statusCode >= 400 && request.method !== 'HEAD') {
        const error = reply.json();
        expect(codes.has(error.code), shown).toBe(true);
        expect(error.details, shown).toBeTypeOf('object');
      }
      const health = await app.inject({ url: '/health' });
      expect(health.statusCode, `after ${shown}`).toBe(200);
    }),
    { numRuns, seed },
  );
  return statuses;
}
