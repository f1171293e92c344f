// The closure argument (solver/bounds/closure.ts) and its covering MILP
// (solver/bounds/closure-milp.ts) against exhaustive searches over every legal remat-only
// schedule of tiny random DAGs, in any order: the floor never exceeds the least peak, the
// makespan bound never exceeds the least makespan, and "infeasible" is claimed only when
// nothing fits. The minimum cut is checked on hand-computed networks.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Ancestry, firstComputation } from '../solver/bounds/ancestry.js';
import { closureMinimum, closureNetwork, rematFloor } from '../solver/bounds/closure.js';
import { closureBound } from '../solver/bounds/closure-milp.js';
import { roundBoundUp } from '../solver/bounds/integral.js';
import { CLOSURE_SMALL_SPLITS, CLOSURE_SPLITS } from '../solver/limits.js';
import { FlowNetwork } from '../solver/bounds/mincut.js';
import { boundThreadStats, shutdownBoundWorkers, startClosureBound } from '../solver/bounds/parallel.js';
import { chain, transformer } from '../fixtures/generators.js';
import { peakFloor } from '../solver/graph/analysis.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { type IndexedGraph, indexGraph } from '../solver/graph/validate.js';
import type { MilpBackend } from '../solver/milp/backend.js';
import { highsBackend, shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { coveringRows } from '../solver/scale/bound.js';
import { coveringBound } from '../solver/scale/covering.js';
import { arbitraryGraph, exhaustiveOptimum, minimumPeak } from './helpers.js';

afterAll(async () => {
  await shutdownBoundWorkers();
  await shutdownHighsWorkers();
});

describe('FlowNetwork.minCut', () => {
  it('finds the minimum cut of a hand-computed network and the flow on each edge', () => {
    // source -> a (3), source -> b (2), a -> b (1), a -> sink (2), b -> sink (3): max flow 5.
    const network = new FlowNetwork();
    const a = network.addNode();
    const b = network.addNode();
    const sa = network.addEdge(FlowNetwork.SOURCE, a, 3);
    network.addEdge(FlowNetwork.SOURCE, b, 2);
    network.addEdge(a, b, 1);
    network.addEdge(a, FlowNetwork.SINK, 2);
    const bt = network.addEdge(b, FlowNetwork.SINK, 3);
    const cut = network.minCut();
    expect(cut.value).toBe(5);
    expect(cut.flow(sa)).toBe(3);
    expect(cut.flow(bt)).toBe(3);
    expect(cut.sourceSide[FlowNetwork.SOURCE]).toBe(1);
    expect(cut.sourceSide[FlowNetwork.SINK]).toBe(0);
  });

  it('keeps an infinite edge uncut: the cut goes around it', () => {
    // source -(4)-> a -(inf)-> b -(1)-> sink, and a -(10)-> sink: the cut is {b -> sink, a -> sink} = 11 or {source -> a} = 4.
    const network = new FlowNetwork();
    const a = network.addNode();
    const b = network.addNode();
    network.addEdge(FlowNetwork.SOURCE, a, 4);
    network.addEdge(a, b, Infinity);
    network.addEdge(b, FlowNetwork.SINK, 1);
    network.addEdge(a, FlowNetwork.SINK, 10);
    const cut = network.minCut();
    expect(cut.value).toBe(4);
    expect(cut.sourceSide[a]).toBe(0);
  });
});

describe('closure argument on a hand-computed step', () => {
  // A forward step with a side branch that only the backward pass reads, as captured
  // graphs have (a batch-norm output cloned for the activation's backward):
  //   x (input, 10 B) -> c (conv, 30 B) -> n (norm, 30 B) -> r (relu, 60 B) -> loss (1 B)
  //   n -> k (clone, 30 B), read only by the backward node g (with the loss).
  // k is not an ancestor of the loss, so the rows of solver/scale/bound.ts ignore it. But
  // at the loss's first computation k is needed later: it is there (30 B), or it is
  // computed later and then n is needed (30 B), or n is recomputed and then c is needed
  // (30 B), or c too and then x is needed (10 B, an input is never recomputed).
  const raw = {
    nodes: [
      { id: 'x', kind: 'input' as const, bytes: 10, cost: 0 },
      { id: 'c', inputs: ['x'], bytes: 30, cost: 5 },
      { id: 'n', inputs: ['c'], bytes: 30, cost: 3 },
      { id: 'k', inputs: ['n'], bytes: 30, cost: 1 },
      { id: 'r', inputs: ['n'], bytes: 60, cost: 1 },
      { id: 'loss', kind: 'loss' as const, inputs: ['r'], bytes: 1, cost: 1 },
      { id: 'g', kind: 'backward' as const, inputs: ['loss', 'k'], bytes: 10, cost: 2 },
    ],
  };
  const graph = indexGraph(raw);
  const ancestry = new Ancestry(graph);
  const loss = graph.index.get('loss')!;

  it('counts the side branch: 71 B at the least, 91 B without recomputation', () => {
    const first = firstComputation(ancestry, loss);
    // Forced: the loss (1) and its input r (60). Needed after it: k (read by g).
    expect(first.forced).toBe(61);
    expect(first.needed.map((node) => graph.ids[node])).toEqual(['k']);
    const network = closureNetwork(ancestry, first);
    const minimum = closureMinimum(network, graph);
    expect(minimum.bytes).toBe(61 + 10);
    expect(minimum.leaving.map((node) => graph.ids[node])).toEqual(['c', 'n', 'k']);
    const none = closureMinimum(network, graph, () => true);
    expect(none.bytes).toBe(61 + 30);
    // Recomputing n alone would leave c needed: the flow through n's blocking edge is its 30 B.
    expect([...none.blocked].map(([node, weight]) => [graph.ids[node], weight])).toEqual([['n', 30]]);
  });

  it('bounds below the exhaustive optimum, above the old rows where they say nothing', async () => {
    expect(peakFloor(graph)).toBe(90);
    expect(minimumPeak(graph)).toBe(91);
    expect(rematFloor(ancestry).bytes).toBeLessThanOrEqual(91);
    // At 90 B nothing fits; the closure bound asks for recomputing n and c (3 + 5).
    expect(exhaustiveOptimum(graph, 90)).toBe(Infinity);
    expect((await closureBound(graph, 90, { timeLimitSeconds: 60, maxRounds: 20 }))!.makespan).toBeCloseTo(graph.baseCost + 8, 4);
    // At 91 B a schedule computes k early enough: no recomputation, and the bound agrees.
    expect(exhaustiveOptimum(graph, 91)).toBe(graph.baseCost);
    expect((await closureBound(graph, 91, { timeLimitSeconds: 60, maxRounds: 20 }))!.makespan).toBe(graph.baseCost);
  });
});

describe('rematFloor', () => {
  it('never exceeds the least peak of any remat-only schedule, and bites', () => {
    let above = 0;
    fc.assert(
      fc.property(arbitraryGraph(), (raw) => {
        const graph = indexGraph(raw);
        const floor = rematFloor(new Ancestry(graph));
        const exact = minimumPeak(graph);
        expect(floor.bytes).toBeLessThanOrEqual(exact);
        if (floor.bytes > peakFloor(graph)) above++;
      }),
      { numRuns: 300, seed: 20261201 },
    );
    expect(above).toBeGreaterThan(5);
  });
});

describe('closureMinimum flow weights', () => {
  it('price every set of recomputable nodes from below', () => {
    let checked = 0;
    fc.assert(
      fc.property(arbitraryGraph(), fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), (raw, pick) => {
        const graph = indexGraph(raw);
        const ancestry = new Ancestry(graph);
        for (let node = 0; node < graph.size; node++) {
          const network = closureNetwork(ancestry, firstComputation(ancestry, node));
          const none = closureMinimum(network, graph, () => true);
          const allowed = (member: number) => pick[member] === true;
          const some = closureMinimum(network, graph, (member) => !allowed(member));
          let credit = 0;
          for (const [member, weight] of none.blocked) if (allowed(member)) credit += weight;
          expect(some.bytes).toBeGreaterThanOrEqual(none.bytes - credit - 1e-9);
          checked++;
        }
      }),
      { numRuns: 200, seed: 20261202 },
    );
    expect(checked).toBeGreaterThan(500);
  });
});

