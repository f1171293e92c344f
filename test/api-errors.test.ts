// The error catalogue over HTTP: every MEMPLAN_ERR_* code is documented in the OpenAPI
// description and is either triggered here (status and code as catalogued, details naming
// the culprit) or listed with the reason no HTTP request can trigger it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { chain } from '../fixtures/generators.js';
import { ERROR_CATALOGUE, type ErrorCode } from '../solver/errors.js';
import { EXAMPLE_GRAPH, EXAMPLE_PLAN_REQUEST } from '../src/schemas/index.js';
import { rawExchange, testApp, until } from './api-helpers.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp({ workers: 1, maxQueue: 0, maxNodes: 50, bodyLimit: 64 * 1024, apiKeys: [] });
});
afterAll(async () => {
  await app.close();
});

const node = (id: string, extra: Record<string, unknown> = {}) => ({ id, bytes: 10, cost: 1, ...extra });
const planWith = (graph: unknown, extra: Record<string, unknown> = {}) =>
  app.inject({ method: 'POST', url: '/v1/plans?wait=10', payload: { graph, budget: { fraction: 1 }, ...extra } });
const simulateWith = (schedule: { op: string; node: string }[], extra: Record<string, unknown> = {}) =>
  app.inject({ method: 'POST', url: '/v1/simulate', payload: { graph: EXAMPLE_GRAPH, schedule, ...extra } });
const compute = (id: string) => ({ op: 'compute', node: id });

/** A graph with node options: r has an alternative, a mask only g reads, and a decodable compressed form. */
const OPTIONS_GRAPH = {
  nodes: [
    { id: 'x', kind: 'input', bytes: 10, cost: 1 },
    {
      id: 'r',
      inputs: ['x'],
      bytes: 40,
      cost: 2,
      alternatives: [{ name: 'fast', cost: 1 }],
      encodings: [
        { name: 'mask', bytes: 5, encodeCost: 1, readers: ['g'] },
        { name: 'zip', bytes: 20, encodeCost: 3, decodeCost: 2 },
      ],
    },
    { id: 'y', inputs: ['r'], bytes: 30, cost: 4 },
    { id: 'g', kind: 'backward', inputs: ['y', 'r'], bytes: 40, cost: 5 },
  ],
};
const simulateOptions = (schedule: Record<string, string>[]) =>
  app.inject({ method: 'POST', url: '/v1/simulate', payload: { graph: OPTIONS_GRAPH, schedule } });
const encode = (encoding: string) => ({ op: 'encode', node: 'r', encoding });

