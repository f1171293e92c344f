// The Checkmate formulation against an exhaustive search written independently of it
// (test/exhaustive.ts), and the tight and plain variants against each other; every plan
// replays within its budget. The formulation's structure, extraction and warm starts are
// in milp-formulation.test.ts.
import { afterAll, describe, expect, it } from 'vitest';
import { chain, diamond, randomLayered, unetLike } from '../fixtures/generators.js';
import { indexGraph, type IndexedGraph } from '../solver/graph/validate.js';
import { buildCheckmate } from '../solver/milp/checkmate.js';
import { lpRecomputed, runCheckmateLp, runCheckmateMilp } from '../solver/milp/checkmate-solve.js';
import { LP_GUIDE_MIN_EXTRA } from '../solver/limits.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { budgetsOf, exhaustiveOptimum, varied } from './exhaustive.js';

afterAll(async () => {
  await shutdownHighsWorkers();
});

interface Case {
  name: string;
  graph: IndexedGraph;
  fractions: number[];
}

const SMALL: Case[] = [
  { name: 'chain(2)', graph: indexGraph(varied(2)), fractions: [1, 0.8, 0.6] },
  { name: 'chain(4)', graph: indexGraph(varied(4)), fractions: [1, 0.8, 0.7, 0.6] },
  { name: 'chain(6)', graph: indexGraph(varied(6)), fractions: [0.8, 0.7, 0.6, 0.5] },
  { name: 'chain(8)', graph: indexGraph(varied(8)), fractions: [0.8, 0.65, 0.5] },
  { name: 'uniform chain(8)', graph: indexGraph(chain(8)), fractions: [0.8, 0.6] },
  { name: 'diamond', graph: indexGraph(diamond()), fractions: [1, 0.9] },
  { name: 'unet-like(2)', graph: indexGraph(unetLike(2, 128)), fractions: [0.9, 0.8, 0.7] },
];

describe('checkmate MILP against exhaustive search', () => {
  for (const { name, graph, fractions } of SMALL) {
    it(`finds the exhaustive optimum on ${name}`, async () => {
      let feasibleCases = 0;
      for (const budget of budgetsOf(graph, fractions)) {
        const expected = exhaustiveOptimum(graph, budget);
        const run = await runCheckmateMilp({ graph, budgetBytes: budget, variant: 'tight', timeLimitSeconds: 20, relativeGap: 0 });
        if (expected === Infinity) {
          expect(run.best, `${name} at ${budget}: no plan exists`).toBeUndefined();
          expect(run.solve.stop, `${name} at ${budget}`).toBe('infeasible');
          continue;
        }
        feasibleCases++;
        expect(run.solve.stop, `${name} at ${budget}`).toBe('optimal');
        expect(run.best, `${name} at ${budget}`).toBeDefined();
        expect(run.best!.computeCost, `${name} at ${budget}`).toBeCloseTo(expected, 6);
        expect(run.bound!, `${name} at ${budget}: bound`).toBeLessThanOrEqual(expected + 1e-6);
        const replay = simulateIndexed(graph, run.best!.steps);
        expect(replay.ok).toBe(true);
        if (replay.ok) {
          expect(replay.figures.peakBytes).toBeLessThanOrEqual(budget);
          expect(replay.figures.computeCost).toBe(run.best!.computeCost);
        }
      }
      expect(feasibleCases, `${name}: some budget has a plan`).toBeGreaterThan(0);
    });
  }
});

describe("the LP's recomputed set", () => {
  it('lists the nodes whose R mass outside their own stage reaches LP_GUIDE_MIN_EXTRA, the most recomputed first', () => {
    const graph = indexGraph(chain(6));
    const form = buildCheckmate(graph, { budgetBytes: noRematPeak(graph), variant: 'plain' });
    const values = new Float64Array(form.model.variableCount);
    // Node 1 recomputed at stages 3 and 4 (half each: one recomputation), node 2 at stage 4
    // a little, node 0 at stage 5 below the threshold, and every node in its own stage.
    for (let stage = 0; stage < graph.size; stage++) values[form.R[stage][stage]] = 1;
    values[form.R[3][1]] = 0.5;
    values[form.R[4][1]] = 0.5;
    values[form.R[4][2]] = 0.2;
    values[form.R[5][0]] = LP_GUIDE_MIN_EXTRA / 2;
    expect(lpRecomputed(form, values)).toEqual([1, 2]);
  });

  it('is empty where the LP recomputes nothing, and not where its bound is above baseCost', async () => {
    const graph = indexGraph(varied(8));
    const roomy = await runCheckmateLp({ graph, budgetBytes: noRematPeak(graph), variant: 'tight', timeLimitSeconds: 20 });
    expect(roomy.recomputed).toEqual([]);
    const [tight] = budgetsOf(graph, [0.5]);
    const lp = await runCheckmateLp({ graph, budgetBytes: tight, variant: 'tight', timeLimitSeconds: 20 });
    expect(lp.bound!).toBeGreaterThan(graph.baseCost);
    expect(lp.recomputed!.length).toBeGreaterThan(0);
    for (const node of lp.recomputed!) expect(graph.recomputable[node]).toBe(true);
  });
});

describe('tight and plain variants', () => {
  const cases: Case[] = [
    { name: 'chain(4)', graph: indexGraph(varied(4)), fractions: [0.8, 0.7] },
    { name: 'chain(6)', graph: indexGraph(varied(6)), fractions: [0.7] },
    { name: 'diamond', graph: indexGraph(diamond()), fractions: [1] },
    { name: 'unet-like(2)', graph: indexGraph(unetLike(2, 128)), fractions: [0.8] },
    { name: 'random-layered(1)', graph: indexGraph(randomLayered({ seed: 1 })), fractions: [1, 0.9] },
  ];
  for (const { name, graph, fractions } of cases) {
    it(`reach the same optimum on ${name}`, async () => {
      for (const budget of budgetsOf(graph, fractions)) {
        const tight = await runCheckmateMilp({ graph, budgetBytes: budget, variant: 'tight', timeLimitSeconds: 20, relativeGap: 0 });
        const plain = await runCheckmateMilp({ graph, budgetBytes: budget, variant: 'plain', timeLimitSeconds: 20, relativeGap: 0 });
        const label = `${name} at ${budget}`;
        expect(plain.formulation.model.variableCount, label).toBeGreaterThanOrEqual(tight.formulation.model.variableCount);
        if (tight.solve.stop === 'infeasible') {
          expect(plain.solve.stop, label).toBe('infeasible');
          continue;
        }
        expect(tight.solve.stop, label).toBe('optimal');
        expect(plain.solve.stop, label).toBe('optimal');
        expect(plain.best!.computeCost, label).toBeCloseTo(tight.best!.computeCost, 6);
        // The tight LP is at least as strong as the plain one.
        const tightLp = await runCheckmateLp({
          graph,
          budgetBytes: budget,
          variant: 'tight',
          timeLimitSeconds: 10,
          formulation: tight.formulation,
        });
        const plainLp = await runCheckmateLp({
          graph,
          budgetBytes: budget,
          variant: 'plain',
          timeLimitSeconds: 10,
          formulation: plain.formulation,
        });
        expect(tightLp.bound!, label).toBeGreaterThanOrEqual(plainLp.bound! - 1e-6);
        expect(tightLp.bound!, label).toBeLessThanOrEqual(tight.best!.computeCost + 1e-6);
      }
    });
  }
});
