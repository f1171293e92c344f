// The closure argument at a last computation (solver/bounds/last-computation.ts) against
// exhaustive searches over every legal remat-only schedule of tiny graphs: its floor never
// exceeds the least peak, and it beats the first-computation floor (closure.ts) where the
// keep nodes depend on a wide node, as weight gradients depend on the backward of a wide
// activation. A hand-computed step checks the cut.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ancestry } from '../solver/bounds/ancestry.js';
import { rematFloor } from '../solver/bounds/closure.js';
import { lastComputationFloor } from '../solver/bounds/last-computation.js';
import { transformer } from '../fixtures/generators.js';
import { indexGraph } from '../solver/graph/validate.js';
import { provenFloor } from '../solver/scale/bracket.js';
import { smallestPeakSearch } from '../solver/scale/smallest-peak.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { auto } from '../solver/strategies/auto.js';
import { arbitraryGraph, minimumPeak } from './helpers.js';

describe('last-computation floor on a hand-computed step', () => {
  // x (input, 60 B) -> a (60 B) -> b (4 B); two keep nodes read a: k1 (reads a and b,
  // 22 B, 20 B of workspace) and k2 (50 B); 11 B resident. Forced bytes (residentBytes, the
  // node, its workspace, its inputs): a 131, k2 121, k1 117, b 75.
  const graph = indexGraph({
    residentBytes: 11,
    nodes: [
      { id: 'x', kind: 'input' as const, bytes: 60, cost: 1 },
      { id: 'a', inputs: ['x'], bytes: 60, cost: 1 },
      { id: 'b', inputs: ['a'], bytes: 4, cost: 1 },
      { id: 'k1', inputs: ['a', 'b'], bytes: 22, cost: 1, workspaceBytes: 20, keep: true },
      { id: 'k2', inputs: ['a'], bytes: 50, cost: 1, keep: true },
    ],
  });

  it('holds the keep node made first while the last one is made: 143 B, the least peak', () => {
    // At a's first computation nothing else is needed yet: the closure floor is forced(a).
    expect(rematFloor(new Ancestry(graph)).bytes).toBe(131);
    // S = {a, k2, k1}: made last, k2 finds k1 held (121 + 22), k1 finds k2 (117 + 50), a
    // finds both (131 + 72); the schedule picks the least, 143.
    const floor = lastComputationFloor(graph);
    expect(floor.bytes).toBe(143);
    expect(graph.ids[floor.witness]).toBe('k2');
    expect(minimumPeak(graph)).toBe(143);
    // A floor known to be higher is kept, with no witness.
    expect(lastComputationFloor(graph, { above: 150 })).toEqual({ bytes: 150, witness: -1 });
  });

  it("proves auto's budget of 140 B too small, and the bracket's floor is 143 B", async () => {
    const outcome = await auto.run({ graph, budgetBytes: 140, timeLimitSeconds: 10, relativeGap: 1e-3, formulation: 'tight', startedAt: Date.now() });
    expect(outcome.kind).toBe('infeasible');
    if (outcome.kind !== 'infeasible') return;
    expect(outcome.proven).toBe(true);
    expect(outcome.message).toContain('last-computation floor');
    expect(outcome.smallestBudget).toMatchObject({ floorBytes: 143, foundBytes: 143 });
    // At 143 B a plan exists, and auto finds it.
    const fits = await auto.run({ graph, budgetBytes: 143, timeLimitSeconds: 10, relativeGap: 1e-3, formulation: 'tight', startedAt: Date.now() });
    expect(fits.kind).toBe('schedule');
  });
});

describe('last-computation floor on a generated transformer', () => {
  it('lies above the first-computation floor and below a replayed smallest peak', () => {
    // Four layers: each layer's weight gradients depend on the backward of its wide MLP value.
    const graph = indexGraph(transformer({ layers: 4 }));
    const peak = noRematPeak(graph);
    const last = lastComputationFloor(graph).bytes;
    const first = rematFloor(new Ancestry(graph)).bytes;
    expect(last).toBeGreaterThan(first + 0.1 * peak);
    const search = smallestPeakSearch(graph, { deadline: Date.now() + 2000 })!;
    const replay = simulateIndexed(graph, search.steps);
    expect(replay.ok && replay.figures.peakBytes).toBe(search.peakBytes);
    expect(last).toBeLessThanOrEqual(search.peakBytes);
    // The proven floor of brackets and infeasible answers takes it.
    expect(provenFloor(graph, false, Date.now() + 5000)).toEqual({ floorBytes: last, floorSource: 'closure-floor' });
  });
});

describe('lastComputationFloor', () => {
  it('never exceeds the least peak of any remat-only schedule, and beats the first-computation floor', () => {
    let above = 0;
    fc.assert(
      fc.property(arbitraryGraph(), (raw) => {
        const graph = indexGraph(raw);
        const floor = lastComputationFloor(graph);
        const exact = minimumPeak(graph);
        expect(floor.bytes).toBeLessThanOrEqual(exact);
        if (floor.bytes > rematFloor(new Ancestry(graph)).bytes) above++;
      }),
      { numRuns: 400, seed: 20261204 },
    );
    expect(above).toBeGreaterThan(5);
  });
});
