// Memory-aware topological orders. The contract fixes no order of first computations: any
// topological order with every value freed after its last use is a legal no-remat plan,
// and its peak can be far below the peak of the order the framework listed (Moccasin's
// random layered graphs list nodes level by level, which keeps whole levels alive). A
// list scheduler picks, among the ready nodes, the one whose computation adds the least
// memory (its bytes minus the inputs it is the last reader of); ties go to the earlier
// node, so a graph whose listed order is already good keeps it.
import { closureMinimum } from '../bounds/closure.js';
import { forcedBytes } from '../bounds/ancestry.js';
import { computedByEvery, lastComputationNetwork, markAncestorsOfS } from '../bounds/last-computation.js';
import type { IndexedGraph } from '../graph/validate.js';
import {
  LATE_CUT_MAX_ORDERS,
  LATE_CUT_PRICE_STEPS,
  LATE_GRADIENT_MIN_BYTES,
  LATE_GRADIENT_STEP,
  LATE_GRADIENT_THRESHOLDS,
} from '../limits.js';

/** How the list scheduler ranks ready nodes. */
export type OrderRule = 'delta' | 'during';

/** A topological order built greedily to keep memory low; `random` and `noise` perturb the keys (restarts). */
export function memoryAwareOrder(graph: IndexedGraph, rule: OrderRule = 'delta', random?: () => number, noise = 0): number[] {
  const size = graph.size;
  const missing = new Int32Array(size);
  const remaining = new Int32Array(size);
  for (let node = 0; node < size; node++) {
    missing[node] = graph.inputs[node].length;
    remaining[node] = graph.users[node].length;
  }
  const ready: number[] = [];
  for (let node = 0; node < size; node++) if (missing[node] === 0) ready.push(node);
  const order: number[] = [];
  let live = 0;
  while (ready.length) {
    let pick = -1;
    let bestKey = Infinity;
    let bestTie = Infinity;
    for (let at = 0; at < ready.length; at++) {
      const node = ready[at];
      let freed = 0;
      for (const input of graph.inputs[node]) if (remaining[input] === 1 && !graph.keep[input]) freed += graph.bytes[input];
      const added = graph.users[node].length === 0 && !graph.keep[node] ? 0 : graph.bytes[node];
      let key = rule === 'delta' ? added - freed : live + graph.bytes[node] + graph.workspace[node];
      if (random && noise > 0) key *= 1 + noise * (random() - 0.5);
      const tie = rule === 'delta' ? node : added - freed;
      if (key < bestKey || (key === bestKey && (tie < bestTie || (tie === bestTie && node < pick)))) {
        bestKey = key;
        bestTie = tie;
        pick = node;
      }
    }
    ready.splice(ready.indexOf(pick), 1);
    order.push(pick);
    live += graph.users[pick].length === 0 && !graph.keep[pick] ? 0 : graph.bytes[pick];
    for (const input of graph.inputs[pick]) {
      remaining[input]--;
      if (remaining[input] === 0 && !graph.keep[input]) live -= graph.bytes[input];
    }
    for (const user of graph.users[pick]) if (--missing[user] === 0) ready.push(user);
  }
  return order;
}

/** The listed order: every node by index. */
export function listedOrder(graph: IndexedGraph): number[] {
  return Array.from({ length: graph.size }, (_, node) => node);
}

/**
 * A node that only backward nodes read (a tensor a forward operator saves for its
 * backward, such as the copy of a batch-norm output an activation's backward reads) can be
 * computed first when its first reader is near, instead of where the framework listed it:
 * kept from the forward pass it holds its bytes through the whole step, computed late it
 * costs nothing more than keeping (or recomputing) its inputs. This order moves every such
 * forward node to just before its first reader in `base` (by default the listed order),
 * then lists everything topologically by those positions (a node moved early enough that
 * its own inputs follow it is simply listed after them).
 */
export function deferredOrder(graph: IndexedGraph, base: readonly number[] = listedOrder(graph)): number[] {
  const size = graph.size;
  const key = new Float64Array(size);
  for (let at = 0; at < base.length; at++) key[base[at]] = at;
  const deferred = (node: number) =>
    graph.kind[node] === 'forward' && graph.users[node].length > 0 && graph.users[node].every((user) => graph.kind[user] === 'backward');
  // Users first, so a chain of such nodes moves along with its last member.
  for (const node of [...base].reverse()) {
    if (!deferred(node)) continue;
    let first = Infinity;
    for (const user of graph.users[node]) first = Math.min(first, key[user]);
    // Just before its first reader (and after any node already moved there).
    key[node] = first - 0.5 / (1 + graph.users[node].length);
  }
  return topologicalByKey(graph, key);
}

