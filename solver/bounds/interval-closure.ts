// Intervals for the closure covering MILP (closure-milp.ts): recomputations counted per time
// interval, so that a value recomputed twice (nested recomputation near the floor) costs
// twice. This file holds the intervals and the rows' candidates; the model is closure-milp.ts's.
//
// Symbols (closure-milp.ts's, with intervals):
//   s_1 .. s_K  split nodes, each an ancestor of the next: their first computations
//             t_1 < .. < t_K come in this order in every schedule, and cut time into the
//             intervals I_0 = before t_1, I_k = (t_k, t_k+1), I_K = after t_K
//   y[u][k]   binary, per recomputable node and interval: u has a computation in I_k that
//             is not its first computation; x[u] <= sum_k y[u][k], and the cost is on y
//   f[v][u][k] in [0, 1], for the interval row of node v: u is absent at v's first
//             computation tau, and the computation of u that serves the reads after tau
//             (the last one before the earliest of them) lies in I_k; f <= y when u is an
//             ancestor of v (its first computation is before tau)
//   q[v][w]   in [0, 1]: w, not needed by (a) of closure.ts, is on the device at tau
//             because a node of E(v) reads it (closure-milp.ts's p, for this row)
//   minimize  sum_u sum_k cost(u) y[u][k]     (each y is a distinct computation event)
//   window:   a member u of N(v) read by a descendant r of v is served before first(r), so
//             k <= hiBefore(r), the last interval that can hold a moment before first(r);
//             and after tau, so k >= lo(v), the first interval that can hold tau
//   order:    an input w of u in E(v), read by u's serving computation in I_k, is on the
//             device at tau or served in I_0 .. I_k:  q[v][w] (or 1 - sum_k' f[v][w][k'] for a member)
//             + sum_{k' <= k} f[v][w][k'] >= f[v][u][k]
//   interval(v): forced(v) + bytes of N(v) \ E(v) + bytes of the present non-members <= budget
// Every remat-only schedule within the budget gives a feasible point: take each y from the
// schedule and each f from the serving computations. So the optimum, and every dual bound,
// is a lower bound on the extra compute, and at least the closure bound's with the same rows.
import type { IndexedGraph } from '../graph/validate.js';
import type { Ancestry, FirstComputation } from './ancestry.js';

/** A longest path of the graph, in order, and its backward nodes. */
function longestPath(graph: IndexedGraph): { path: number[]; backward: number[] } {
  const length = new Int32Array(graph.size);
  const previous = new Int32Array(graph.size).fill(-1);
  let end = 0;
  for (let node = 0; node < graph.size; node++) {
    for (const input of graph.inputs[node]) {
      if (length[input] + 1 > length[node]) {
        length[node] = length[input] + 1;
        previous[node] = input;
      }
    }
    if (length[node] > length[end]) end = node;
  }
  const path: number[] = [];
  for (let node = end; node >= 0; node = previous[node]) path.push(node);
  path.reverse();
  return { path, backward: path.filter((node) => graph.kind[node] === 'backward') };
}

/**
 * Split nodes for the interval bound: `count` backward nodes spread evenly along a longest
 * path of the graph (nodes on one path are each other's ancestors, so their first
 * computations are ordered in every schedule).
 */
export function chooseSplits(graph: IndexedGraph, count: number): number[] {
  if (count <= 0 || graph.size === 0) return [];
  const { path, backward } = longestPath(graph);
  const pool = backward.length > count ? backward : path;
  const splits: number[] = [];
  for (let at = 1; at <= count && at <= pool.length; at++) {
    const node = pool[Math.min(pool.length - 1, Math.floor((at * pool.length) / (count + 1)))];
    if (splits[splits.length - 1] !== node) splits.push(node);
  }
  return splits;
}

/**
 * Split nodes at the given fractions (ascending, in [0, 1)) of the backward nodes of a longest
 * path (of the whole path when it has too few backward nodes); see chooseSplits.
 */
