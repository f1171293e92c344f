// The MILPs with node options (solver/milp/options.ts, swap-encoded.ts) against an
// exhaustive search over their class written independently (test/exhaustive-options.ts),
// the tight and plain variants against each other, and the swap model's compressed swaps
// replayed by the simulator. The model's structure and the unchanged LP text of graphs
// without options are in milp-options-model.test.ts (fast project).
import { afterAll, describe, expect, it } from 'vitest';
import { chain, randomLayered } from '../fixtures/generators.js';
import { withOptions } from '../fixtures/options.js';
import type { Graph } from '../solver/graph/schema.js';
import { indexGraph, type IndexedGraph } from '../solver/graph/validate.js';
import { runCheckmateMilp } from '../solver/milp/checkmate-solve.js';
import { highsBackend, shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { buildSwap, extractSwapSchedule, swapObjectiveToCost } from '../solver/milp/swap.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { exhaustiveOptimum } from './exhaustive.js';
import { exhaustiveOptionsOptimum } from './exhaustive-options.js';

afterAll(async () => {
  await shutdownHighsWorkers();
});

const varied = (layers: number) => chain(layers, { bytes: (layer) => 60 + ((layer * 53) % 90), cost: (layer) => 3 + ((layer * 7) % 13) });

/** The graph without its options. */
function stripped(graph: Graph): IndexedGraph {
  return indexGraph({ ...graph, nodes: graph.nodes.map(({ alternatives, encodings, ...node }) => node) });
}

interface Case {
  name: string;
  raw: Graph;
  fractions: number[];
}

const CASES: Case[] = [
  { name: 'chain(2)', raw: withOptions(varied(2), { seed: 1, zipShare: 0.5, alternativeShare: 0.5 }), fractions: [0.9, 0.8, 0.65] },
  { name: 'chain(3)', raw: withOptions(varied(3), { seed: 2, zipShare: 0.5, alternativeShare: 0.5 }), fractions: [0.8, 0.7] },
  {
    name: 'random(11)',
    raw: withOptions(randomLayered({ seed: 11, layers: 2, width: 1 }), { seed: 3, zipShare: 0.5, alternativeShare: 0.5 }),
    fractions: [0.8, 0.7],
  },
  {
    name: 'random(5)',
    raw: withOptions(randomLayered({ seed: 5, layers: 2, width: 1 }), { seed: 6, zipShare: 0.6, alternativeShare: 0.6 }),
    fractions: [0.85, 0.7],
  },
];

describe('checkmate MILP with node options against exhaustive search over its class', () => {
  for (const { name, raw, fractions } of CASES) {
    it(`finds the exhaustive optimum on ${name}, in both variants`, async () => {
      const graph = indexGraph(raw);
      expect(graph.hasOptions).toBe(true);
      const peak = noRematPeak(graph);
      let feasible = 0;
      for (const fraction of fractions) {
        const budget = Math.floor(fraction * peak);
        const expected = exhaustiveOptionsOptimum(graph, budget);
        for (const variant of ['tight', 'plain'] as const) {
          const label = `${name} at ${budget} (${variant})`;
          const run = await runCheckmateMilp({ graph, budgetBytes: budget, variant, timeLimitSeconds: 30, relativeGap: 0 });
          if (expected === Infinity) {
            expect(run.solve.stop, label).toBe('infeasible');
            continue;
          }
          expect(run.solve.stop, label).toBe('optimal');
          expect(run.best!.computeCost, label).toBeCloseTo(expected, 6);
          expect(run.bound!, `${label}: bound`).toBeLessThanOrEqual(expected + 1e-6);
          const replay = simulateIndexed(graph, run.best!.steps);
          if (!replay.ok) throw new Error(`${label}: ${replay.error.message}`);
          expect(replay.figures.peakBytes, label).toBeLessThanOrEqual(budget);
          expect(replay.figures.makespan, label).toBeCloseTo(expected, 6);
        }
        if (expected < Infinity) feasible++;
      }
      expect(feasible, `${name}: some budget has a plan`).toBeGreaterThan(0);
    });
  }

  it('is never worse than the same graph without options, and better somewhere', async () => {
    let better = 0;
    for (const { raw, fractions } of CASES) {
      const graph = indexGraph(raw);
      const plain = stripped(raw);
      const peak = noRematPeak(graph);
      for (const fraction of fractions) {
        const budget = Math.floor(fraction * peak);
        const withOptionsCost = exhaustiveOptionsOptimum(graph, budget);
        const withoutCost = exhaustiveOptimum(plain, budget);
        // exhaustiveOptimum ranges over every in-order schedule, a superset of the class;
        // options only add schedules, so the class with options is at least as good where
        // the two searches meet (both are exact on these chains).
        if (withOptionsCost < withoutCost - 1e-9) better++;
        expect(withOptionsCost).toBeLessThanOrEqual(withoutCost + 1e-9);
      }
    }
    expect(better).toBeGreaterThan(0);
  });
});

describe('swap MILP with compressed swaps', () => {
  const raw = withOptions(chain(4, { bytes: () => 1000, cost: () => 10 }), { seed: 5, maskShare: 0, zipShare: 1, alternativeShare: 0 });
  const transfer = { bandwidth: 50, latency: 1 };

  it('replays within the budget, no slower than its objective, and beats the model without options', async () => {
    const graph = indexGraph(raw);
    const plain = stripped(raw);
    const budget = Math.floor(0.7 * noRematPeak(graph));
    const form = buildSwap(graph, { budgetBytes: budget, variant: 'tight', transfer });
    expect(form.encoded).toBeDefined();
    const solved = await highsBackend().solve(form.base.model, { timeLimitSeconds: 30, relativeGap: 0 });
    expect(solved.stop).toBe('optimal');
    const steps = extractSwapSchedule(form, solved.values!);
    const replay = simulateIndexed(graph, steps, { transfer });
    if (!replay.ok) throw new Error(replay.error.message);
    expect(replay.figures.peakBytes).toBeLessThanOrEqual(budget);
    expect(replay.figures.makespan).toBeLessThanOrEqual(swapObjectiveToCost(form, solved.objective!) + 1e-6);
    expect(steps.some((step) => step.op === 'encode')).toBe(true);
    // Without its options the graph has no plan of the class at this budget.
    const without = buildSwap(plain, { budgetBytes: budget, variant: 'tight', transfer });
    const plainSolve = await highsBackend().solve(without.base.model, { timeLimitSeconds: 30, relativeGap: 0 });
    expect(plainSolve.stop).toBe('infeasible');
  });

  it('swaps the compressed form when the link is the bottleneck, and is faster for it', async () => {
    // Only compressed forms (no masks, no alternatives), expensive recomputation and a slow link.
    const zipOnly = withOptions(chain(5, { bytes: () => 1000, cost: () => 100 }), {
      seed: 8,
      maskShare: 0,
      zipShare: 1,
      alternativeShare: 0,
    });
    for (const node of zipOnly.nodes) {
      node.encodings = node.encodings?.filter((encoding) => encoding.name === 'zip');
      if (!node.encodings?.length) delete node.encodings;
    }
    const slow = { bandwidth: 5, latency: 1 };
    const solveAt = async (graph: IndexedGraph) => {
      const budget = Math.floor(0.8 * noRematPeak(graph));
      const form = buildSwap(graph, { budgetBytes: budget, variant: 'tight', transfer: slow });
      const solved = await highsBackend().solve(form.base.model, { timeLimitSeconds: 30, relativeGap: 0 });
      expect(solved.stop).toBe('optimal');
      const steps = extractSwapSchedule(form, solved.values!);
      const replay = simulateIndexed(graph, steps, { transfer: slow });
      if (!replay.ok) throw new Error(replay.error.message);
      expect(replay.figures.peakBytes).toBeLessThanOrEqual(budget);
      expect(replay.figures.makespan).toBeLessThanOrEqual(swapObjectiveToCost(form, solved.objective!) + 1e-6);
      return { steps, makespan: replay.figures.makespan };
    };
    const compressed = await solveAt(indexGraph(zipOnly));
    const plain = await solveAt(stripped(zipOnly));
    expect(compressed.steps.some((step) => step.op === 'swapOut' && step.encoding !== undefined)).toBe(true);
    expect(compressed.steps.some((step) => step.op === 'decode')).toBe(true);
    expect(compressed.makespan).toBeLessThan(plain.makespan);
  });
});
