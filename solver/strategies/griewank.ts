// Griewank and Walther's binomial checkpointing (revolve, 2000). On a chain of n steps
// with s checkpoint slots, the first checkpoint goes where the right part can still be
// reversed with s - 1 slots and the left part with one more repetition; both parts are
// then split the same way, nested one level deeper (see checkpointing.ts for how nested
// checkpoints are kept and released). On graphs that are not chains, the chain is the
// sequence of articulation points of the forward part. The number of slots is swept to
// fit the budget. Within the finest segments values are recomputed once and kept, so
// this is revolve's checkpoint placement in the checkpoint scheduler's class.
import { articulationPoints, forwardNodes } from '../graph/analysis.js';
import { BETA_CAP } from '../limits.js';
import { offerCheckpoints, schedulerBase, type CheckpointLevels } from './checkpointing.js';
import { Incumbent } from './incumbent.js';
import type { Strategy } from './types.js';

/** beta(s, r) = C(s + r, s): the longest chain s slots reverse with r repetitions. */
export function beta(slots: number, repetitions: number): number {
  let value = 1;
  for (let k = 1; k <= slots; k++) {
    value = (value * (repetitions + k)) / k;
    if (value > BETA_CAP) return BETA_CAP;
  }
  return Math.round(value);
}

/** Where revolve puts the first checkpoint of a chain of `steps` with `slots` free. */
export function revolveSplit(steps: number, slots: number): number {
  let repetitions = 0;
  while (beta(slots, repetitions) < steps) repetitions++;
  const rightMax = beta(slots - 1, repetitions);
  return Math.max(1, Math.min(steps - 1, steps - rightMax));
}

/** Nested checkpoint levels for the chain `positions` with `slots` slots. */
export function binomialLevels(size: number, positions: readonly number[], slots: number, maxLevel = 24): CheckpointLevels {
  const levels = new Int32Array(size).fill(-1);
  // Each task reverses positions (lo, hi] of the chain; lo is available (a checkpoint or the start).
  const tasks: { lo: number; hi: number; slots: number; level: number }[] = [{ lo: -1, hi: positions.length - 1, slots, level: 0 }];
  while (tasks.length) {
    const task = tasks.pop()!;
    const steps = task.hi - task.lo;
    if (steps <= 1 || task.slots <= 0 || task.level > maxLevel) continue;
    const at = task.lo + revolveSplit(steps, task.slots);
    levels[positions[at]] = task.level;
    tasks.push({ lo: at, hi: task.hi, slots: task.slots - 1, level: task.level + 1 });
    tasks.push({ lo: task.lo, hi: at, slots: task.slots, level: task.level + 1 });
  }
  return levels;
}

export const griewank: Strategy = {
  name: 'griewank',
  description: 'Binomial (revolve) checkpointing on the chain of articulation points, slots swept to fit the budget',
  options: [],
  run(context) {
    const { graph } = context;
    const forward = forwardNodes(graph);
    const points = articulationPoints(graph);
    const chain = points.length === forward.length ? forward : points;
    const incumbent = new Incumbent(context, { ties: 'lower-peak', progress: false });
    const base = schedulerBase(graph);
    const seen = new Set<string>();
    // Every slot count up to 32, then a geometric grid: each count gives one placement.
    for (let slots = 1; slots <= Math.max(1, chain.length); slots = slots < 32 ? slots + 1 : Math.ceil(slots * 1.2)) {
      const levels = binomialLevels(graph.size, chain, slots);
      const key = levels.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      offerCheckpoints(incumbent, base, levels, 'griewank');
    }
    return incumbent.sweepOutcome('griewank');
  },
};
