// Analyses of a validated graph: last uses, the proven floor on any schedule's peak, and
// articulation points of the forward part. What needs the simulator (the no-remat
// schedule and its peak, the graph's statistics) is in solver/schedule/.
import type { IndexedGraph } from './validate.js';

/** Index of the last user of each node, or -1 when it has none. */
export function lastUses(graph: IndexedGraph): number[] {
  return graph.users.map((users) => (users.length ? users[users.length - 1] : -1));
}

/**
 * A proven lower bound on the peak of any legal schedule (residentBytes included):
 * - computing v needs v, its inputs and its workspace at once;
 * - at the last step that puts a keep node on the device, every keep node is there
 *   (each is on the device at the end and is not added again later), plus, when that
 *   step is a compute, the node's non-keep inputs and its workspace. With swaps allowed
 *   that step may be a swapIn, which needs nothing more.
 * With node options each term takes the cheapest way the contract allows: the smallest
 * workspace among v's implementations, each input as its smallest form v reads (the value
 * or an encoding listing v among its readers), and a keep node put back by a decode,
 * which needs only its encoded form beside it.
 */
export function peakFloor(graph: IndexedGraph, options: { swaps?: boolean } = {}): number {
  let single = 0;
  let keepSum = 0;
  for (let node = 0; node < graph.size; node++) {
    let need = graph.bytes[node] + smallestWorkspace(graph, node);
    for (const input of graph.inputs[node]) need += smallestRead(graph, input, node);
    if (need > single) single = need;
    if (graph.keep[node]) keepSum += graph.bytes[node];
  }
  let keepFloor = keepSum;
  if (keepSum > 0 && !options.swaps) {
    let cheapestLast = Infinity;
    for (let node = 0; node < graph.size; node++) {
      if (!graph.keep[node]) continue;
      let extra = smallestWorkspace(graph, node);
      for (const input of graph.inputs[node]) if (!graph.keep[input]) extra += smallestRead(graph, input, node);
      for (const encoding of graph.encodings[node]) if (encoding.decodeCost !== undefined) extra = Math.min(extra, encoding.bytes);
      if (extra < cheapestLast) cheapestLast = extra;
    }
    keepFloor += cheapestLast;
  }
  return graph.residentBytes + Math.max(single, keepFloor);
}

/** The smallest workspace of any implementation of a node. */
function smallestWorkspace(graph: IndexedGraph, node: number): number {
  let workspace = graph.workspace[node];
  for (const alternative of graph.alternatives[node]) workspace = Math.min(workspace, alternative.workspace);
  return workspace;
}

/** The smallest form of `input` a compute of `user` can read: the value, or an encoding that lists the user as a reader. */
function smallestRead(graph: IndexedGraph, input: number, user: number): number {
  let bytes = graph.bytes[input];
  for (const encoding of graph.encodings[input]) if (encoding.readers.includes(user)) bytes = Math.min(bytes, encoding.bytes);
  return bytes;
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

/**
 * The least a computation of `node` holds on the device besides its workspace: the
 * resident bytes, its output, and each input at the least of its bytes and those of the
 * encodings the node may read instead.
 */
export function leastHeldWhileComputing(graph: IndexedGraph, node: number): number {
  let held = graph.residentBytes + graph.bytes[node];
  for (const input of new Set(graph.inputs[node])) {
    const readable = graph.encodings[input].filter((form) => form.readers.includes(node)).map((form) => form.bytes);
    held += Math.min(graph.bytes[input], ...readable);
  }
  return held;
}

/** The cost and workspace of a node's implementation: its own (-1) or its alternative at that index. */
export function implementationOf(graph: IndexedGraph, node: number, implementation: number): { cost: number; workspace: number } {
  return implementation < 0 ? { cost: graph.cost[node], workspace: graph.workspace[node] } : graph.alternatives[node][implementation];
}

/**
 * The implementations of `node` a plan within `budgetBytes` can run, as indices (-1 its own):
 * those whose workspace fits beside leastHeldWhileComputing. Empty when none does.
 */
export function fittingImplementations(graph: IndexedGraph, node: number, budgetBytes: number): number[] {
  const room = budgetBytes - leastHeldWhileComputing(graph, node);
  const fitting = graph.workspace[node] <= room ? [-1] : [];
  graph.alternatives[node].forEach((alternative, index) => {
    if (alternative.workspace <= room) fitting.push(index);
  });
  return fitting;
}