/**
 * A keep node that nothing reads (a parameter gradient) must be on the device from its
 * computation to the end. When its inputs are smaller than itself (the gradient of a deep
 * layer's large weight, from small activations), computing it last holds only those inputs
 * meanwhile: this order moves such nodes to the end of `base`, in their order there. It
 * lowers the smallest peak reachable on captured training graphs (the input layers'
 * backward no longer runs beside every deep layer's weight gradient).
 */
export function lateSinksOrder(graph: IndexedGraph, base: readonly number[] = listedOrder(graph)): number[] {
  const late = (node: number) => {
    if (!graph.keep[node] || graph.users[node].length > 0) return false;
    let inputs = 0;
    for (const input of graph.inputs[node]) inputs += graph.bytes[input];
    return inputs < graph.bytes[node];
  };
  return [...base.filter((node) => !late(node)), ...base.filter(late)];
}

/**
 * A gradient that nothing reads (a keep sink of the backward pass) is on the device from its
 * computation to the end. Near the smallest feasible budget the first layers' backward
 * leaves room for almost nothing beside it, so the larger gradients must be computed after
 * it, each from its layer's output gradient brought back: this order moves every such sink
 * of at least `minBytes` to the end of `base`, in their order there (lateSinksOrder moves
 * only those whose inputs are smaller, which never needs the backward pass again).
 */
export function lateGradientsOrder(graph: IndexedGraph, minBytes: number, base: readonly number[] = listedOrder(graph)): number[] {
  const late = (node: number) =>
    graph.kind[node] === 'backward' && graph.keep[node] && graph.users[node].length === 0 && graph.bytes[node] >= minBytes;
  return [...base.filter((node) => !late(node)), ...base.filter(late)];
}

/**
 * The size thresholds worth trying for lateGradientsOrder, largest first: powers of
 * LATE_GRADIENT_STEP from LATE_GRADIENT_MIN_BYTES up, each kept when it moves a different
 * nonempty set of gradients than the next larger one, at most LATE_GRADIENT_THRESHOLDS.
 */
export function lateGradientThresholds(graph: IndexedGraph): number[] {
  const sizes: number[] = [];
  for (let node = 0; node < graph.size; node++)
    if (graph.kind[node] === 'backward' && graph.keep[node] && graph.users[node].length === 0) sizes.push(graph.bytes[node]);
  const largest = Math.max(0, ...sizes);
  const thresholds: number[] = [];
  let previousCount = 0;
  let top = LATE_GRADIENT_MIN_BYTES;
  while (top * LATE_GRADIENT_STEP <= largest) top *= LATE_GRADIENT_STEP;
  for (
    let threshold = top;
    threshold >= LATE_GRADIENT_MIN_BYTES && thresholds.length < LATE_GRADIENT_THRESHOLDS;
    threshold /= LATE_GRADIENT_STEP
  ) {
    const count = sizes.filter((bytes) => bytes >= threshold).length;
    if (count > previousCount) thresholds.push(threshold);
    previousCount = count;
  }
  return thresholds;
}

/**
 * Gradients computed late where a minimum cut says it pays. At the last computation of the
 * widest node every schedule computes (the first layers' backward on a CNN), each keep sink
 * is held, or made later from values held then or made again (the last-computation network
 * of bounds/last-computation.ts). Pricing each recomputation at mu times its cost, the least
 * cut chooses the sinks to leave for later: those whose inputs are cheap to hold or to make
 * again. lateGradientsOrder moves every sink above a size instead, so near the floor it
 * makes the backward pass again for each (googlenet at 33.9 % of its no-remat peak: 1.79 x
 * baseCost, against 1.36 x on a cut's order). This returns `base` with each distinct set of
 * late sinks, over a geometric range of prices, moved to its end (at most LATE_CUT_MAX_ORDERS
 * orders, the cheapest prices first).
 */
export function cutLateOrders(graph: IndexedGraph, base: readonly number[] = listedOrder(graph)): number[][] {
  // The orders do not depend on the budget: the cuts are worked out once per graph and base.
  const cached = cutOrdersCache.get(graph);
  if (cached?.base.every((node, at) => base[at] === node)) return cached.orders;
  const orders = cutOrders(graph, base);
  cutOrdersCache.set(graph, { base: base.slice(), orders });
  return orders;
}

