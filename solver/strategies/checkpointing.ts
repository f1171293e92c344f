// The checkpoint scheduler shared by the checkpointing baselines (checkpoint-all, Chen,
// Griewank, SuperNeurons). A baseline only chooses which forward values are checkpoints
// and at which nesting level; this file turns that choice into a legal schedule:
// - nodes are computed in execution order; a missing input is recomputed on demand from
//   whatever is still on the device (recursively);
// - keep nodes are never freed; a value is freed once nothing later reads it (values that
//   cannot be recomputed stay while a recomputation might still need them);
// - a recomputable forward value that is still read later is kept only while it is
//   retained: level-0 checkpoints always; a level-l checkpoint while the current node is
//   in the same level-(l-1) segment (or a later one); other values while the current
//   node is in their finest segment (or a later one). Segments are cut by checkpoints
//   in execution order; a backward node sits at the position of the deepest forward
//   value it reads, so the backward pass walks the segments in reverse. Two optional
//   rules retain more within the current segment (a value whose next reader is in it;
//   a value recomputed for it), which avoids recomputing a value once per reader when
//   skip connections read across segments; sweeps try each rule (offerCheckpoints).
// With one level this is Chen's segment checkpointing; with nested levels it is
// Griewank's binomial checkpointing. A candidate whose schedule grows past a step cap
// (it recomputes everything several times over) is abandoned.
import type { IndexedGraph } from '../graph/validate.js';
import { CANDIDATE_STEP_ALLOWANCE, CHECKPOINT_STEPS_PER_NODE } from '../limits.js';
import { lastUses } from '../graph/analysis.js';
import type { IndexedStep } from '../schedule/simulate.js';
import type { Incumbent } from './incumbent.js';

/** Level of each node: -1 when not a checkpoint, 0 for forward-pass checkpoints, l > 0 nested. */
export type CheckpointLevels = Int32Array;

/** Facts about a graph that every candidate of a sweep reuses. */
export interface SchedulerBase {
  graph: IndexedGraph;
  last: number[];
  /** Last step at which a recomputation might still read the value. */
  extendedLast: number[];
  /** Position of each node in the segment order (forward: itself; others: deepest forward input). */
  position: Int32Array;
  /** Recomputable forward values, subject to retention. */
  retainable: Uint8Array;
}

/** Precomputes what the scheduler needs about a graph. */
export function schedulerBase(graph: IndexedGraph): SchedulerBase {
  const size = graph.size;
  const last = lastUses(graph);
  const extendedLast = last.slice();
  for (let node = size - 1; node >= 0; node--) {
    for (const user of graph.users[node]) {
      if (graph.recomputable[user] && extendedLast[user] > extendedLast[node]) extendedLast[node] = extendedLast[user];
    }
  }
  const position = new Int32Array(size);
  const retainable = new Uint8Array(size);
  let previous = 0;
  for (let node = 0; node < size; node++) {
    if (graph.kind[node] === 'forward') {
      position[node] = node;
      retainable[node] = graph.recomputable[node] && !graph.keep[node] ? 1 : 0;
    } else {
      let deepest = -1;
      for (const input of graph.inputs[node]) if (graph.kind[input] === 'forward' && input > deepest) deepest = input;
      position[node] = deepest >= 0 ? deepest : previous;
    }
    previous = position[node];
  }
  return { graph, last, extendedLast, position, retainable };
}

/** Levels with every forward node a level-0 checkpoint (no recomputation at all). */
export function allCheckpoints(graph: IndexedGraph): CheckpointLevels {
  const levels = new Int32Array(graph.size).fill(-1);
  for (let node = 0; node < graph.size; node++) if (graph.kind[node] === 'forward') levels[node] = 0;
  return levels;
}

