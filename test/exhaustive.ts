// The exhaustive search the Checkmate formulation is checked against, written here
// independently of it: Dijkstra on compute cost over (frontier, device set) states of
// every legal schedule whose first computations follow node order (the contract's
// frontier rule), with any recomputation and free in between.
import { chain } from '../fixtures/generators.js';
import { peakFloor } from '../solver/graph/analysis.js';
import type { Graph } from '../solver/graph/schema.js';
import type { IndexedGraph } from '../solver/graph/validate.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { TupleHeap } from './helpers.js';

/** The cheapest compute cost of any legal schedule within the budget (Infinity when none), by exhaustive search. */
export function exhaustiveOptimum(graph: IndexedGraph, budgetBytes: number): number {
  const size = graph.size;
  if (size > 24) throw new Error('exhaustive search: at most 24 nodes');
  const capacity = budgetBytes - graph.residentBytes;
  let keepMask = 0;
  for (let node = 0; node < size; node++) if (graph.keep[node]) keepMask |= 1 << node;
  const needs = graph.inputs.map((inputs) => inputs.reduce((mask, input) => mask | (1 << input), 0));
  const states = 2 ** size;
  const best = new Map<number, number>();
  const heap = new TupleHeap<[number, number]>();
  const push = (cost: number, key: number) => heap.push([cost, key]);
  const pop = () => heap.pop();
  const reach = (cost: number, frontier: number, device: number) => {
    const key = frontier * states + device;
    const known = best.get(key);
    if (known !== undefined && known <= cost) return;
    best.set(key, cost);
    push(cost, key);
  };
  reach(0, 0, 0);
  while (heap.size) {
    const [cost, key] = pop();
    if (best.get(key)! < cost) continue;
    const frontier = Math.floor(key / states);
    const device = key % states;
    if (frontier === size && (device & keepMask) === keepMask) return cost;
    let live = 0;
    for (let node = 0; node < size; node++) if (device & (1 << node)) live += graph.bytes[node];
    for (let node = 0; node < size && node <= frontier; node++) {
      const bit = 1 << node;
      if (device & bit) {
        reach(cost, frontier, device & ~bit);
        continue;
      }
      if (node === size) break;
      if (node < frontier && !graph.recomputable[node]) continue;
      if ((device & needs[node]) !== needs[node]) continue;
      if (live + graph.bytes[node] + graph.workspace[node] > capacity) continue;
      reach(cost + graph.cost[node], node === frontier ? frontier + 1 : frontier, device | bit);
    }
  }
  return Infinity;
}

/** Budgets worth checking: fractions of the no-remat peak at or above the floor, distinct. */
export function budgetsOf(graph: IndexedGraph, fractions: readonly number[]): number[] {
  const peak = noRematPeak(graph);
  const floor = peakFloor(graph);
  return [...new Set(fractions.map((fraction) => Math.max(floor, Math.floor(fraction * peak))))];
}

/** A chain with varied bytes and costs. */
export const varied = (layers: number): Graph =>
  chain(layers, { bytes: (layer) => 60 + ((layer * 53) % 90), cost: (layer) => 3 + ((layer * 7) % 13) });
