// Schedules and orders of first computations: which order a schedule computes nodes in
// for the first time, and the graph relisted in another topological order (so that
// Checkmate's class, whose first computations follow the listing, becomes that order's class).
import { type IndexedGraph, indexGraph } from '../graph/validate.js';
import type { IndexedStep } from './simulate.js';

/** The nodes of a schedule in the order of their first computations. */
export function firstComputations(steps: readonly IndexedStep[]): number[] {
  const seen = new Set<number>();
  const order: number[] = [];
  for (const step of steps) {
    if (step.op !== 'compute' || seen.has(step.node)) continue;
    seen.add(step.node);
    order.push(step.node);
  }
  return order;
}

/** True when a schedule computes nodes for the first time in the listed order. */
export function inListedOrder(steps: readonly IndexedStep[]): boolean {
  return firstComputations(steps).every((node, at) => node === at);
}

/**
 * The graph with its nodes listed in `order` (a topological order), so that Checkmate's
 * class, whose first computations follow the listing, becomes the class of that order.
 * `toOriginal` maps a schedule of the reordered graph back; `fromOriginal` the other way.
 */
export function reorderedGraph(
  graph: IndexedGraph,
  order: readonly number[],
): {
  graph: IndexedGraph;
  toOriginal: (steps: readonly IndexedStep[]) => IndexedStep[];
  fromOriginal: (steps: readonly IndexedStep[]) => IndexedStep[];
} {
  const position = new Int32Array(graph.size);
  order.forEach((node, at) => {
    position[node] = at;
  });
  const reordered = indexGraph({ ...graph.graph, nodes: order.map((node) => graph.graph.nodes[node]) }, { maxNodes: graph.size });
  return {
    graph: reordered,
    toOriginal: (steps) => steps.map((step) => ({ ...step, node: order[step.node] })),
    fromOriginal: (steps) => steps.map((step) => ({ ...step, node: position[step.node] })),
  };
}

/**
 * The order an exact MILP should follow: the listed one (undefined), unless the best plan
 * so far computes nodes first in another order and beats every plan in the listed order
 * (the scale search's reorderings on graphs listed level by level, as Moccasin's are).
 * Then Checkmate's class in that plan's order holds a plan at least as good, and the MILP
 * searches there, warm-started from it.
 */
export function betterOrder(
  graph: IndexedGraph,
  best: { steps: readonly IndexedStep[]; makespan: number } | null,
  inOrder: { makespan: number } | null,
): number[] | undefined {
  if (!best || (inOrder && inOrder.makespan <= best.makespan)) return undefined;
  const order = firstComputations(best.steps);
  if (order.length !== graph.size || order.every((node, at) => node === at)) return undefined;
  return order;
}
