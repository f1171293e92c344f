// Bounds on an integer grid (solver/bounds/integral.ts): where every makespan is an integer,
// a bound rounds up to the next one, never past an integer it is within float error of; not
// with fractional costs, a host link or node options. The closure bound's test
// (bounds-closure.test.ts) checks the rounded bound against exhaustive optima.
import { describe, expect, it } from 'vitest';
import { integralMakespans, roundBoundUp } from '../solver/bounds/integral.js';
import { chain } from '../fixtures/generators.js';
import { indexGraph } from '../solver/graph/validate.js';
import { plan } from '../solver/plan.js';

const integral = indexGraph({
  nodes: [
    { id: 'a', kind: 'input', bytes: 4, cost: 0 },
    { id: 'b', inputs: ['a'], bytes: 4, cost: 3 },
    { id: 'c', inputs: ['b'], bytes: 4, cost: 7 },
  ],
});
const fractional = indexGraph({
  nodes: [
    { id: 'a', kind: 'input', bytes: 4, cost: 0 },
    { id: 'b', inputs: ['a'], bytes: 4, cost: 3.5 },
  ],
});

describe('roundBoundUp', () => {
  it('rounds a bound up to the next integer where every cost is one', () => {
    expect(integralMakespans(integral)).toBe(true);
    expect(roundBoundUp(integral, undefined, 10.3)).toBe(11);
    expect(roundBoundUp(integral, undefined, 31916.032)).toBe(31917);
    expect(roundBoundUp(integral, undefined, 12)).toBe(12);
  });

  it('keeps a bound within float error above an integer at that integer, never lower', () => {
    expect(roundBoundUp(integral, undefined, 12 + 1e-9)).toBe(12 + 1e-9);
    expect(roundBoundUp(integral, undefined, 31916 + 1e-6)).toBe(31916 + 1e-6);
  });

  it('leaves a bound alone with fractional costs or a host link', () => {
    expect(integralMakespans(fractional)).toBe(false);
    expect(roundBoundUp(fractional, undefined, 10.3)).toBe(10.3);
    expect(roundBoundUp(integral, { bandwidth: 1, latency: 1 }, 10.3)).toBe(10.3);
  });

  it("reports the rounded bound in a plan: the LP relaxation's bound on a chain, fractional, rounds up", async () => {
    const graph = indexGraph(chain(12));
    expect(integralMakespans(graph)).toBe(true);
    const result = await plan(graph, { budget: { fraction: 0.6 }, strategy: 'checkmate-lp', timeLimitSeconds: 2 });
    expect(result.bound).toBeDefined();
    expect(Number.isInteger(result.bound!.makespan)).toBe(true);
    expect(result.bound!.makespan).toBeLessThanOrEqual(result.predicted!.makespan);
  });
});
