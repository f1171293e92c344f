// The bracket of the smallest feasible budget (solver/scale/bracket.ts, smallest-peak.ts):
// its floor is never above the least peak of any remat schedule (exhaustive search on tiny
// graphs), its top is the replayed peak of a legal schedule, and auto's infeasible answers
// and analyze report it.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { peakFloor } from '../solver/graph/analysis.js';
import type { Graph } from '../solver/graph/schema.js';
import { importGraph } from '../solver/graph/import.js';
import { type IndexedGraph, indexGraph } from '../solver/graph/validate.js';
import { plan } from '../solver/plan.js';
import { provenFloor, smallestBudget } from '../solver/scale/bracket.js';
import { stepsToSequence } from '../solver/scale/sequence.js';
import { orderOfSequence } from '../solver/scale/order.js';
import { movedOrder, nodesAtPeak, smallestPeakSearch } from '../solver/scale/smallest-peak.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { seededRandom } from '../solver/util/random.js';
import { minimumPeakWithOptions } from './exhaustive-options.js';
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

describe('the proven floor with node options', () => {
  it('counts a value held as its smallest form: an input read at the end, kept as a 20-byte form', () => {
    // Without options x (100 bytes, never recomputed) is on the device with a and b: 160.
    // With a form that a and d read, x is encoded at once and dropped: 120 (the encode step).
    const nodes: Graph['nodes'] = [
      { id: 'x', kind: 'input', bytes: 100, cost: 0, encodings: [{ name: 'zip', bytes: 20, encodeCost: 1, readers: ['a', 'd'] }] },
      { id: 'a', inputs: ['x'], bytes: 50, cost: 1 },
      { id: 'b', inputs: ['a'], bytes: 10, cost: 1 },
      { id: 'c', inputs: ['b'], bytes: 10, cost: 1 },
      { id: 'd', inputs: ['c', 'x'], bytes: 10, cost: 1 },
    ];
    const graph = indexGraph({ nodes });
    const plain = indexGraph({ nodes: nodes.map(({ encodings, ...node }) => node) });
    expect(minimumPeakWithOptions(graph)).toBe(120);
    expect(provenFloor(plain, false, Date.now() + 60_000).floorBytes).toBe(160);
    const floor = provenFloor(graph, false, Date.now() + 60_000);
    expect(floor.floorBytes).toBeLessThanOrEqual(120);
    expect(floor.floorBytes).toBeGreaterThanOrEqual(peakFloor(graph));
  });

  it('is never above the least peak of any schedule with options on tiny graphs', () => {
    let raised = 0;
    let plainFloorTooHigh = 0;
    fc.assert(
      fc.property(arbitraryGraph(), fc.array(fc.nat(1000), { minLength: 32, maxLength: 32 }), (raw, draws) => {
        const graph = indexGraph(withRandomOptions(raw, draws));
        fc.pre(graph.hasOptions);
        const exact = minimumPeakWithOptions(graph);
        const floor = provenFloor(graph, false, Date.now() + 60_000);
        expect(floor.floorBytes).toBeLessThanOrEqual(exact);
        expect(floor.floorBytes).toBeGreaterThanOrEqual(peakFloor(graph));
        if (floor.floorSource === 'closure-floor') raised++;
        // The closure floor of the same graph read without its options would claim too much here.
        const plain = indexGraph({ ...raw, nodes: raw.nodes.map(({ encodings, alternatives, ...node }) => node) });
        if (provenFloor(plain, false, Date.now() + 60_000).floorBytes > exact) plainFloorTooHigh++;
      }),
      { numRuns: 150, seed: 20261202 },
    );
    // It must bite: the relaxed closure still raises some floors, and ignoring the options would be wrong on some graphs.
    expect(raised).toBeGreaterThan(0);
    expect(plainFloorTooHigh).toBeGreaterThan(0);
  });
});

/**
 * The graph with encodings on up to four nodes that have users (a smaller form, read by
 * some of them, decodable or not) and a leaner alternative on some others, from `draws`.
 */
