// kusumoto-dp (solver/strategies/kusumoto.ts): its dynamic programme against an exhaustive
// enumeration of every chain of lower sets, written here from the model's definition; its
// approximate family against the exact one; its schedules in Checkmate's class. The
// comparison with checkmate-milp's optimum is in milp-kusumoto.test.ts (solver project).
import { describe, expect, it } from 'vitest';
import { chain, diamond, randomLayered, unetLike } from '../fixtures/generators.js';
import type { Graph } from '../solver/graph/schema.js';
import { type IndexedGraph, indexGraph } from '../solver/graph/validate.js';
import { stagesFromSchedule } from '../solver/milp/extract.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { kusumotoModel, kusumotoOptimum, kusumotoSchedule } from '../solver/strategies/kusumoto.js';

/** The least model cost of any chain of lower sets within `modelBytes`, by enumerating every chain. */
function exhaustiveChains(graph: IndexedGraph, modelBytes: number): number {
  const forward = graph.ids.map((_, node) => node).filter((node) => graph.kind[node] === 'input' || graph.kind[node] === 'forward');
  if (forward.length > 14) throw new Error('at most 14 forward nodes');
  const inF = new Set(forward);
  const lowerSets: Set<number>[] = [];
  for (let mask = 0; mask < 1 << forward.length; mask++) {
    const set = new Set(forward.filter((_, at) => mask & (1 << at)));
    const closed = [...set].every((node) => graph.inputs[node].every((input) => !inF.has(input) || set.has(input)));
    if (closed) lowerSets.push(set);
  }
  const whole = lowerSets.find((set) => set.size === forward.length)!;
  const kept = (node: number, set: Set<number>) =>
    !graph.recomputable[node] || graph.keep[node] || graph.users[node].some((user) => inF.has(user) && !set.has(user));
  let best = Infinity;
  // Depth first over chains: from the current set, to every strict superset.
  const extend = (from: Set<number>, keptBytes: number, cost: number) => {
    for (const to of lowerSets) {
      if (to.size <= from.size || ![...from].every((node) => to.has(node))) continue;
      const segment = [...to].filter((node) => !from.has(node));
      const bytes = segment.reduce((sum, node) => sum + graph.bytes[node], 0);
      if (keptBytes + bytes > modelBytes) continue;
      if (to === whole) {
        best = Math.min(best, cost);
        continue;
      }
      let keptHere = 0;
      let recompute = 0;
      for (const node of segment) {
        if (kept(node, to)) keptHere += graph.bytes[node];
        else recompute += graph.cost[node];
      }
      extend(to, keptBytes + keptHere, cost + recompute);
    }
  };
  extend(lowerSets.find((set) => set.size === 0)!, 0, 0);
  return best;
}

const GRAPHS: [string, Graph][] = [
  ['chain(4)', chain(4, { bytes: (layer) => 60 + ((layer * 53) % 90), cost: (layer) => 3 + ((layer * 7) % 13) })],
  ['diamond', diamond()],
  ['unet-like(2)', unetLike(2, 128)],
  ['random(3)', randomLayered({ seed: 3, layers: 3, width: 2 })],
  ['random(9)', randomLayered({ seed: 9, layers: 4, width: 2, keep: true })],
];

describe('kusumoto-dp against every chain of lower sets', () => {
  for (const [name, raw] of GRAPHS) {
    it(`finds the exhaustive optimum of its model on ${name}`, () => {
      const graph = indexGraph(raw);
      const model = kusumotoModel(graph);
      expect(model.exact).toBe(true);
      const total = model.forward.reduce((sum, node) => sum + graph.bytes[node], 0);
      const largest = Math.max(...model.forward.map((node) => graph.bytes[node]));
      let finite = 0;
      for (const share of [0.3, 0.45, 0.6, 0.8, 1]) {
        const modelBytes = Math.round(largest + share * (total - largest));
        const expected = exhaustiveChains(graph, modelBytes);
        const found = kusumotoOptimum(model, modelBytes);
        expect(found.cost, `${name} at ${modelBytes}`).toBeCloseTo(expected, 9);
        if (expected < Infinity) finite++;
      }
      expect(finite).toBeGreaterThan(1);
    });
  }

  it('is no better on the one-node family than on every lower set', () => {
    const graph = indexGraph(randomLayered({ seed: 9, layers: 4, width: 2, keep: true }));
    const exact = kusumotoModel(graph);
    const approximate = kusumotoModel(graph, 4);
    expect(approximate.exact).toBe(false);
    expect(approximate.sets.length).toBeLessThan(exact.sets.length);
    const total = exact.forward.reduce((sum, node) => sum + graph.bytes[node], 0);
    for (const share of [0.5, 0.7, 1]) {
      const modelBytes = Math.round(share * total);
      expect(kusumotoOptimum(approximate, modelBytes).cost).toBeGreaterThanOrEqual(kusumotoOptimum(exact, modelBytes).cost);
    }
  });
});

describe("kusumoto-dp's schedules", () => {
  it("are legal, in Checkmate's class, and cost what the model says or less", () => {
    for (const [name, raw] of GRAPHS) {
      const graph = indexGraph(raw);
      const model = kusumotoModel(graph);
      const total = model.forward.reduce((sum, node) => sum + graph.bytes[node], 0);
      for (const share of [0.5, 0.75, 1]) {
        const { cost, chain: lowerSets } = kusumotoOptimum(model, Math.round(share * total));
        if (cost === Infinity) continue;
        const steps = kusumotoSchedule(model, lowerSets);
        const replay = simulateIndexed(graph, steps);
        if (!replay.ok) throw new Error(`${name}: ${replay.error.message}`);
        expect(stagesFromSchedule(graph, steps), name).not.toBeNull();
        // Useless recomputations are dropped, so the replay never costs more than the model.
        expect(replay.figures.computeCost, name).toBeLessThanOrEqual(graph.baseCost + cost + 1e-9);
      }
    }
  });
});
