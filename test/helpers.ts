// Shared test helpers: every plan a test sees is checked by replaying its schedule in the
// simulator, never by trusting the strategy's own figures.
import fc from 'fast-check';
import { expect } from 'vitest';
import { peakFloor } from '../solver/graph/analysis.js';
import type { Graph } from '../solver/graph/schema.js';
import { type IndexedGraph, indexGraph } from '../solver/graph/validate.js';
import type { Plan } from '../solver/plan-schema.js';
import { PlanSchema } from '../solver/plan-schema.js';
import { greedySequence } from '../solver/scale/greedy.js';
import { profileOf } from '../solver/scale/sequence.js';
import { simulate, type ReplayOk } from '../solver/schedule/simulate.js';
import type { Transfer } from '../solver/schedule/types.js';

/** What checkPlan found, for callers that check more. */
export interface CheckedPlan {
  plan: Plan;
  /** The replay of a plan with a schedule; undefined for an infeasible plan. */
  replay?: ReplayOk;
}

/**
 * Asserts a plan is sound: it matches the Plan schema; a plan with a schedule replays
 * legally, fits its budget, its predicted figures equal the replay exactly, its bound is
 * at most its makespan and its peak is not below the proven floor; an infeasible plan
 * says why (a smallest peak or a message). A status of error always fails.
 */
export function checkPlan(graph: IndexedGraph, plan: Plan, transfer?: Transfer): CheckedPlan {
  const label = `${plan.strategy} on ${graph.graph.name ?? '(graph)'} at ${plan.budgetBytes} bytes`;
  expect(PlanSchema.safeParse(plan).success, `${label}: matches PlanSchema`).toBe(true);
  expect(plan.status, `${label}: ${plan.message ?? ''}`).not.toBe('error');
  if (plan.status === 'infeasible') {
    expect(plan.predicted, `${label}: infeasible plans predict nothing`).toBeUndefined();
    expect(plan.schedule, `${label}: infeasible plans have no schedule`).toEqual([]);
    const says = plan.smallestPeakBytes !== undefined || (plan.message ?? '').length > 0;
    expect(says, `${label}: infeasible says why`).toBe(true);
    if (plan.smallestPeakBytes !== undefined) {
      // The smallest peak reached is a peak of some legal schedule, so it cannot be below the floor.
      expect(plan.smallestPeakBytes, `${label}: smallest peak vs floor`).toBeGreaterThanOrEqual(
        peakFloor(graph, { swaps: transfer !== undefined }),
      );
    }
    return { plan };
  }
  const replay = simulate(graph, plan.schedule, { transfer });
  if (!replay.ok) throw new Error(`${label}: schedule replays illegally at step ${replay.step}: ${replay.error.message}`);
  expect(plan.predicted, `${label}: predicted figures equal the replay`).toEqual(replay.figures);
  expect(replay.figures.peakBytes, `${label}: peak within budget`).toBeLessThanOrEqual(plan.budgetBytes);
  expect(replay.figures.peakBytes, `${label}: peak not below the floor`).toBeGreaterThanOrEqual(
    peakFloor(graph, { swaps: transfer !== undefined }),
  );
  expect(plan.bound, `${label}: has a bound`).toBeDefined();
  expect(plan.bound!.makespan, `${label}: bound <= makespan`).toBeLessThanOrEqual(replay.figures.makespan);
  // A plan that computes every node once in another order sums the same costs in another
  // order, so its float makespan may sit one rounding step below baseCost.
  expect(plan.bound!.makespan, `${label}: baseCost is a bound`).toBeGreaterThanOrEqual(graph.baseCost * (1 - 1e-12));
  const expectedGap = replay.figures.makespan > 0 ? (replay.figures.makespan - plan.bound!.makespan) / replay.figures.makespan : 0;
  expect(plan.bound!.gap, `${label}: gap`).toBeCloseTo(expectedGap, 12);
  // Per-node annotations are the replay's counts.
  expect(
    plan.nodes.map((node) => node.id),
    `${label}: node annotations`,
  ).toEqual(graph.ids);
  plan.nodes.forEach((node, position) => {
    const { id, ...counts } = node;
    expect(counts, `${label}: counts of ${id}`).toEqual(replay.counts[position]);
  });
  return { plan, replay };
}

/** The four budget fractions of the conformance suite. */
export const FRACTIONS = [1, 0.8, 0.6, 0.4] as const;

