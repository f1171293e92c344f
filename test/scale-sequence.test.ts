// Compute sequences (solver/scale/sequence.ts): the profile must agree exactly with the
// simulator on random legal sequences, and illegal sequences must be refused by both.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { namedFixtures, randomLayered, rng } from '../fixtures/generators.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { indexGraph, type IndexedGraph } from '../solver/graph/validate.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { fitsWithout } from '../solver/scale/improve.js';
import { profileOf, sequenceToSteps, stepsToSequence } from '../solver/scale/sequence.js';

/** A random legal compute sequence: a random topological order with random recomputations. */
function randomSequence(graph: IndexedGraph, seed: number, recomputeRate = 0.3): number[] {
  const random = rng(seed);
  const missing = graph.inputs.map((inputs) => inputs.length);
  const ready: number[] = [];
  for (let node = 0; node < graph.size; node++) if (missing[node] === 0) ready.push(node);
  const done: number[] = [];
  const sequence: number[] = [];
  while (ready.length) {
    if (done.length && random() < recomputeRate) {
      const again = done[Math.floor(random() * done.length)];
      if (graph.recomputable[again]) sequence.push(again);
    }
    const node = ready.splice(Math.floor(random() * ready.length), 1)[0];
    sequence.push(node);
    done.push(node);
    for (const user of graph.users[node]) if (--missing[user] === 0) ready.push(user);
  }
  return sequence;
}

const graphs: [string, IndexedGraph][] = Object.entries(namedFixtures()).map(([name, graph]) => [name, indexGraph(graph)]);

describe('profileOf and sequenceToSteps', () => {
  it.each(graphs)('the listed order gives the no-remat peak on %s', (_name, graph) => {
    const listed = Array.from({ length: graph.size }, (_, node) => node);
    const profile = profileOf(graph, listed);
    if (typeof profile === 'string') throw new Error(profile);
    expect(profile.peak + graph.residentBytes).toBe(noRematPeak(graph));
    expect(profile.cost).toBe(graph.baseCost);
  });

  it('agrees with the simulator on random legal sequences', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 10_000 }), fc.boolean(), (graphSeed, seed, backward) => {
        const graph = indexGraph(randomLayered({ seed: graphSeed, layers: 6, width: 3, backward, keep: backward }));
        const sequence = randomSequence(graph, seed);
        const profile = profileOf(graph, sequence);
        if (typeof profile === 'string') throw new Error(profile);
        const steps = sequenceToSteps(graph, sequence);
        const replay = simulateIndexed(graph, steps);
        if (!replay.ok) throw new Error(replay.error.message);
        expect(replay.figures.peakBytes).toBe(profile.peak + graph.residentBytes);
        expect(replay.figures.makespan).toBeCloseTo(profile.cost, 9);
        expect(stepsToSequence(steps)).toEqual(sequence);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses what the simulator refuses', () => {
    const graph = indexGraph(namedFixtures().diamond);
    const listed = Array.from({ length: graph.size }, (_, node) => node);
    // A node before its input, a missing node, a second compute of the (non-recomputable) input.
    const swapped = [listed[1], listed[0], ...listed.slice(2)];
    expect(typeof profileOf(graph, swapped)).toBe('string');
    expect(typeof profileOf(graph, listed.slice(1))).toBe('string');
    expect(typeof profileOf(graph, [...listed, 0])).toBe('string');
    expect(graph.recomputable[0]).toBe(false);
    const illegal = [...listed.slice(0, 2), 0, ...listed.slice(2)];
    expect(typeof profileOf(graph, illegal)).toBe('string');
  });
});

describe('fitsWithout', () => {
  // The improver's exact test for dropping one recomputation must say what a full re-profile
  // of the shorter sequence says, at budgets around that sequence's own peak.
  it('agrees with re-profiling the sequence without the recomputation', () => {
    let checked = 0;
    let refused = 0;
    let lowered = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 10_000 }), fc.boolean(), (graphSeed, seed, backward) => {
        const graph = indexGraph(randomLayered({ seed: graphSeed, layers: 6, width: 3, backward, keep: backward }));
        const sequence = randomSequence(graph, seed, 0.5);
        const profile = profileOf(graph, sequence);
        if (typeof profile === 'string') throw new Error(profile);
        for (let position = 0; position < sequence.length; position++) {
          if (profile.previous[position] < 0) continue;
          const shorter = profileOf(graph, [...sequence.slice(0, position), ...sequence.slice(position + 1)]);
          if (typeof shorter === 'string') throw new Error(shorter);
          if (shorter.peak < profile.peak) lowered++;
          for (const available of [shorter.peak - 1, shorter.peak, shorter.peak + 1, profile.peak]) {
            // The test assumes the sequence itself fits.
            if (available < profile.peak) continue;
            const fits = fitsWithout(graph, sequence, profile, position, available);
            expect(fits).toBe(shorter.peak <= available);
            checked++;
            if (!fits) refused++;
          }
        }
      }),
      { numRuns: 300 },
    );
    // The cases are not all trivial: some moves do not fit, some lower the peak.
    expect(checked).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(50);
    expect(lowered).toBeGreaterThan(0);
  });
});
