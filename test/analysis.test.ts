// Graph analyses against hand-computed cases: the no-remat peak, the proven floor (and
// that no legal schedule, found exhaustively on tiny graphs, goes below it), and the
// articulation points of the forward part.
import { describe, expect, it } from 'vitest';
import { chain, diamond, rng, unetLike } from '../fixtures/generators.js';
import { articulationPoints, forwardNodes, lastUses, peakFloor } from '../solver/graph/analysis.js';
import { graphStats } from '../solver/schedule/graph-stats.js';
import { noRematPeak, noRematSteps } from '../solver/schedule/no-remat.js';
import type { Graph, GraphNode } from '../solver/graph/schema.js';
import { indexGraph, type IndexedGraph } from '../solver/graph/validate.js';
import { plan } from '../solver/plan.js';
import { BASELINES } from '../solver/strategies/baselines.js';
import { checkPlan, minimumPeak } from './helpers.js';

const ids = (graph: IndexedGraph, nodes: readonly number[]) => nodes.map((node) => graph.ids[node]);

// x 10, a 20 (+80 workspace), b 30, c 40 (keep); residentBytes 100.
const small = indexGraph({
  residentBytes: 100,
  nodes: [
    { id: 'x', kind: 'input', bytes: 10, cost: 1 },
    { id: 'a', inputs: ['x'], bytes: 20, cost: 2, workspaceBytes: 80 },
    { id: 'b', inputs: ['a'], bytes: 30, cost: 3 },
    { id: 'c', inputs: ['a', 'b'], bytes: 40, cost: 4, keep: true },
  ],
});

// Two keep nodes read the same input: the keep part of the floor dominates.
const twoKeeps = indexGraph({
  nodes: [
    { id: 'x', kind: 'input', bytes: 10, cost: 0 },
    { id: 'k1', inputs: ['x'], bytes: 50, cost: 1, keep: true },
    { id: 'k2', inputs: ['x'], bytes: 60, cost: 1, keep: true },
  ],
});

describe('no-remat peak', () => {
  it('on the small graph counts workspace and residentBytes', () => {
    // x: 10. a: 10 + 20 + 80 = 110 while it runs. x's last use is a: free x, 20.
    // b: 50. c: 90. Peak 100 + 110 = 210.
    expect(noRematPeak(small)).toBe(210);
    // The schedule frees x after a, a and b after c, and never c (a keep node).
    expect(noRematSteps(small).map((step) => `${step.op} ${small.ids[step.node]}`)).toEqual([
      'compute x',
      'compute a',
      'free x',
      'compute b',
      'compute c',
      'free a',
      'free b',
    ]);
  });

  it('on chain(2) with its backward pass', () => {
    const graph = indexGraph(chain(2));
    // x 100, f0 100, f1 100, loss 4, grad_f1 100 (reads loss, f0, f1), grad_f0 100 (reads grad_f1, f0).
    expect(ids(graph, graph.inputs[graph.index.get('grad_f1')!])).toEqual(['f0', 'f1', 'loss']);
    // x 100; f0 200; x's last use is f0: 100; f1 200; loss 204; grad_f1 304; free f1 and loss:
    // 200; grad_f0 300 (no user, not keep: freed at once). Peak 304.
    expect(noRematPeak(graph)).toBe(304);
    expect(lastUses(graph)[graph.index.get('x')!]).toBe(graph.index.get('f0'));
    expect(lastUses(graph)[graph.index.get('grad_f0')!]).toBe(-1);
  });

  it('on the diamond', () => {
    const graph = indexGraph(diamond());
    // x 50; a 150; free x: 100; b 200; c 280; d 380; e 420; loss 424; grad_e (40, reads loss,
    // d, e) 464; free e, loss: 420; grad_d (100, reads grad_e, b, c, d) 520; free grad_e, d: 380;
    // grad_c (80) 460; free c: 380; grad_b (100) 480; free b, grad_d: 280; grad_a (100) 380.
    expect(noRematPeak(graph)).toBe(520);
  });
});