function withRandomOptions(raw: Graph, draws: readonly number[]): Graph {
  let next = 0;
  const draw = (below: number) => draws[next++ % draws.length] % below;
  const users = new Map<string, string[]>();
  for (const node of raw.nodes) for (const input of node.inputs ?? []) users.set(input, [...(users.get(input) ?? []), node.id]);
  let encoded = 0;
  const nodes = raw.nodes.map((node) => {
    const out = { ...node };
    const readersOf = users.get(node.id) ?? [];
    if (encoded < 4 && readersOf.length && draw(2) === 0) {
      encoded++;
      out.encodings = [
        {
          name: 'form',
          bytes: Math.floor(node.bytes / (2 + draw(6))),
          encodeCost: 1,
          ...(draw(2) === 0 ? { decodeCost: 1 } : {}),
          readers: [...new Set(readersOf)].filter(() => draw(3) > 0),
        },
      ];
    }
    if (node.kind !== 'input' && draw(4) === 0) out.alternatives = [{ name: 'lean', cost: node.cost + 1, workspaceBytes: draw(5) }];
    return out;
  });
  return { ...raw, nodes };
}

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

describe("auto's infeasible answers on a captured graph", () => {
  it('keep the floor proven while time was left: a 4,000-node LSTM at 70 %, where the search takes all of it', async () => {
    // Nothing fits at 70 % (the smallest peak any search reached is 70.8 %), and the search
    // runs to the time limit. The bracket at the end has what is left, under a second, and
    // reported the contract's floor (56.8 %) where the last-computation floor is 66.6 %.
    const raw = JSON.parse(gunzipSync(readFileSync(new URL('../bench/graphs/zoo/lstm-2.json.gz', import.meta.url))).toString('utf8'));
    const graph = importGraph(raw);
    const peak = noRematPeak(graph);
    const budget = Math.round(0.7 * peak);
    const result = await plan(graph, { budget: { bytes: budget }, strategy: 'auto', timeLimitSeconds: 30 });
    checkPlan(graph, result);
    expect(result.status).toBe('infeasible');
    const floor = provenFloor(graph, false, Date.now() + 30_000);
    expect(floor.floorBytes).toBeGreaterThan(peakFloor(graph));
    const bracket = result.smallestBudget!;
    expect(bracket).toMatchObject({ floorBytes: floor.floorBytes, floorSource: 'closure-floor' });
    expect(bracket.foundBytes!).toBeGreaterThan(budget);
  }, 120_000);
});

describe('the smallest-peak climb over orders', () => {
  /** True when `order` lists every node once, each after its inputs. */
  const topological = (graph: IndexedGraph, order: readonly number[]) => {
    const at = new Map(order.map((node, position) => [node, position]));
    return at.size === graph.size && order.every((node, position) => graph.inputs[node].every((input) => at.get(input)! < position));
  };

  it('moves nodes within their topological windows only', () => {
    fc.assert(
      fc.property(arbitraryGraph(), fc.integer({ min: 1, max: 1000 }), (raw, seed) => {
        const graph = indexGraph(raw);
        const search = smallestPeakSearch(graph, { deadline: Date.now() + 60_000 })!;
        const sequence = stepsToSequence(search.steps);
        const order = orderOfSequence(graph, sequence);
        expect(topological(graph, order)).toBe(true);
        const random = seededRandom(seed);
        const hot = nodesAtPeak(graph, sequence);
        expect(hot.length).toBeGreaterThan(0);
        for (let move = 0; move < 5; move++) expect(topological(graph, movedOrder(graph, order, random, hot))).toBe(true);
      }),
      { numRuns: 100, seed: 20261202 },
    );
  });

  it('reaches the closure floor of the captured resnet18, where walking the orders down stopped 4.4 points above it', () => {
    // The walk alone stopped at 63.4 % of the no-remat peak; the closure floor is 58.9 %. The
    // climb stops at its patience, long before this deadline, so the result does not depend on speed.
    const raw = JSON.parse(gunzipSync(readFileSync(new URL('../bench/graphs/resnet18.json.gz', import.meta.url))).toString('utf8'));
    const graph = importGraph(raw);
    const peak = noRematPeak(graph);
    const floor = provenFloor(graph, false, Date.now() + 60_000);
    expect(floor.floorSource).toBe('closure-floor');
    const search = smallestPeakSearch(graph, { deadline: Date.now() + 600_000, floorBytes: peakFloor(graph) })!;
    const replay = simulateIndexed(graph, search.steps);
    expect(replay.ok && replay.figures.peakBytes).toBe(search.peakBytes);
    expect(search.peakBytes).toBeGreaterThanOrEqual(floor.floorBytes);
    expect(search.peakBytes / peak).toBeLessThan(0.59);
    expect((search.peakBytes - floor.floorBytes) / peak).toBeLessThan(0.001);
  }, 120_000);
});