export function splitsAt(graph: IndexedGraph, fractions: readonly number[]): number[] {
  if (fractions.length === 0 || graph.size === 0) return [];
  const { path, backward } = longestPath(graph);
  const pool = backward.length > fractions.length ? backward : path;
  const splits: number[] = [];
  for (const fraction of fractions) {
    const node = pool[Math.min(pool.length - 1, Math.floor(fraction * pool.length))];
    if (splits[splits.length - 1] !== node) splits.push(node);
  }
  return splits;
}

/** Where a row's moment and its members' serving computations can lie among the intervals. */
export class Intervals {
  readonly count: number;
  constructor(
    private readonly ancestry: Ancestry,
    readonly splits: readonly number[],
  ) {
    this.count = splits.length;
  }

  /** The first interval that can hold v's first computation (or a later moment). */
  lo(node: number): number {
    let count = 0;
    for (const split of this.splits) if (split === node || this.ancestry.isAncestor(split, node)) count++;
    return count;
  }

  /**
   * The last interval that can serve `member` of v's row: before the first computation of
   * its earliest reader descending from v, or the end for a keep node.
   */
  memberWindow(member: number, v: number): number {
    const graph = this.ancestry.graph;
    let top = graph.keep[member] ? this.count : Infinity;
    for (const user of graph.users[member]) if (this.ancestry.isDescendant(user, v)) top = Math.min(top, this.hiBefore(user));
    return top;
  }

  /** The last interval that can hold a moment before the first computation of `reader`. */
  hiBefore(reader: number): number {
    let count = 0;
    for (const split of this.splits) if (split === reader || this.ancestry.isAncestor(reader, split)) count++;
    return this.count - count;
  }
}

/** An interval row's candidates with their windows: the members first, then what a node of E may read. */
export interface IntervalRow {
  node: number;
  constant: number;
  nodes: number[];
  memberCount: number;
  canLeave: Uint8Array;
  recomputed: Uint8Array;
  /** Per candidate, the candidates it reads (members included). */
  inputs: number[][];
  /** Per member, the last interval its serving computation can lie in. */
  hi: number[];
}

/** The interval closure row of v: its members with their windows, and their inputs up to `depth` steps. */
export function intervalRow(
  graph: IndexedGraph,
  ancestry: Ancestry,
  intervals: Intervals,
  first: FirstComputation,
  depth: number,
): IntervalRow {
  const v = first.node;
  const present = new Set([v, ...graph.inputs[v]]);
  const mayLeave = (node: number) => !ancestry.isAncestor(node, v) || graph.recomputable[node];
  const local = new Map<number, number>();
  const nodes: number[] = [];
  const hi: number[] = [];
  let constant = first.forced;
  for (const member of first.needed) {
    if (!mayLeave(member)) {
      constant += graph.bytes[member];
      continue;
    }
    local.set(member, nodes.length);
    nodes.push(member);
    hi.push(intervals.memberWindow(member, v));
  }
  const memberCount = nodes.length;
  const inputs: number[][] = [];
  let frontier = nodes.slice();
  for (let step = 0; frontier.length > 0 && step <= depth; step++) {
    const next: number[] = [];
    for (const node of frontier) {
      const reads: number[] = [];
      for (const input of graph.inputs[node]) {
        if (present.has(input) || graph.bytes[input] === 0) continue;
        let index = local.get(input);
        if (index === undefined) {
          // Beyond the depth a node of E reads nothing that is counted (a relaxation).
          if (step === depth) continue;
          index = nodes.length;
          local.set(input, index);
          nodes.push(input);
          if (mayLeave(input)) next.push(input);
        }
        reads.push(index);
      }
      inputs[local.get(node)!] = reads;
    }
    frontier = next;
  }
  const count = nodes.length;
  const canLeave = new Uint8Array(count);
  const recomputed = new Uint8Array(count);
  for (let index = 0; index < count; index++) {
    const node = nodes[index];
    canLeave[index] = mayLeave(node) ? 1 : 0;
    recomputed[index] = canLeave[index] && ancestry.isAncestor(node, v) ? 1 : 0;
    inputs[index] ??= [];
  }
  return { node: v, constant, nodes, memberCount, canLeave, recomputed, inputs, hi };
}
