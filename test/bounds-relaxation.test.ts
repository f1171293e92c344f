// The options relaxation (solver/bounds/relaxation.ts): the remat bounds taken on it never
// exceed the least makespan of any legal schedule of the graph with its options, found by
// an exhaustive search over every remat schedule in any order with alternatives, encodes,
// decodes and readers of encodings (written here from the contract's step rules, and
// checked against the two searches it extends), and auto reports them on such graphs.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { rematFloor } from '../solver/bounds/closure.js';
import { closureBound, firstComputations } from '../solver/bounds/closure-milp.js';
import { closureBoundOf, optionsRelaxation, pricedOptionsRelaxation } from '../solver/bounds/relaxation.js';
import { peakFloor } from '../solver/graph/analysis.js';
import type { Graph } from '../solver/graph/schema.js';
import { type IndexedGraph, indexGraph } from '../solver/graph/validate.js';
import { MILP_MAX_NODES } from '../solver/limits.js';
import { shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { plan } from '../solver/plan.js';
import { recomputeBound } from '../solver/scale/bound.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { simulate } from '../solver/schedule/simulate.js';
import { withOptions } from '../fixtures/options.js';
import { transformer } from '../fixtures/generators.js';
import { exhaustiveOptionsOptimum, formsOf } from './exhaustive-options.js';
import { TupleHeap, arbitraryGraph, exhaustiveOptimum } from './helpers.js';

afterAll(() => shutdownHighsWorkers());

/**
 * The least makespan (compute, encode and decode costs; no host link) of any legal schedule
 * of a graph with node options within the budget, in any order: Dijkstra over (values on
 * the device, forms on the device, nodes computed). Steps, as the contract has them:
 * compute (any implementation; each input as its value, or as a form whose readers include
 * the node; counts the output and the implementation's workspace), encode (the value and
 * the form count), decode (into the value; not a computation), free of a value or a form.
 */
function exhaustiveWithOptions(graph: IndexedGraph, budgetBytes: number): number {
  const size = graph.size;
  const forms = formsOf(graph);
  if (size > 8 || forms.length > 6) throw new Error('exhaustive search with options: at most 8 nodes and 6 encodings');
  const capacity = budgetBytes - graph.residentBytes;
  const all = (1 << size) - 1;
  let keepMask = 0;
  for (let node = 0; node < size; node++) if (graph.keep[node]) keepMask |= 1 << node;
  const implementations = graph.cost.map((cost, node) => [
    { cost, workspace: graph.workspace[node] },
    ...graph.alternatives[node].map((alternative) => ({ cost: alternative.cost, workspace: alternative.workspace })),
  ]);
  const formSpace = 2 ** forms.length;
  const nodeSpace = 2 ** size;
  const dist = new Map<number, number>();
  const heap = new TupleHeap<[number, number, number, number]>();
  const reach = (cost: number, device: number, held: number, computed: number) => {
    const key = (device * formSpace + held) * nodeSpace + computed;
    const known = dist.get(key);
    if (known !== undefined && known <= cost + 1e-12) return;
    dist.set(key, cost);
    heap.push([cost, device, held, computed]);
  };
  // Whether a node's every input is on the device as its value or as a form it may read.
  const readable = (node: number, device: number, held: number) =>
    graph.inputs[node].every(
      (input) =>
        device & (1 << input) || forms.some((form, slot) => form.node === input && held & (1 << slot) && form.readers & (1 << node)),
    );
  reach(0, 0, 0, 0);
  while (heap.size) {
    const [cost, device, held, computed] = heap.pop();
    if (dist.get((device * formSpace + held) * nodeSpace + computed)! < cost) continue;
    if (computed === all && (device & keepMask) === keepMask) return cost;
    let live = 0;
    for (let node = 0; node < size; node++) if (device & (1 << node)) live += graph.bytes[node];
    forms.forEach((form, slot) => {
      if (held & (1 << slot)) live += form.bytes;
    });
    for (let node = 0; node < size; node++) {
      const bit = 1 << node;
      if (device & bit) {
        reach(cost, device & ~bit, held, computed);
        continue;
      }
      if (computed & bit && !graph.recomputable[node]) continue;
      if (!readable(node, device, held)) continue;
      for (const implementation of implementations[node])
        if (live + graph.bytes[node] + implementation.workspace <= capacity)
          reach(cost + implementation.cost, device | bit, held, computed | bit);
    }
    forms.forEach((form, slot) => {
      const bit = 1 << slot;
      if (held & bit) {
        reach(cost, device, held & ~bit, computed);
        return;
      }
      if (device & (1 << form.node) && live + form.bytes <= capacity) reach(cost + form.encodeCost, device, held | bit, computed);
    });
    forms.forEach((form, slot) => {
      const value = 1 << form.node;
      if (held & (1 << slot) && form.decodeCost !== undefined && !(device & value) && live + graph.bytes[form.node] <= capacity)
        reach(cost + form.decodeCost, device | value, held, computed);
    });
  }
  return Infinity;
}

/** A tiny random DAG (helpers.arbitraryGraph) with random masks (read by some users), decodable forms and alternatives. */
function arbitraryGraphWithOptions(): fc.Arbitrary<Graph> {
  return fc
    .tuple(
      arbitraryGraph().filter((graph) => graph.nodes.length <= 6),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 9 })), {
        minLength: 6,
        maxLength: 6,
      }),
    )
    .map(([graph, draws]) => {
      let formCount = 0;
      const users = new Map<string, string[]>();
      for (const node of graph.nodes)
        for (const input of new Set(node.inputs ?? [])) users.set(input, [...(users.get(input) ?? []), node.id]);
      const nodes = graph.nodes.map((node, index) => {
        const [kind, readerBits, size] = draws[index];
        const out = { ...node } as Graph['nodes'][number];
        const encodings: NonNullable<Graph['nodes'][number]['encodings']> = [];
        const mine = users.get(node.id) ?? [];
        const readers = mine.filter((_, position) => readerBits & (1 << position));
        if (kind === 0 && readers.length && formCount < 6) {
          encodings.push({ name: 'mask', bytes: Math.ceil(node.bytes / (4 + size)), encodeCost: size % 4, readers });
          formCount++;
        }
        if (kind === 1 && formCount < 6) {
          encodings.push({ name: 'zip', bytes: Math.ceil(node.bytes / 2), encodeCost: size % 3, decodeCost: (size % 5) + 1 });
          formCount++;
        }
        if (encodings.length) out.encodings = encodings;
        if (index > 0 && kind >= 7) out.alternatives = [{ name: 'alt', cost: Math.max(0, node.cost - 3 + size), workspaceBytes: size * 3 }];
        return out;
      });
      return { ...graph, nodes };
    });
}

