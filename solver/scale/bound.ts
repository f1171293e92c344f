// A lower bound on the makespan of ANY legal remat-only schedule (no host link), in any
// order, better than baseCost when the budget forces recomputation.
//
// Claim. Take a node v and let T(v) be the ancestors u of v that are not inputs of v and
// either are keep nodes or have a user w that descends from v. In every legal schedule
// without swaps, at the first computation of v, every u in T(v) that the schedule computes
// exactly once is on the device.
// Proof. v's first computation needs its inputs on the device, so each ancestor of v has
// been computed before it (induction on the inputs). Every computation of such a w needs
// v to have been computed before it, by the same argument, so w is computed (at least
// once, as every node is) after v's first computation, and u is on the device then. A u
// computed exactly once can only be on the device from its one computation on, without a
// gap (no swapIn), so it is there from before v's first computation until that w, and at
// v's first computation. A keep u computed once is there from its computation to the end.
//
// So, with R the set of nodes a schedule computes more than once, the memory at v's first
// computation is at least
//   residentBytes + bytes(v) + workspace(v) + bytes(inputs of v) + sum over T(v) \ R of bytes,
// which must be <= budget: the bytes of T(v) ∩ R must cover need(v) = that sum with R empty,
// minus the budget. Each node of R costs at least its cost once more, and without swaps
// the makespan is the sum of compute costs. Hence
//   makespan >= baseCost + min { cost(R) : bytes(T(v) ∩ R) >= need(v) for every v },
// and any lower bound of that covering problem gives a valid bound. We use, for each v
// alone, its fractional knapsack (take recomputable members of T(v) by cost per byte until
// need(v) is covered, the last one fractionally) and keep the largest; when some need(v)
// exceeds all the recomputable bytes of T(v), no schedule fits at all.
import type { IndexedGraph } from '../graph/validate.js';
import { BOUND_MAX_NODES, RECOMPUTE_BOUND_SHAVE } from '../limits.js';

/** The bound: a makespan, or proof that nothing fits. */
export interface RecomputeBound {
  /** A lower bound on the makespan of any remat-only plan within the budget. */
  makespan: number;
  /** True when the argument proves no remat-only plan fits the budget. */
  infeasible: boolean;
  /** The node v whose constraint gave the bound, or -1. */
  witness: number;
}

/** One constraint of the covering problem: the recomputed members of T(v) must cover need(v) bytes. */
export interface CoveringRow {
  /** The node v. */
  node: number;
  /** Bytes over the budget at v's first computation when nothing in T(v) is recomputed. */
  need: number;
  /** The recomputable members of T(v) with bytes > 0. */
  members: number[];
}

/** The rows of the covering problem with need(v) > 0 for `budgetBytes` (residentBytes included); null beyond BOUND_MAX_NODES. */
export function coveringRows(graph: IndexedGraph, budgetBytes: number): CoveringRow[] | null {
  const size = graph.size;
  if (size > BOUND_MAX_NODES) return null;
  const words = (size + 31) >>> 5;
  // Ancestor and descendant sets as bitsets, built in topological (index) order.
  const ancestors = new Uint32Array(size * words);
  const descendants = new Uint32Array(size * words);
  for (let node = 0; node < size; node++) {
    const row = node * words;
    for (const input of graph.inputs[node]) {
      const from = input * words;
      for (let word = 0; word < words; word++) ancestors[row + word] |= ancestors[from + word];
      ancestors[row + (input >>> 5)] |= 1 << (input & 31);
    }
  }
  for (let node = size - 1; node >= 0; node--) {
    const row = node * words;
    for (const user of graph.users[node]) {
      const from = user * words;
      for (let word = 0; word < words; word++) descendants[row + word] |= descendants[from + word];
      descendants[row + (user >>> 5)] |= 1 << (user & 31);
    }
  }
  const has = (set: Uint32Array, node: number, member: number) => (set[node * words + (member >>> 5)] & (1 << (member & 31))) !== 0;

  const rows: CoveringRow[] = [];
  const isInput = new Uint8Array(size);
  for (let node = 0; node < size; node++) {
    let forced = graph.residentBytes + graph.bytes[node] + graph.workspace[node];
    for (const input of graph.inputs[node]) {
      forced += graph.bytes[input];
      isInput[input] = 1;
    }
    // Members of T(v): forced unless recomputed.
    const members: number[] = [];
    for (let word = 0; word < words; word++) {
      let bits = ancestors[node * words + word];
      while (bits) {
        const low = bits & -bits;
        const member = (word << 5) + (31 - Math.clz32(low));
        bits ^= low;
        if (isInput[member]) continue;
        let inT = graph.keep[member];
        if (!inT) {
          for (const user of graph.users[member]) {
            if (has(descendants, node, user)) {
              inT = true;
              break;
            }
          }
        }
        if (inT) {
          forced += graph.bytes[member];
          members.push(member);
        }
      }
    }
    for (const input of graph.inputs[node]) isInput[input] = 0;
    const need = forced - budgetBytes;
    if (need <= 0) continue;
    rows.push({ node, need, members: members.filter((member) => graph.recomputable[member] && graph.bytes[member] > 0) });
  }
  return rows;
}

/** Computes the recomputation lower bound for `budgetBytes` (residentBytes included). */
export function recomputeBound(graph: IndexedGraph, budgetBytes: number): RecomputeBound {
  const rows = coveringRows(graph, budgetBytes);
  return rows ? rowsBound(graph, rows) : { makespan: graph.baseCost, infeasible: false, witness: -1 };
}

/** The bound of the covering rows taken one at a time: the best single row's fractional knapsack. */
export function rowsBound(graph: IndexedGraph, rows: readonly CoveringRow[]): RecomputeBound {
  let best: RecomputeBound = { makespan: graph.baseCost, infeasible: false, witness: -1 };
  for (const { node, need, members } of rows) {
    // Fractional knapsack over the recomputable members, cheapest per byte first.
    const items = members.slice();
    items.sort((a, b) => graph.cost[a] / graph.bytes[a] - graph.cost[b] / graph.bytes[b]);
    let available = 0;
    for (const item of items) available += graph.bytes[item];
    if (available < need) return { makespan: Infinity, infeasible: true, witness: node };
    let covered = 0;
    let extra = 0;
    for (const item of items) {
      if (covered >= need) break;
      const take = Math.min(1, (need - covered) / graph.bytes[item]);
      covered += take * graph.bytes[item];
      extra += take * graph.cost[item];
    }
    // A hair below the exact value, so float rounding never lifts the bound above the optimum.
    const makespan = graph.baseCost + extra * (1 - RECOMPUTE_BOUND_SHAVE);
    if (makespan > best.makespan) best = { makespan, infeasible: false, witness: node };
  }
  return best;
}