describe('the floor', () => {
  it('is residentBytes + the largest node with its inputs and workspace', () => {
    // x 10; a 20 + 10 + 80 = 110; b 30 + 20 = 50; c 40 + 20 + 30 = 90. Keep part: c 40 plus,
    // computed last, its non-keep inputs a and b (50): 90. max(110, 90) + 100 = 210.
    expect(peakFloor(small)).toBe(210);
    expect(peakFloor(small, { swaps: true })).toBe(210);
    expect(minimumPeak(small)).toBe(210);
  });

  it('counts every keep node together, and the inputs of the last one without swaps', () => {
    // Single part: k2 60 + x 10 = 70. Keep part: 50 + 60 = 110, plus x (10) for whichever keep
    // node is computed last: 120. With swaps the last one may be a swapIn: 110.
    expect(peakFloor(twoKeeps)).toBe(120);
    expect(peakFloor(twoKeeps, { swaps: true })).toBe(110);
    // Both are reached: x, k1, k2 peaks at 120; with swaps x, k1, swapOut k1, free k1, k2,
    // free x, swapIn k1 peaks at 110.
    expect(minimumPeak(twoKeeps)).toBe(120);
    expect(minimumPeak(twoKeeps, { swaps: true })).toBe(110);
  });

  it('answers a budget below the floor infeasible at once, saying so', async () => {
    const result = await plan(twoKeeps, { budget: { bytes: 119 }, strategy: 'checkpoint-all' });
    expect(result.status).toBe('infeasible');
    expect(result.smallestPeakBytes).toBe(120);
    expect(result.floorBytes).toBe(120);
    expect(result.message).toMatch(/floor/);
    const swapping = await plan(twoKeeps, { budget: { bytes: 109 }, strategy: 'dtr', transfer: 'pcie4' });
    expect(swapping.status).toBe('infeasible');
    expect(swapping.floorBytes).toBe(110);
  });

  it('is in graphStats with the no-remat peak', () => {
    const stats = graphStats(small);
    expect(stats).toMatchObject({
      nodes: 4,
      edges: 4, // a<-x, b<-a, c<-a, c<-b
      forwardNodes: 3,
      baseCost: 10,
      residentBytes: 100,
      keepBytes: 40,
      noRematPeakBytes: 210,
      floorBytes: 210,
      floorWithSwapsBytes: 210,
      articulationPoints: 2, // a and c; b is jumped over by a -> c
    });
  });
});

/** A random tiny graph: up to `maxNodes` nodes, random edges, kinds, flags and sizes. */
function tinyGraph(seed: number, maxNodes: number): Graph {
  const random = rng(seed);
  const count = 1 + Math.floor(random() * maxNodes);
  const nodes: GraphNode[] = [];
  for (let at = 0; at < count; at++) {
    const inputs = nodes.filter(() => random() < 0.45).map((node) => node.id);
    const kind = at === 0 || (inputs.length === 0 && random() < 0.5) ? 'input' : random() < 0.7 ? 'forward' : 'backward';
    nodes.push({
      id: `v${at}`,
      kind,
      inputs,
      bytes: Math.floor(random() * 20),
      cost: Math.floor(random() * 5),
      workspaceBytes: random() < 0.3 ? Math.floor(random() * 15) : undefined,
      recomputable: random() < 0.15 ? kind === 'input' : undefined,
      keep: random() < 0.2 ? true : undefined,
    });
  }
  return { name: `tiny(${seed})`, residentBytes: random() < 0.3 ? Math.floor(random() * 10) : 0, nodes };
}