/** Options of the checkpoint scheduler. */
export interface ScheduleOptions {
  /**
   * Also retain a value whose next reader sits in the current finest segment, so a value
   * recomputed for one node of a segment is not recomputed again for the next one.
   */
  retainForSegment?: boolean;
  /** Also retain every value recomputed for the current finest segment while it lasts. */
  retainRecomputed?: boolean;
  /** Give up (return null) once the schedule grows past this many steps. */
  maxSteps?: number;
}

/** Builds the schedule for a checkpoint assignment. */
export function scheduleCheckpoints(
  base: SchedulerBase,
  levels: CheckpointLevels,
  options?: Omit<ScheduleOptions, 'maxSteps'>,
): IndexedStep[];
/** Builds the schedule for a checkpoint assignment; null when it grew past options.maxSteps. */
export function scheduleCheckpoints(base: SchedulerBase, levels: CheckpointLevels, options: ScheduleOptions): IndexedStep[] | null;
export function scheduleCheckpoints(base: SchedulerBase, levels: CheckpointLevels, options: ScheduleOptions = {}): IndexedStep[] | null {
  const { graph, position, retainable } = base;
  const size = graph.size;
  let maxLevel = 0;
  for (let node = 0; node < size; node++) if (levels[node] > maxLevel) maxLevel = levels[node];
  // segment[l][x]: number of checkpoints of level <= l strictly before position x.
  const segment: Int32Array[] = [];
  for (let level = 0; level <= maxLevel; level++) {
    const counts = new Int32Array(size + 1);
    let seen = 0;
    for (let node = 0; node < size; node++) {
      counts[node] = seen;
      if (levels[node] >= 0 && levels[node] <= level) seen++;
    }
    counts[size] = seen;
    segment.push(counts);
  }
  const retainedAt = (value: number, current: number): boolean => {
    const level = levels[value];
    if (level === 0) return true;
    const ruling = level < 0 ? maxLevel : level - 1;
    const table = segment[ruling];
    return table[position[value]] >= table[current];
  };

  const maxSteps = options.maxSteps ?? Infinity;
  const steps: IndexedStep[] = [];
  const onDevice = new Uint8Array(size);
  const pending = new Int32Array(size);
  const retainedSet = new Set<number>();
  // The next reader of each value after `now` (users are ascending and `now` only grows).
  const nextUserAt = new Int32Array(size);
  const nextReader = (value: number, now: number): number => {
    const users = graph.users[value];
    let at = nextUserAt[value];
    while (at < users.length && users[at] <= now) at++;
    nextUserAt[value] = at;
    return at < users.length ? users[at] : -1;
  };
  const finest = segment[maxLevel];
  const retainForSegment = options.retainForSegment ?? false;
  const retainRecomputed = options.retainRecomputed ?? false;
  // A value that cannot be recomputed stays while a recomputation might still read it; for
  // this assignment only values that may be freed early (or whose users may be) are ever
  // recomputed, so level-0 checkpoints do not hold their inputs to the end.
  // A user recomputed while the value is still there (before its last direct read) does
  // not make the value itself come back; one recomputed later does.
  const mayRecompute = new Uint8Array(size);
  const holdUntil = base.last.slice();
  for (let node = size - 1; node >= 0; node--) {
    let userLate = false;
    for (const user of graph.users[node]) {
      if (!mayRecompute[user]) continue;
      if (holdUntil[user] > base.last[node]) userLate = true;
      if (holdUntil[user] > holdUntil[node]) holdUntil[node] = holdUntil[user];
    }
    const freedEarly = retainable[node] === 1 && levels[node] !== 0;
    mayRecompute[node] = graph.recomputable[node] && (freedEarly || userLate) ? 1 : 0;
  }
  const mayFree = (value: number, now: number, current: number): boolean => {
    if (graph.keep[value] || pending[value] > 0) return false;
    const lastRead = graph.recomputable[value] ? base.last[value] : holdUntil[value];
    if (lastRead <= now) return true;
    if (retainable[value] !== 1 || retainedAt(value, current)) return false;
    if (retainRecomputed && recomputedIn[value] === finest[current]) return false;
    if (retainForSegment) {
      const reader = nextReader(value, now);
      if (reader >= 0 && finest[position[reader]] === finest[current]) return false;
    }
    return true;
  };
  const free = (value: number) => {
    steps.push({ op: 'free', node: value });
    onDevice[value] = 0;
    retainedSet.delete(value);
  };
  // The finest segment a value was last recomputed for (-1: computed in order).
  const recomputedIn = new Int32Array(size).fill(-1);
  const compute = (node: number, forSegment = -1) => {
    steps.push({ op: 'compute', node });
    onDevice[node] = 1;
    recomputedIn[node] = forSegment;
    if (retainable[node]) retainedSet.add(node);
  };

  for (let node = 0; node < size; node++) {
    // Recompute what is missing, in execution order, counting the reads still to come.
    const missing = collectMissing(graph, node, onDevice);
    for (const step of missing) for (const input of graph.inputs[step]) pending[input]++;
    for (const input of graph.inputs[node]) pending[input]++;
    const current = position[node];
    for (const step of missing) {
      compute(step, finest[current]);
      for (const input of graph.inputs[step]) {
        pending[input]--;
        if (onDevice[input] && mayFree(input, node - 1, current)) free(input);
      }
      if (mayFree(step, node - 1, current)) free(step);
    }
    if (onDevice[node]) throw new Error(`scheduler: ${graph.ids[node]} is already on the device`);
    compute(node);
    for (const input of graph.inputs[node]) pending[input]--;
    // After the node: free what nothing later reads, and what the next node does not retain.
    const next = node + 1 < size ? position[node + 1] : position[node];
    for (const input of graph.inputs[node]) if (onDevice[input] && mayFree(input, node, next)) free(input);
    if (mayFree(node, node, next)) free(node);
    // Retention only changes where the finest segment changes (values whose last read
    // passed were checked above as inputs), so the retained set is scanned only there.
    if (finest[next] !== finest[current]) {
      for (const value of retainedSet) if (onDevice[value] && mayFree(value, node, next)) free(value);
    }
    if (steps.length > maxSteps) return null;
  }
  return steps;
}

