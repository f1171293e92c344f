// SuperNeurons (Wang et al., PPoPP 2018), cost-aware recomputation: keep the outputs of
// expensive layers (convolutions, matrix products) and recompute the cheap ones between
// them. Without operator names, "expensive" means a high cost per byte. The set of kept
// layers grows from the most expensive until the plan fits the budget.
import { forwardNodes } from '../graph/analysis.js';
import type { IndexedGraph } from '../graph/validate.js';
import { scheduleCheckpoints, schedulerBase } from './checkpointing.js';
import { CandidatePicker } from './search.js';
import type { Strategy } from './types.js';

const EXPENSIVE_OP = /conv|matmul|\bmm\b|addmm|bmm|linear|gemm|dense|fc\d*|attention|lstm|gru|einsum|baddbmm/i;

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
    const picker = new CandidatePicker(context);
    const base = schedulerBase(graph);
    const forward = forwardNodes(graph);
    const density = (node: number) => graph.cost[node] / Math.max(1, graph.bytes[node]);
    const ranked = forward.slice().sort((a, b) => density(b) - density(a) || a - b);
    const byOp = new Set(expensiveByOp(graph));
    // Candidates: the expensive-op set first, then the k densest for a geometric range of k.
    const sets: number[][] = [];
    if (byOp.size) sets.push([...byOp]);
    const counts = new Set<number>([0, forward.length]);
    for (let count = 1; count < forward.length; count = Math.ceil(count * 1.3)) counts.add(count);
    for (const count of [...counts].sort((a, b) => b - a)) sets.push(ranked.slice(0, count));
    for (const set of sets) {
      const levels = new Int32Array(graph.size).fill(-1);
      for (const node of set) levels[node] = 0;
      picker.offer(scheduleCheckpoints(base, levels));
    }
    return picker.outcome('superneurons');
  },
};