describe('the floor against exhaustive search on tiny graphs', () => {
  it('no legal schedule goes below the floor, with or without swaps', () => {
    let tight = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const graph = indexGraph(tinyGraph(seed, 6));
      const exact = minimumPeak(graph);
      expect(exact, `seed ${seed}`).toBeGreaterThanOrEqual(peakFloor(graph));
      expect(exact, `seed ${seed}`).toBeLessThanOrEqual(noRematPeak(graph));
      if (exact === peakFloor(graph)) tight++;
      if (graph.size <= 5) {
        const withSwaps = minimumPeak(graph, { swaps: true });
        expect(withSwaps, `seed ${seed}`).toBeGreaterThanOrEqual(peakFloor(graph, { swaps: true }));
        expect(withSwaps).toBeLessThanOrEqual(exact);
      }
    }
    // The search is not vacuous: the floor is reached on some graphs and not on others.
    expect(tight).toBeGreaterThan(0);
    expect(tight).toBeLessThan(150);
  });

  it('no baseline goes below the exhaustive minimum, and each fits once the budget allows the no-remat peak', async () => {
    for (let seed = 200; seed < 240; seed++) {
      const graph = indexGraph(tinyGraph(seed, 7));
      const exact = minimumPeak(graph);
      for (const strategy of BASELINES) {
        for (const budget of [exact, Math.floor((exact + noRematPeak(graph)) / 2), noRematPeak(graph)]) {
          const result = await plan(graph, { budget: { bytes: budget }, strategy: strategy.name, timeLimitSeconds: 5 });
          const { replay } = checkPlan(graph, result);
          if (replay) expect(replay.figures.peakBytes).toBeGreaterThanOrEqual(exact);
          if (result.smallestPeakBytes !== undefined) expect(result.smallestPeakBytes).toBeGreaterThanOrEqual(exact);
        }
      }
    }
  });

  it('the exhaustive search itself agrees with a hand count', () => {
    // x 10 (an input: computed once) feeds h 50 and m 100; y 10 reads m; g 10 reads y and h.
    const graph = indexGraph({
      nodes: [
        { id: 'x', kind: 'input', bytes: 10, cost: 0 },
        { id: 'h', inputs: ['x'], bytes: 50, cost: 1 },
        { id: 'm', inputs: ['x'], bytes: 100, cost: 1 },
        { id: 'y', inputs: ['m'], bytes: 10, cost: 1 },
        { id: 'g', inputs: ['y', 'h'], bytes: 10, cost: 1 },
      ],
    });
    // No remat: x, h, m (160), free x, y (160), free m, g: 160.
    expect(noRematPeak(graph)).toBe(160);
    // Floor: the largest node with its inputs is m + x = y + m = 110.
    expect(peakFloor(graph)).toBe(110);
    // While y runs, m and y are there and so is x (h is still to be made) or h: at least
    // 120, and x, h, free h, m, y (120), free m, h, free x, g reaches it.
    expect(minimumPeak(graph)).toBe(120);
  });
});

describe('articulation points of the forward part', () => {
  it('on a chain: every forward node', () => {
    const graph = indexGraph(chain(3));
    expect(ids(graph, forwardNodes(graph))).toEqual(['f0', 'f1', 'f2']);
    expect(ids(graph, articulationPoints(graph))).toEqual(['f0', 'f1', 'f2']);
  });

  it('on a diamond: the fork, the join and what follows', () => {
    // a -> b -> d, a -> c -> d, d -> e: b and c are jumped over by the other branch.
    const graph = indexGraph(diamond());
    expect(ids(graph, articulationPoints(graph))).toEqual(['a', 'd', 'e']);
  });

  it('on a skip connection: nodes under the skip are not articulation points', () => {
    // a -> b -> c, a -> c (skip), c -> d; the input x feeds a and d but is not forward.
    const graph = indexGraph({
      nodes: [
        { id: 'x', kind: 'input', bytes: 1, cost: 0 },
        { id: 'a', inputs: ['x'], bytes: 1, cost: 1 },
        { id: 'b', inputs: ['a'], bytes: 1, cost: 1 },
        { id: 'c', inputs: ['b', 'a'], bytes: 1, cost: 1 },
        { id: 'd', inputs: ['c', 'x'], bytes: 1, cost: 1 },
        { id: 'loss', kind: 'loss', inputs: ['d'], bytes: 1, cost: 1 },
        { id: 'g', kind: 'backward', inputs: ['loss', 'a'], bytes: 1, cost: 1 },
      ],
    });
    expect(ids(graph, articulationPoints(graph))).toEqual(['a', 'c', 'd']);
  });

  it('on a U-Net: the outer skip spans everything between the first encoder and the last decoder', () => {
    const graph = indexGraph(unetLike(3));
    expect(ids(graph, articulationPoints(graph))).toEqual(['enc0', 'dec0']);
  });
});
