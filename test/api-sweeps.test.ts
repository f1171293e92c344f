// The sweep routes (src/routes/sweeps.ts) on an in-memory app: POST /v1/sweeps answered
// with the result or a job, every point's plan stored and replaying, progress over SSE,
// cancel, the Pareto SVG, typed errors, owners kept apart, and a stored result that
// cannot be read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chain, unetLike } from '../fixtures/generators.js';
import { parseGraph } from '../solver/graph/validate.js';
import type { Plan } from '../solver/plan-schema.js';
import type { SweepResult } from '../solver/sweep/schema.js';
import { parseSseFrame } from '../src/client.js';
import { EXAMPLE_GRAPH } from '../src/schemas/index.js';
import { EXAMPLE_SWEEP_REQUEST } from '../src/schemas/sweeps.js';
import { expectReplays, testApp, until } from './api-helpers.js';
import { checkPlan } from './helpers.js';

/** Fetches every plan a result names and checks it with the simulator at its point's budget. */
async function expectPlansReplay(app: FastifyInstance, graph: Parameters<typeof parseGraph>[0], result: SweepResult, headers = {}) {
  const indexed = parseGraph(graph);
  for (const point of result.points) {
    if (point.planId === undefined) continue;
    const reply = await app.inject({ url: `/v1/plans/${point.planId}`, headers });
    expect(reply.statusCode, reply.body).toBe(200);
    const plan = reply.json() as Plan;
    expect(plan.budgetBytes).toBe(point.budgetBytes);
    expect(plan.predicted).toEqual(point.predicted);
    checkPlan(indexed, plan);
  }
}

