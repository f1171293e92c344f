// The remat bounds (the covering rows of scale/bound.ts, the closure bound of
// closure-milp.ts) on a graph with node options, through a plain graph whose bounds hold
// for the original: its options relaxation. Beside it, the relaxation by smallest forms
// that the proven floor also takes (scale/bracket.ts).
//
// Claim. Take a remat-only schedule S of a graph with options (no host link) within a
// budget. Build a schedule S' of the relaxation, where
//   - each node costs its cheapest implementation (at a budget: the cheapest whose
//     workspace fits beside the least any computation of the node holds, see
//     fittingCosts) and needs its leanest workspace;
//   - each value weighs the least of its own bytes and those of its decodable encodings;
//   - a reader of an encoding of u (a user that may read u#e instead of u) no longer reads u;
// by keeping S's computations in S's order (encodes and decodes dropped) and holding u in S'
// from a computation of u for as long as S holds u or a decodable form of u without a gap.
// Then S' is legal: a computation of S that reads u as a value finds it; a reader reads
// nothing of u in S'; a decode in S needs a decodable form held since a computation of u,
// so S' holds u throughout. Every moment of S' holds at most S's bytes (u at the least of
// the forms S holds, at most once), and S' costs at most S's compute cost (decodes and
// encodes dropped, computations at the cheapest implementation, or at a budget at the
// cheapest one that any computation within it can use). So every lower bound on the peak
// or the makespan of the relaxation's remat schedules within a budget holds for the
// original's. The relaxation's baseCost is the original's (the sum of cheapest costs), or
// more at a budget where a fast implementation's workspace fits nowhere (unet-options at
// floor x 1.1: one convolution, 0.17 of baseCost more).
//
// A non-decodable encoding (Gist's 1-bit ReLU mask) cannot stand in for its value, so it
// cannot lower the value's bytes; its readers lose the input instead, which costs the bound
// only what the mask weighs.
import { fittingImplementations, implementationOf } from '../graph/analysis.js';
import type { Graph } from '../graph/schema.js';
import { type IndexedGraph, indexGraph } from '../graph/validate.js';
import { PRICED_BOUND_SHARE } from '../limits.js';
import { type ClosureBound, type ClosureBoundOptions, closureBound, type Discounts } from './closure-milp.js';

/** A plain copy of a graph with options, each node rewritten by the function `relaxer` makes (called once per graph). */
function relaxedGraph(
  graph: IndexedGraph,
  cache: WeakMap<IndexedGraph, IndexedGraph>,
  relaxer: () => (node: Graph['nodes'][number], index: number) => Graph['nodes'][number],
): IndexedGraph {
  if (!graph.hasOptions) return graph;
  let relaxed = cache.get(graph);
  if (!relaxed) {
    const relaxNode = relaxer();
    const nodes = graph.graph.nodes.map(({ alternatives, encodings, ...node }, index) => relaxNode(node, index));
    relaxed = indexGraph({ ...graph.graph, nodes }, { maxNodes: graph.size });
    cache.set(graph, relaxed);
  }
  return relaxed;
}

/** The leanest workspace of a node over its implementations. */
const leanestWorkspace = (graph: IndexedGraph, index: number) =>
  Math.min(graph.workspace[index], ...graph.alternatives[index].map((alternative) => alternative.workspace));

/**
 * The nodes whose cheapest implementations need more workspace than fits at `budgetBytes`
 * (graph/analysis.ts fittingImplementations), with the least cost among those that fit. A
 * node none of whose implementations fits is left out (nothing fits such a budget; other
 * arguments say so).
 */
export function fittingCosts(graph: IndexedGraph, budgetBytes: number): Map<number, number> {
  const costs = new Map<number, number>();
  for (let node = 0; node < graph.size; node++) {
    if (graph.alternatives[node].length === 0) continue;
    const fitting = fittingImplementations(graph, node, budgetBytes);
    if (fitting.length === 0) continue;
    const cheapest = Math.min(graph.cost[node], ...graph.alternatives[node].map((alternative) => alternative.cost));
    const cost = Math.min(...fitting.map((implementation) => implementationOf(graph, node, implementation).cost));
    if (cost > cheapest) costs.set(node, cost);
  }
  return costs;
}

