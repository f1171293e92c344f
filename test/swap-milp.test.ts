// swap-milp (solver/milp/swap.ts, solver/strategies/swap-milp.ts): the model is a sound
// account of the contract's two-stream timing (the replayed makespan of its extracted
// schedule never exceeds its objective), and the [swap] acceptance limits hold: with a
// free link it fits budgets where Checkmate cannot at baseCost, with a useless link it is
// Checkmate, and it is never slower than Checkmate or the swapping heuristics.
import { afterAll, describe, expect, it } from 'vitest';
import { chain, namedFixtures, randomLayered } from '../fixtures/generators.js';
import { peakFloor } from '../solver/graph/analysis.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { indexGraph, type IndexedGraph } from '../solver/graph/validate.js';
import { shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { plan } from '../solver/plan.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import type { Transfer } from '../solver/schedule/types.js';
import { solveSwapMilp } from '../solver/strategies/swap-milp.js';
import type { StrategyContext } from '../solver/strategies/types.js';
import { checkPlan } from './helpers.js';

const FAST: Transfer = { bandwidth: 1e12, latency: 0 };
const MEDIUM: Transfer = { bandwidth: 25, latency: 1 };
const SLOW: Transfer = { bandwidth: 0.001, latency: 0 };
const TIME_LIMIT = 8;
// The equality with checkmate-milp needs both proven optimal: a longer limit, easy budgets.
const PROOF_LIMIT = 30;

afterAll(() => shutdownHighsWorkers());

function contextFor(graph: IndexedGraph, budgetBytes: number, transfer: Transfer): StrategyContext {
  return { graph, budgetBytes, transfer, timeLimitSeconds: 5, relativeGap: 1e-6, formulation: 'tight', startedAt: Date.now() };
}

const fixtures = namedFixtures();
const small: [string, IndexedGraph][] = [
  ...['chain-4', 'chain-8', 'diamond', 'unet-like', 'random-layered-1'].map(
    (name) => [name, indexGraph(fixtures[name])] as [string, IndexedGraph],
  ),
  ['random-layered(seed 11)', indexGraph(randomLayered({ seed: 11, layers: 4, width: 2 }))],
  ['random-layered(seed 12, keep)', indexGraph(randomLayered({ seed: 12, layers: 4, width: 2, keep: true }))],
];

describe('the swap model is sound', () => {
  it.each(small)(
    'on %s the replayed makespan never exceeds the objective, within budget',
    async (_name, graph) => {
      const peak = noRematPeak(graph);
      let solved = 0;
      for (const transfer of [FAST, MEDIUM, SLOW]) {
        for (const fraction of [1, 0.85, 0.7, 0.6]) {
          const budgetBytes = Math.floor(fraction * peak);
          if (budgetBytes < peakFloor(graph, { swaps: true })) continue;
          const result = await solveSwapMilp(contextFor(graph, budgetBytes, transfer));
          if (!result.steps) continue;
          solved++;
          const replay = simulateIndexed(graph, result.steps, { transfer });
          if (!replay.ok) throw new Error(`illegal extraction at step ${replay.step}: ${replay.error.message}`);
          expect(replay.figures.peakBytes).toBeLessThanOrEqual(budgetBytes);
          expect(replay.figures.makespan).toBeLessThanOrEqual(result.objective! * (1 + 1e-9) + 1e-6);
          // The objective counts every compute, so it is never below the compute cost either.
          expect(replay.figures.computeCost).toBeLessThanOrEqual(result.objective! * (1 + 1e-9) + 1e-6);
        }
      }
      expect(solved).toBeGreaterThan(0);
    },
    120_000,
  );
});

describe('limits', () => {
  const graph = indexGraph(namedFixtures()['chain-8']);

  it('with a free link, the MILP alone fits budgets where checkmate-milp is costlier or infeasible, at baseCost', async () => {
    let beaten = 0;
    for (const fraction of [0.7, 0.6, 0.5]) {
      const budgetBytes = Math.floor(fraction * noRematPeak(graph));
      const checkmate = await plan(graph, { budget: { bytes: budgetBytes }, strategy: 'checkmate-milp', timeLimitSeconds: TIME_LIMIT });
      checkPlan(graph, checkmate);
      {
        // The model itself, with no heuristic to lean on.
        const direct = await solveSwapMilp(contextFor(graph, budgetBytes, FAST));
        const replay = simulateIndexed(graph, direct.steps!, { transfer: FAST });
        expect(replay.ok && replay.figures.makespan).toBeCloseTo(graph.baseCost, 6);
        expect(replay.ok && replay.figures.peakBytes).toBeLessThanOrEqual(budgetBytes);
        expect(replay.ok && replay.counts.some((count) => count.swapOuts > 0)).toBe(true);
      }
      const ours = await plan(graph, {
        budget: { bytes: budgetBytes },
        strategy: 'swap-milp',
        transfer: FAST,
        timeLimitSeconds: TIME_LIMIT,
      });
      checkPlan(graph, ours, FAST);
      // Copies of 1e-10 per byte: equal up to that rounding.
      expect(ours.predicted!.makespan).toBeCloseTo(graph.baseCost, 6);
      if (!checkmate.predicted || checkmate.predicted.makespan > graph.baseCost) beaten++;
    }
    expect(beaten).toBe(3);
  }, 120_000);

  it.each([
    ['chain-8', indexGraph(namedFixtures()['chain-8']), [0.9, 0.8]],
    ['unet-like', indexGraph(namedFixtures()['unet-like']), [0.9, 0.8]],
    ['chain(5) uniform', indexGraph(chain(5)), [1]],
  ] as const)(
    "with a useless link, on %s the makespan is checkmate-milp's and nothing is swapped",
    async (_name, graph, fractions) => {
      for (const fraction of fractions) {
        const checkmate = await plan(graph, { budget: { fraction }, strategy: 'checkmate-milp', timeLimitSeconds: PROOF_LIMIT });
        const ours = await plan(graph, { budget: { fraction }, strategy: 'swap-milp', transfer: SLOW, timeLimitSeconds: PROOF_LIMIT });
        const { replay } = checkPlan(graph, ours, SLOW);
        checkPlan(graph, checkmate);
        expect(checkmate.status).toBe('optimal');
        expect(ours.predicted!.makespan).toBe(checkmate.predicted!.makespan);
        expect(replay!.counts.every((count) => count.swapOuts === 0)).toBe(true);
      }
    },
    120_000,
  );
});

describe('swap-milp is never slower than checkmate-milp or the swapping heuristics', () => {
  const graphs = small.filter(([name]) => ['chain-4', 'chain-8', 'diamond', 'unet-like', 'random-layered-1'].includes(name));
  it.each(graphs)(
    'on %s at every budget over a link slower than pcie4',
    async (_name, graph) => {
      for (const fraction of [1, 0.9, 0.8, 0.7, 0.6, 0.5]) {
        const budget = { fraction };
        // swap-milp spends half of its limit on the remat model before the swap model, so it
        // gets twice checkmate-milp's limit.
        const ours = await plan(graph, { budget, strategy: 'swap-milp', transfer: MEDIUM, timeLimitSeconds: 2 * TIME_LIMIT });
        checkPlan(graph, ours, MEDIUM);
        const rivals: number[] = [];
        const checkmate = await plan(graph, { budget, strategy: 'checkmate-milp', timeLimitSeconds: TIME_LIMIT });
        if (checkmate.predicted) {
          // Checkmate's plan has no swaps: its makespan over any link is its compute cost.
          const replay = simulateIndexed(
            graph,
            checkmate.schedule.map((step) => ({ op: step.op, node: graph.index.get(step.node)! })),
            { transfer: MEDIUM },
          );
          if (replay.ok) rivals.push(replay.figures.makespan);
        }
        for (const strategy of ['vdnn-all', 'vdnn-conv', 'capuchin']) {
          const rival = await plan(graph, { budget, strategy, transfer: MEDIUM });
          if (rival.predicted) rivals.push(rival.predicted.makespan);
        }
        if (rivals.length === 0) continue;
        expect(ours.predicted, `${fraction}: swap-milp finds a plan where a rival does`).toBeDefined();
        expect(ours.predicted!.makespan, `${fraction}`).toBeLessThanOrEqual(Math.min(...rivals) + 1e-9);
      }
    },
    240_000,
  );
});
