// Every endpoint through inject: plans (sync, cached, async), jobs, plans by id and their
// SVG, analyze, simulate, strategies, health, metrics and the docs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { chain, diamond } from '../fixtures/generators.js';
import { graphStats } from '../solver/schedule/graph-stats.js';
import { parseGraph } from '../solver/graph/validate.js';
import type { Plan } from '../solver/plan-schema.js';
import { STRATEGIES } from '../solver/strategies/registry.js';
import { EXAMPLE_GRAPH, EXAMPLE_PLAN_REQUEST } from '../src/schemas/index.js';
import { expectReplays, testApp } from './api-helpers.js';

let app: FastifyInstance;

beforeAll(async () => {
  app = await testApp();
});
afterAll(async () => {
  await app.close();
});

describe('POST /v1/plans', () => {
  let first: Plan;

  it('answers 200 with a plan that replays within the budget', async () => {
    const reply = await app.inject({ method: 'POST', url: '/v1/plans?wait=30', payload: EXAMPLE_PLAN_REQUEST });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['x-memplan-cache']).toBe('miss');
    first = reply.json();
    expect(first.id).toBeTypeOf('string');
    // The docs' first example is a proven optimum (over every schedule), not a time-out.
    expect(first.status).toBe('optimal');
    expect(first.bound).toMatchObject({ scope: 'all-schedules' });
    expect(first.bound!.gap).toBeLessThan(1e-6);
    expectReplays(EXAMPLE_GRAPH, first);
    // The budget is 90 % of the no-remat peak, so something must be recomputed.
    expect(first.predicted!.computeCost).toBeGreaterThan(first.predicted!.baseCost);
  });

  it('answers an identical request from the store', async () => {
    const reply = await app.inject({ method: 'POST', url: '/v1/plans', payload: EXAMPLE_PLAN_REQUEST });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['x-memplan-cache']).toBe('hit');
    expect(reply.json()).toEqual(first);
  });

  it('treats a different request as new', async () => {
    const reply = await app.inject({
      method: 'POST',
      url: '/v1/plans?wait=30',
      payload: { ...EXAMPLE_PLAN_REQUEST, budget: { fraction: 1 } },
    });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['x-memplan-cache']).toBe('miss');
    const plan: Plan = reply.json();
    expect(plan.id).not.toBe(first.id);
    expectReplays(EXAMPLE_GRAPH, plan);
  });

  it('answers 202 with the job and its links when not done within wait, then the job reaches done', async () => {
    const graph = chain(8);
    const reply = await app.inject({
      method: 'POST',
      url: '/v1/plans?wait=0',
      payload: { graph, budget: { fraction: 1 }, strategy: 'test:slow', timeLimitSeconds: 0.5 },
    });
    expect(reply.statusCode).toBe(202);
    const accepted = reply.json();
    expect(['queued', 'running']).toContain(accepted.state);
    expect(reply.headers.location).toBe(`/v1/jobs/${accepted.jobId}`);
    expect(accepted.links).toMatchObject({ self: `/v1/jobs/${accepted.jobId}`, events: `/v1/jobs/${accepted.jobId}/events` });
    const running = (await app.inject({ url: accepted.links.self })).json();
    expect(['queued', 'running']).toContain(running.state);
    // Follow the stream to the end, then read the finished job.
    const events = await app.inject({ url: accepted.links.events });
    expect(events.body).toContain('event: plan');
    const done = (await app.inject({ url: accepted.links.self })).json();
    expect(done.state).toBe('done');
    expect(done.progress.incumbent).toBe(done.plan.predicted.makespan);
    expect(done.progress.bound).toBe(parseGraph(graph).baseCost);
    expect(done.progress.gap).toBeCloseTo((done.plan.predicted.makespan - done.progress.bound) / done.plan.predicted.makespan);
    expect(done.progress.elapsedSeconds).toBeGreaterThan(0.4);
    expectReplays(graph, done.plan);
    expect(done.links.plan).toBe(`/v1/plans/${done.id}`);
  });
});

describe('jobs and plans', () => {
  it('lists, reads and renders', async () => {
    const graph = diamond();
    const posted = await app.inject({
      method: 'POST',
      url: '/v1/plans?wait=30',
      payload: { graph, budget: { fraction: 1 }, strategy: 'checkpoint-all' },
    });
    expect(posted.statusCode).toBe(200);
    const plan: Plan = posted.json();
    const list = (await app.inject({ url: '/v1/jobs' })).json();
    expect(list.jobs.map((job: { id: string }) => job.id)).toContain(plan.id);
    const job = (await app.inject({ url: `/v1/jobs/${plan.id}` })).json();
    expect(job.state).toBe('done');
    expect(job.plan).toEqual(plan);
    const stored = await app.inject({ url: `/v1/plans/${plan.id}` });
    expect(stored.statusCode).toBe(200);
    expect(stored.json()).toEqual(plan);
    const done = (await app.inject({ url: '/v1/jobs?state=done&limit=1' })).json();
    expect(done.jobs).toHaveLength(1);
    // Cancelling a finished job changes nothing.
    const cancel = await app.inject({ method: 'DELETE', url: `/v1/jobs/${plan.id}` });
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json().state).toBe('done');
  });

  it('draws the memory SVG with the budget line and recompute marks', async () => {
    const posted = (await app.inject({ method: 'POST', url: '/v1/plans?wait=30', payload: EXAMPLE_PLAN_REQUEST })).json();
    const reply = await app.inject({ url: `/v1/plans/${posted.id}/memory.svg` });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toContain('image/svg+xml');
    expect(reply.body.startsWith('<svg')).toBe(true);
    expect(reply.body).toContain('class="budget"');
    expect(reply.body).toContain('class="memory"');
    const recomputes = posted.nodes.reduce((sum: number, node: { computes: number }) => sum + node.computes - 1, 0);
    expect(recomputes).toBeGreaterThan(0);
    expect(reply.body).toContain('class="recompute"');
  });

  it('answers 404 for unknown jobs and plans', async () => {
    for (const url of ['/v1/jobs/nope', '/v1/plans/nope', '/v1/plans/nope/memory.svg', '/v1/jobs/nope/events']) {
      const reply = await app.inject({ url });
      expect(reply.statusCode, url).toBe(404);
      expect(reply.json().code).toBe('MEMPLAN_ERR_NOT_FOUND');
    }
    const cancel = await app.inject({ method: 'DELETE', url: '/v1/jobs/__proto__' });
    expect(cancel.statusCode).toBe(404);
  });
});

