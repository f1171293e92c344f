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

/** The closure network of node v: the candidates of N and E and how E propagates need. */
export interface ClosureNetwork {
  node: number;
  /** Bytes on the device whatever N and E are: forced(v) plus needed nodes that cannot be in E. */
  constant: number;
  /** Nodes in N by (a) that may be in E, with bytes > 0. */
  neededMembers: number[];
  /** Other nodes that an element of E may read (in N only then), with bytes > 0. */
  others: number[];
  /** The nodes that may be in E (members and others). */
  canLeave: Set<number>;
  /** The ancestors of v among `canLeave`: in E only when recomputed (they cost in R). */
  recomputed: Set<number>;
  /** For each node that may be in E: its inputs among `others` (in N when it is in E). */
  reads: Map<number, number[]>;
}

/** Options: which ancestors of v may be recomputed (default: every recomputable node). */
export interface ClosureOptions {
  canRecompute?: (node: number) => boolean;
  /** How many input steps from the needed members the network follows (default unlimited); beyond, nothing is required (a relaxation). */
  depth?: number;
}

/** Builds v's closure network (see the file comment). */
export function closureNetwork(ancestry: Ancestry, first: FirstComputation, options: ClosureOptions = {}): ClosureNetwork {
  const graph = ancestry.graph;
  const v = first.node;
  // A node may be in E when it is not an ancestor of v (computed first after v), or when it
  // is an ancestor that may be recomputed.
  const mayLeave = (node: number) => !ancestry.isAncestor(node, v) || (graph.recomputable[node] && (options.canRecompute?.(node) ?? true));
  const excluded = new Uint8Array(graph.size);
  excluded[v] = 1;
  for (const input of graph.inputs[v]) excluded[input] = 1;
  const member = new Uint8Array(graph.size);
  let constant = first.forced;
  const neededMembers: number[] = [];
  const canLeave = new Set<number>();
  const recomputed = new Set<number>();
  const leave = (node: number) => {
    canLeave.add(node);
    if (ancestry.isAncestor(node, v)) recomputed.add(node);
  };
  for (const node of first.needed) {
    member[node] = 1;
    if (mayLeave(node)) {
      neededMembers.push(node);
      leave(node);
    } else {
      constant += graph.bytes[node];
    }
  }
  const others: number[] = [];
  const reads = new Map<number, number[]>();
  const seen = new Uint8Array(graph.size);
  let frontier = neededMembers.slice();
  const maxDepth = options.depth ?? Infinity;
  for (let depth = 0; frontier.length > 0 && depth < maxDepth; depth++) {
    const next: number[] = [];
    for (const node of frontier) {
      const inputs: number[] = [];
      for (const input of graph.inputs[node]) {
        // Inputs of v are on the device anyway; zero-byte values cost nothing present.
        if (excluded[input] || graph.bytes[input] === 0) continue;
        inputs.push(input);
        if (member[input] || seen[input]) continue;
        seen[input] = 1;
        others.push(input);
        if (mayLeave(input)) {
          leave(input);
          next.push(input);
        }
      }
      reads.set(node, inputs);
    }
    frontier = next;
  }
  for (const node of frontier) if (!reads.has(node)) reads.set(node, []);
  return { node: v, constant, neededMembers, others, canLeave, recomputed, reads };
}

/** The least bytes at v's first computation, one E reaching it, and what each blocked node's recomputation would be worth. */
export interface ClosureMinimum {
  bytes: number;
  leaving: number[];
  /**
   * For each blocked node u, a weight w(u) >= 0 such that for every set R of recomputable
   * nodes, the closure minimum with R allowed is at least bytes - sum_{u in R blocked} w(u):
   * the flow through u's blocking edge (removing it removes at most that much flow).
   */
  blocked: Map<number, number>;
}

/**
 * The least device bytes at v's first computation over every admissible N and E (see the
 * file comment). `blocked` names recomputable ancestors that are not allowed in E here
 * (not in R); the result prices them for the flow cuts of closure-milp.ts.
 */
export function closureMinimum(network: ClosureNetwork, graph: IndexedGraph, blocked?: (node: number) => boolean): ClosureMinimum {
  const flow = new FlowNetwork();
  const leaveNode = new Map<number, number>();
  const needNode = new Map<number, number>();
  const blockEdge = new Map<number, number>();
  const block = (node: number, leave: number) => {
    if (blocked && network.recomputed.has(node) && blocked(node)) blockEdge.set(node, flow.addEdge(leave, FlowNetwork.SINK, Infinity));
  };
  for (const member of network.neededMembers) {
    const leave = flow.addNode();
    leaveNode.set(member, leave);
    // In N and not in E (on the sink side): its bytes are paid.
    flow.addEdge(FlowNetwork.SOURCE, leave, graph.bytes[member]);
    block(member, leave);
  }
  for (const other of network.others) {
    const need = flow.addNode();
    needNode.set(other, need);
    if (network.canLeave.has(other)) {
      const leave = flow.addNode();
      leaveNode.set(other, leave);
      flow.addEdge(need, leave, graph.bytes[other]);
      block(other, leave);
    } else {
      flow.addEdge(need, FlowNetwork.SINK, graph.bytes[other]);
    }
  }
  // A node in E puts each input it reads in N (on the source side with it); inputs that
  // are needed members are paid for anyway unless they leave too.
  for (const [node, inputs] of network.reads) {
    const leave = leaveNode.get(node);
    if (leave === undefined) continue;
    for (const input of inputs) {
      const need = needNode.get(input);
      if (need !== undefined) flow.addEdge(leave, need, Infinity);
    }
  }
  const cut = flow.minCut();
  const leaving: number[] = [];
  for (const [node, leave] of leaveNode) if (cut.sourceSide[leave]) leaving.push(node);
  const weights = new Map<number, number>();
  for (const [node, edge] of blockEdge) {
    const value = cut.flow(edge);
    if (value > 0) weights.set(node, value);
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

/** The closure floor of a graph (see the file comment); valid without a host link only. */
export function rematFloor(ancestry: Ancestry, firsts?: readonly FirstComputation[]): RematFloor {
  const graph = ancestry.graph;
  let best: RematFloor = { bytes: 0, witness: -1 };
  const all = firsts ?? Array.from({ length: graph.size }, (_, node) => firstComputation(ancestry, node));
  // The largest possible minimum first: a node whose minimum cannot beat the best so far is skipped.
  const ceiling = (first: FirstComputation) => first.forced + first.needed.reduce((sum, member) => sum + graph.bytes[member], 0);
  const order = all.slice().sort((a, b) => ceiling(b) - ceiling(a));
  for (const first of order) {
    if (ceiling(first) <= best.bytes) continue;
    const { bytes } = closureMinimum(closureNetwork(ancestry, first), graph);
    if (bytes > best.bytes) best = { bytes, witness: first.node };
  }
  return best;
}
