// The closure argument: what every legal remat-only schedule (no host link, any order)
// must hold on the device at the first computation of each node v, counting that a value
// computed after that moment needs its own inputs then.
//
// Claim. Fix a remat-only schedule, a node v and the moment tau of v's first computation.
// Among the nodes other than v, its inputs and its descendants, let
//   N = the nodes read by a computation after tau, or keep nodes (needed after tau);
//   E = the nodes absent at tau and computed (again, or for the first time) after tau.
// Then:
//  (a) N holds every node with a user that descends from v, and every keep node;
//  (b) each node of N is on the device at tau or is in E;
//  (c) every input of a node of E that is not an input of v is in N;
//  (d) a node of E that is an ancestor of v is computed more than once (it is in R).
// Proof. (a): descendants of v need v, so they are computed after tau. (b): take the last
// computation of u before the read (or the end); if it is after tau, u is computed after
// tau and is either on the device at tau or in E; if it is before tau, u stays on the
// device from it to the read without a gap (without swaps a value leaves the device only
// by a free), so it is there at tau. (c): the later computation of u reads its inputs.
// (d): every ancestor of v is computed before tau (induction on the inputs), and again
// after it. A node that is not an ancestor of v may simply be computed first after tau:
// it costs nothing here, but its inputs are then needed after tau.
//
// So the device bytes at tau are at least forced(v) (ancestry.ts) plus the bytes of N \ E,
// for some N and E satisfying (a)-(d). The least such sum with every recomputable node
// allowed in R is a minimum cut (mincut.ts), and its maximum over v is a lower bound on
// the peak of every remat-only schedule (`rematFloor`). With R restricted to a given set
// it tells whether that R can pass v's first computation: the separation step of the
// closure covering MILP (closure-milp.ts), whose rows are these cuts written as linear
// constraints.
import type { IndexedGraph } from '../graph/validate.js';
import { type Ancestry, type FirstComputation, firstComputation } from './ancestry.js';
import { FlowNetwork } from './mincut.js';

/**
 * The closure network of node v: the candidates of N and E, numbered locally (the needed
 * members first, then the other nodes that a node of E may read), and how E propagates need.
 */
export interface ClosureNetwork {
  node: number;
  /** Bytes on the device whatever N and E are: forced(v) plus needed nodes that cannot be in E. */
  constant: number;
  /** Graph node of each candidate; the first `memberCount` are in N by (a), the rest only when a node of E reads them. */
  nodes: Int32Array;
  memberCount: number;
  /** Per candidate: 1 when it may be in E. */
  canLeave: Uint8Array;
  /** Per candidate: 1 when it is an ancestor of v that may be in E (then it is recomputed, in R). */
  recomputed: Uint8Array;
  /** Per candidate u that may be in E: the other candidates it reads are readList[readStart[u] .. readStart[u + 1] - 1]. */
  readStart: Int32Array;
  readList: Int32Array;
}

/** Options: which ancestors of v may be recomputed (default: every recomputable node). */
export interface ClosureOptions {
  /** How many input steps from the needed members the network follows (default unlimited); beyond, nothing is required (a relaxation). */
  depth?: number;
}

/** Per-node marks reused across calls (the floors build one network per node); reset after each use. */
let marks = { size: -1, role: new Uint8Array(0), local: new Int32Array(0) };

/** Role marks: on the device anyway (v and its inputs), or a needed member. */
const PRESENT = 1;
const MEMBER = 2;

/** What a closure network is built from (closureNetwork here, lastComputationNetwork in last-computation.ts). */
export interface ClosureParts {
  /** The node computed at the moment looked at. */
  node: number;
  /** Bytes on the device whatever N and E are (forced), before the members that cannot leave. */
  forced: number;
  /** The nodes on the device anyway at that moment: the node and its inputs (never candidates). */
  present: readonly number[];
  /** The needed members of N (bytes > 0, none of them present). */
  needed: readonly number[];
  /** True when a node may be in E. */
  mayLeave: (node: number) => boolean;
  /** True when a node in E is recomputed (counted in R). */
  recomputedIfLeaving: (node: number) => boolean;
  /** How many input steps from the members the network follows (default unlimited). */
  depth?: number;
}