describe('tools', () => {
  it('POST /v1/analyze gives the graph statistics', async () => {
    const graph = chain(5);
    const reply = await app.inject({ method: 'POST', url: '/v1/analyze', payload: { graph } });
    expect(reply.statusCode).toBe(200);
    const { smallestBudget, ...stats } = reply.json();
    expect(stats).toEqual(graphStats(parseGraph(graph)));
    expect(stats.nodes).toBe(graph.nodes.length);
    // A chain of 5 layers: the search reaches the floor's neighbourhood, and never goes below it.
    expect(smallestBudget.floorBytes).toBeGreaterThanOrEqual(stats.floorBytes);
    expect(smallestBudget.foundBytes).toBeGreaterThanOrEqual(smallestBudget.floorBytes);
    expect(smallestBudget.foundBytes).toBeLessThan(stats.noRematPeakBytes);
  });

  it('POST /v1/simulate replays a schedule with its timeline', async () => {
    const schedule = EXAMPLE_GRAPH.nodes.map((node) => ({ op: 'compute', node: node.id }));
    const reply = await app.inject({ method: 'POST', url: '/v1/simulate', payload: { graph: EXAMPLE_GRAPH, schedule, budgetBytes: 500 } });
    expect(reply.statusCode).toBe(200);
    const body = reply.json();
    const total = EXAMPLE_GRAPH.nodes.reduce((sum, node) => sum + node.bytes, 0);
    expect(body.figures.peakBytes).toBe(total);
    expect(body.figures.makespan).toBe(EXAMPLE_GRAPH.nodes.reduce((sum, node) => sum + node.cost, 0));
    expect(body.fitsBudget).toBe(false);
    expect(body.timeline).toHaveLength(schedule.length);
    expect(body.timeline.at(-1).bytesAfter).toBe(total);
    expect(body.nodes.every((node: { computes: number }) => node.computes === 1)).toBe(true);
  });

  it('GET /v1/strategies lists the registry', async () => {
    const reply = await app.inject({ url: '/v1/strategies' });
    expect(reply.statusCode).toBe(200);
    const names = reply.json().strategies.map((strategy: { name: string }) => strategy.name);
    expect(names).toEqual(STRATEGIES.map((strategy) => strategy.name));
    expect(names).not.toContain('test:slow');
  });

  it("GET /v1/strategies describes auto's phases as they run", async () => {
    const reply = await app.inject({ url: '/v1/strategies' });
    const auto = reply.json().strategies.find((strategy: { name: string }) => strategy.name === 'auto');
    // Each phase of auto, in the order it runs (solver/strategies/auto.ts).
    const phases = [
      /recomputation bound, the last-computation floor \(a proof that nothing fits\) and the closure bound/,
      /baselines/,
      /LP relaxation started on its own thread/,
      /scale search/,
      /scale search again guided by the recomputed set of a nearby budget's LP/,
      /smallest-peak search/,
      /LP relaxation collected .* with two-phase rounding/,
      /scale search again, its greedy evicting first what the LP's optimum recomputes/,
      /exact MILP warm-started from the best plan .*order/,
      /swap-milp .*host link/,
      /local search with the time left/,
      /bracket for the smallest feasible budget/,
    ];
    let from = 0;
    for (const phase of phases) {
      const at = auto.description.slice(from).search(phase);
      expect(at, `${phase} after position ${from} of: ${auto.description}`).toBeGreaterThanOrEqual(0);
      from += at;
    }
  });
});

describe('system', () => {
  it('GET /health', async () => {
    const reply = await app.inject({ url: '/health' });
    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toMatchObject({ status: 'ok', workers: 2 });
  });

  it('GET /metrics speaks Prometheus text', async () => {
    const reply = await app.inject({ url: '/metrics' });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toContain('text/plain');
    expect(reply.body).toMatch(/^memplan_jobs\{state="done"\} [1-9]\d*$/m);
    expect(reply.body).toMatch(/^memplan_queue_length 0$/m);
    expect(reply.body).toMatch(/^memplan_solve_seconds_count [1-9]\d*$/m);
    for (const line of reply.body.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) .+|[a-z_]+(\{[a-z]+="[^"]*"\})? [0-9.e+-]+)$/);
  });

  it('serves the docs and redirects / to them', async () => {
    const docs = await app.inject({ url: '/docs/json' });
    expect(docs.statusCode).toBe(200);
    expect(docs.json().paths['/v1/plans'].post).toBeDefined();
    const root = await app.inject({ url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/docs');
  });
});