/** The last budget's relaxation, per plain relaxation (the plain one itself when no fitting cost changes it). */
const atBudgets = new WeakMap<IndexedGraph, { budgetBytes: number; graph: IndexedGraph }>();

/** A relaxation of `graph` with each node at its fitting cost at `budgetBytes` (the relaxation itself when none changes). */
function atBudget(relaxed: IndexedGraph, graph: IndexedGraph, budgetBytes: number | undefined): IndexedGraph {
  if (budgetBytes === undefined || !graph.hasOptions) return relaxed;
  const cached = atBudgets.get(relaxed);
  if (cached?.budgetBytes === budgetBytes) return cached.graph;
  // Kept when nothing changes too: a run asks for the same budget's relaxation several times.
  const costs = fittingCosts(graph, budgetBytes);
  let priced = relaxed;
  if (costs.size > 0) {
    const nodes = relaxed.graph.nodes.map((node, index) => (costs.has(index) ? { ...node, cost: costs.get(index)! } : node));
    priced = indexGraph({ ...relaxed.graph, nodes }, { maxNodes: relaxed.size });
  }
  atBudgets.set(relaxed, { budgetBytes, graph: priced });
  return priced;
}

const optionsRelaxations = new WeakMap<IndexedGraph, IndexedGraph>();

/** The options relaxation of a graph (the graph itself when it has no options), at `budgetBytes` when given; see the file comment. */
export function optionsRelaxation(graph: IndexedGraph, budgetBytes?: number): IndexedGraph {
  return atBudget(plainOptionsRelaxation(graph), graph, budgetBytes);
}

/** The options relaxation at no budget (each node at its cheapest implementation). */
function plainOptionsRelaxation(graph: IndexedGraph): IndexedGraph {
  return relaxedGraph(graph, optionsRelaxations, () => {
    // Per node, the users that may read one of its encodings (they lose it as an input).
    const readersOf = graph.encodings.map((forms) => new Set(forms.flatMap((form) => form.readers)));
    return (node, index) => {
      const decodable = graph.encodings[index].filter((form) => form.decodeCost !== undefined).map((form) => form.bytes);
      return {
        ...node,
        inputs: node.inputs?.filter((input) => {
          const at = graph.index.get(input);
          return at === undefined || !readersOf[at].has(index);
        }),
        bytes: Math.min(graph.bytes[index], ...decodable),
        cost: Math.min(graph.cost[index], ...graph.alternatives[index].map((alternative) => alternative.cost)),
        workspaceBytes: leanestWorkspace(graph, index),
      };
    };
  });
}

const formRelaxations = new WeakMap<IndexedGraph, IndexedGraph>();

/**
 * A graph with node options as a plain graph whose closure floor is a floor of the original:
 * each value at its smallest form, each node at its leanest implementation. Without swaps a
 * value leaves the device only by a free, and an encoding is made from the value and decodes
 * back into it without a computation, so a value read after a moment is on the device then
 * as one of its forms or computed again after it: the closure argument (closure.ts) with the
 * smallest form's bytes. Counting a computed node at that size too only lowers it.
 */
export function formRelaxation(graph: IndexedGraph): IndexedGraph {
  return relaxedGraph(graph, formRelaxations, () => (node, index) => ({
    ...node,
    bytes: Math.min(graph.bytes[index], ...graph.encodings[index].map((form) => form.bytes)),
    workspaceBytes: leanestWorkspace(graph, index),
  }));
}

/** The plain graphs whose remat floors are floors of `graph`: itself, or with node options both relaxations (neither is always the higher). */
export function floorRelaxations(graph: IndexedGraph): IndexedGraph[] {
  return graph.hasOptions ? [formRelaxation(graph), optionsRelaxation(graph)] : [graph];
}

const pricedRelaxations = new WeakMap<IndexedGraph, IndexedGraph>();

