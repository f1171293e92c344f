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
import { transformer, wideLastStep } from '../fixtures/generators.js';
import { peakFloor } from '../solver/graph/analysis.js';
import { indexGraph } from '../solver/graph/validate.js';
import { provenFloor } from '../solver/scale/bracket.js';
import { smallestPeakSearch } from '../solver/scale/smallest-peak.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { auto } from '../solver/strategies/auto.js';
import { arbitraryGraph, minimumPeak } from './helpers.js';

describe('last-computation floor on a hand-computed step', () => {
  // fixtures/generators.ts: x (input, 8 B) -> h (14 B, 17 B of workspace) -> g (keep, 4 B),
  // and x -> w (keep, 49 B, 17 B of workspace); 4 B resident. Forced bytes (residentBytes,
  // the node, its workspace, its inputs): w 78, h 43, g 22, x 12.
  const graph = indexGraph(wideLastStep());

  it('holds what the keep nodes need from the wide node made first while the last one is made: 82 B, the least peak', () => {
    // The contract's floor is w's forced bytes (the keep nodes at the end need less: 4 + 53 +
    // h's 14 = 71), and at first computations nothing more is needed.
    expect(peakFloor(graph)).toBe(78);
    expect(rematFloor(new Ancestry(graph)).bytes).toBe(78);
    // S = {w, h}: made last, w finds g (or h) held, 78 + 4; h finds w held, 43 + 49. The
    // schedule picks the least, 82.
    const floor = lastComputationFloor(graph);
    expect(floor.bytes).toBe(82);
    expect(graph.ids[floor.witness]).toBe('w');
    expect(minimumPeak(graph)).toBe(82);
    // A floor known to be higher is kept, with no witness.
    expect(lastComputationFloor(graph, { above: 90 })).toEqual({ bytes: 90, witness: -1 });
  });

  it("proves auto's budget of 80 B too small, and the bracket's floor is 82 B", async () => {
    const outcome = await auto.run({
      graph,
      budgetBytes: 80,
      timeLimitSeconds: 10,
      relativeGap: 1e-3,
      formulation: 'tight',
      startedAt: Date.now(),
    });
    expect(outcome.kind).toBe('infeasible');
    if (outcome.kind !== 'infeasible') return;
    expect(outcome.proven).toBe(true);
    expect(outcome.message).toContain('last-computation floor');
    expect(outcome.smallestBudget).toMatchObject({ floorBytes: 82, foundBytes: 82 });
    // At 82 B a plan exists, and auto finds it.
    const fits = await auto.run({
      graph,
      budgetBytes: 82,
      timeLimitSeconds: 10,
      relativeGap: 1e-3,
      formulation: 'tight',
      startedAt: Date.now(),
    });
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
