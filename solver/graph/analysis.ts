// Analyses of a validated graph: last uses, the no-remat schedule and peak, the proven
// floor on any schedule's peak, and articulation points of the forward part.
import { simulateIndexed, type IndexedStep } from '../schedule/simulate.js';
import type { IndexedGraph } from './validate.js';

/** Index of the last user of each node, or -1 when it has none. */
export function lastUses(graph: IndexedGraph): number[] {
  return graph.users.map((users) => (users.length ? users[users.length - 1] : -1));
}

/**
 * The checkpoint-all schedule: every node once in order, each value freed right after
 * its last use (keep nodes never; a value with no user right after it is computed).
 */
export function noRematSteps(graph: IndexedGraph): IndexedStep[] {
  const last = lastUses(graph);
  const freeAfter: number[][] = Array.from({ length: graph.size }, () => []);
  for (let node = 0; node < graph.size; node++) {
    if (graph.keep[node]) continue;
    freeAfter[last[node] === -1 ? node : last[node]].push(node);
  }
  const steps: IndexedStep[] = [];
  for (let node = 0; node < graph.size; node++) {
    steps.push({ op: 'compute', node });
    for (const dead of freeAfter[node]) steps.push({ op: 'free', node: dead });
  }
  return steps;
}

/** Peak bytes of the no-remat schedule (residentBytes included). */
export function noRematPeak(graph: IndexedGraph): number {
  const replay = simulateIndexed(graph, noRematSteps(graph));
  if (!replay.ok) throw new Error(`no-remat schedule is illegal: ${replay.error.message}`);
  return replay.figures.peakBytes;
}

/**
 * A proven lower bound on the peak of any legal schedule (residentBytes included):
 * - computing v needs v, its inputs and its workspace at once;
 * - at the last step that puts a keep node on the device, every keep node is there
 *   (each is on the device at the end and is not added again later), plus, when that
 *   step is a compute, the node's non-keep inputs and its workspace. With swaps allowed
 *   that step may be a swapIn, which needs nothing more.
 */
export function peakFloor(graph: IndexedGraph, options: { swaps?: boolean } = {}): number {
  let single = 0;
  let keepSum = 0;
  for (let node = 0; node < graph.size; node++) {
    let need = graph.bytes[node] + graph.workspace[node];
    for (const input of graph.inputs[node]) need += graph.bytes[input];
    if (need > single) single = need;
    if (graph.keep[node]) keepSum += graph.bytes[node];
  }
  let keepFloor = keepSum;
  if (keepSum > 0 && !options.swaps) {
    let cheapestLast = Infinity;
    for (let node = 0; node < graph.size; node++) {
      if (!graph.keep[node]) continue;
      let extra = graph.workspace[node];
      for (const input of graph.inputs[node]) if (!graph.keep[input]) extra += graph.bytes[input];
      if (extra < cheapestLast) cheapestLast = extra;
    }
    keepFloor += cheapestLast;
  }
  return graph.residentBytes + Math.max(single, keepFloor);
}

/** Nodes of kind "forward", in execution order. */
export function forwardNodes(graph: IndexedGraph): number[] {
  const out: number[] = [];
  for (let node = 0; node < graph.size; node++) if (graph.kind[node] === 'forward') out.push(node);
  return out;
}

/**
 * Articulation points of the forward part in execution order: forward nodes v such that
 * no forward edge jumps over v (from a node before v to a node after it). Every forward
 * path from before v to after v then passes through v, so keeping v alone separates the
 * recomputation of what comes after it from what came before. On a chain: every node.
 */
export function articulationPoints(graph: IndexedGraph): number[] {
  const forward = forwardNodes(graph);
  const isForward = new Uint8Array(graph.size);
  for (const node of forward) isForward[node] = 1;
  const points: number[] = [];
  let reach = -1;
  for (const node of forward) {
    if (reach <= node) points.push(node);
    for (const user of graph.users[node]) if (isForward[user] && user > reach) reach = user;
  }
  return points;
}

/** A graph's statistics before planning (POST /v1/analyze, the CLI's header). */
export interface GraphStats {
  nodes: number;
  edges: number;
  forwardNodes: number;
  baseCost: number;
  residentBytes: number;
  keepBytes: number;
  noRematPeakBytes: number;
  floorBytes: number;
  floorWithSwapsBytes: number;
  articulationPoints: number;
}

/** Computes GraphStats. */
export function graphStats(graph: IndexedGraph): GraphStats {
  let keepBytes = 0;
  for (let node = 0; node < graph.size; node++) if (graph.keep[node]) keepBytes += graph.bytes[node];
  return {
    nodes: graph.size,
    edges: graph.edgeCount,
    forwardNodes: forwardNodes(graph).length,
    baseCost: graph.baseCost,
    residentBytes: graph.residentBytes,
    keepBytes,
    noRematPeakBytes: noRematPeak(graph),
    floorBytes: peakFloor(graph),
    floorWithSwapsBytes: peakFloor(graph, { swaps: true }),
    articulationPoints: articulationPoints(graph).length,
  };
}
