// The typed client against a listening app: every method, progress over SSE, and
// catalogued errors surfacing as MemplanClientError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chain } from '../fixtures/generators.js';
import { MemplanClient, MemplanClientError } from '../src/client.js';
import { EXAMPLE_GRAPH, EXAMPLE_PLAN_REQUEST } from '../src/schemas/index.js';
import { expectReplays, testApp, until } from './api-helpers.js';

let app: FastifyInstance;
let client: MemplanClient;

beforeAll(async () => {
  app = await testApp({ apiKeys: ['k1'] });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  client = new MemplanClient({ baseUrl: address, apiKey: 'k1' });
});
afterAll(async () => {
  await app.close();
});

describe('MemplanClient', () => {
  it('plans with live progress, then reads the job, the plan and its SVG', async () => {
    const graph = chain(8);
    const events: { makespan?: number; gap?: number }[] = [];
    const plan = await client.plan(
      { graph, budget: { fraction: 1 }, strategy: 'test:slow', timeLimitSeconds: 0.5 },
      { wait: 0, onProgress: (event) => events.push(event) },
    );
    expectReplays(graph, plan);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.at(-1)!.makespan).toBe(plan.predicted!.makespan);
    expect((await client.job(plan.id!)).state).toBe('done');
    expect(await client.getPlan(plan.id!)).toEqual(plan);
    expect(await client.memorySvg(plan.id!)).toContain('<svg');
    expect((await client.jobs()).map((job) => job.id)).toContain(plan.id);
  });

  it('submits, cancels, analyzes, simulates, lists strategies and checks health', async () => {
    const submitted = await client.submitPlan({ graph: chain(5), budget: { fraction: 1 }, strategy: 'test:slow', timeLimitSeconds: 30 }, 0);
    expect('job' in submitted).toBe(true);
    const id = 'job' in submitted ? submitted.job.jobId : '';
    await until(async () => (await client.job(id)).state === 'running');
    expect((await client.cancel(id)).state).toBe('cancelled');
    expect((await client.analyze(EXAMPLE_GRAPH)).nodes).toBe(EXAMPLE_GRAPH.nodes.length);
    const replay = await client.simulate({
      graph: EXAMPLE_GRAPH,
      schedule: EXAMPLE_GRAPH.nodes.map((node) => ({ op: 'compute', node: node.id })),
    });
    expect(replay.timeline).toHaveLength(EXAMPLE_GRAPH.nodes.length);
    expect((await client.strategies()).map((strategy) => strategy.name)).toContain('auto');
    expect((await client.health()).status).toBe('ok');
    const done = await client.submitPlan(EXAMPLE_PLAN_REQUEST, 30);
    expect('plan' in done).toBe(true);
  });

  it('throws catalogued errors', async () => {
    const error = await client.plan({ graph: { nodes: [] }, budget: { fraction: 1 } }).catch((caught) => caught);
    expect(error).toBeInstanceOf(MemplanClientError);
    expect(error).toMatchObject({ status: 400, code: 'MEMPLAN_ERR_EMPTY_GRAPH' });
    const anonymous = new MemplanClient({ baseUrl: `http://127.0.0.1:${(app.server.address() as { port: number }).port}` });
    await expect(anonymous.strategies()).rejects.toMatchObject({ status: 401, code: 'MEMPLAN_ERR_UNAUTHORIZED' });
    await expect(client.job('missing')).rejects.toMatchObject({ status: 404, code: 'MEMPLAN_ERR_NOT_FOUND' });
  });
});
