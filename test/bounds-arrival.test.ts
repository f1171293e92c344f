// The last-arrival floor (solver/bounds/arrival.ts) against exhaustive searches over every
// legal remat-only schedule of tiny graphs (its floor never exceeds the least peak), on a
// hand-computed graph where it looks two steps back, and on generated random layered graphs,
// where it lies above the contract's floor and below a replayed smallest peak.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrivalFloor } from '../solver/bounds/arrival.js';
import { randomLayered } from '../fixtures/generators.js';
import { peakFloor } from '../solver/graph/analysis.js';
import type { Graph } from '../solver/graph/schema.js';
import { indexGraph } from '../solver/graph/validate.js';
import { provenFloor, smallestBudget } from '../solver/scale/bracket.js';
import { profileOf, sequenceToSteps } from '../solver/scale/sequence.js';
import { smallestPeakSearch } from '../solver/scale/smallest-peak.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { auto } from '../solver/strategies/auto.js';
import { arbitraryGraph, minimumPeak } from './helpers.js';

/** s (input, 1 B) -> r (30 B) -> p, q (10 B each) -> v (1 B): v needs p and q, each made from r. */
const sharedWide = (): Graph => ({
  name: 'shared-wide',
  nodes: [
    { id: 's', kind: 'input', bytes: 1, cost: 1 },
    { id: 'r', inputs: ['s'], bytes: 30, cost: 1 },
    { id: 'p', inputs: ['r'], bytes: 10, cost: 1 },
    { id: 'q', inputs: ['r'], bytes: 10, cost: 1 },
    { id: 'v', inputs: ['p', 'q'], bytes: 1, cost: 1 },
  ],
});

describe('last-arrival floor on a hand-computed graph', () => {
  const graph = indexGraph(sharedWide());

  it('finds r held with p and q: 50 B, the least peak, where the contract sees 40 B', () => {
    // The contract's floor: the most any one node needs with its inputs, p or q with r (40 B).
    expect(peakFloor(graph)).toBe(40);
    // v needs p and q at once. Whichever of them arrives last is computed while the other is
    // held, from r: 10 + 10 + 30. Then r alone is left, made from s (31 B).
    const floor = arrivalFloor(graph);
    expect(floor.bytes).toBe(50);
    expect(graph.ids[floor.witness]).toBe('v');
    expect(minimumPeak(graph)).toBe(50);
    // A floor known to be as high is kept, with no witness.
    expect(arrivalFloor(graph, { above: 50 })).toMatchObject({ bytes: 50, witness: -1 });
  });

  it("is the bracket's floor, its schedule the bracket's top, and it counts residentBytes", () => {
    const floor = provenFloor(graph, false, Date.now() + 5000);
    expect(floor).toMatchObject({ floorBytes: 50, floorSource: 'arrival-floor', reached: { peakBytes: 50 } });
    const replay = simulateIndexed(graph, floor.reached?.steps ?? []);
    expect(replay.ok && replay.figures.peakBytes).toBe(50);
    // The bracket closes at 50 B without a search (the API object carries no steps).
    expect(smallestBudget(graph, { deadline: Date.now() + 5000 })).toEqual({
      floorBytes: 50,
      floorSource: 'arrival-floor',
      foundBytes: 50,
    });
    // With a host link, p can come back from the host without r: only the contract's floor.
    expect(provenFloor(graph, true, Date.now() + 5000)).toEqual({ floorBytes: 40, floorSource: 'contract-floor' });
    const resident = indexGraph({ ...sharedWide(), residentBytes: 7 });
    expect(arrivalFloor(resident).bytes).toBe(57);
    expect(minimumPeak(resident)).toBe(57);
  });
});

