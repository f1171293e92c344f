// Turning recomputations into swaps (solver/scale/swap-convert.ts): the result replays
// legally within the budget, is never slower than the plan it started from, and on a chain
// whose recomputations are dear and whose link is fast it swaps instead of recomputing.
import { describe, expect, it } from 'vitest';
import { chain, namedFixtures } from '../fixtures/generators.js';
import { indexGraph } from '../solver/graph/validate.js';
import { plan } from '../solver/plan.js';
import { scaleSearch } from '../solver/scale/multistart.js';
import { convertRecomputesToSwaps, dropUnreadCopies } from '../solver/scale/swap-convert.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { checkPlan } from './helpers.js';

describe('convertRecomputesToSwaps', () => {
  it.each(Object.entries(namedFixtures()))('never makes a plan of %s slower, over budget or illegal', async (_name, raw) => {
    const graph = indexGraph(raw);
    const transfer = { bandwidth: 50, latency: 1 };
    for (const fraction of [0.8, 0.6, 0.4]) {
      const budget = Math.floor(fraction * noRematPeak(graph));
      const remat = await scaleSearch(graph, budget, { deadline: Date.now() + 60_000, restarts: false });
      if (!remat.found) continue;
      const before = simulateIndexed(graph, remat.steps, { transfer });
      if (!before.ok) throw new Error('the remat plan must replay');
      const converted = convertRecomputesToSwaps(graph, remat.steps, budget, transfer, { deadline: Date.now() + 60_000 })!;
      const after = simulateIndexed(graph, converted.steps, { transfer });
      expect(after.ok).toBe(true);
      if (!after.ok) continue;
      expect(after.figures.peakBytes).toBeLessThanOrEqual(budget);
      expect(after.figures.makespan).toBe(converted.makespan);
      expect(after.figures.makespan).toBeLessThanOrEqual(before.figures.makespan);
    }
  });

  it('swaps a dear recomputation over a fast link', async () => {
    // Costly layers, a link that moves a layer's 100 bytes in 2 cost units: every
    // recomputation of the remat plan is worth a copy.
    const graph = indexGraph(chain(8, { cost: () => 50 }));
    const transfer = { bandwidth: 100, latency: 1 };
    const budget = Math.floor(0.6 * noRematPeak(graph));
    const remat = await scaleSearch(graph, budget, { deadline: Date.now() + 60_000, restarts: false });
    expect(remat.found).toBe(true);
    if (!remat.found) return;
    const converted = convertRecomputesToSwaps(graph, remat.steps, budget, transfer, { deadline: Date.now() + 60_000 })!;
    expect(converted.converted).toBeGreaterThan(0);
    expect(converted.makespan).toBeLessThan(remat.cost);
    expect(converted.steps.some((step) => step.op === 'swapIn')).toBe(true);
  });

  it('drops a recomputation nobody reads, with its free', () => {
    const graph = indexGraph(chain(2));
    const [x, f0, f1] = ['x', 'f0', 'f1'].map((id) => graph.index.get(id)!);
    const steps = [
      { op: 'compute' as const, node: x },
      { op: 'compute' as const, node: f0 },
      { op: 'free' as const, node: f0 },
      { op: 'compute' as const, node: f0 },
      { op: 'free' as const, node: f0 },
      { op: 'compute' as const, node: f0 },
      { op: 'compute' as const, node: f1 },
    ];
    expect(dropUnreadCopies(graph, steps)).toEqual([...steps.slice(0, 3), ...steps.slice(5)]);
  });
});

describe('auto with a host link', () => {
  it('is never slower than auto without one on a graph where recomputations are dear', async () => {
    const graph = indexGraph(chain(12, { cost: () => 40 }));
    const options = { budget: { fraction: 0.45 }, strategy: 'auto', timeLimitSeconds: 8 } as const;
    const without = await plan(graph, options);
    const withLink = await plan(graph, { ...options, transfer: { bandwidth: 100, latency: 1 } });
    checkPlan(graph, without);
    checkPlan(graph, withLink, { bandwidth: 100, latency: 1 });
    expect(withLink.predicted!.makespan).toBeLessThanOrEqual(without.predicted!.makespan);
  });
});
