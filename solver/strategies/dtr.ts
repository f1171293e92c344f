// DTR, Dynamic Tensor Rematerialization (Kirisame et al., ICLR 2021), replayed offline:
// nodes run in execution order; a missing input is recomputed on demand; before a
// compute that would exceed the budget, resident values are evicted greedily by the
// smallest h = cost / (bytes x staleness) until it fits. Two cost estimates are replayed
// and the better plan kept: the value's own cost, and, as in the paper's h_DTR^eq, its
// cost plus that of the evicted values around it (its evicted neighbourhood, tracked as
// union-find components that only merge), which makes evicting next to evicted values
// dearer and keeps the replay from thrashing on training graphs.
// Inputs of the running compute, keep nodes and values that cannot be recomputed are
// never evicted. When nothing more can be evicted the replay goes on over budget and the
// plan is reported infeasible with the peak it reached; a replay that grows past a step
// cap (it thrashes, as on graphs with many long skip edges) is abandoned.
import { noRematSteps } from '../schedule/no-remat.js';
import type { IndexedGraph } from '../graph/validate.js';
import { CANDIDATE_STEP_ALLOWANCE, DTR_STEPS_PER_NODE } from '../limits.js';
import type { IndexedStep } from '../schedule/simulate.js';
import { schedulerBase } from './checkpointing.js';
import { Incumbent } from './incumbent.js';
import type { Strategy } from './types.js';

/** Options of the DTR replay. */
export interface DtrOptions {
  /** Count the evicted neighbourhood in the cost (h_DTR^eq); false gives the plain local rule. */
  neighbourhood?: boolean;
  /** Give up (return null) once the schedule grows past this many steps. */
  maxSteps?: number;
}