describe('arrivalFloor', () => {
  it('never exceeds the least peak of any remat-only schedule, and beats the contract floor', () => {
    let above = 0;
    fc.assert(
      fc.property(arbitraryGraph(), (raw) => {
        const graph = indexGraph(raw);
        const floor = arrivalFloor(graph);
        expect(floor.bytes).toBeLessThanOrEqual(minimumPeak(graph));
        expect(floor.bytes).toBeGreaterThanOrEqual(graph.residentBytes);
        if (floor.bytes > peakFloor(graph)) above++;
      }),
      { numRuns: 400, seed: 20261208 },
    );
    expect(above).toBeGreaterThan(5);
  });

  it('is the least peak where every node is recomputable and none is kept, and its schedule reaches it', () => {
    fc.assert(
      fc.property(arbitraryGraph(), (raw) => {
        const graph = indexGraph({
          ...raw,
          nodes: raw.nodes.map((node) => ({ ...node, kind: 'forward' as const, keep: false })),
        });
        const floor = arrivalFloor(graph);
        expect(floor.bytes).toBe(minimumPeak(graph));
        expect(floor.sequence).toBeDefined();
        const profile = profileOf(graph, floor.sequence ?? []);
        if (typeof profile === 'string') throw new Error(profile);
        expect(profile.peak + graph.residentBytes).toBe(floor.bytes);
        const replay = simulateIndexed(graph, sequenceToSteps(graph, floor.sequence ?? []));
        expect(replay.ok && replay.figures.peakBytes).toBe(floor.bytes);
      }),
      { numRuns: 300, seed: 20261210 },
    );
  });

  it('stops at its cap of states with a bound that is still below the least peak', () => {
    fc.assert(
      fc.property(arbitraryGraph(), (raw) => {
        const graph = indexGraph(raw);
        const capped = arrivalFloor(graph, { maxStates: 2 });
        expect(capped.bytes).toBeLessThanOrEqual(arrivalFloor(graph).bytes);
      }),
      { numRuns: 200, seed: 20261209 },
    );
  });

  it('lies above the contract floor of generated random layered graphs, and below a replayed smallest peak', () => {
    for (const seed of [1, 2, 3]) {
      const graph = indexGraph(randomLayered({ seed, layers: 8, width: 4, backward: false }));
      const floor = arrivalFloor(graph, { deadline: Date.now() + 3000 });
      const search = smallestPeakSearch(graph, { deadline: Date.now() + 2000 });
      expect(search).toBeDefined();
      if (!search) continue;
      const replay = simulateIndexed(graph, search.steps);
      expect(replay.ok && replay.figures.peakBytes).toBe(search.peakBytes);
      expect(floor.bytes).toBeLessThanOrEqual(search.peakBytes);
      expect(floor.bytes).toBeGreaterThan(peakFloor(graph));
    }
  });
});

describe('auto with the last-arrival floor', () => {
  // Forward only, every node recomputable: the contract's floor is 549 B, the last-arrival
  // floor 596 B (the least peak), and the smallest-peak search alone reaches 665 B.
  const raw = randomLayered({ seed: 5, layers: 8, width: 4, backward: false });
  const graph = indexGraph({ ...raw, nodes: raw.nodes.map((node) => ({ ...node, kind: 'forward' as const })) });
  const run = (budgetBytes: number) =>
    auto.run({ graph, budgetBytes, timeLimitSeconds: 4, relativeGap: 1e-3, formulation: 'tight', startedAt: Date.now() });

  it('answers infeasible and proven below it, with the bracket closed at the floor', async () => {
    const floor = arrivalFloor(graph);
    expect(floor.bytes).toBeGreaterThan(peakFloor(graph));
    const outcome = await run(floor.bytes - 10);
    expect(outcome.kind).toBe('infeasible');
    if (outcome.kind !== 'infeasible') return;
    expect(outcome.proven).toBe(true);
    expect(outcome.message).toContain('proves that no remat plan fits');
    expect(outcome.smallestBudget).toEqual({ floorBytes: floor.bytes, floorSource: 'arrival-floor', foundBytes: floor.bytes });
  });

  it('plans at the floor itself, and the plan replays within it', async () => {
    const floor = arrivalFloor(graph);
    const outcome = await run(floor.bytes);
    expect(outcome.kind).toBe('schedule');
    if (outcome.kind !== 'schedule') return;
    const replay = simulateIndexed(graph, outcome.steps);
    expect(replay.ok && replay.figures.peakBytes).toBeLessThanOrEqual(floor.bytes);
  });
});