/**
 * The options relaxation with each value at its own bytes, and the discounts that price its
 * decodable encodings (undefined when a graph has none). Claim: take S and S' as in the file
 * comment, but let S' weigh each value at its own bytes. At a moment where S holds u only
 * in a decodable form, S' holds u and weighs at most saving(u) = bytes(u) - the least bytes
 * of u's decodable encodings more than S; elsewhere S' weighs at most what S does. And S
 * holds such a form only after encoding u, once at least, which costs at least price(u) =
 * the least encodeCost of those encodings; S' drops that step. So with z[u] = "S encodes u
 * into a decodable form", every row of the closure bound written for S' with saving(u) z[u]
 * taken off each node it counts holds, and S costs at least S' plus the prices of its z:
 * the closure bound with these discounts (closure-milp.ts) holds for the original graph.
 * Where an encoding is cheaper than a recomputation its saving is priced instead of free.
 */
export function pricedOptionsRelaxation(
  graph: IndexedGraph,
  budgetBytes?: number,
): { graph: IndexedGraph; discounts: Discounts } | undefined {
  const saving = new Float64Array(graph.size);
  const price = new Float64Array(graph.size);
  let any = false;
  for (let node = 0; node < graph.size; node++) {
    const forms = graph.encodings[node].filter((form) => form.decodeCost !== undefined && form.bytes < graph.bytes[node]);
    if (forms.length === 0) continue;
    saving[node] = graph.bytes[node] - Math.min(...forms.map((form) => form.bytes));
    price[node] = Math.min(...forms.map((form) => form.encodeCost));
    any = true;
  }
  if (!any) return undefined;
  const relaxed = relaxedGraph(graph, pricedRelaxations, () => {
    const plain = plainOptionsRelaxation(graph);
    return (_node, index) => ({ ...plain.graph.nodes[index], bytes: graph.bytes[index] });
  });
  return { graph: atBudget(relaxed, graph, budgetBytes), discounts: { saving, price } };
}

/** The stronger of two closure bounds (a proof that nothing fits is the strongest). */
export function stronger(a: ClosureBound | undefined, b: ClosureBound | undefined): ClosureBound | undefined {
  if (!a || !b) return a ?? b;
  if (a.infeasible || b.infeasible) return a.infeasible ? a : b;
  return b.makespan > a.makespan ? b : a;
}

/**
 * The closure bound of any graph: on a graph with node options, its options relaxation's.
 * Where the graph has decodable encodings, the priced relaxation's first, with a share of
 * the time, then the plain one's with the rest; the stronger of the two. Neither dominates:
 * the priced one charges encodings that the plain one gets free, but takes a node's saving
 * off every row that may count it, on the device or not (measured on the captured
 * resnet50 with options: at 70 % 1.0360 against 1.0175, at 30 % 1.1934 against 1.2187).
 */
export async function closureBoundOf(
  graph: IndexedGraph,
  budgetBytes: number,
  options: ClosureBoundOptions,
): Promise<ClosureBound | undefined> {
  if (!graph.hasOptions) return closureBound(graph, budgetBytes, options);
  // Swaps and node options together (an encoding may be swapped, compressed) are not modelled.
  if (options.transfer) return undefined;
  // A shared ancestry is the original graph's; the relaxation drops edges.
  const { ancestry, ...rest } = options;
  const priced = pricedOptionsRelaxation(graph, budgetBytes);
  if (!priced) return closureBound(optionsRelaxation(graph, budgetBytes), budgetBytes, rest);
  const started = Date.now();
  const first = await closureBound(priced.graph, budgetBytes, {
    ...rest,
    timeLimitSeconds: PRICED_BOUND_SHARE * rest.timeLimitSeconds,
    discounts: priced.discounts,
  });
  if (first?.infeasible || rest.signal?.aborted) return first;
  const left = rest.timeLimitSeconds - (Date.now() - started) / 1000;
  if (left <= 0) return first;
  // The plain bound goes to the caller once, from the first of the two.
  const { onPlain, ...second } = rest;
  return stronger(first, await closureBound(optionsRelaxation(graph, budgetBytes), budgetBytes, { ...second, timeLimitSeconds: left }));
}