/** Each reachable code: a request that triggers it and the details it must name. */
const TRIGGERS: Partial<Record<ErrorCode, () => Promise<{ reply: LightMyRequestResponse; details?: Record<string, unknown> }>>> = {
  MEMPLAN_ERR_INVALID_GRAPH: async () => ({
    reply: await planWith({ nodes: [node('a'), node('b', { kind: 'sideways' })] }),
    details: { node: 'b', field: 'kind', path: 'nodes.1.kind' },
  }),
  MEMPLAN_ERR_EMPTY_GRAPH: async () => ({ reply: await planWith({ nodes: [] }) }),
  MEMPLAN_ERR_DUPLICATE_ID: async () => ({ reply: await planWith({ nodes: [node('a'), node('a')] }), details: { node: 'a', index: 1 } }),
  MEMPLAN_ERR_UNKNOWN_INPUT: async () => ({
    reply: await planWith({ nodes: [node('a'), node('b', { inputs: ['ghost'] })] }),
    details: { node: 'b', input: 'ghost' },
  }),
  MEMPLAN_ERR_FORWARD_REFERENCE: async () => ({
    reply: await planWith({ nodes: [node('a', { inputs: ['b'] }), node('b')] }),
    details: { node: 'a', input: 'b' },
  }),
  MEMPLAN_ERR_CYCLE: async () => ({
    reply: await planWith({ nodes: [node('a', { inputs: ['b'] }), node('b', { inputs: ['a'] })] }),
    details: { node: 'a', input: 'b' },
  }),
  MEMPLAN_ERR_INVALID_NUMBER: async () => ({
    reply: await planWith({ nodes: [node('a'), node('__proto__', { bytes: -5 })] }),
    details: { node: '__proto__', field: 'bytes' },
  }),
  MEMPLAN_ERR_TOO_MANY_NODES: async () => ({ reply: await planWith(chain(40)), details: { limit: 50 } }),
  MEMPLAN_ERR_INVALID_OPTION: async () => ({
    reply: await planWith({
      nodes: [node('a'), node('b', { inputs: ['a'], encodings: [{ name: 'm', bytes: 1, encodeCost: 0, readers: ['a'] }] })],
    }),
    details: { node: 'b', field: 'encodings[0].readers[0]' },
  }),
  MEMPLAN_ERR_STEP_UNKNOWN_OPTION: async () => ({
    reply: await simulateOptions([compute('x'), { op: 'compute', node: 'r', alt: 'turbo' }]),
    details: { step: 1, node: 'r', field: 'alt', name: 'turbo' },
  }),
  MEMPLAN_ERR_STEP_INVALID_FIELD: async () => ({
    reply: await simulateOptions([compute('x'), compute('r'), { op: 'encode', node: 'r' }]),
    details: { step: 2, node: 'r', op: 'encode' },
  }),
  MEMPLAN_ERR_STEP_ENCODING_PRESENT: async () => ({
    reply: await simulateOptions([compute('x'), compute('r'), encode('mask'), encode('mask')]),
    details: { step: 3, node: 'r', encoding: 'mask', place: 'device' },
  }),
  MEMPLAN_ERR_STEP_ENCODING_ABSENT: async () => ({
    reply: await simulateOptions([compute('x'), compute('r'), { op: 'free', node: 'r', encoding: 'zip' }]),
    details: { step: 2, node: 'r', encoding: 'zip', place: 'device' },
  }),
  MEMPLAN_ERR_STEP_NOT_DECODABLE: async () => ({
    reply: await simulateOptions([
      compute('x'),
      compute('r'),
      encode('mask'),
      { op: 'free', node: 'r' },
      { op: 'decode', node: 'r', encoding: 'mask' },
    ]),
    details: { step: 4, node: 'r', encoding: 'mask' },
  }),
  MEMPLAN_ERR_STEP_NOT_A_READER: async () => ({
    reply: await simulateOptions([compute('x'), compute('r'), encode('mask'), { op: 'free', node: 'r' }, compute('y')]),
    details: { step: 4, node: 'y', input: 'r', encoding: 'mask' },
  }),
  MEMPLAN_ERR_NON_FINITE_FIGURE: async () => ({
    // Costs near zero beside a long transfer latency: makespan / baseCost overflows.
    reply: await app.inject({
      method: 'POST',
      url: '/v1/simulate',
      payload: {
        graph: { nodes: [node('x', { cost: 5e-324 })] },
        schedule: [compute('x'), { op: 'swapOut', node: 'x' }],
        transfer: { bandwidth: 1, latency: 1e12 },
      },
    }),
    details: { what: 'replay', field: 'overheadRatio', value: 'Infinity' },
  }),
  MEMPLAN_ERR_STORED_RECORD_INVALID: async () => {
    // A plan row that no request could have produced, planted in the store.
    app.memplan.store.db
      .prepare(
        "INSERT INTO plans (id, owner, hash, plan, graph_hash, created_at) VALUES ('planted', '', 'h', '{\"status\":\"optimal\"}', 'g', 1)",
      )
      .run();
    return { reply: await app.inject({ url: '/v1/plans/planted' }), details: { what: 'plan', id: 'planted' } };
  },
  MEMPLAN_ERR_URI_TOO_LONG: async () => ({ reply: await app.inject({ url: `/v1/jobs/${'j'.repeat(129)}` }), details: { limit: 128 } }),
  MEMPLAN_ERR_HEADERS_TOO_LARGE: async () => {
    const listening = await testApp({ workers: 1 });
    try {
      await listening.listen({ port: 0, host: '127.0.0.1' });
      const port = (listening.server.address() as { port: number }).port;
      const exchange = await rawExchange(port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(40_000)}\r\n\r\n`);
      return { reply: asReply(exchange) };
    } finally {
      await listening.close();
    }
  },
  MEMPLAN_ERR_REQUEST_TIMEOUT: async () => {
    const listening = await testApp({ workers: 1, requestTimeoutMs: 300, internal: { timeoutCheckIntervalMs: 50 } });
    try {
      await listening.listen({ port: 0, host: '127.0.0.1' });
      const port = (listening.server.address() as { port: number }).port;
      const head = 'POST /v1/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n';
      const exchange = await rawExchange(port, head, { drip: true, dripMs: 50 });
      return { reply: asReply(exchange), details: { timeoutMs: 300 } };
    } finally {
      await listening.close();
    }
  },
  MEMPLAN_ERR_QUOTA_EXCEEDED: async () => {
    const other = await testApp({ workers: 1, maxJobsPerKey: 1 });
    try {
      const running = await other.inject({
        method: 'POST',
        url: '/v1/plans?wait=0',
        payload: { graph: chain(4), budget: { fraction: 1 }, strategy: 'test:slow', timeLimitSeconds: 30 },
      });
      const reply = await other.inject({
        method: 'POST',
        url: '/v1/plans?wait=0',
        payload: { graph: chain(5), budget: 1, strategy: 'dtr' },
      });
      await other.inject({ method: 'DELETE', url: `/v1/jobs/${running.json().jobId}` });
      expect(reply.headers['retry-after']).toBe('5');
      return { reply, details: { count: 1 } };
    } finally {
      await other.close();
    }
  },
  MEMPLAN_ERR_INVALID_BUDGET: async () => ({
    reply: await app.inject({ method: 'POST', url: '/v1/plans', payload: { graph: EXAMPLE_GRAPH, budget: { fraction: -1 } } }),
  }),
  MEMPLAN_ERR_UNKNOWN_STRATEGY: async () => ({
    reply: await planWith(EXAMPLE_GRAPH, { strategy: 'magic' }),
    details: { strategy: 'magic' },
  }),
  MEMPLAN_ERR_INVALID_REQUEST: async () => ({
    reply: await planWith(EXAMPLE_GRAPH, { timeLimitSeconds: 'soon' }),
    details: { path: 'body.timeLimitSeconds' },
  }),
  MEMPLAN_ERR_TRANSFER_REQUIRED: async () => ({
    reply: await simulateWith([compute('x'), { op: 'swapOut', node: 'x' }]),
    details: { step: 1, node: 'x', op: 'swapOut' },
  }),
  MEMPLAN_ERR_STEP_UNKNOWN_NODE: async () => ({
    reply: await simulateWith([compute('x'), compute('ghost')]),
    details: { step: 1, node: 'ghost' },
  }),
  MEMPLAN_ERR_STEP_INPUT_MISSING: async () => ({
    reply: await simulateWith([compute('x'), compute('f1')]),
    details: { step: 1, node: 'f1', input: 'f0' },
  }),
  MEMPLAN_ERR_STEP_ALREADY_RESIDENT: async () => ({
    reply: await simulateWith([compute('x'), compute('x')]),
    details: { step: 1, node: 'x' },
  }),
  MEMPLAN_ERR_STEP_NOT_RECOMPUTABLE: async () => ({
    reply: await simulateWith([compute('x'), { op: 'free', node: 'x' }, compute('x')]),
    details: { step: 2, node: 'x' },
  }),
  MEMPLAN_ERR_STEP_NOT_RESIDENT: async () => ({ reply: await simulateWith([{ op: 'free', node: 'x' }]), details: { step: 0, node: 'x' } }),
  MEMPLAN_ERR_STEP_ALREADY_ON_HOST: async () => ({
    reply: await simulateWith([compute('x'), { op: 'swapOut', node: 'x' }, { op: 'swapOut', node: 'x' }], { transfer: { bandwidth: 100 } }),
    details: { step: 2, node: 'x' },
  }),
  MEMPLAN_ERR_STEP_NOT_ON_HOST: async () => ({
    reply: await simulateWith([{ op: 'swapIn', node: 'x' }], { transfer: { bandwidth: 100 } }),
    details: { step: 0, node: 'x' },
  }),
  MEMPLAN_ERR_SCHEDULE_INCOMPLETE: async () => ({ reply: await simulateWith([compute('x')]), details: { node: 'f0' } }),
  MEMPLAN_ERR_NOT_FOUND: async () => ({
    reply: await app.inject({ url: '/v1/jobs/constructor' }),
    details: { what: 'job', id: 'constructor' },
  }),
  MEMPLAN_ERR_UNAUTHORIZED: async () => {
    const locked = await testApp({ apiKeys: ['secret'] });
    try {
      return { reply: await locked.inject({ url: '/v1/strategies' }) };
    } finally {
      await locked.close();
    }
  },
  MEMPLAN_ERR_PAYLOAD_TOO_LARGE: async () => ({ reply: await planWith({ nodes: [node('a', { op: 'x'.repeat(100_000) })] }) }),
  MEMPLAN_ERR_UNSUPPORTED_MEDIA_TYPE: async () => ({
    reply: await app.inject({ method: 'POST', url: '/v1/plans', headers: { 'content-type': 'text/plain' }, payload: 'hello' }),
  }),
  MEMPLAN_ERR_QUEUE_FULL: async () => {
    // One worker and no queue: a running job leaves no room for another.
    const running = await app.inject({
      method: 'POST',
      url: '/v1/plans?wait=0',
      payload: { graph: chain(4), budget: { fraction: 1 }, strategy: 'test:slow', timeLimitSeconds: 30 },
    });
    const reply = await planWith(chain(5), { strategy: 'checkpoint-all' });
    await app.inject({ method: 'DELETE', url: `/v1/jobs/${running.json().jobId}` });
    await until(() => app.memplan.pool.busy === 0);
    return { reply, details: { size: 0 } };
  },
  MEMPLAN_ERR_SOLVER_FAILED: async () => ({ reply: await planWith(chain(3), { strategy: 'test:throw' }) }),
  MEMPLAN_ERR_SOLVER_ABORTED: async () => ({
    reply: await planWith(chain(3), { strategy: 'test:abort' }),
    details: { phase: 'test:abort' },
  }),
  MEMPLAN_ERR_WORKER_CRASHED: async () => {
    // The worker thread dies under the job (as an out-of-memory kill would end it).
    const waiting = planWith(chain(7), { strategy: 'test:slow', timeLimitSeconds: 30 });
    await until(() => app.memplan.pool.busy === 1);
    const jobs = (await app.inject({ url: '/v1/jobs?state=running' })).json().jobs;
    expect(app.memplan.pool.killWorkerOf(jobs[0].id)).toBe(true);
    const reply = await waiting;
    await until(() => app.memplan.pool.busy === 0);
    return { reply };
  },
  MEMPLAN_ERR_TIME_LIMIT_EXCEEDED: async () => {
    // A solve that ignores its stop flag and its time limit: the watchdog asks it to stop,
    // then ends its thread; the answer is a typed 4xx, never a 5xx.
    const other = await testApp({ workers: 1, internal: { watchdogGraceSeconds: 0.2, cancelGraceMs: 200 } });
    try {
      const reply = await other.inject({
        method: 'POST',
        url: '/v1/plans?wait=10',
        payload: { graph: chain(3), budget: { fraction: 1 }, strategy: 'test:overrun', timeLimitSeconds: 0.5 },
      });
      return { reply, details: { limit: 0.5, grace: 0.2 } };
    } finally {
      await other.close();
    }
  },
  MEMPLAN_ERR_CANCELLED: async () => {
    const waiting = planWith(chain(6), { strategy: 'test:slow', timeLimitSeconds: 30 });
    await until(() => app.memplan.pool.busy === 1);
    const jobs = (await app.inject({ url: '/v1/jobs?state=running' })).json().jobs;
    await app.inject({ method: 'DELETE', url: `/v1/jobs/${jobs[0].id}` });
    const reply = await waiting;
    await until(() => app.memplan.pool.busy === 0);
    return { reply };
  },
  MEMPLAN_ERR_INTERRUPTED: async () => {
    // A job still running when the server shuts down ends failed and interrupted.
    const other = await testApp({ workers: 1, shutdownGraceMs: 50 });
    try {
      const posted = await other.inject({
        method: 'POST',
        url: '/v1/plans?wait=0',
        payload: { graph: chain(4), budget: { fraction: 1 }, strategy: 'test:slow', timeLimitSeconds: 30 },
      });
      const id = posted.json().jobId;
      await until(() => other.memplan.pool.busy === 1);
      const events = other.inject({ url: `/v1/jobs/${id}/events` });
      await other.memplan.shutdown();
      const stream = await events;
      expect(stream.body).toContain('"code":"MEMPLAN_ERR_INTERRUPTED"');
      // The job reply itself is 200; the code is in the job's error, with the status it maps to.
      const error = JSON.parse(stream.body.split('event: error\ndata: ')[1].split('\n')[0]);
      return {
        reply: { statusCode: ERROR_CATALOGUE.MEMPLAN_ERR_INTERRUPTED.status, json: () => error } as unknown as LightMyRequestResponse,
      };
    } finally {
      await other.close();
    }
  },
  MEMPLAN_ERR_QUEUE_UNAVAILABLE: async () => {
    // Scaled out (MEMPLAN_REDIS_URL) with no Redis answering: a typed 503, at once.
    const unreachable = await testApp({ redisUrl: 'redis://127.0.0.1:1' });
    try {
      const reply = await unreachable.inject({ method: 'POST', url: '/v1/plans?wait=0', payload: EXAMPLE_PLAN_REQUEST });
      expect(reply.headers['retry-after']).toBe('5');
      return { reply };
    } finally {
      await unreachable.close();
    }
  },
  MEMPLAN_ERR_SHUTTING_DOWN: async () => {
    const other = await testApp({ workers: 1 });
    try {
      await other.memplan.shutdown();
      const reply = await other.inject({ method: 'POST', url: '/v1/plans', payload: EXAMPLE_PLAN_REQUEST });
      expect(reply.headers['retry-after']).toBe('5');
      return { reply };
    } finally {
      await other.close();
    }
  },
};

/** A raw HTTP exchange as an inject-like reply, for the checks below. */
function asReply(exchange: { text: string; status?: number }): LightMyRequestResponse {
  const body = exchange.text.slice(exchange.text.indexOf('\r\n\r\n') + 4);
  return { statusCode: exchange.status, body, json: () => JSON.parse(body) } as unknown as LightMyRequestResponse;
}

/** Codes no HTTP request can trigger, and why. */
const UNREACHABLE: Partial<Record<ErrorCode, string>> = {
  MEMPLAN_ERR_INVALID_IMPORT: 'raised by the graph importers (library and CLI); the HTTP API takes the Graph contract only',
  MEMPLAN_ERR_STORE_UNAVAILABLE:
    'only with MEMPLAN_DATABASE_URL (PostgreSQL) that stops answering; test/scaleout/store-postgres.test.ts shows it (npm run test:scaleout)',
  MEMPLAN_ERR_INTERNAL:
    'the fallback for a bug in the service; a request that reaches it is a bug to fix, and the fuzz test asserts none does',
};

describe('error catalogue over HTTP', () => {
  it('lists every catalogue code once: triggered or unreachable with a reason', () => {
    const all = Object.keys(ERROR_CATALOGUE).sort();
    expect([...Object.keys(TRIGGERS), ...Object.keys(UNREACHABLE)].sort()).toEqual(all);
  });

  it('documents every code in the OpenAPI description', async () => {
    const description: string = (await app.inject({ url: '/docs/json' })).json().info.description;
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) expect(description).toContain(`| \`${code}\` | ${entry.status} |`);
  });

  for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
    const trigger = TRIGGERS[code];
    if (!trigger) continue;
    it(`${code} answers ${ERROR_CATALOGUE[code].status}`, async () => {
      const { reply, details } = await trigger();
      expect(reply.statusCode, reply.body).toBe(ERROR_CATALOGUE[code].status);
      const body = reply.json();
      expect(body.code).toBe(code);
      expect(body.message).toBeTypeOf('string');
      expect(body.message).not.toMatch(/\{\w+\}/);
      if (details) expect(body.details).toMatchObject(details);
    });
  }

  it('answers an unknown route with a catalogued 404 and bad JSON with a catalogued 400', async () => {
    const missing = await app.inject({ url: '/v2/nothing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('MEMPLAN_ERR_NOT_FOUND');
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/plans',
      headers: { 'content-type': 'application/json' },
      payload: '{"graph":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('MEMPLAN_ERR_INVALID_REQUEST');
    const badWait = await app.inject({ method: 'POST', url: '/v1/plans?wait=forever', payload: EXAMPLE_PLAN_REQUEST });
    expect(badWait.statusCode).toBe(400);
    expect(badWait.json()).toMatchObject({ code: 'MEMPLAN_ERR_INVALID_REQUEST', details: { path: 'querystring.wait' } });
  });
});