/**
 * The exact smallest peak of any legal schedule of a tiny graph (residentBytes included),
 * by exhaustive search over (device, host, computed) states, minimizing the largest
 * memory along the way (a bottleneck shortest path). With `swaps`, swapOut and swapIn
 * steps are allowed too. Only for graphs of up to about 8 nodes.
 */
export function minimumPeak(graph: IndexedGraph, options: { swaps?: boolean } = {}): number {
  const size = graph.size;
  if (size > 14) throw new Error('minimumPeak is exhaustive: at most 14 nodes');
  const all = (1 << size) - 1;
  let keepMask = 0;
  const inputMask: number[] = [];
  for (let node = 0; node < size; node++) {
    if (graph.keep[node]) keepMask |= 1 << node;
    inputMask.push(graph.inputs[node].reduce((mask, input) => mask | (1 << input), 0));
  }
  const liveBytes = (device: number) => {
    let sum = 0;
    for (let node = 0; node < size; node++) if (device & (1 << node)) sum += graph.bytes[node];
    return sum;
  };
  // State key: device | host << size | computed << 2 size (fits in 30 bits).
  const key = (device: number, host: number, computed: number) => device + host * 2 ** size + computed * 4 ** size;
  const best = new Map<number, number>();
  // A binary heap of [peak, device, host, computed].
  const heap: [number, number, number, number][] = [];
  const push = (item: [number, number, number, number]) => {
    heap.push(item);
    let at = heap.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heap[parent][0] <= heap[at][0]) break;
      [heap[parent], heap[at]] = [heap[at], heap[parent]];
      at = parent;
    }
  };
  const pop = () => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      let at = 0;
      for (;;) {
        const left = 2 * at + 1;
        const right = left + 1;
        let smallest = at;
        if (left < heap.length && heap[left][0] < heap[smallest][0]) smallest = left;
        if (right < heap.length && heap[right][0] < heap[smallest][0]) smallest = right;
        if (smallest === at) break;
        [heap[smallest], heap[at]] = [heap[at], heap[smallest]];
        at = smallest;
      }
    }
    return top;
  };
  const relax = (peak: number, device: number, host: number, computed: number) => {
    const stateKey = key(device, host, computed);
    const known = best.get(stateKey);
    if (known !== undefined && known <= peak) return;
    best.set(stateKey, peak);
    push([peak, device, host, computed]);
  };
  relax(0, 0, 0, 0);
  while (heap.length) {
    const [peak, device, host, computed] = pop();
    if (best.get(key(device, host, computed))! < peak) continue;
    if (computed === all && (device & keepMask) === keepMask) return graph.residentBytes + peak;
    const live = liveBytes(device);
    for (let node = 0; node < size; node++) {
      const bit = 1 << node;
      if (device & bit) {
        relax(peak, device & ~bit, host, computed);
        if (options.swaps && !(host & bit)) relax(peak, device, host | bit, computed);
      } else {
        const mayCompute = (device & inputMask[node]) === inputMask[node] && (!(computed & bit) || graph.recomputable[node]);
        if (mayCompute) relax(Math.max(peak, live + graph.bytes[node] + graph.workspace[node]), device | bit, host, computed | bit);
        if (options.swaps && host & bit) relax(Math.max(peak, live + graph.bytes[node]), device | bit, host, computed);
      }
    }
  }
  throw new Error('no legal schedule exists');
}

/** A binary min-heap of tuples ordered by their first element: the exhaustive searches' Dijkstra queue. */
export class TupleHeap<T extends readonly number[]> {
  private readonly items: T[] = [];

  /** Number of queued tuples. */
  get size(): number {
    return this.items.length;
  }

  /** Queues a tuple. */
  push(item: T): void {
    const heap = this.items;
    heap.push(item);
    for (let at = heap.length - 1; at > 0; ) {
      const parent = (at - 1) >> 1;
      if (heap[parent][0] <= heap[at][0]) break;
      [heap[parent], heap[at]] = [heap[at], heap[parent]];
      at = parent;
    }
  }

  /** Removes and returns the tuple with the smallest first element. */
  pop(): T {
    const heap = this.items;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let at = 0; ; ) {
        const left = 2 * at + 1;
        let smallest = at;
        if (left < heap.length && heap[left][0] < heap[smallest][0]) smallest = left;
        if (left + 1 < heap.length && heap[left + 1][0] < heap[smallest][0]) smallest = left + 1;
        if (smallest === at) break;
        [heap[smallest], heap[at]] = [heap[at], heap[smallest]];
        at = smallest;
      }
    }
    return top;
  }
}

