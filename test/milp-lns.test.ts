// Checkmate's MILP over a window of stages (solver/milp/checkmate.ts, option window) and the
// large-neighbourhood search built on it (solver/milp/checkmate-lns.ts): a window covering
// every stage is the exact MILP, a window's plan replays legally within the budget and is
// never worse than its start, and the search improves a poor plan.
import { afterAll, describe, expect, it } from 'vitest';
import { chain, diamond, randomLayered, unetLike } from '../fixtures/generators.js';
import { indexGraph } from '../solver/graph/validate.js';
import { type CheckmateFormulation, buildCheckmate, keptFromStages } from '../solver/milp/checkmate.js';
import { checkmateLns, solveWindow } from '../solver/milp/checkmate-lns.js';
import { runCheckmateMilp, warmStartValues } from '../solver/milp/checkmate-solve.js';
import { canonicalStages, scheduleFromStages } from '../solver/milp/extract.js';
import { shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { checkpointAll } from '../solver/strategies/checkpoint-all.js';
import { chenSqrtn } from '../solver/strategies/chen.js';
import type { StrategyContext } from '../solver/strategies/types.js';

afterAll(() => shutdownHighsWorkers());

const graphs = {
  'chain-6': indexGraph(chain(6, { bytes: (layer) => 60 + 20 * (layer % 3), cost: (layer) => 3 + ((layer * 7) % 5) })),
  diamond: indexGraph(diamond()),
  'unet-like': indexGraph(unetLike(2)),
  'random-layered-3': indexGraph(randomLayered({ seed: 3, layers: 4, width: 2 })),
  'chain-10': indexGraph(chain(10)),
};

function context(graph: (typeof graphs)[keyof typeof graphs], budgetBytes: number): StrategyContext {
  return { graph, budgetBytes, timeLimitSeconds: 60, relativeGap: 0, formulation: 'tight', startedAt: Date.now() };
}

/** The stages of a strategy's plan, when it is in Checkmate's class and fits. */
async function stagesOfStrategy(graph: (typeof graphs)[keyof typeof graphs], budget: number): Promise<number[][] | null> {
  for (const strategy of [chenSqrtn, checkpointAll]) {
    const outcome = await strategy.run(context(graph, budget));
    if (outcome.kind !== 'schedule') continue;
    const stages = canonicalStages(graph, outcome.steps);
    if (!stages) continue;
    const replay = simulateIndexed(graph, scheduleFromStages(graph, stages));
    if (replay.ok && replay.figures.peakBytes <= budget) return stages;
  }
  return null;
}

describe('the window formulation', () => {
  it.each(Object.entries(graphs))('covering every stage of %s, it is the exact MILP', async (_name, graph) => {
    for (const fraction of [1, 0.8, 0.65]) {
      const budget = Math.floor(fraction * noRematPeak(graph));
      const exact = await runCheckmateMilp({ graph, budgetBytes: budget, variant: 'tight', timeLimitSeconds: 60, relativeGap: 0 });
      const stages = await stagesOfStrategy(graph, budget);
      if (!stages) continue;
      const window = await solveWindow({
        graph,
        budgetBytes: budget,
        variant: 'tight',
        stages,
        from: 0,
        to: graph.size - 1,
        timeLimitSeconds: 60,
      });
      expect(window.proven).toBe(exact.solve.stop === 'optimal');
      if (exact.best) expect(window.plan!.computeCost).toBeCloseTo(exact.best.computeCost, 6);
    }
  });

  it('takes the plan itself as a feasible warm start in any window, and fixes what it keeps across the edges', () => {
    // The plan without recomputation, at its own peak.
    const graph = graphs['unet-like'];
    const budget = noRematPeak(graph);
    const all = buildCheckmate(graph, { budgetBytes: budget, variant: 'tight' });
    const stages = Array.from({ length: graph.size }, (_, t) => [t]);
    expect(warmStartValues(all, stages)).not.toBeNull();
    const kept = keptFromStages(graph, stages);
    const members = (row: Uint8Array) => [...row.keys()].filter((node) => row[node] === 1);
    for (const [from, to] of [
      [0, 4],
      [3, 9],
      [graph.size - 5, graph.size - 1],
    ]) {
      const form: CheckmateFormulation = buildCheckmate(graph, {
        budgetBytes: budget,
        variant: 'tight',
        window: { from, to, keptBefore: members(kept[from]), keptAfter: to + 1 < graph.size ? members(kept[to + 1]) : [] },
      });
      expect(warmStartValues(form, stages)).not.toBeNull();
      // Nothing outside the window is a variable.
      expect(form.R.every((row, t) => (t >= from && t <= to) || row.every((variable) => variable < 0))).toBe(true);
    }
  });
});

describe('checkmateLns', () => {
  let solvedWindows = 0;
  afterAll(() => {
    // The property must bite: windows were solved on these plans.
    expect(solvedWindows).toBeGreaterThan(3);
  });

  it.each(Object.entries(graphs))('on %s: never worse than its start, legal, within budget', async (_name, graph) => {
    for (const fraction of [0.8, 0.65, 0.5]) {
      const budget = Math.floor(fraction * noRematPeak(graph));
      const stages = await stagesOfStrategy(graph, budget);
      if (!stages) continue;
      const start = scheduleFromStages(graph, stages);
      const before = simulateIndexed(graph, start);
      if (!before.ok) throw new Error('the start must replay');
      const result = await checkmateLns({
        graph,
        budgetBytes: budget,
        variant: 'tight',
        start,
        deadline: Infinity,
        maxWindows: 12,
        window: 3,
      });
      solvedWindows += result.windows;
      expect(result.best).toBeDefined();
      const replay = simulateIndexed(graph, result.best!.steps);
      expect(replay.ok).toBe(true);
      if (!replay.ok) continue;
      expect(replay.figures.peakBytes).toBeLessThanOrEqual(budget);
      expect(replay.figures.computeCost).toBeLessThanOrEqual(before.figures.computeCost);
    }
  });

  it('takes back a recomputation that keeping the value across two stages avoids', async () => {
    // The exact optimum of a chain at 80 %, spoiled: a value it recomputes in one stage and
    // keeps into the next is recomputed there again instead. A window over the two stages
    // finds the optimum back; stage windows cannot move decisions that span many stages,
    // which is why this search is measured, not relied on (README).
    const graph = indexGraph(chain(10));
    const budget = Math.floor(0.8 * noRematPeak(graph));
    const exact = await runCheckmateMilp({ graph, budgetBytes: budget, variant: 'tight', timeLimitSeconds: 60, relativeGap: 0 });
    const stages = canonicalStages(graph, exact.best!.steps)!;
    const kept = keptFromStages(graph, stages);
    const t = stages.findIndex((nodes, stage) => nodes.some((node) => node !== stage && kept[stage + 1]?.[node]));
    expect(t).toBeGreaterThan(0);
    const node = stages[t].find((candidate) => candidate !== t && kept[t + 1][candidate])!;
    const spoiled = stages.map((nodes) => [...nodes]);
    spoiled[t + 1] = [...new Set([...spoiled[t + 1], node])].sort((a, b) => a - b);
    const start = scheduleFromStages(graph, spoiled);
    const before = simulateIndexed(graph, start);
    if (!before.ok) throw new Error('the spoiled plan replays');
    expect(before.figures.computeCost).toBeGreaterThan(exact.best!.computeCost);
    const result = await checkmateLns({
      graph,
      budgetBytes: budget,
      variant: 'tight',
      start,
      deadline: Infinity,
      maxWindows: 40,
      window: 2,
    });
    expect(result.improved).toBeGreaterThan(0);
    expect(result.best!.computeCost).toBe(exact.best!.computeCost);
  });
});
