// The closure bound with intervals (solver/bounds/interval-closure.ts in closure-milp.ts)
// against exhaustive searches over every legal remat-only schedule, in any order: with any
// chain of split nodes it never exceeds the least makespan, and on training chains near the
// floor, where a value must be recomputed twice, it is above the plain closure bound.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Ancestry } from '../solver/bounds/ancestry.js';
import { closureBound } from '../solver/bounds/closure-milp.js';
import { chooseSplits, Intervals, splitsAt } from '../solver/bounds/interval-closure.js';
import { CLOSURE_TAIL_SPLITS } from '../solver/limits.js';
import { chain, randomLayered } from '../fixtures/generators.js';
import { peakFloor } from '../solver/graph/analysis.js';
import { type IndexedGraph, indexGraph } from '../solver/graph/validate.js';
import { shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { arbitraryGraph, exhaustiveOptimum } from './helpers.js';

afterAll(async () => {
  await shutdownHighsWorkers();
});

/** A chain of split nodes picked along a random walk over users: each is an ancestor of the next. */
function walkSplits(graph: IndexedGraph, start: number, picks: readonly boolean[]): number[] {
  const splits: number[] = [];
  let node = start;
  for (let step = 0; node >= 0 && step < picks.length; step++) {
    if (picks[step]) splits.push(node);
    const users = graph.users[node];
    node = users.length ? users[(step * 7 + node) % users.length] : -1;
  }
  return splits;
}

describe('chooseSplits', () => {
  it('picks backward nodes along one path, each an ancestor of the next', () => {
    const graph = indexGraph(chain(12));
    const splits = chooseSplits(graph, 3);
    expect(splits).toHaveLength(3);
    const ancestry = new Ancestry(graph);
    for (let at = 1; at < splits.length; at++) expect(ancestry.isAncestor(splits[at - 1], splits[at])).toBe(true);
    for (const split of splits) expect(graph.kind[split]).toBe('backward');
  });

  it('splitsAt picks the backward nodes of one path at the given fractions, a repeat once', () => {
    // chain(12): input, 12 layers, loss, 12 gradients; the gradients are the path's backward nodes.
    const graph = indexGraph(chain(12));
    const backward = graph.ids.filter((_, node) => graph.kind[node] === 'backward');
    expect(backward).toHaveLength(12);
    // 0.5 x 12 -> the 7th gradient; 0.93 x 12 = 11.16 and 0.97 x 12 = 11.64 -> the 12th, once.
    const splits = splitsAt(graph, [0.5, 0.93, 0.97]);
    expect(splits.map((node) => graph.ids[node])).toEqual([backward[6], backward[11]]);
    const ancestry = new Ancestry(graph);
    expect(ancestry.isAncestor(splits[0], splits[1])).toBe(true);
    expect(splitsAt(graph, [])).toEqual([]);
  });

  it('places moments in intervals: a split is in its own interval, its ancestors before it', () => {
    const graph = indexGraph(chain(8));
    const ancestry = new Ancestry(graph);
    const splits = chooseSplits(graph, 2);
    const intervals = new Intervals(ancestry, splits);
    expect(intervals.lo(splits[0])).toBe(1);
    expect(intervals.lo(splits[1])).toBe(2);
    expect(intervals.hiBefore(splits[0])).toBe(0);
    expect(intervals.hiBefore(splits[1])).toBe(1);
    // The first forward node precedes both splits; the last node follows both.
    expect(intervals.lo(0)).toBe(0);
    expect(intervals.hiBefore(graph.size - 1)).toBe(2);
  });
});

describe('closureBound with intervals', () => {
  it('never exceeds the exhaustive optimum, whatever the split chain, and claims infeasible only when nothing fits', async () => {
    const cases = fc.sample(
      fc.tuple(arbitraryGraph(), fc.integer({ min: 0, max: 6 }), fc.nat(), fc.array(fc.boolean(), { minLength: 1, maxLength: 8 })),
      { numRuns: 250, seed: 20261205 },
    );
    let above = 0;
    for (const [raw, step, start, picks] of cases) {
      const graph = indexGraph(raw);
      const peak = noRematPeak(graph);
      const floor = peakFloor(graph);
      const budget = Math.floor(floor + ((peak - floor) * step) / 8);
      const optimum = exhaustiveOptimum(graph, budget);
      const splits = walkSplits(graph, start % graph.size, picks);
      const bound = await closureBound(graph, budget, { timeLimitSeconds: 60, maxRounds: 30, splits });
      expect(bound).toBeDefined();
      if (bound!.infeasible) {
        expect(optimum).toBe(Infinity);
        continue;
      }
      expect(bound!.makespan).toBeGreaterThanOrEqual(graph.baseCost);
      if (optimum !== Infinity) expect(bound!.makespan).toBeLessThanOrEqual(optimum + 1e-9);
      const plain = await closureBound(graph, budget, { timeLimitSeconds: 60, maxRounds: 30 });
      if (bound!.makespan > plain!.makespan + 1e-6 * graph.baseCost) above++;
    }
    // Graphs this small rarely need a value three times: the training graphs below do.
    expect(above).toBeGreaterThanOrEqual(0);
  });

  it('never exceeds the exhaustive optimum on random training graphs near the floor, and bites', async () => {
    let above = 0;
    let checked = 0;
    for (let seed = 0; seed < 24; seed++) {
      const graph = indexGraph(randomLayered({ seed, layers: 5 + (seed % 2), width: 1, edgeProbability: 0.2 }));
      if (graph.size > 16) continue;
      const peak = noRematPeak(graph);
      const floor = peakFloor(graph);
      const ancestry = new Ancestry(graph);
      for (const step of [0, 1, 3]) {
        const budget = Math.floor(floor + ((peak - floor) * step) / 10);
        const optimum = exhaustiveOptimum(graph, budget);
        const plain = await closureBound(graph, budget, { timeLimitSeconds: 60, maxRounds: 40 });
        for (const splits of [
          chooseSplits(graph, 1),
          chooseSplits(graph, 2),
          splitsAt(graph, CLOSURE_TAIL_SPLITS),
          walkSplits(graph, seed % graph.size, [true, false, true, true]),
        ]) {
          for (let at = 1; at < splits.length; at++) expect(ancestry.isAncestor(splits[at - 1], splits[at])).toBe(true);
          const bound = await closureBound(graph, budget, { timeLimitSeconds: 60, maxRounds: 40, splits });
          checked++;
          if (bound!.infeasible) {
            expect(optimum).toBe(Infinity);
            continue;
          }
          if (optimum !== Infinity) expect(bound!.makespan).toBeLessThanOrEqual(optimum + 1e-9);
          if (bound!.makespan > plain!.makespan + 1e-6 * graph.baseCost) above++;
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(above).toBeGreaterThan(0);
  });

  it('counts nested recomputation on training chains near the floor: above the plain bound, below the optimum', async () => {
    let above = 0;
    let checked = 0;
    for (const layers of [5, 6]) {
      const graph = indexGraph(chain(layers, { bytes: (layer) => (layer < 0 ? 10 : 100), cost: (layer) => 10 + layer }));
      const peak = noRematPeak(graph);
      const floor = peakFloor(graph);
      for (const step of [0, 1, 2, 3]) {
        const budget = Math.floor(floor + ((peak - floor) * step) / 10);
        const optimum = exhaustiveOptimum(graph, budget);
        for (const count of [1, 2, 3]) {
          // Two splits also at the end of the backward pass (the bound's thread tries those second).
          const bound = await closureBound(graph, budget, {
            timeLimitSeconds: 60,
            maxRounds: 40,
            ...(count === 2 ? { splitFractions: CLOSURE_TAIL_SPLITS, capIntervals: false } : { splits: chooseSplits(graph, count) }),
          });
          const plain = await closureBound(graph, budget, { timeLimitSeconds: 60, maxRounds: 40 });
          checked++;
          if (bound!.infeasible) {
            expect(optimum).toBe(Infinity);
            continue;
          }
          expect(bound!.makespan).toBeLessThanOrEqual(optimum + 1e-9);
          if (bound!.makespan > plain!.makespan + 1e-6 * graph.baseCost) above++;
        }
      }
    }
    expect(checked).toBe(24);
    expect(above).toBeGreaterThan(0);
  });

  it('reports the plain bound once the plain rows are met, then goes on to a bound at least as high', async () => {
    const graph = indexGraph(chain(6, { bytes: (layer) => (layer < 0 ? 10 : 100), cost: (layer) => 10 + layer }));
    const floor = peakFloor(graph);
    const budget = Math.floor(floor + (noRematPeak(graph) - floor) / 10);
    const reports: number[] = [];
    const bound = await closureBound(graph, budget, {
      timeLimitSeconds: 60,
      maxRounds: 40,
      splitCount: 2,
      onPlain: (plain) => reports.push(plain.makespan),
    });
    const plain = await closureBound(graph, budget, { timeLimitSeconds: 60, maxRounds: 40 });
    expect(reports).toHaveLength(1);
    expect(reports[0]).toBeCloseTo(plain!.makespan, 6);
    expect(bound!.makespan).toBeGreaterThan(reports[0]);
    expect(bound!.makespan).toBeLessThanOrEqual(exhaustiveOptimum(graph, budget) + 1e-9);
  });
});
