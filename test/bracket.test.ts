// The bracket of the smallest feasible budget (solver/scale/bracket.ts, smallest-peak.ts):
// its floor is never above the least peak of any remat schedule (exhaustive search on tiny
// graphs), its top is the replayed peak of a legal schedule, and auto's infeasible answers
// and analyze report it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { peakFloor } from '../solver/graph/analysis.js';
import { indexGraph } from '../solver/graph/validate.js';
import { plan } from '../solver/plan.js';
import { provenFloor, smallestBudget } from '../solver/scale/bracket.js';
import { smallestPeakSearch } from '../solver/scale/smallest-peak.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { arbitraryGraph, checkPlan, minimumPeak } from './helpers.js';

describe('smallestBudget', () => {
  it('brackets the least peak of any remat schedule on tiny graphs, and its top replays', () => {
    let closureFloors = 0;
    let exactTops = 0;
    fc.assert(
      fc.property(arbitraryGraph(), (raw) => {
        const graph = indexGraph(raw);
        const exact = minimumPeak(graph);
        const bracket = smallestBudget(graph, { deadline: Date.now() + 60_000 });
        expect(bracket.floorBytes).toBeLessThanOrEqual(exact);
        expect(bracket.floorBytes).toBeGreaterThanOrEqual(peakFloor(graph));
        expect(bracket.foundBytes).toBeDefined();
        expect(bracket.foundBytes!).toBeGreaterThanOrEqual(exact);
        if (bracket.floorSource === 'closure-floor') closureFloors++;
        if (bracket.foundBytes === exact) exactTops++;
        const search = smallestPeakSearch(graph, { deadline: Date.now() + 60_000 })!;
        const replay = simulateIndexed(graph, search.steps);
        expect(replay.ok).toBe(true);
        if (replay.ok) expect(replay.figures.peakBytes).toBe(search.peakBytes);
      }),
      { numRuns: 200, seed: 20261204 },
    );
    // It must bite: the closure raises the floor on some graphs, and the search often reaches the least peak.
    expect(closureFloors).toBeGreaterThan(3);
    expect(exactTops).toBeGreaterThan(150);
  });

  it('keeps to the contract floor with swaps (the closure argument is remat-only)', () => {
    const graph = indexGraph(arbitraryGraphSample());
    expect(provenFloor(graph, true, Date.now() + 60_000)).toEqual({
      floorBytes: peakFloor(graph, { swaps: true }),
      floorSource: 'contract-floor',
    });
  });
});

/** One fixed tiny graph with keep nodes. */
function arbitraryGraphSample() {
  return fc.sample(arbitraryGraph(), { numRuns: 1, seed: 7 })[0];
}

describe("auto's infeasible answers", () => {
  it('carry the bracket: a proof at the budget raises the floor past it, and the top is a reached peak', async () => {
    // x (an input, never recomputed) is read by d at the end, so it is on the device when b
    // is computed, with b's input a: 160 bytes are needed while the contract floor is 150.
    const graph = indexGraph({
      nodes: [
        { id: 'x', kind: 'input', bytes: 100, cost: 0 },
        { id: 'a', inputs: ['x'], bytes: 50, cost: 1 },
        { id: 'b', inputs: ['a'], bytes: 10, cost: 1 },
        { id: 'c', inputs: ['b'], bytes: 10, cost: 1 },
        { id: 'd', inputs: ['c', 'x'], bytes: 10, cost: 1 },
      ],
    });
    expect(minimumPeak(graph)).toBe(160);
    const result = await plan(graph, { budget: { bytes: 155 }, strategy: 'auto', timeLimitSeconds: 5 });
    checkPlan(graph, result);
    expect(result.status).toBe('infeasible');
    expect(result.smallestBudget).toBeDefined();
    const bracket = result.smallestBudget!;
    expect(bracket.floorBytes).toBeGreaterThan(155);
    expect(bracket.floorBytes).toBeLessThanOrEqual(160);
    expect(bracket.foundBytes).toBe(160);
    // Below the contract floor the answer is immediate, with the contract floor as the bracket's floor.
    const below = await plan(graph, { budget: { bytes: 140 }, strategy: 'auto', timeLimitSeconds: 5 });
    expect(below.smallestBudget).toEqual({ floorBytes: 150, floorSource: 'contract-floor' });
  });
});