/** The missing ancestors of `node` that must be recomputed, in execution order. */
function collectMissing(graph: IndexedGraph, node: number, onDevice: Uint8Array): number[] {
  const found: number[] = [];
  const seen = new Set<number>();
  const stack: number[] = [];
  const push = (input: number) => {
    if (onDevice[input] || seen.has(input)) return;
    seen.add(input);
    stack.push(input);
  };
  for (const input of graph.inputs[node]) push(input);
  while (stack.length) {
    const value = stack.pop()!;
    if (!graph.recomputable[value]) throw new Error(`scheduler: ${graph.ids[value]} is needed again but cannot be recomputed`);
    found.push(value);
    for (const input of graph.inputs[value]) push(input);
  }
  return found.sort((a, b) => a - b);
}

/** The step cap past which a checkpoint candidate counts as thrashing (about five computes per node). */
export function stepCap(graph: IndexedGraph): number {
  return CHECKPOINT_STEPS_PER_NODE * graph.size + CANDIDATE_STEP_ALLOWANCE;
}

/** The retention rules a sweep tries for each checkpoint assignment, from leanest to most retaining. */
const RETENTION_RULES: readonly ScheduleOptions[] = [{}, { retainForSegment: true }, { retainForSegment: true, retainRecomputed: true }];

/**
 * Offers a checkpoint assignment to a sweep's incumbent under each retention rule
 * (segment-only; also values whose next reader is in the current segment; also values
 * recomputed for it); `from` names the baseline.
 */
export function offerCheckpoints(incumbent: Incumbent, base: SchedulerBase, levels: CheckpointLevels, from: string): void {
  const maxSteps = stepCap(base.graph);
  for (const rule of RETENTION_RULES) {
    const steps = scheduleCheckpoints(base, levels, { ...rule, maxSteps });
    if (steps) incumbent.offer(steps, from);
    else incumbent.giveUp();
  }
}
