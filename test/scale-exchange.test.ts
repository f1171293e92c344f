import { describe, expect, it } from 'vitest';
import type { Graph } from '../solver/graph/schema.js';
import { indexGraph } from '../solver/graph/validate.js';
import { candidateSplits, exchangeDescent, excessOf, splitSequence } from '../solver/scale/exchange.js';
import { improveSequence } from '../solver/scale/improve.js';
import { profileOf, type SequenceProfile, sequenceToSteps } from '../solver/scale/sequence.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { exhaustiveOptimum, greedyStarts } from './helpers.js';

/**
 * x -> a (cost 10, 10 B) -> b (cost 1, 10 B) -> q (1 B) -> p (10 B) -> s (1 B); rb reads b
 * and s, ra (keep) reads a and rb. Every other node costs 1; x is the 1 B input.
 */
function costlyBeforeCheap(): Graph {
  return {
    name: 'costly-before-cheap',
    nodes: [
      { id: 'x', kind: 'input', bytes: 1, cost: 0 },
      { id: 'a', inputs: ['x'], bytes: 10, cost: 10 },
      { id: 'b', inputs: ['a'], bytes: 10, cost: 1 },
      { id: 'q', inputs: ['b'], bytes: 1, cost: 1 },
      { id: 'p', inputs: ['q'], bytes: 10, cost: 1 },
      { id: 's', inputs: ['p'], bytes: 1, cost: 1 },
      { id: 'rb', kind: 'backward', inputs: ['b', 's'], bytes: 1, cost: 1 },
      { id: 'ra', kind: 'backward', inputs: ['a', 'rb'], bytes: 1, cost: 1, keep: true },
    ],
  };
}

describe('exchangeDescent', () => {
  it('trades a costly recomputation for a cheap one where the improver alone cannot (hand-worked)', async () => {
    const graph = indexGraph(costlyBeforeCheap());
    const index = (id: string) => graph.ids.indexOf(id);
    // a is computed again for ra (cost 10) while b is held from its computation to rb. Its peak
    // is 22 B (b, p, q and x while p computes); keeping a through p instead would take 31 B.
    const start = ['x', 'a', 'b', 'q', 'p', 's', 'rb', 'a', 'ra'].map(index);
    const profile = profileOf(graph, start);
    if (typeof profile === 'string') throw new Error(profile);
    expect(profile.peak).toBe(22);
    expect(profile.cost).toBe(26);
    // The improver only removes computations: without a's second one the plan needs 31 B.
    expect(improveSequence(graph, start, 22).cost).toBe(26);
    // The exchange keeps a and computes b again before rb (cost 1): 10 + 1 + 1 + 1 + 1 + 1 + 1 + 1.
    const result = await exchangeDescent(graph, start, 22, { deadline: Date.now() + 10_000 });
    expect(result.cost).toBe(17);
    expect(result.accepted).toBe(1);
    expect(result.sequence.filter((node) => node === index('a'))).toHaveLength(1);
    expect(result.sequence.filter((node) => node === index('b'))).toHaveLength(2);
    // The least any schedule within 22 B costs (Dijkstra over device states, test/helpers.ts).
    expect(exhaustiveOptimum(graph, 22)).toBe(17);
    const replay = simulateIndexed(graph, sequenceToSteps(graph, result.sequence));
    if (!replay.ok) throw new Error(replay.error.message);
    expect(replay.figures.peakBytes).toBeLessThanOrEqual(22);
    expect(replay.figures.makespan).toBe(17);
  });

  it('returns the start when no move fits, and refuses a start over the budget', async () => {
    const graph = indexGraph(costlyBeforeCheap());
    const index = (id: string) => graph.ids.indexOf(id);
    // Without recomputation: a held to ra, the peak 31 B, cost 16, the least possible.
    const plain = ['x', 'a', 'b', 'q', 'p', 's', 'rb', 'ra'].map(index);
    const same = await exchangeDescent(graph, plain, 31, { deadline: Date.now() + 10_000 });
    expect(same).toMatchObject({ sequence: plain, cost: 16, peak: 31, accepted: 0 });
    await expect(exchangeDescent(graph, plain, 30, { deadline: Date.now() + 10_000 })).rejects.toThrow(/exceeds the budget/);
  });

  it('on random small graphs: legal, within the budget, never dearer than its start nor cheaper than the optimum', async () => {
    let tried = 0;
    let cheaper = 0;
    for (const start of greedyStarts(20261206)) {
      const { graph, budget, available } = start;
      tried++;
      const result = await exchangeDescent(graph, start.sequence, available, { deadline: Date.now() + 10_000 });
      const replay = simulateIndexed(graph, sequenceToSteps(graph, result.sequence));
      if (!replay.ok) throw new Error(replay.error.message);
      expect(replay.figures.peakBytes).toBeLessThanOrEqual(budget);
      expect(replay.figures.makespan).toBeCloseTo(result.cost, 9);
      expect(result.cost).toBeLessThanOrEqual(start.cost);
      expect(result.cost).toBeGreaterThanOrEqual(exhaustiveOptimum(graph, budget) - 1e-9);
      if (result.cost < start.cost) cheaper++;
    }
    // The sample must exercise the descent: plans were tried and some got cheaper.
    expect(tried).toBeGreaterThan(100);
    expect(cheaper).toBeGreaterThan(0);
  });
});

/**
 * Checks every split of a repair step on `sequence` (over `available`): its profiled score
 * is at most its bound, which the repair relies on to skip profiling it. Returns how many
 * splits it checked.
 */
function checkSplitBounds(graph: ReturnType<typeof indexGraph>, sequence: number[], available: number): number {
  const profile = profileOf(graph, sequence) as SequenceProfile;
  const excess = excessOf(profile, available);
  if (excess.first < 0) return 0;
  // The repair's candidates: recomputable values with bytes, live across the moment.
  const positions = [...sequence.keys()].filter(
    (position) =>
      position < excess.first &&
      profile.end[position] > excess.first &&
      graph.recomputable[sequence[position]] &&
      graph.bytes[sequence[position]] > 0,
  );
  const splits = candidateSplits(
    graph,
    sequence,
    profile,
    available,
    excess.first,
    positions,
    { added: 0, allowance: Infinity },
    {
      inputDepth: 4,
      steps: 12,
    },
  );
  let checked = 0;
  for (const { split, bound } of splits) {
    const after = profileOf(graph, splitSequence(sequence, split));
    if (typeof after === 'string') throw new Error(after);
    checked++;
    const score = (excess.total - excessOf(after, available).total) / Math.max(split.extra, Number.MIN_VALUE);
    expect(score).toBeLessThanOrEqual(bound);
  }
  return checked;
}

describe('the repair step', () => {
  it("profiles only splits that may beat the best: no split's score exceeds its bound (random small graphs, each recomputation removed in turn)", () => {
    let checked = 0;
    for (const { graph, available, sequence } of greedyStarts(20261207, 600)) {
      const profile = profileOf(graph, sequence) as SequenceProfile;
      for (let position = 0; position < sequence.length; position++) {
        if (profile.previous[position] < 0) continue;
        const without = sequence.filter((_, at) => at !== position);
        // The budget lowered too, so that splits have excess to remove without recomputations as well.
        for (const target of [available, Math.floor(0.8 * available), Math.floor(0.6 * available)])
          checked += checkSplitBounds(graph, without, target);
      }
      checked += checkSplitBounds(graph, sequence, Math.floor(0.7 * available));
    }
    // Measured: a few thousand splits.
    expect(checked).toBeGreaterThan(500);
  });
});