/** Replays DTR's eviction under `available` device bytes (residentBytes excluded); null when it thrashed past maxSteps. */
export function dtrSchedule(graph: IndexedGraph, available: number, options: DtrOptions = {}): IndexedStep[] | null {
  const size = graph.size;
  const neighbourhood = options.neighbourhood ?? true;
  const maxSteps = options.maxSteps ?? Infinity;
  const { last, extendedLast } = schedulerBase(graph);
  const steps: IndexedStep[] = [];
  const onDevice = new Uint8Array(size);
  const pinned = new Int32Array(size);
  const lastAccess = new Float64Array(size);
  const resident = new Set<number>();
  // Union-find over evicted values: the components of the evicted neighbourhood.
  const parent = new Int32Array(size);
  for (let node = 0; node < size; node++) parent[node] = node;
  const componentCost = new Float64Array(size);
  const evicted = new Uint8Array(size);
  const stamp = new Int32Array(size);
  let stampNow = 0;
  let clock = 0;
  let live = 0;

  const find = (node: number): number => {
    let root = node;
    while (parent[root] !== root) root = parent[root];
    while (parent[node] !== root) {
      const next = parent[node];
      parent[node] = root;
      node = next;
    }
    return root;
  };
  const markEvicted = (value: number) => {
    evicted[value] = 1;
    parent[value] = value;
    componentCost[value] = graph.cost[value];
    const join = (other: number) => {
      if (!evicted[other]) return;
      const mine = find(value);
      const theirs = find(other);
      if (mine === theirs) return;
      parent[theirs] = mine;
      componentCost[mine] += componentCost[theirs];
    };
    for (const input of graph.inputs[value]) join(input);
    for (const user of graph.users[value]) join(user);
  };
  const markRestored = (value: number) => {
    if (!evicted[value]) return;
    evicted[value] = 0;
    // Components only merge (the paper's approximation): the value's cost leaves its component.
    componentCost[find(value)] -= graph.cost[value];
  };
  const projectedCost = (value: number): number => {
    let total = graph.cost[value];
    if (!neighbourhood) return total;

    stampNow++;
    const add = (other: number) => {
      if (!evicted[other]) return;
      const root = find(other);
      if (stamp[root] === stampNow) return;
      stamp[root] = stampNow;
      total += Math.max(0, componentCost[root]);
    };
    for (const input of graph.inputs[value]) add(input);
    for (const user of graph.users[value]) add(user);
    return total;
  };

  const lastRead = (value: number) => (graph.recomputable[value] ? last[value] : extendedLast[value]);
  const free = (value: number) => {
    steps.push({ op: 'free', node: value });
    onDevice[value] = 0;
    resident.delete(value);
    live -= graph.bytes[value];
    markEvicted(value);
  };
  const evictOne = (): boolean => {
    let victim = -1;
    let best = Infinity;
    for (const value of resident) {
      if (pinned[value] || graph.keep[value] || !graph.recomputable[value] || graph.bytes[value] === 0) continue;
      const staleness = clock - lastAccess[value] + 1;
      const score = projectedCost(value) / (graph.bytes[value] * staleness);
      if (score < best || (score === best && value < victim)) {
        best = score;
        victim = value;
      }
    }
    if (victim < 0) return false;
    free(victim);
    return true;
  };
  let thrashed = false;
  const computeNow = (node: number, now: number): void => {
    const need = graph.bytes[node] + graph.workspace[node];
    while (live + need > available && evictOne());
    steps.push({ op: 'compute', node });
    onDevice[node] = 1;
    markRestored(node);
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
  // Brings `root` onto the device, recomputing missing inputs first (depth first, with an
  // explicit stack so long chains of evicted values cannot overflow the call stack).
  const materialize = (root: number, now: number): void => {
    const stack: { node: number; present: boolean[]; at: number }[] = [];
    const open = (node: number) => {
      // Pin the inputs already on the device; the missing ones are brought one by one.
      const present = graph.inputs[node].map((input) => onDevice[input] === 1);
      graph.inputs[node].forEach((input, at) => {
        if (present[at]) pinned[input]++;
      });
      stack.push({ node, present, at: 0 });
    };
    open(root);
    while (stack.length) {
      if (steps.length > maxSteps) {
        thrashed = true;
        return;
      }
      const frame = stack[stack.length - 1];
      const inputs = graph.inputs[frame.node];
      if (frame.at < inputs.length) {
        const input = inputs[frame.at];
        if (frame.present[frame.at]) {
          frame.at++;
        } else if (!onDevice[input]) {
          open(input);
        } else {
          pinned[input]++;
          frame.at++;
        }
        continue;
      }
      stack.pop();
      computeNow(frame.node, now);
    }
  };

  for (let node = 0; node < size; node++) {
    pinned[node]++;
    materialize(node, node);
    pinned[node]--;
    if (thrashed) return null;
    if (!graph.keep[node] && lastRead(node) <= node && onDevice[node]) free(node);
  }
  return steps;
}

export const dtr: Strategy = {
  name: 'dtr',
  description:
    'Dynamic Tensor Rematerialization replayed offline: evict the smallest cost/(bytes x staleness) under the budget, cost with and ' +
    'without the evicted neighbourhood',
  options: [],
  run(context) {
    const { graph } = context;
    const incumbent = new Incumbent(context, { ties: 'lower-peak', progress: false });
    // A replay that recomputes every node a dozen times over has lost (it thrashes, as
    // DTR does on graphs with many long skips); stop it early and say so.
    const maxSteps = DTR_STEPS_PER_NODE * graph.size + CANDIDATE_STEP_ALLOWANCE;
    // Both cost estimates: with the evicted neighbourhood (h_DTR^eq) and the value's own
    // cost only; each replay is one candidate, the better plan wins.
    let thrashed = 0;
    for (const neighbourhood of [true, false]) {
      const steps = dtrSchedule(graph, context.budgetBytes - graph.residentBytes, { maxSteps, neighbourhood });
      if (steps) incumbent.offer(steps, 'dtr');
      else {
        thrashed++;
        incumbent.giveUp();
      }
    }
    // With both replays abandoned, the one complete schedule DTR has is the no-remat one:
    // offered so the answer still carries the smallest peak reached, as the contract asks.
    if (thrashed === 2) incumbent.offer(noRematSteps(graph), 'dtr');
    const outcome = incumbent.sweepOutcome('dtr');
    if (thrashed === 2 && outcome.kind === 'infeasible')
      outcome.message = `dtr: the replay thrashed past ${maxSteps} steps under the budget`;
    return outcome;
  },
};