const cutOrdersCache = new WeakMap<IndexedGraph, { base: readonly number[]; orders: number[][] }>();

/** cutLateOrders without the cache. */
function cutOrders(graph: IndexedGraph, base: readonly number[]): number[][] {
  const size = graph.size;
  const must = computedByEvery(graph);
  let widest = -1;
  let widestBytes = -1;
  for (let node = 0; node < size; node++) {
    if (!must[node]) continue;
    const forced = forcedBytes(graph, node);
    if (forced > widestBytes) {
      widest = node;
      widestBytes = forced;
    }
  }
  if (widest < 0) return [];
  const inS = new Uint8Array(size);
  inS[widest] = 1;
  const ancestorOfS = new Uint8Array(size);
  markAncestorsOfS(graph, inS, ancestorOfS);
  const network = lastComputationNetwork(graph, widest, inS, ancestorOfS);
  // Sinks that read the widest node's result come after it anyway: moved to the end, they
  // would hold it (or make it again) through the other late gradients.
  const descendant = new Uint8Array(size);
  descendant[widest] = 1;
  for (let node = widest; node < size; node++)
    if (!descendant[node] && graph.inputs[node].some((input) => descendant[input])) descendant[node] = 1;
  // Prices in bytes per unit of cost, around the graph's bytes per unit of cost.
  let totalBytes = 0;
  for (let node = 0; node < size; node++) totalBytes += graph.bytes[node];
  const unit = graph.baseCost > 0 ? totalBytes / graph.baseCost : 1;
  const orders: number[][] = [];
  const seen = new Set<string>();
  for (const step of LATE_CUT_PRICE_STEPS) {
    if (orders.length >= LATE_CUT_MAX_ORDERS) break;
    const mu = unit * 2 ** step;
    const { leaving } = closureMinimum(network, graph, undefined, (node) => mu * graph.cost[node]);
    const late = new Set(leaving.filter((node) => graph.keep[node] && graph.users[node].length === 0 && !descendant[node]));
    const key = [...late].join(',');
    if (late.size === 0 || seen.has(key)) continue;
    seen.add(key);
    orders.push([...base.filter((node) => !late.has(node)), ...base.filter((node) => late.has(node))]);
  }
  return orders;
}

/** The topological order that lists ready nodes by smallest key (ties by index): Kahn's algorithm with a binary heap. */
export function topologicalByKey(graph: IndexedGraph, key: ArrayLike<number>): number[] {
  const size = graph.size;
  const missing = new Int32Array(size);
  const heap: number[] = [];
  const less = (a: number, b: number) => key[a] < key[b] || (key[a] === key[b] && a < b);
  const push = (node: number) => {
    heap.push(node);
    for (let at = heap.length - 1; at > 0; ) {
      const parent = (at - 1) >> 1;
      if (!less(heap[at], heap[parent])) break;
      [heap[at], heap[parent]] = [heap[parent], heap[at]];
      at = parent;
    }
  };
  const pop = () => {
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let at = 0; ; ) {
        const left = 2 * at + 1;
        let smallest = at;
        if (left < heap.length && less(heap[left], heap[smallest])) smallest = left;
        if (left + 1 < heap.length && less(heap[left + 1], heap[smallest])) smallest = left + 1;
        if (smallest === at) break;
        [heap[at], heap[smallest]] = [heap[smallest], heap[at]];
        at = smallest;
      }
    }
    return top;
  };
  for (let node = 0; node < size; node++) {
    missing[node] = graph.inputs[node].length;
    if (missing[node] === 0) push(node);
  }
  const order: number[] = [];
  while (heap.length) {
    const node = pop();
    order.push(node);
    for (const user of graph.users[node]) if (--missing[user] === 0) push(user);
  }
  return order;
}

/** The order of first computations of a compute sequence, every node placed (topologically). */
export function orderOfSequence(graph: IndexedGraph, sequence: readonly number[]): number[] {
  const key = new Float64Array(graph.size).fill(Infinity);
  sequence.forEach((node, at) => {
    if (key[node] === Infinity) key[node] = at;
  });
  // A node the sequence never computes goes just after its inputs.
  for (let node = 0; node < graph.size; node++) {
    if (key[node] !== Infinity) continue;
    let after = -1;
    for (const input of graph.inputs[node]) after = Math.max(after, key[input]);
    key[node] = after + 0.5;
  }
  return topologicalByKey(graph, key);
}
