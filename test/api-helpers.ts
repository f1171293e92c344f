// Shared helpers of the service tests: an app on ':memory:', plan checks by the simulator.
import { expect } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { build, type BuildOptions } from '../src/app.js';
import { parseGraph } from '../solver/graph/validate.js';
import type { Graph } from '../solver/graph/schema.js';
import type { Plan } from '../solver/plan-schema.js';
import { simulate } from '../solver/schedule/simulate.js';

/** An app with an in-memory store, two workers and the internal test strategies. */
export function testApp(options: BuildOptions = {}): Promise<FastifyInstance> {
  return build({ dataDir: ':memory:', workers: 2, apiKeys: [], ...options, internal: { testStrategies: true, ...options.internal } });
}

/** Asserts a plan replays in the simulator to the figures it claims, within its budget. */
export function expectReplays(graph: Graph, plan: Plan): void {
  expect(plan.predicted, `plan ${plan.status}: ${plan.message}`).toBeDefined();
  const replay = simulate(parseGraph(graph), plan.schedule, { transfer: plan.transfer });
  if (!replay.ok) throw replay.error;
  expect(replay.figures).toEqual(plan.predicted);
  expect(replay.figures.peakBytes).toBeLessThanOrEqual(plan.budgetBytes);
}

/** Polls until the predicate holds or the time runs out. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