describe('optionsRelaxation', () => {
  it('is the graph itself without options; with them, cheapest costs, leanest workspace, decodable bytes, readers cut', () => {
    const raw: Graph = {
      nodes: [
        { id: 'x', kind: 'input', bytes: 100, cost: 0 },
        { id: 'relu', inputs: ['x'], bytes: 64, cost: 5, workspaceBytes: 8 },
        { id: 'conv', inputs: ['relu'], bytes: 40, cost: 9, alternatives: [{ name: 'fast', cost: 4, workspaceBytes: 50 }] },
        { id: 'conv_bw', kind: 'backward', inputs: ['conv', 'relu'], bytes: 40, cost: 9 },
        { id: 'relu_bw', kind: 'backward', inputs: ['conv_bw', 'relu'], bytes: 64, cost: 5, keep: true },
      ],
    };
    raw.nodes[1].encodings = [
      { name: 'mask', bytes: 2, encodeCost: 1, readers: ['relu_bw'] },
      { name: 'zip', bytes: 40, encodeCost: 2, decodeCost: 2 },
    ];
    raw.nodes[1].alternatives = [{ name: 'lean', cost: 7, workspaceBytes: 0 }];
    const graph = indexGraph(raw);
    const relaxed = optionsRelaxation(graph);
    expect(relaxed.hasOptions).toBe(false);
    expect(relaxed.ids).toEqual(graph.ids);
    expect(relaxed.bytes).toEqual([100, 40, 40, 40, 64]);
    expect(relaxed.cost).toEqual([0, 5, 4, 9, 5]);
    expect(relaxed.workspace).toEqual([0, 0, 0, 0, 0]);
    expect(relaxed.baseCost).toBe(graph.baseCost);
    expect(relaxed.inputs[4].map((input) => relaxed.ids[input])).toEqual(['conv_bw']);
    expect(relaxed.inputs[3].map((input) => relaxed.ids[input])).toEqual(['relu', 'conv']);
    expect(relaxed.keep).toEqual(graph.keep);
    const plain = indexGraph({ nodes: raw.nodes.map(({ alternatives, encodings, ...node }) => node) });
    expect(optionsRelaxation(plain)).toBe(plain);
  });

  it('the exhaustive search with options agrees with the class search below it and the plain search above it', () => {
    const cases = fc.sample(fc.tuple(arbitraryGraphWithOptions(), fc.integer({ min: 0, max: 6 })), { numRuns: 150, seed: 20261204 });
    let better = 0;
    for (const [raw, step] of cases) {
      const graph = indexGraph(raw);
      const plain = indexGraph({ ...raw, nodes: raw.nodes.map(({ alternatives, encodings, ...node }) => node) });
      const peak = noRematPeak(graph);
      const floor = peakFloor(graph);
      const budget = Math.floor(floor + ((peak - floor) * step) / 8);
      const optimum = exhaustiveWithOptions(graph, budget);
      // Options and any order only add schedules: no worse than without options, nor than the class.
      expect(optimum).toBeLessThanOrEqual(exhaustiveOptimum(plain, budget) + 1e-9);
      const inClass = exhaustiveOptionsOptimum(graph, budget);
      expect(optimum).toBeLessThanOrEqual(inClass + 1e-9);
      if (optimum < exhaustiveOptimum(plain, budget) - 1e-9) better++;
    }
    // Options pay off somewhere, so the search does take them.
    expect(better).toBeGreaterThan(5);
  });

  it('gives bounds and a floor that never exceed the exhaustive optimum of the graph with options', async () => {
    const cases = fc.sample(fc.tuple(arbitraryGraphWithOptions(), fc.integer({ min: 0, max: 2 })), { numRuns: 1500, seed: 20261205 });
    let informative = 0;
    let proofs = 0;
    let fitted = 0;
    for (const [raw, step] of cases) {
      const graph = indexGraph(raw);
      if (!graph.hasOptions) continue;
      const peak = noRematPeak(graph);
      const floor = peakFloor(graph);
      const budget = Math.floor(floor + ((peak - floor) * step) / 8);
      // At the budget: a node whose fast implementation's workspace fits nowhere costs more.
      const relaxed = optionsRelaxation(graph, budget);
      if (relaxed.baseCost > graph.baseCost) fitted++;
      const optimum = exhaustiveWithOptions(graph, budget);
      const closure = await closureBound(relaxed, budget, { timeLimitSeconds: 60, maxRounds: 30 });
      const rows = recomputeBound(relaxed, budget);
      expect(closure).toBeDefined();
      const label = JSON.stringify({ raw, budget });
      if (closure!.infeasible || rows.infeasible) {
        proofs++;
        expect(optimum, label).toBe(Infinity);
        continue;
      }
      if (optimum === Infinity) continue;
      expect(closure!.makespan, label).toBeLessThanOrEqual(optimum + 1e-9);
      expect(rows.makespan, label).toBeLessThanOrEqual(optimum + 1e-9);
      if (closure!.makespan > graph.baseCost + 1e-9) informative++;
      // The floor on the relaxation: no schedule with options peaks lower.
      const { ancestry, firsts } = firstComputations(relaxed);
      const relaxedFloor = rematFloor(ancestry, firsts, peakFloor(relaxed), Date.now() + 10_000).bytes;
      expect(exhaustiveWithOptions(graph, relaxedFloor - 1), label).toBe(Infinity);
    }
    // The property must bite: bounds above baseCost, proofs that nothing fits, and budgets
    // where an implementation's workspace fits nowhere.
    expect(informative).toBeGreaterThan(5);
    expect(proofs).toBeGreaterThan(0);
    expect(fitted).toBeGreaterThan(5);
  });
});

