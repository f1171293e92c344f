// Memory-aware topological orders. The contract fixes no order of first computations: any
// topological order with every value freed after its last use is a legal no-remat plan,
// and its peak can be far below the peak of the order the framework listed (Moccasin's
// random layered graphs list nodes level by level, which keeps whole levels alive). A
// list scheduler picks, among the ready nodes, the one whose computation adds the least
// memory (its bytes minus the inputs it is the last reader of); ties go to the earlier
// node, so a graph whose listed order is already good keeps it.
import type { IndexedGraph } from '../graph/validate.js';

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