/** Builds a closure network from its parts: the members, then what a node of E may read, step by step. */
export function buildClosureNetwork(graph: IndexedGraph, parts: ClosureParts): ClosureNetwork {
  const { node: v, mayLeave } = parts;
  if (marks.size !== graph.size) marks = { size: graph.size, role: new Uint8Array(graph.size), local: new Int32Array(graph.size).fill(-1) };
  const { role, local } = marks;
  for (const node of parts.present) role[node] = PRESENT;
  const nodes: number[] = [];
  let constant = parts.forced;
  for (const node of parts.needed) {
    role[node] = MEMBER;
    if (mayLeave(node)) {
      local[node] = nodes.length;
      nodes.push(node);
    } else {
      constant += graph.bytes[node];
    }
  }
  const memberCount = nodes.length;
  const reads: number[][] = [];
  let frontier = nodes.slice();
  const maxDepth = parts.depth ?? Infinity;
  for (let depth = 0; frontier.length > 0 && depth < maxDepth; depth++) {
    const next: number[] = [];
    for (const node of frontier) {
      const inputs: number[] = [];
      for (const input of graph.inputs[node]) {
        // Present nodes are on the device anyway, zero-byte values cost nothing present, and
        // needed members are paid for unless they leave themselves.
        if (role[input] !== 0 || graph.bytes[input] === 0) continue;
        let index = local[input];
        if (index < 0) {
          index = nodes.length;
          local[input] = index;
          nodes.push(input);
          if (mayLeave(input)) next.push(input);
        }
        inputs.push(index);
      }
      reads[local[node]] = inputs;
    }
    frontier = next;
  }
  const count = nodes.length;
  const canLeave = new Uint8Array(count);
  const recomputed = new Uint8Array(count);
  const readStart = new Int32Array(count + 1);
  for (let index = 0; index < count; index++) {
    const node = nodes[index];
    canLeave[index] = mayLeave(node) ? 1 : 0;
    recomputed[index] = canLeave[index] && parts.recomputedIfLeaving(node) ? 1 : 0;
    readStart[index + 1] = readStart[index] + (reads[index]?.length ?? 0);
  }
  const readList = new Int32Array(readStart[count]);
  for (let index = 0; index < count; index++) if (reads[index]) readList.set(reads[index], readStart[index]);
  // Reset the marks for the next call.
  for (const node of parts.present) role[node] = 0;
  for (const node of parts.needed) role[node] = 0;
  for (const node of nodes) local[node] = -1;
  return { node: v, constant, nodes: Int32Array.from(nodes), memberCount, canLeave, recomputed, readStart, readList };
}

/** Builds v's closure network (see the file comment). */
export function closureNetwork(ancestry: Ancestry, first: FirstComputation, options: ClosureOptions = {}): ClosureNetwork {
  const graph = ancestry.graph;
  const v = first.node;
  // A node may be in E when it is not an ancestor of v (computed first after v), or when it
  // is an ancestor that may be recomputed; an ancestor in E is recomputed.
  const ancestor = (node: number) => ancestry.isAncestor(node, v);
  return buildClosureNetwork(graph, {
    node: v,
    forced: first.forced,
    present: [v, ...graph.inputs[v]],
    needed: first.needed,
    mayLeave: (node) => !ancestor(node) || graph.recomputable[node],
    recomputedIfLeaving: ancestor,
    depth: options.depth,
  });
}

/** The least bytes at v's first computation, one E reaching it, and what each blocked node's recomputation would be worth. */
export interface ClosureMinimum {
  bytes: number;
  /** Graph nodes in E, ascending. */
  leaving: number[];
  /**
   * For each blocked node u, a weight w(u) >= 0 such that for every set R of recomputable
   * nodes, the closure minimum with R allowed is at least bytes - sum_{u in R blocked} w(u):
   * the flow through u's blocking edge (removing it removes at most that much flow).
   */
  blocked: Map<number, number>;
}

const shared = new FlowNetwork();

/**
 * The least device bytes at v's first computation over every admissible N and E (see the
 * file comment). `blocked` names recomputable ancestors that are not allowed in E here
 * (not in R); the result prices them for the flow cuts of closure-milp.ts. With `price`,
 * a recomputed node in E also costs price(node) bytes' worth: the cut then trades bytes
 * held against recomputation (the late orders of scale/order.ts), and its value is that sum.
 */
