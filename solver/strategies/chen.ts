// Chen et al., "Training Deep Nets with Sublinear Memory Cost" (2016), as Checkmate's
// baselines run them: the forward nodes are linearized in execution order (or reduced
// to the articulation points of the forward part) and cut into segments whose
// boundaries are kept; everything else is recomputed segment by segment in the backward
// pass (see checkpointing.ts).
import { articulationPoints, forwardNodes } from '../graph/analysis.js';
import type { IndexedGraph } from '../graph/validate.js';
import { GIVE_UP_RUN } from '../limits.js';
import { offerCheckpoints, schedulerBase, type CheckpointLevels } from './checkpointing.js';
import { Incumbent } from './incumbent.js';
import type { Strategy, StrategyContext } from './types.js';

function levelsFor(graph: IndexedGraph, checkpoints: Iterable<number>): CheckpointLevels {
  const levels = new Int32Array(graph.size).fill(-1);
  for (const node of checkpoints) levels[node] = 0;
  return levels;
}

/** Every `stride`-th candidate; Chen's sqrt(n) rule is stride = ceil(sqrt(candidates)). */
export function sqrtnCheckpoints(candidates: readonly number[], stride = Math.ceil(Math.sqrt(candidates.length))): number[] {
  stride = Math.max(1, stride);
  const chosen: number[] = [];
  for (let at = stride - 1; at < candidates.length; at += stride) chosen.push(candidates[at]);
  return chosen;
}

/** Chen's greedy rule for a segment size b: cut whenever the running bytes exceed b. */
export function greedyCheckpoints(graph: IndexedGraph, candidates: readonly number[], segmentBytes: number): number[] {
  const chosen: number[] = [];
  let running = 0;
  for (const node of candidates) {
    running += graph.bytes[node];
    if (running > segmentBytes) {
      chosen.push(node);
      running = 0;
    }
  }
  return chosen;
}

function runSqrtn(context: StrategyContext, candidates: number[], name: string) {
  const incumbent = new Incumbent(context, { ties: 'lower-peak', progress: false });
  const base = schedulerBase(context.graph);
  // Chen's stride sqrt(n) and, to fit the budget or find a cheaper plan, a sweep of the
  // number of segments: a shorter stride keeps more, a longer one recomputes more.
  const root = Math.max(1, Math.ceil(Math.sqrt(candidates.length)));
  const strides = new Set<number>([root]);
  for (let stride = 1; stride <= Math.max(1, candidates.length); stride = Math.max(stride + 1, Math.round(stride * 1.25)))
    strides.add(stride);
  const seen = new Set<string>();
  for (const stride of [...strides].sort((a, b) => a - b)) {
    // Longer strides recompute more; once they thrash, stop.
    if (incumbent.givenUpInARow >= GIVE_UP_RUN) break;
    const chosen = sqrtnCheckpoints(candidates, stride);
    const key = chosen.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    offerCheckpoints(incumbent, base, levelsFor(context.graph, chosen), name);
  }
  return incumbent.sweepOutcome(name);
}

function runGreedy(context: StrategyContext, candidates: number[], name: string) {
  const { graph } = context;
  const incumbent = new Incumbent(context, { ties: 'lower-peak', progress: false });
  const base = schedulerBase(graph);
  // Sweep the segment size b over the distinct prefix sums of the candidates' bytes, thinned
  // to a geometric grid: each b gives one checkpoint set.
  let total = 0;
  for (const node of candidates) total += graph.bytes[node];
  const seen = new Set<string>();
  const sizes = new Set<number>([0]);
  for (let fraction = 1; fraction >= 1 / 4096; fraction /= 1.25) sizes.add(Math.floor(total * fraction));
  for (const size of [...sizes].sort((a, b) => a - b)) {
    // Larger segments recompute more; once they thrash, stop.
    if (incumbent.givenUpInARow >= GIVE_UP_RUN) break;
    const chosen = greedyCheckpoints(graph, candidates, size);
    const key = chosen.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    offerCheckpoints(incumbent, base, levelsFor(graph, chosen), name);
  }
  return incumbent.sweepOutcome(name);
}

export const chenSqrtn: Strategy = {
  name: 'chen-sqrtn',
  description: "Chen's sqrt(n) checkpointing over the linearized forward nodes, the segment count swept to fit the budget",
  options: [],
  run: (context) => runSqrtn(context, forwardNodes(context.graph), 'chen-sqrtn'),
};

export const chenSqrtnAp: Strategy = {
  name: 'chen-sqrtn-ap',
  description: "Chen's sqrt(n) checkpointing over the articulation points of the forward part, the segment count swept to fit",
  options: [],
  run: (context) => runSqrtn(context, articulationPoints(context.graph), 'chen-sqrtn-ap'),
};

export const chenGreedy: Strategy = {
  name: 'chen-greedy',
  description: "Chen's greedy checkpointing over the linearized forward nodes, segment size swept to fit the budget",
  options: [],
  run: (context) => runGreedy(context, forwardNodes(context.graph), 'chen-greedy'),
};

export const chenGreedyAp: Strategy = {
  name: 'chen-greedy-ap',
  description: "Chen's greedy checkpointing over the articulation points, segment size swept to fit the budget",
  options: [],
  run: (context) => runGreedy(context, articulationPoints(context.graph), 'chen-greedy-ap'),
};
