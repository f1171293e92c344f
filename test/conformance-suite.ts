// The conformance checks (engine acceptance 1), shared by conformance.test.ts (every
// fixture, the solver project) and conformance-small.test.ts (the small fixtures, the
// fast project): every registered strategy on each graph at 100 %, 80 %, 60 % and 40 % of
// the no-remat peak. Strategies registered later are covered automatically because the
// suite iterates the registry.
import { describe, expect, it } from 'vitest';
import { jsonFixtures } from '../fixtures/index.js';
import { namedFixtures } from '../fixtures/generators.js';
import { withOptions } from '../fixtures/options.js';
import { peakFloor } from '../solver/graph/analysis.js';
import { indexGraph, parseGraph, type IndexedGraph } from '../solver/graph/validate.js';
import { plan, resolveTransfer } from '../solver/plan.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { STRATEGIES } from '../solver/strategies/registry.js';
import { checkPlan, FRACTIONS } from './helpers.js';

/** The generated fixtures that also run with node options (fixtures/options.ts), each with its seed. */
const WITH_OPTIONS: Record<string, number> = { 'chain-8': 1, diamond: 2, 'unet-like': 3, 'random-layered-7': 4 };

/** Every fixture graph: the generated ones, some of them with node options, and the valid JSON ones. */
export function fixtureGraphs(): [string, IndexedGraph][] {
  const generated = namedFixtures();
  return [
    ...Object.entries(generated).map(([name, graph]) => [name, indexGraph(graph)] as [string, IndexedGraph]),
    ...Object.entries(WITH_OPTIONS).map(
      ([name, seed]) => [`options:${name}`, indexGraph(withOptions(generated[name], { seed }))] as [string, IndexedGraph],
    ),
    ...Object.entries(jsonFixtures()).map(([name, raw]) => [`json:${name}`, parseGraph(raw)] as [string, IndexedGraph]),
  ];
}

const TRANSFER = 'pcie4' as const;

/**
 * Seconds per plan. The suite checks what every answer must be (a replayable plan within the
 * budget, or an honest infeasible), not how good it is: 2 s exercises the time-limit paths as
 * well as 5 s did, and 42 runs to the limit took 210 s of .ci/run at 5 s.
 */
const SECONDS = 2;

/** Declares the conformance tests of every registered strategy on `graphs`. */
export function conformanceSuite(graphs: [string, IndexedGraph][]): void {
  describe.each(STRATEGIES.map((strategy) => [strategy.name, strategy] as const))('strategy %s', (name, strategy) => {
    const transfer = strategy.usesTransfer ? TRANSFER : undefined;
    describe.each(graphs)('on %s', (_fixture, graph) => {
      it.each(FRACTIONS.map((fraction) => [fraction]))(
        'at %s of the no-remat peak',
        async (fraction) => {
          const result = await plan(graph, { budget: { fraction }, strategy: name, timeLimitSeconds: SECONDS, transfer });
          expect(result.strategy).toBe(name);
          expect(result.budgetBytes).toBe(Math.floor(fraction * noRematPeak(graph)));
          const { replay } = checkPlan(graph, result, resolveTransfer(transfer));
          if (result.budgetBytes < peakFloor(graph, { swaps: transfer !== undefined })) {
            // Below the proven floor nothing may claim a plan.
            expect(result.status).toBe('infeasible');
          }
          if (fraction === 1 && name === 'checkpoint-all') {
            // The no-remat schedule defines the 100 % budget, so it always fits, and without
            // node options it is optimal (with them baseCost sums the cheapest implementations).
            if (!replay) throw new Error(`checkpoint-all is ${result.status} at 100 %: ${result.message}`);
            expect(result.bound!.makespan).toBe(graph.baseCost);
            if (graph.hasOptions) {
              expect(replay.figures.makespan).toBe(graph.cost.reduce((sum, cost) => sum + cost, 0));
            } else {
              expect(result.status).toBe('optimal');
              expect(replay.figures.makespan).toBe(graph.baseCost);
            }
            expect(replay.figures.peakBytes).toBe(noRematPeak(graph));
            expect(replay.counts.every((count) => count.computes === 1)).toBe(true);
          }
        },
        30_000,
      );
    });
  });
}
