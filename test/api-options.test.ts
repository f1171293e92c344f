// The service with node options: graphs that carry them are planned and replayed, the
// strategies that use them are listed, and the examples with options run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { parseGraph } from '../solver/graph/validate.js';
import { EXAMPLE_OPTIONS_PLAN_REQUEST, EXAMPLE_OPTIONS_SIMULATE_REQUEST } from '../src/schemas/index.js';
import { expectReplays, testApp } from './api-helpers.js';

let app: FastifyInstance;
beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

describe('node options over HTTP', () => {
  it('plans the example with options: a plan within the budget that uses the encodings', async () => {
    const reply = await app.inject({ method: 'POST', url: '/v1/plans?wait=30', payload: EXAMPLE_OPTIONS_PLAN_REQUEST });
    expect(reply.statusCode).toBe(200);
    const plan = reply.json();
    expectReplays(EXAMPLE_OPTIONS_PLAN_REQUEST.graph, plan);
    expect(plan.schedule.some((step: { op: string }) => step.op === 'encode')).toBe(true);
    // baseCost sums the cheapest implementations: below the sum of the nodes' own costs.
    const ownCosts = EXAMPLE_OPTIONS_PLAN_REQUEST.graph.nodes.reduce((sum, node) => sum + node.cost, 0);
    expect(plan.predicted.baseCost).toBeLessThan(ownCosts);
    expect(plan.nodes.find((node: { id: string }) => node.id === 'f1')).toMatchObject({ encodes: 1 });
  });

  it('answers the same budget without options with no plan', async () => {
    const plain = {
      ...EXAMPLE_OPTIONS_PLAN_REQUEST,
      graph: {
        ...EXAMPLE_OPTIONS_PLAN_REQUEST.graph,
        nodes: EXAMPLE_OPTIONS_PLAN_REQUEST.graph.nodes.map(({ alternatives, encodings, ...node }) => node),
      },
    };
    const reply = await app.inject({ method: 'POST', url: '/v1/plans?wait=30', payload: plain });
    expect(reply.statusCode).toBe(200);
    expect(reply.json().status).toBe('infeasible');
  });

  it('replays a schedule with encode steps and alternatives', async () => {
    const reply = await app.inject({ method: 'POST', url: '/v1/simulate', payload: EXAMPLE_OPTIONS_SIMULATE_REQUEST });
    expect(reply.statusCode).toBe(200);
    const body = reply.json();
    expect(body.legal).toBe(true);
    expect(body.timeline.some((row: { op: string; encoding?: string }) => row.op === 'encode' && row.encoding === 'mask')).toBe(true);
    expect(body.timeline.some((row: { alt?: string }) => row.alt === 'winograd')).toBe(true);
    expect(body.figures.baseCost).toBe(parseGraph(EXAMPLE_OPTIONS_SIMULATE_REQUEST.graph).baseCost);
  });

  it('lists gist, cdma and kusumoto-dp', async () => {
    const names = (await app.inject({ url: '/v1/strategies' })).json().strategies.map((strategy: { name: string }) => strategy.name);
    expect(names).toEqual(expect.arrayContaining(['gist', 'cdma', 'kusumoto-dp']));
  });
});
