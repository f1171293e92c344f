// The closure argument at a last computation: what every legal remat-only schedule (no host
// link, any order) holds on the device when it computes, for the last time, any node of a
// set S of nodes that every schedule computes.
//
// Claim. Fix a remat-only schedule and a set S of nodes that every schedule computes (keep
// nodes and their ancestors). Let tau be the moment of the last computation of any node of
// S, and s the node computed then. Among the nodes other than s and its inputs, let
//   N = the keep nodes and the nodes read by a computation after tau;
//   E = the nodes absent at tau and computed after tau.
// Then:
//  (a) N holds every keep node;
//  (b) each node of N is on the device at tau or is in E;
//  (c) every input of a node of E is in N, or is s or an input of s;
//  (d) no node of S is in E;
//  (e) a node of E that is an ancestor of a node of S is computed more than once.
// Proof. (b) and (c) as in closure.ts. (d): tau is the last computation of a node of S.
// (e): every node of S is computed at or before tau, and its ancestors before it; the node
// is computed again after tau.
//
// So the device bytes at tau are at least forced(s) (ancestry.ts) plus the bytes of N \ E,
// for some N and E satisfying (a)-(e): the minimum cut of closure.ts with the nodes of S
// kept out of E. The schedule chooses s, so the floor of S is the least of these minimums
// over s in S. Why it bites: the first computation of a wide backward node (closure.ts) can
// leave every weight gradient for later, made again from the input; but once the last
// wide backward node is done, each keep node that depends on one is held, or made again
// only from gradients held then. On a captured ViT it raises the floor from 30.5 % to
// 38.2 % of the no-remat peak (the smallest peak found is 39.5 %).
//
// Which S: the nodes every schedule computes whose forced bytes are at least t, for each
// threshold t among their forced bytes while S has at most LAST_FLOOR_MAX_SET nodes
// (`lastComputationFloor` takes the largest floor).
import type { IndexedGraph } from '../graph/validate.js';
import { LAST_FLOOR_MAX_SET } from '../limits.js';
import { forcedBytes } from './ancestry.js';
import { buildClosureNetwork, type ClosureNetwork, closureMinimum, type RematFloor } from './closure.js';

/** The nodes every legal schedule computes: keep nodes and their ancestors (1 for each). */
export function computedByEvery(graph: IndexedGraph): Uint8Array {
  const must = new Uint8Array(graph.size);
  // Nodes are listed in a topological order: users come after their inputs.
  for (let node = graph.size - 1; node >= 0; node--) if (graph.keep[node] || graph.users[node].some((user) => must[user])) must[node] = 1;
  return must;
}

/** Marks in `ancestorOfS` (cleared first) every ancestor of a node of S; the listed order is topological. */
export function markAncestorsOfS(graph: IndexedGraph, inS: Uint8Array, ancestorOfS: Uint8Array): void {
  ancestorOfS.fill(0);
  for (let node = graph.size - 1; node >= 0; node--)
    if (inS[node] || ancestorOfS[node]) for (const input of graph.inputs[node]) ancestorOfS[input] = 1;
}

/** The keep nodes with bytes: the needed members at every last computation. */
function keepNodesOf(graph: IndexedGraph): number[] {
  const keep: number[] = [];
  for (let node = 0; node < graph.size; node++) if (graph.keep[node] && graph.bytes[node] > 0) keep.push(node);
  return keep;
}

/** The closure network at the last computation of a node of S, when that node is `node`. */
export function lastComputationNetwork(
  graph: IndexedGraph,
  node: number,
  inS: Uint8Array,
  ancestorOfS: Uint8Array,
  keepNodes: readonly number[] = keepNodesOf(graph),
): ClosureNetwork {
  const present = new Set([node, ...graph.inputs[node]]);
  return buildClosureNetwork(graph, {
    node,
    forced: forcedBytes(graph, node),
    present: [...present],
    needed: keepNodes.filter((member) => !present.has(member)),
    // (d) and (e): no node of S leaves, nor an ancestor of one that cannot be recomputed.
    mayLeave: (candidate) => inS[candidate] === 0 && (graph.recomputable[candidate] || ancestorOfS[candidate] === 0),
    recomputedIfLeaving: (candidate) => ancestorOfS[candidate] === 1,
  });
}

/** Options of the last-computation floor. */
export interface LastComputationOptions {
  /** A floor known otherwise: only sets S that beat it are worked out to the end (default 0). */
  above?: number;
  /** Stop once the floor exceeds this (a budget proven too small), default never. */
  enough?: number;
  /** Date.now() after which no more cuts start: still a floor, maybe a lower one. */
  deadline?: number;
}

/**
 * The last-computation floor (see the file comment): a lower bound on the peak
 * (residentBytes included) of every remat-only schedule; valid without a host link only.
 * The witness is the node of S whose cut is least, or -1 when `above` is not beaten.
 */
export function lastComputationFloor(graph: IndexedGraph, options: LastComputationOptions = {}): RematFloor {
  const deadline = options.deadline ?? Infinity;
  const enough = options.enough ?? Infinity;
  let best: RematFloor = { bytes: options.above ?? 0, witness: -1 };
  const size = graph.size;
  const must = computedByEvery(graph);
  const forced = new Float64Array(size);
  for (let node = 0; node < size; node++) forced[node] = forcedBytes(graph, node);
  const keepNodes = keepNodesOf(graph);
  const keepBytes = keepNodes.reduce((sum, node) => sum + graph.bytes[node], 0);
  const thresholds = [...new Set(Array.from(forced).filter((_, node) => must[node] === 1))].sort((a, b) => b - a);
  const inS = new Uint8Array(size);
  const ancestorOfS = new Uint8Array(size);
  for (const threshold of thresholds) {
    if (Date.now() > deadline || best.bytes > enough) break;
    const members: number[] = [];
    for (let node = 0; node < size; node++) {
      inS[node] = must[node] === 1 && forced[node] >= threshold ? 1 : 0;
      if (inS[node]) members.push(node);
    }
    // The sets grow as the threshold falls; past LAST_FLOOR_MAX_SET nodes the least cut
    // seldom beats the first-computation floor (closure.ts), and a set costs a cut per node.
    if (members.length > LAST_FLOOR_MAX_SET) break;
    // No cut exceeds forced(s) plus every keep node: a set whose least forced bytes cannot beat the best is skipped.
    members.sort((a, b) => forced[a] - forced[b]);
    if (forced[members[0]] + keepBytes <= best.bytes) continue;
    markAncestorsOfS(graph, inS, ancestorOfS);
    // The schedule picks which node of S is last: the floor of S is the least cut, so the
    // cuts stop as soon as one cannot beat the best.
    let least: RematFloor = { bytes: Infinity, witness: -1 };
    for (const node of members) {
      if (Date.now() > deadline) {
        least = { bytes: -Infinity, witness: -1 };
        break;
      }
      const { bytes } = closureMinimum(lastComputationNetwork(graph, node, inS, ancestorOfS, keepNodes), graph);
      if (bytes < least.bytes) least = { bytes, witness: node };
      if (least.bytes <= best.bytes) break;
    }
    if (least.bytes > best.bytes) best = least;
  }
  return best;
}