describe('POST /v1/sweeps', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp({ workers: 2 });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers the example with the result: points in increasing budget, each plan stored and replaying, the overhead answer', async () => {
    const reply = await app.inject({ method: 'POST', url: '/v1/sweeps?wait=60', payload: EXAMPLE_SWEEP_REQUEST });
    expect(reply.statusCode, reply.body).toBe(200);
    const result = reply.json() as SweepResult;
    expect(result.points).toHaveLength(4);
    expect(result.points[0].fraction).toBeCloseTo(0.75, 2);
    const makespans = result.points.map((point) => point.predicted?.makespan ?? Infinity);
    for (let index = 1; index < makespans.length; index++) expect(makespans[index]).toBeLessThanOrEqual(makespans[index - 1]);
    await expectPlansReplay(app, EXAMPLE_GRAPH, result);
    const answer = result.maxOverhead!;
    expect(answer.predicted.overheadRatio).toBeLessThanOrEqual(1.05);
    const answerPlan = (await app.inject({ url: `/v1/plans/${answer.planId}` })).json() as Plan;
    expectReplays(EXAMPLE_GRAPH, answerPlan);
    expect(answerPlan.budgetBytes).toBe(answer.budgetBytes);
    expect(['below-floor', 'infeasible', 'bound', 'none-found']).toContain(answer.below.reason);
  });

  it('queues with wait=0: 202 with the job, GET /v1/sweeps/{id} 202 then 200, progress per point over SSE, then the result', async () => {
    const graph = unetLike(3);
    const body = { graph, budgets: { points: 4 }, timeLimitSeconds: 4, smallestFeasible: true };
    const submitted = await app.inject({ method: 'POST', url: '/v1/sweeps?wait=0', payload: body });
    expect(submitted.statusCode, submitted.body).toBe(202);
    const { jobId, links } = submitted.json();
    expect(links.sweep).toBe(`/v1/sweeps/${jobId}`);
    const early = await app.inject({ url: `/v1/sweeps/${jobId}` });
    expect([200, 202]).toContain(early.statusCode);
    if (early.statusCode === 202) expect(early.json().kind).toBe('sweep');
    const stream = await app.inject({ url: `/v1/jobs/${jobId}/events` });
    const events = stream.body
      .split('\n\n')
      .map(parseSseFrame)
      .filter((event) => event !== null);
    const last = events.at(-1)!;
    expect(last.event).toBe('sweep');
    const points = events.filter((event) => event!.event === 'progress').map((event) => (event!.data as { point?: number }).point);
    // Every point is reported (the first pass goes down the budgets; a point improved later is reported again).
    expect(new Set(points.filter((point) => point !== undefined))).toEqual(new Set([0, 1, 2, 3]));
    const done = await app.inject({ url: `/v1/sweeps/${jobId}` });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual(last.data);
    const result = done.json() as SweepResult;
    await expectPlansReplay(app, graph, result);
    expect(result.smallestFeasible!.foundBytes).toBeGreaterThanOrEqual(result.smallestFeasible!.provenFloorBytes);
    // A stream opened after the end answers with the result at once; the job says it is a sweep.
    const again = await app.inject({ url: `/v1/jobs/${jobId}/events` });
    expect(again.body).toContain('event: sweep');
    const job = (await app.inject({ url: `/v1/jobs/${jobId}` })).json();
    expect(job.kind).toBe('sweep');
    expect(job.links.paretoSvg).toBe(`/v1/sweeps/${jobId}/pareto.svg`);
    expect(job.progress.pointsDone).toBe(4);
  });

  it('draws the Pareto plot with the bound band, the floor, the no-remat peak and the knee', async () => {
    const submitted = await app.inject({ method: 'POST', url: '/v1/sweeps?wait=60', payload: EXAMPLE_SWEEP_REQUEST });
    expect(submitted.statusCode).toBe(200);
    const jobs = (await app.inject({ url: '/v1/jobs' })).json().jobs as { id: string; kind: string }[];
    const id = jobs.find((job) => job.kind === 'sweep')!.id;
    const svg = await app.inject({ url: `/v1/sweeps/${id}/pareto.svg` });
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toContain('image/svg+xml');
    for (const mark of ['class="bound-band"', 'class="floor"', 'class="no-remat"', 'class="knee"', 'class="pareto"'])
      expect(svg.body).toContain(mark);
  });

  it('cancels a running sweep cooperatively: the job and the sweep answer MEMPLAN_ERR_CANCELLED, its thread kept', async () => {
    const body = { graph: chain(40), budgets: { points: 20 }, timeLimitSeconds: 60 };
    const { jobId } = (await app.inject({ method: 'POST', url: '/v1/sweeps?wait=0', payload: body })).json();
    await until(async () => (await app.inject({ url: `/v1/jobs/${jobId}` })).json().state === 'running');
    const spawned = app.memplan.pool.spawned;
    const cancelled = await app.inject({ method: 'DELETE', url: `/v1/jobs/${jobId}` });
    expect(cancelled.json().state).toBe('cancelled');
    // The sweep read the stop flag and answered: no thread was terminated and replaced.
    expect(app.memplan.pool.spawned).toBe(spawned);
    const sweep = await app.inject({ url: `/v1/sweeps/${jobId}` });
    expect(sweep.statusCode).toBe(409);
    expect(sweep.json().code).toBe('MEMPLAN_ERR_CANCELLED');
  });

  it('answers bad requests with typed errors naming the field', async () => {
    const cases: [object, number, string, RegExp][] = [
      [{ graph: EXAMPLE_GRAPH, budgets: ['lots'] }, 400, 'MEMPLAN_ERR_INVALID_BUDGET', /budgets\.0/],
      [{ graph: EXAMPLE_GRAPH, budgets: [] }, 400, 'MEMPLAN_ERR_INVALID_REQUEST', /body\.budgets/],
      [{ graph: EXAMPLE_GRAPH, budgets: { points: 1000 } }, 400, 'MEMPLAN_ERR_INVALID_REQUEST', /body\.budgets\.points/],
      [{ graph: EXAMPLE_GRAPH, maxOverhead: 'lots' }, 400, 'MEMPLAN_ERR_INVALID_REQUEST', /body\.maxOverhead/],
      [{ graph: EXAMPLE_GRAPH, strategy: 'nope' }, 400, 'MEMPLAN_ERR_UNKNOWN_STRATEGY', /nope/],
      [{ graph: EXAMPLE_GRAPH, timeLimitSeconds: 10_000 }, 400, 'MEMPLAN_ERR_INVALID_REQUEST', /timeLimitSeconds/],
      [{ graph: { nodes: [{ id: 'a', bytes: -1, cost: 1 }] } }, 400, 'MEMPLAN_ERR_INVALID_NUMBER', /"a"/],
      [{ budgets: { points: 3 } }, 400, 'MEMPLAN_ERR_INVALID_GRAPH', /graph/],
    ];
    for (const [payload, status, code, detail] of cases) {
      const reply = await app.inject({ method: 'POST', url: '/v1/sweeps', payload });
      expect(reply.statusCode, reply.body).toBe(status);
      expect(reply.json().code, reply.body).toBe(code);
      expect(reply.body).toMatch(detail);
    }
    const missing = await app.inject({ url: '/v1/sweeps/no-such-sweep' });
    expect(missing.statusCode).toBe(404);
    // A plan job is not a sweep.
    const planned = await app.inject({ method: 'POST', url: '/v1/plans?wait=30', payload: { graph: EXAMPLE_GRAPH, budget: '100%' } });
    const planJob = (await app.inject({ url: '/v1/jobs' })).json().jobs.find((job: { kind: string }) => job.kind === 'plan');
    expect(planned.statusCode).toBe(200);
    expect((await app.inject({ url: `/v1/sweeps/${planJob.id}` })).statusCode).toBe(404);
  });
});

describe('sweeps and API keys', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await testApp({ workers: 1, apiKeys: ['alice', 'bob'] });
  });
  afterAll(async () => {
    await app.close();
  });

  it('keeps owners apart, and a stored result that cannot be read answers 410 naming the sweep', async () => {
    const alice = { 'x-api-key': 'alice' };
    const reply = await app.inject({ method: 'POST', url: '/v1/sweeps?wait=60', headers: alice, payload: EXAMPLE_SWEEP_REQUEST });
    expect(reply.statusCode, reply.body).toBe(200);
    const id = (await app.inject({ url: '/v1/jobs', headers: alice })).json().jobs[0].id;
    const result = reply.json() as SweepResult;
    await expectPlansReplay(app, EXAMPLE_GRAPH, result, alice);
    const bob = { 'x-api-key': 'bob' };
    expect((await app.inject({ url: `/v1/sweeps/${id}`, headers: bob })).statusCode).toBe(404);
    expect((await app.inject({ url: `/v1/plans/${result.points[0].planId}`, headers: bob })).statusCode).toBe(404);
    app.memplan.store.db.prepare('UPDATE sweeps SET result = ? WHERE id = ?').run('{"points": "no"}', id);
    const broken = await app.inject({ url: `/v1/sweeps/${id}`, headers: alice });
    expect(broken.statusCode).toBe(410);
    expect(broken.json().code).toBe('MEMPLAN_ERR_STORED_RECORD_INVALID');
    expect(broken.json().details.what).toBe('sweep');
  });
});