/** Least total compute cost of any legal remat schedule within `budget` (residentBytes included); Infinity when none. */
export function exhaustiveOptimum(graph: IndexedGraph, budget: number): number {
  const size = graph.size;
  const available = budget - graph.residentBytes;
  const all = (1 << size) - 1;
  let keepMask = 0;
  for (let node = 0; node < size; node++) if (graph.keep[node]) keepMask |= 1 << node;
  const inputMask = graph.inputs.map((inputs) => inputs.reduce((mask, input) => mask | (1 << input), 0));
  const dist = new Map<number, number>();
  const heap = new TupleHeap<[number, number, number]>();
  const push = (item: [number, number, number]) => heap.push(item);
  const pop = () => heap.pop();
  const relax = (cost: number, device: number, computed: number) => {
    const key = device * 2 ** size + computed;
    const known = dist.get(key);
    if (known !== undefined && known <= cost) return;
    dist.set(key, cost);
    push([cost, device, computed]);
  };
  relax(0, 0, 0);
  while (heap.size) {
    const [cost, device, computed] = pop();
    if (dist.get(device * 2 ** size + computed)! < cost) continue;
    if (computed === all && (device & keepMask) === keepMask) return cost;
    let live = 0;
    for (let node = 0; node < size; node++) if (device & (1 << node)) live += graph.bytes[node];
    for (let node = 0; node < size; node++) {
      const bit = 1 << node;
      if (device & bit) relax(cost, device & ~bit, computed);
      else if ((device & inputMask[node]) === inputMask[node] && (!(computed & bit) || graph.recomputable[node])) {
        if (live + graph.bytes[node] + graph.workspace[node] <= available) relax(cost + graph.cost[node], device | bit, computed | bit);
      }
    }
  }
  return Infinity;
}

/** A random DAG of `size` nodes (seeded by fast-check's draws): sizes, costs, keep, workspace. */
export function arbitraryGraph(): fc.Arbitrary<Graph> {
  return fc.integer({ min: 3, max: 8 }).chain((size) =>
    fc
      .record({
        edges: fc.array(fc.array(fc.boolean(), { minLength: size, maxLength: size }), { minLength: size, maxLength: size }),
        bytes: fc.array(fc.integer({ min: 1, max: 60 }), { minLength: size, maxLength: size }),
        cost: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: size, maxLength: size }),
        workspace: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: size, maxLength: size }),
        keep: fc.array(fc.boolean(), { minLength: size, maxLength: size }),
        resident: fc.integer({ min: 0, max: 30 }),
      })
      .map(({ edges, bytes, cost, workspace, keep, resident }) => ({
        residentBytes: resident,
        nodes: Array.from({ length: size }, (_, node) => ({
          id: `n${node}`,
          kind: node === 0 ? ('input' as const) : ('forward' as const),
          // Inputs only from earlier nodes; every non-first node reads at least its predecessor half the time.
          inputs: Array.from({ length: node }, (_, input) => input)
            .filter((input) => edges[node][input] || (input === node - 1 && edges[input][node]))
            .map((input) => `n${input}`),
          bytes: bytes[node],
          cost: cost[node],
          workspaceBytes: workspace[node] > 12 ? workspace[node] : 0,
          keep: keep[node] && node > size / 2,
        })),
      })),
  );
}

/** A random small graph with a budget and the greedy's plan within it: the start the local moves' tests improve. */
export interface GreedyStart {
  graph: IndexedGraph;
  budget: number;
  available: number;
  sequence: number[];
  cost: number;
}

/**
 * Random small graphs (`numRuns` drawn from `seed`), each at a budget between its least
 * peak and 1.5 times it, with the greedy's plan (alpha 1) where that fits.
 */
export function greedyStarts(seed: number, numRuns = 300): GreedyStart[] {
  const starts: GreedyStart[] = [];
  for (const [raw, share] of fc.sample(fc.tuple(arbitraryGraph(), fc.double({ min: 0, max: 1, noNaN: true })), { numRuns, seed })) {
    const graph = indexGraph(raw);
    const floor = minimumPeak(graph);
    if (!Number.isFinite(floor)) continue;
    const budget = Math.round(floor + share * (floor * 0.5));
    const available = budget - graph.residentBytes;
    const greedy = greedySequence(graph, available, { alpha: 1 });
    if (!greedy?.fits) continue;
    const profile = profileOf(graph, greedy.sequence);
    if (typeof profile === 'string' || profile.peak > available) continue;
    starts.push({ graph, budget, available, sequence: greedy.sequence, cost: profile.cost });
  }
  return starts;
}