describe('closureBound', () => {
  it('never exceeds the exhaustive optimum, claims infeasible only when nothing fits, and beats the covering bound', async () => {
    const cases = fc.sample(fc.tuple(arbitraryGraph(), fc.integer({ min: 0, max: 6 })), { numRuns: 400, seed: 20261203 });
    let tighter = 0;
    let proofs = 0;
    let raised = 0;
    for (const [raw, step] of cases) {
      const graph = indexGraph(raw);
      const peak = noRematPeak(graph);
      const floor = peakFloor(graph);
      const budget = Math.floor(floor + ((peak - floor) * step) / 8);
      const optimum = exhaustiveOptimum(graph, budget);
      const bound = await closureBound(graph, budget, { timeLimitSeconds: 60, maxRounds: 30 });
      expect(bound).toBeDefined();
      if (bound!.infeasible) {
        proofs++;
        expect(optimum).toBe(Infinity);
        continue;
      }
      expect(bound!.makespan).toBeGreaterThanOrEqual(graph.baseCost);
      if (optimum !== Infinity) expect(bound!.makespan).toBeLessThanOrEqual(optimum + 1e-9);
      // The costs are integers, so the bound rounded up (bounds/integral.ts) holds too.
      const rounded = roundBoundUp(graph, undefined, bound!.makespan);
      if (optimum !== Infinity) expect(rounded).toBeLessThanOrEqual(optimum);
      if (rounded > bound!.makespan + 1e-6) raised++;
      const rows = coveringRows(graph, budget)!;
      const covering = rows.length ? ((await coveringBound(graph, rows, { timeLimitSeconds: 60 })) ?? graph.baseCost) : graph.baseCost;
      if (bound!.exact) expect(bound!.makespan).toBeGreaterThanOrEqual(covering - 1e-6 * graph.baseCost);
      if (bound!.makespan > covering + 1e-6 * graph.baseCost) tighter++;
    }
    // The property must bite: strictly tighter than the covering bound on some graphs, and some proofs.
    expect(tighter).toBeGreaterThan(5);
    expect(proofs).toBeGreaterThan(0);
    expect(raised).toBeGreaterThan(0);
  });
});