export function closureMinimum(
  network: ClosureNetwork,
  graph: IndexedGraph,
  blocked?: (node: number) => boolean,
  price?: (node: number) => number,
): ClosureMinimum {
  const flow = shared;
  flow.reset();
  const { nodes, memberCount, canLeave, recomputed, readStart, readList } = network;
  const count = nodes.length;
  // Flow nodes: leave[u] for candidates that may leave, need[u] for the others beyond the members.
  const leave = new Int32Array(count).fill(-1);
  const need = new Int32Array(count).fill(-1);
  const blockEdge = new Int32Array(count).fill(-1);
  for (let index = 0; index < count; index++) {
    const bytes = graph.bytes[nodes[index]];
    if (index < memberCount) {
      leave[index] = flow.addNode();
      // In N and not in E (on the sink side): its bytes are paid.
      flow.addEdge(FlowNetwork.SOURCE, leave[index], bytes);
    } else {
      need[index] = flow.addNode();
      if (canLeave[index]) {
        leave[index] = flow.addNode();
        flow.addEdge(need[index], leave[index], bytes);
      } else {
        flow.addEdge(need[index], FlowNetwork.SINK, bytes);
      }
    }
    if (recomputed[index] && blocked?.(nodes[index])) blockEdge[index] = flow.addEdge(leave[index], FlowNetwork.SINK, Infinity);
    else if (recomputed[index] && price) flow.addEdge(leave[index], FlowNetwork.SINK, price(nodes[index]));
  }
  // A node in E puts each other candidate it reads in N (on the source side with it).
  for (let index = 0; index < count; index++) {
    if (leave[index] < 0) continue;
    for (let at = readStart[index]; at < readStart[index + 1]; at++) flow.addEdge(leave[index], need[readList[at]], Infinity);
  }
  const cut = flow.minCut();
  const leaving: number[] = [];
  const weights = new Map<number, number>();
  for (let index = 0; index < count; index++) {
    if (leave[index] >= 0 && cut.sourceSide[leave[index]]) leaving.push(nodes[index]);
    if (blockEdge[index] >= 0) {
      const value = cut.flow(blockEdge[index]);
      if (value > 0) weights.set(nodes[index], value);
    }
  }
  return { bytes: network.constant + cut.value, leaving: leaving.sort((a, b) => a - b), blocked: weights };
}

/** The closure floor: the largest closure minimum over every node, with the node that gives it. */
export interface RematFloor {
  /** A lower bound on the peak (residentBytes included) of every remat-only schedule. */
  bytes: number;
  /** The node whose first computation gives it, or -1 when there is no node. */
  witness: number;
}

/**
 * The closure floor of a graph (see the file comment); valid without a host link only.
 * Nodes whose minimum cannot exceed `above` (a floor known otherwise) are not cut: the
 * result is then the larger of the two, with witness -1 when `above` is not beaten. Past
 * `deadline` (a Date.now() value) no more nodes are cut: still a floor, maybe a lower one.
 */
export function rematFloor(ancestry: Ancestry, firsts?: readonly FirstComputation[], above = 0, deadline = Infinity): RematFloor {
  const graph = ancestry.graph;
  let best: RematFloor = { bytes: above, witness: -1 };
  const all = firsts ?? Array.from({ length: graph.size }, (_, node) => firstComputation(ancestry, node));
  // The largest possible minimum first: a node whose minimum cannot beat the best so far is skipped.
  const ceiling = (first: FirstComputation) => first.forced + first.needed.reduce((sum, member) => sum + graph.bytes[member], 0);
  const order = all.filter((first) => ceiling(first) > above).sort((a, b) => ceiling(b) - ceiling(a));
  // Every node's minimum is a floor on its own, so stopping at the deadline keeps a floor.
  for (const first of order) {
    if (ceiling(first) <= best.bytes || Date.now() > deadline) break;
    const { bytes } = closureMinimum(closureNetwork(ancestry, first), graph);
    if (bytes > best.bytes) best = { bytes, witness: first.node };
  }
  return best;
}
