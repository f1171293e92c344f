// DTR, Dynamic Tensor Rematerialization (Kirisame et al., ICLR 2021), replayed offline:
// nodes run in execution order; a missing input is recomputed on demand; before a
// compute that would exceed the budget, resident values are evicted greedily by the
// smallest h = cost / (bytes x staleness) until it fits. Inputs of the running compute,
// keep nodes and values that cannot be recomputed are never evicted. When nothing more
// can be evicted the replay goes on over budget and the plan is reported infeasible with
// the peak it reached.
import type { IndexedGraph } from '../graph/validate.js';
import type { IndexedStep } from '../schedule/simulate.js';
import { schedulerBase } from './checkpointing.js';
import { CandidatePicker } from './search.js';
import type { Strategy } from './types.js';

/** Replays DTR's eviction under `available` device bytes (residentBytes excluded). */
export function dtrSchedule(graph: IndexedGraph, available: number): IndexedStep[] {
  const size = graph.size;
  const { last, extendedLast } = schedulerBase(graph);
  const steps: IndexedStep[] = [];
  const onDevice = new Uint8Array(size);
  const pinned = new Int32Array(size);
  const lastAccess = new Float64Array(size);
  const resident = new Set<number>();
  let clock = 0;
  let live = 0;

  const lastRead = (value: number) => (graph.recomputable[value] ? last[value] : extendedLast[value]);
  const free = (value: number) => {
    steps.push({ op: 'free', node: value });
    onDevice[value] = 0;
    resident.delete(value);
    live -= graph.bytes[value];
  };
  const evictOne = (): boolean => {
    let victim = -1;
    let best = Infinity;
    for (const value of resident) {
      if (pinned[value] || graph.keep[value] || !graph.recomputable[value] || graph.bytes[value] === 0) continue;
      const staleness = clock - lastAccess[value] + 1;
      const score = graph.cost[value] / (graph.bytes[value] * staleness);
      if (score < best || (score === best && value < victim)) (best = score), (victim = value);
    }
    if (victim < 0) return false;
    free(victim);
    return true;
  };
  const materialize = (node: number, now: number): void => {
    // Pin the inputs already on the device, then bring the missing ones.
    const inputs = graph.inputs[node];
    const present = inputs.map((input) => onDevice[input] === 1);
    inputs.forEach((input, at) => present[at] && pinned[input]++);
    inputs.forEach((input, at) => {
      if (present[at]) return;
      if (!onDevice[input]) materialize(input, now);
      pinned[input]++;
    });
    const need = graph.bytes[node] + graph.workspace[node];
    while (live + need > available && evictOne());
    steps.push({ op: 'compute', node });
    onDevice[node] = 1;
    resident.add(node);
    live += graph.bytes[node];
    clock++;
    lastAccess[node] = clock;
    for (const input of graph.inputs[node]) {
      pinned[input]--;
      lastAccess[input] = clock;
    }
    // Values nothing reads any more go at once; while recomputing for node `now`, a value
    // read at `now` may still be needed by another input's recomputation.
    const horizon = node === now ? now + 1 : now;
    for (const input of graph.inputs[node]) {
      if (onDevice[input] && !pinned[input] && !graph.keep[input] && lastRead(input) < horizon) free(input);
    }
  };

  for (let node = 0; node < size; node++) {
    pinned[node]++;
    materialize(node, node);
    pinned[node]--;
    if (!graph.keep[node] && lastRead(node) <= node && onDevice[node]) free(node);
  }
  return steps;
}

export const dtr: Strategy = {
  name: 'dtr',
  description: 'Dynamic Tensor Rematerialization replayed offline: evict the smallest cost/(bytes x staleness) under the budget',
  options: [],
  run(context) {
    const picker = new CandidatePicker(context);
    picker.offer(dtrSchedule(context.graph, context.budgetBytes - context.graph.residentBytes));
    return picker.outcome('dtr');
  },
};
