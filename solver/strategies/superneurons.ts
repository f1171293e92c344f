// SuperNeurons (Wang et al., PPoPP 2018), cost-aware recomputation: keep the outputs of
// expensive layers (convolutions, matrix products) and recompute the cheap ones between
// them. Without operator names, "expensive" means a high cost per byte. The set of kept
// layers grows from the most expensive until the plan fits the budget.
import { forwardNodes } from '../graph/analysis.js';
import type { IndexedGraph } from '../graph/validate.js';
import { GIVE_UP_RUN } from '../limits.js';
import { offerCheckpoints, schedulerBase } from './checkpointing.js';
import { Incumbent } from './incumbent.js';
import type { Strategy } from './types.js';

const EXPENSIVE_OP = /conv|matmul|\bmm\b|addmm|bmm|linear|gemm|dense|fc\d*|attention|lstm|gru|einsum|baddbmm/i;

/** The position `at` of `count` with its bits reversed: a low-discrepancy order of 0..count-1. */
export function bitReversed(at: number, count: number): number {
  let bits = 0;
  while (1 << bits < count) bits++;
  let reversed = 0;
  for (let bit = 0; bit < bits; bit++) if (at & (1 << bit)) reversed |= 1 << (bits - 1 - bit);
  return reversed;
}

/** Forward nodes whose operator name marks them as expensive. */
export function expensiveByOp(graph: IndexedGraph): number[] {
  return forwardNodes(graph).filter((node) => {
    const op = graph.graph.nodes[node].op;
    return op !== undefined && EXPENSIVE_OP.test(op);
  });
}

export const superneurons: Strategy = {
  name: 'superneurons',
  description: 'Cost-aware recomputation: keep expensive outputs (convolutions, matmuls), recompute cheap ones',
  options: [],
  run(context) {
    const { graph } = context;
    const incumbent = new Incumbent(context, { ties: 'lower-peak', progress: false });
    const base = schedulerBase(graph);
    const forward = forwardNodes(graph);
    const density = (node: number) => graph.cost[node] / Math.max(1, graph.bytes[node]);
    // Equally dense layers are taken in an evenly spread order (bit-reversed positions), so
    // the k kept ones cut the network into even segments instead of keeping a prefix.
    const spread = new Map<number, number>(forward.map((node, at) => [node, bitReversed(at, forward.length)]));
    const ranked = forward.slice().sort((a, b) => density(b) - density(a) || spread.get(a)! - spread.get(b)! || a - b);
    const byOp = new Set(expensiveByOp(graph));
    // Candidates: the expensive-op set first, then the k densest for a geometric range of k.
    const sets: number[][] = [];
    if (byOp.size) sets.push([...byOp]);
    const counts = new Set<number>([0, forward.length]);
    for (let count = 1; count < forward.length; count = Math.ceil(count * 1.3)) counts.add(count);
    for (const count of [...counts].sort((a, b) => b - a)) sets.push(ranked.slice(0, count));
    for (const set of sets) {
      // Fewer kept layers recompute more; once they thrash, stop.
      if (incumbent.givenUpInARow >= GIVE_UP_RUN) break;
      const levels = new Int32Array(graph.size).fill(-1);
      for (const node of set) levels[node] = 0;
      offerCheckpoints(incumbent, base, levels, 'superneurons');
    }
    return incumbent.sweepOutcome('superneurons');
  },
};