describe('the priced options relaxation', () => {
  it('gives closure bounds with priced encodings that never exceed the exhaustive optimum, and above the free ones somewhere', async () => {
    const cases = fc.sample(fc.tuple(arbitraryGraphWithOptions(), fc.integer({ min: 0, max: 4 })), { numRuns: 1200, seed: 20261206 });
    let priced = 0;
    let higher = 0;
    for (const [raw, step] of cases) {
      const graph = indexGraph(raw);
      const peak = noRematPeak(graph);
      const floor = peakFloor(graph);
      const budget = Math.floor(floor + ((peak - floor) * step) / 8);
      const relaxation = pricedOptionsRelaxation(graph, budget);
      if (!relaxation) continue;
      priced++;
      const optimum = exhaustiveWithOptions(graph, budget);
      const label = JSON.stringify({ raw, budget });
      const bound = await closureBound(relaxation.graph, budget, { timeLimitSeconds: 60, maxRounds: 30, discounts: relaxation.discounts });
      const free = await closureBound(optionsRelaxation(graph, budget), budget, { timeLimitSeconds: 60, maxRounds: 30 });
      const both = await closureBoundOf(graph, budget, { timeLimitSeconds: 60, maxRounds: 30 });
      expect(bound, label).toBeDefined();
      if (bound!.infeasible) {
        expect(optimum, label).toBe(Infinity);
        continue;
      }
      // closureBoundOf takes the stronger of the two relaxations' bounds.
      const strongest = Math.max(bound!.makespan, free!.infeasible ? Infinity : free!.makespan);
      if (!both!.infeasible) expect(both!.makespan, label).toBeGreaterThanOrEqual(strongest - 1e-9);
      else expect(free!.infeasible, label).toBe(true);
      if (optimum === Infinity) continue;
      expect(bound!.makespan, label).toBeLessThanOrEqual(optimum + 1e-9);
      expect(both!.makespan, label).toBeLessThanOrEqual(optimum + 1e-9);
      if (!free!.infeasible && bound!.makespan > free!.makespan + 1e-9) higher++;
    }
    // The property must bite: graphs with decodable encodings, and bounds that pricing raises.
    expect(priced).toBeGreaterThan(100);
    expect(higher).toBeGreaterThan(5);
  });
});

describe('auto on a graph with node options', () => {
  it('reports the closure bound of the relaxation above baseCost where no MILP runs, with a plan that replays', async () => {
    // Above MILP_MAX_NODES: before the relaxation the only bound auto had here was baseCost.
    const raw = withOptions(transformer({ layers: 6 }), { seed: 7 });
    const graph = indexGraph(raw);
    expect(graph.hasOptions).toBe(true);
    expect(graph.size).toBeGreaterThan(MILP_MAX_NODES);
    const budget = Math.floor(0.7 * noRematPeak(graph));
    const result = await plan(graph, { budget: { bytes: budget }, strategy: 'auto', timeLimitSeconds: 10 });
    expect(result.predicted, result.message).toBeDefined();
    const replay = simulate(graph, result.schedule);
    if (!replay.ok) throw new Error(replay.error.message);
    expect(replay.figures.peakBytes).toBeLessThanOrEqual(budget);
    expect(replay.figures.makespan).toBe(result.predicted!.makespan);
    expect(result.bound!.source).toMatch(/closure-bound|recompute-bound/);
    expect(result.bound!.makespan).toBeGreaterThan(graph.baseCost);
    expect(result.bound!.makespan).toBeLessThanOrEqual(result.predicted!.makespan);
  });
});