describe('closureBound on a model without variables', () => {
  it('proves that nothing fits when a row no recomputation can meet asks for bytes', async () => {
    // n0 is an input (not recomputable) that n3 reads last; at n2's first computation the
    // device holds n2, its input n1 and n0: 4 + 43 + 37 + 47 = 131 bytes, one over the budget.
    const graph = indexGraph({
      residentBytes: 4,
      nodes: [
        { id: 'n0', kind: 'input', inputs: [], bytes: 47, cost: 15 },
        { id: 'n1', kind: 'forward', inputs: ['n0'], bytes: 37, cost: 15 },
        { id: 'n2', kind: 'forward', inputs: ['n1'], bytes: 43, cost: 7 },
        { id: 'n3', kind: 'forward', inputs: ['n0', 'n2'], bytes: 36, cost: 2 },
      ],
    });
    expect(graph.recomputable[0]).toBe(false);
    expect(exhaustiveOptimum(graph, 130)).toBe(Infinity);
    expect(exhaustiveOptimum(graph, 131)).toBe(graph.baseCost);
    // Before, the model without variables counted as solved at the empty R: baseCost.
    expect((await closureBound(graph, 130, { timeLimitSeconds: 10 }))!.infeasible).toBe(true);
    const fits = await closureBound(graph, 131, { timeLimitSeconds: 10 });
    expect(fits!.infeasible).toBe(false);
    expect(fits!.makespan).toBe(graph.baseCost);
  });
});

