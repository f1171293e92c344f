// The recomputation lower bound (solver/scale/bound.ts) against an exhaustive search over
// every legal remat schedule of tiny graphs, in any order: the bound never exceeds the
// optimum, and "infeasible" is claimed only where no schedule fits.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { chain, diamond, randomLayered } from '../fixtures/generators.js';
import { peakFloor } from '../solver/graph/analysis.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { indexGraph } from '../solver/graph/validate.js';
import { plan } from '../solver/plan.js';
import { coveringRows, recomputeBound } from '../solver/scale/bound.js';
import { coveringBound } from '../solver/scale/covering.js';
import { shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { arbitraryGraph, exhaustiveOptimum } from './helpers.js';

describe('recomputeBound', () => {
  it('never exceeds the exhaustive optimum, and claims infeasible only when nothing fits', () => {
    let above = 0;
    let infeasibleClaims = 0;
    fc.assert(
      fc.property(arbitraryGraph(), fc.integer({ min: 0, max: 8 }), (raw, step) => {
        const graph = indexGraph(raw);
        const peak = noRematPeak(graph);
        const floor = peakFloor(graph);
        const budget = Math.floor(floor + ((peak - floor) * step) / 8);
        const bound = recomputeBound(graph, budget);
        const optimum = exhaustiveOptimum(graph, budget);
        if (bound.infeasible) {
          infeasibleClaims++;
          expect(optimum).toBe(Infinity);
        } else if (optimum !== Infinity) {
          expect(bound.makespan).toBeLessThanOrEqual(optimum + 1e-9);
        }
        expect(bound.makespan).toBeGreaterThanOrEqual(graph.baseCost);
        if (bound.makespan > graph.baseCost) above++;
      }),
      { numRuns: 400, seed: 20261126 },
    );
    // The bound must say something on some of these graphs, or the test proves nothing.
    expect(above).toBeGreaterThan(10);
    expect(infeasibleClaims).toBeGreaterThan(0);
  });

  it('is below the optimum on chains and the diamond at every budget from the floor up', () => {
    let above = 0;
    const graphs = [chain(2), chain(3), chain(3, { bytes: (layer) => 40 + 30 * layer, cost: (layer) => 2 + 3 * layer }), diamond()]
      .map((raw) => indexGraph(raw))
      .filter((graph) => graph.size <= 10);
    expect(graphs.length).toBeGreaterThanOrEqual(3);
    for (const graph of graphs) {
      const peak = noRematPeak(graph);
      const floor = peakFloor(graph);
      for (let step = 0; step <= 10; step++) {
        const budget = Math.floor(floor + ((peak - floor) * step) / 10);
        const bound = recomputeBound(graph, budget);
        const optimum = exhaustiveOptimum(graph, budget);
        if (bound.infeasible) expect(optimum).toBe(Infinity);
        else if (optimum !== Infinity) expect(bound.makespan).toBeLessThanOrEqual(optimum + 1e-9);
        if (bound.makespan > graph.baseCost && Number.isFinite(bound.makespan)) above++;
      }
    }
    expect(above).toBeGreaterThan(0);
  });

  it('proves infeasible above the floor when a value that cannot be recomputed must wait', async () => {
    // x (an input, never recomputed) is read by d at the end, so it is on the device when b
    // is computed, with b's input a: 100 + 50 + 10 = 160 bytes, while the floor is 150.
    const graph = indexGraph({
      nodes: [
        { id: 'x', kind: 'input', bytes: 100, cost: 0 },
        { id: 'a', inputs: ['x'], bytes: 50, cost: 1 },
        { id: 'b', inputs: ['a'], bytes: 10, cost: 1 },
        { id: 'c', inputs: ['b'], bytes: 10, cost: 1 },
        { id: 'd', inputs: ['c', 'x'], bytes: 10, cost: 1 },
      ],
    });
    expect(peakFloor(graph)).toBe(150);
    expect(recomputeBound(graph, 155).infeasible).toBe(true);
    expect(exhaustiveOptimum(graph, 155)).toBe(Infinity);
    expect(recomputeBound(graph, 160).infeasible).toBe(false);
    expect(exhaustiveOptimum(graph, 160)).toBe(graph.baseCost);
    const result = await plan(graph, { budget: { bytes: 155 }, strategy: 'local-search', timeLimitSeconds: 1 });
    expect(result.status).toBe('infeasible');
  });

  it('is the bound local-search reports, and never above its plan', async () => {
    const graph = indexGraph(randomLayered({ seed: 7, layers: 8, width: 4, keep: true }));
    for (const fraction of [0.9, 0.7, 0.5]) {
      const result = await plan(graph, { budget: { fraction }, strategy: 'local-search', timeLimitSeconds: 1 });
      if (!result.predicted) continue;
      const bound = recomputeBound(graph, result.budgetBytes);
      expect(result.bound!.makespan).toBeGreaterThanOrEqual(Math.min(bound.makespan, result.predicted.makespan) - 1e-9);
      expect(result.bound!.makespan).toBeLessThanOrEqual(result.predicted.makespan);
    }
  });
});

describe('coveringBound (the covering MILP of the same argument)', () => {
  afterAll(() => shutdownHighsWorkers());

  it('never exceeds the exhaustive optimum and is never below the best single row', async () => {
    const cases = fc.sample(fc.tuple(arbitraryGraph(), fc.integer({ min: 0, max: 4 })), { numRuns: 800, seed: 20261127 });
    let multiRow = 0;
    let tighter = 0;
    for (const [raw, step] of cases) {
      const graph = indexGraph(raw);
      const peak = noRematPeak(graph);
      const floor = peakFloor(graph);
      const budget = Math.floor(floor + ((peak - floor) * step) / 8);
      const single = recomputeBound(graph, budget);
      if (single.infeasible) continue;
      const rows = coveringRows(graph, budget)!;
      const covering = await coveringBound(graph, rows, { timeLimitSeconds: 5 });
      if (rows.length === 0) {
        expect(covering).toBeUndefined();
        continue;
      }
      expect(covering).toBeDefined();
      const optimum = exhaustiveOptimum(graph, budget);
      if (optimum !== Infinity) expect(covering!).toBeLessThanOrEqual(optimum + 1e-9);
      expect(covering!).toBeGreaterThanOrEqual(single.makespan - 1e-6 * graph.baseCost);
      if (rows.length > 1) multiRow++;
      if (covering! > single.makespan + 1e-6) tighter++;
    }
    // The property must bite: several graphs with more than one row, many strictly tighter
    // (integrality alone tightens a single row's fractional knapsack).
    expect(multiRow).toBeGreaterThan(5);
    expect(tighter).toBeGreaterThan(10);
  });
});