describe('startClosureBound', () => {
  it('computes the closure bound on its own thread, with intervals: the plain bound first, then at least it', async () => {
    const graph = indexGraph(transformer({ layers: 2 }));
    const budget = Math.floor(0.6 * noRematPeak(graph));
    // A few seconds each: the rounds with intervals run until they stall or the time is up,
    // and the slow tests beside this one share the cores.
    const pending = startClosureBound(graph, budget, { timeLimitSeconds: 4, splitCount: CLOSURE_SPLITS });
    expect(pending.thread).toBe('worker');
    const remote = await pending.result;
    const here = await closureBound(graph, budget, { timeLimitSeconds: 60 });
    expect(pending.thread).toBe('worker');
    expect(remote).toBeDefined();
    expect(remote!.makespan).toBeGreaterThan(graph.baseCost);
    // The plain bound came first, as progress, once the plain rows were met: a dual bound
    // of the plain model, so at most its optimum (here, within the rounds' gap), and the
    // result is at least it. Both stay below every schedule (the property tests above).
    expect(here!.exact).toBe(true);
    expect(pending.plain).toBeDefined();
    expect(pending.plain!.makespan).toBeGreaterThan(graph.baseCost);
    expect(pending.plain!.makespan).toBeLessThanOrEqual(here!.makespan * (1 + 1e-2));
    expect(remote!.makespan).toBeGreaterThanOrEqual(pending.plain!.makespan);
    expect(pending.settled?.value).toEqual(remote);
  });

  it("sends each round's recomputed set before the plain bound as a guide, when it changes: the last one is the plain bound's", async () => {
    const graph = indexGraph(transformer({ layers: 2 }));
    const budget = Math.floor(0.6 * noRematPeak(graph));
    // Here, the sets of every round, and the last is the result's.
    const rounds: number[][] = [];
    const here = await closureBound(graph, budget, { timeLimitSeconds: 60, onRound: (_, recompute) => rounds.push([...recompute]) });
    expect(rounds.length).toBe(here!.rounds);
    expect(rounds.at(-1)).toEqual(here!.recompute);
    // On the bound's thread, with intervals after the plain rows: the guides as they come in.
    const pending = startClosureBound(graph, budget, { timeLimitSeconds: 4, splitCount: CLOSURE_SPLITS });
    const guides: number[][] = [];
    let done = false;
    const watch = async () => {
      while (!done) {
        await Promise.race([pending.nextGuide(), pending.result]);
        if (pending.guides > guides.length) guides.push([...pending.guide!]);
      }
    };
    const watching = watch();
    await pending.result;
    done = true;
    await watching;
    expect(pending.plain).toBeDefined();
    expect(guides.length).toBeGreaterThan(0);
    expect(guides.length).toBe(pending.guides);
    for (let at = 1; at < guides.length; at++) expect(guides[at]).not.toEqual(guides[at - 1]);
    for (const guide of guides) for (const node of guide) expect(graph.recomputable[node]).toBeTruthy();
    expect(guides.at(-1)).toEqual(pending.plain!.recompute);
  });

  it('with split sets, gives the strongest of their bounds: below the exhaustive optimum, above the plain bound near the floor', async () => {
    const setsAlone = async (graph: IndexedGraph, budget: number) => {
      const each = [];
      for (const splitFractions of CLOSURE_SMALL_SPLITS)
        each.push(await closureBound(graph, budget, { timeLimitSeconds: 60, splitFractions, capIntervals: false, resolve: true }));
      return each;
    };
    // A chain small enough for the exhaustive optimum (where these splits do not bite), and a
    // two-layer transformer near its floor (where they do, one set or the other).
    const small = indexGraph(chain(6, { bytes: (layer) => (layer < 0 ? 10 : 100), cost: (layer) => 10 + layer }));
    const wide = indexGraph(transformer({ layers: 2 }));
    let above = 0;
    let checked = 0;
    for (const [graph, steps] of [
      [small, [1, 2, 3, 4]],
      [wide, [1, 2]],
    ] as const) {
      const floor = peakFloor(graph);
      for (const step of steps) {
        const budget = Math.floor(floor + ((noRematPeak(graph) - floor) * step) / 10);
        const pending = startClosureBound(graph, budget, { timeLimitSeconds: 60, splitSets: CLOSURE_SMALL_SPLITS });
        expect(pending.thread).toBe('worker');
        const remote = await pending.result;
        const each = await setsAlone(graph, budget);
        const plain = await closureBound(graph, budget, { timeLimitSeconds: 60 });
        expect(remote!.infeasible).toBe(false);
        expect(remote!.makespan).toBeCloseTo(Math.max(...each.map((bound) => bound!.makespan)), 6);
        expect(remote!.makespan).toBeGreaterThanOrEqual(plain!.makespan - 1e-9);
        if (graph === small) expect(remote!.makespan).toBeLessThanOrEqual(exhaustiveOptimum(graph, budget) + 1e-9);
        if (remote!.makespan > plain!.makespan + 1e-6 * graph.baseCost) above++;
        checked++;
      }
    }
    expect(checked).toBe(6);
    expect(above).toBeGreaterThan(0);
  });

  it('serves the next bound on the same thread (no thread started per bound)', async () => {
    const graph = indexGraph(transformer({ layers: 2 }));
    const peak = noRematPeak(graph);
    await startClosureBound(graph, Math.floor(0.7 * peak), { timeLimitSeconds: 60 }).result;
    const before = boundThreadStats();
    const results = [];
    for (const fraction of [0.6, 0.65, 0.75]) {
      const pending = startClosureBound(graph, Math.floor(fraction * peak), { timeLimitSeconds: 60 });
      results.push(await pending.result);
    }
    for (const result of results) expect(result?.makespan).toBeGreaterThanOrEqual(graph.baseCost);
    expect(boundThreadStats().spawned).toBe(before.spawned);
    expect(boundThreadStats().threads).toBe(1);
  });

  it('answers at once when asked to stop, with a valid bound or none', async () => {
    const graph = indexGraph(transformer({ layers: 2 }));
    const budget = Math.floor(0.6 * noRematPeak(graph));
    const pending = startClosureBound(graph, budget, { timeLimitSeconds: 60 });
    pending.stop();
    const result = await pending.result;
    const here = await closureBound(graph, budget, { timeLimitSeconds: 60 });
    if (result) expect(result.makespan).toBeLessThanOrEqual(here!.makespan * (1 + 1e-3));
  });

  it('solves its last model again with all the time left when that round stopped at its slice', async () => {
    const graph = indexGraph(transformer({ layers: 2 }));
    const budget = Math.floor(0.6 * noRematPeak(graph));
    const exact = await closureBound(graph, budget, { timeLimitSeconds: 60 });
    expect(exact!.exact).toBe(true);
    expect(exact!.makespan).toBeGreaterThan(graph.baseCost);
    // A backend whose round-sized solves (a share of the time) stop at their limit with the
    // right solution but half the dual bound; a solve given most of the time is left alone.
    const real = highsBackend();
    const limits: number[] = [];
    const slow: MilpBackend = {
      name: 'slow',
      version: real.version,
      async solve(model, options) {
        limits.push(options.timeLimitSeconds);
        const result = await real.solve(model, options);
        if (options.timeLimitSeconds > 40 || result.bound === undefined) return result;
        return { ...result, stop: 'timeLimit', optimal: false, bound: result.bound / 2 };
      },
    };
    // Without `resolve` (the bound before the search) the last slice's bound stands.
    const plain = await closureBound(graph, budget, { timeLimitSeconds: 60, backend: slow });
    expect(plain!.exact).toBe(false);
    expect(plain!.makespan).toBeLessThan(exact!.makespan);
    expect(Math.max(...limits)).toBeLessThan(40);
    limits.length = 0;
    const resolved = await closureBound(graph, budget, { timeLimitSeconds: 60, backend: slow, resolve: true });
    // The rounds got slices, then the same model got the rest: the bound is the exact one.
    expect(limits[0]).toBeLessThan(40);
    expect(limits.at(-1)).toBeGreaterThan(40);
    expect(resolved!.exact).toBe(true);
    expect(resolved!.makespan).toBeCloseTo(exact!.makespan, -1);
  });
});
