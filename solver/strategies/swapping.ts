// The eviction scheduler shared by the swapping baselines (vdnn-all, vdnn-conv, capuchin).
// A baseline only decides, for some values, how each leaves the device across the
// longest idle window between two of its uses (in a training graph: from its last
// forward use to its first backward use), and when its copies are issued; this file
// turns that into a schedule the contract accepts:
// - nodes are computed once in execution order; a value with no later reader is freed
//   right after its last use (keep nodes never; values that cannot be recomputed stay
//   while a recomputation might still read them);
// - a 'swap' value is swapped out right after it is computed, freed after the compute
//   of `freeAfter` (its drop point or later, so the copy can hide under compute: a free
//   waits for the copy and every later compute waits for the free), and swapped in
//   before the compute of `prefetchAt` (ahead of its reuse, so the copy-in overlaps);
// - a 'recompute' value is freed at its drop point and recomputed on demand (its
//   missing inputs too, depth first; a swapped-out input is swapped in just in time).
import { lastUses } from '../graph/analysis.js';
import type { IndexedGraph } from '../graph/validate.js';
import type { IndexedStep } from '../schedule/simulate.js';
import type { Transfer } from '../schedule/types.js';

/** The longest idle stretch of a value: its last use before the gap and its first use after. */
export interface IdleWindow {
  value: number;
  /** The value itself or its last user before the gap. */
  dropAt: number;
  /** Its first user after the gap. */
  reuse: number;
}

export type Eviction = 'swap' | 'recompute';

/** How one value leaves the device during its window. */
export interface EvictionChoice {
  mode: Eviction;
  /** Swap: the node after whose compute the value is freed (dropAt <= freeAfter < reuse). */
  freeAfter?: number;
  /** Swap: the node before whose compute it is swapped in (freeAfter < prefetchAt <= reuse). */
  prefetchAt?: number;
}

/**
 * The idle window of every value that could leave the device, read again after a gap of
 * at least one other node. The gap is the largest distance between consecutive uses (the
 * compute of the value counts as its first use). A keep node must be on the device when
 * the step ends, so the end counts as its last use, at index `graph.size`: a parameter
 * gradient can wait in host memory from its compute to the end, as ZeRO-Offload keeps
 * gradients, and it comes back only by a swapIn.
 */
export function idleWindows(graph: IndexedGraph): IdleWindow[] {
  const windows: IdleWindow[] = [];
  for (let value = 0; value < graph.size; value++) {
    const users = graph.keep[value] ? [...graph.users[value], graph.size] : graph.users[value];
    let previous = value;
    let best: IdleWindow | null = null;
    for (const user of users) {
      if (user - previous >= 2 && (!best || user - previous > best.reuse - best.dropAt)) best = { value, dropAt: previous, reuse: user };
      previous = user;
    }
    if (best) windows.push(best);
  }
  return windows;
}

/** Time of one copy of `bytes` over the link. */
export function copyTime(transfer: Transfer, bytes: number): number {
  return transfer.latency + bytes / transfer.bandwidth;
}

/**
 * The node after whose compute a copy issued right after `start`'s compute is done,
 * counting only compute time (the earliest free that does not stall), capped at `limit`.
 */
export function coverAfter(graph: IndexedGraph, start: number, duration: number, limit: number): number {
  let covered = 0;
  let node = start;
  while (node < limit && covered < duration) {
    node++;
    covered += graph.cost[node];
  }
  return Math.min(node, limit);
}

/**
 * The node before whose compute a copy must start to be done by the time `reuse`
 * starts, counting only compute time, but no earlier than `floor`.
 */
export function coverBefore(graph: IndexedGraph, reuse: number, duration: number, floor: number): number {
  let covered = 0;
  let node = reuse;
  while (node > floor && covered < duration) {
    node--;
    covered += graph.cost[node];
  }
  return Math.max(node, floor);
}

/**
 * The last step at which each value must still be on the device. A recomputation may
 * read a value after its last use: values that can be recomputed are then recomputed
 * too (they join the recomputed set), swapped values come back from the host, and the
 * rest stay on the device until the last recomputation that may read them.
 */
function readHorizon(graph: IndexedGraph, choices: ReadonlyMap<number, EvictionChoice>): number[] {
  const last = lastUses(graph);
  const horizon = last.slice();
  // need: the last step at which a (re)computation may read the value.
  const need = last.slice();
  const recomputed = new Uint8Array(graph.size);
  for (let value = graph.size - 1; value >= 0; value--) {
    for (const user of graph.users[value]) if (recomputed[user] && need[user] > need[value]) need[value] = need[user];
    const mode = choices.get(value)?.mode;
    if (mode === 'swap') continue;
    if (graph.recomputable[value]) recomputed[value] = mode === 'recompute' || need[value] > last[value] ? 1 : 0;
    else horizon[value] = need[value];
  }
  return horizon;
}

/** Builds the schedule for a set of evictions keyed by value (each with its window). */
export function scheduleEvictions(
  graph: IndexedGraph,
  windows: ReadonlyMap<number, IdleWindow>,
  choices: ReadonlyMap<number, EvictionChoice>,
  options: { transient?: boolean } = {},
): IndexedStep[] {
  const size = graph.size;
  const lastRead = readHorizon(graph, choices);
  const steps: IndexedStep[] = [];
  const onDevice = new Uint8Array(size);
  const onHost = new Uint8Array(size);
  const dropped = new Uint8Array(size);
  const freeLater: number[][] = Array.from({ length: size }, () => []);
  const prefetch: number[][] = Array.from({ length: size + 1 }, () => []);
  for (const [value, choice] of choices) {
    const window = windows.get(value);
    if (!window) throw new Error(`eviction of ${graph.ids[value]} has no idle window`);
    if (choice.mode === 'recompute' && !graph.recomputable[value]) throw new Error(`${graph.ids[value]} cannot be recomputed`);
    if (choice.mode === 'recompute' && graph.keep[value])
      throw new Error(`${graph.ids[value]} is a keep node: it can leave the device only by a swap`);
    if (choice.mode !== 'swap') continue;
    const freeAfter = Math.min(Math.max(choice.freeAfter ?? window.dropAt, window.dropAt), window.reuse - 1);
    const prefetchAt = Math.min(Math.max(choice.prefetchAt ?? window.reuse, freeAfter + 1), window.reuse);
    freeLater[freeAfter].push(value);
    prefetch[prefetchAt].push(value);
  }
  const brought = new Set<number>();
  const free = (value: number) => {
    steps.push({ op: 'free', node: value });
    onDevice[value] = 0;
  };
  // Brings a missing value back: from the host when it is there, else by recomputing it
  // after its missing inputs, depth first. With `transient`, values brought back only to
  // recompute another are freed right after it (recomputation chains then cost time instead
  // of memory). An explicit stack: a chain of recomputations can be as long as the graph.
  let current = 0;
  const bring = (root: number) => {
    const frames: { value: number; next: number; fetched: number[] }[] = [];
    const enter = (value: number) => {
      if (onHost[value]) {
        steps.push({ op: 'swapIn', node: value });
        onDevice[value] = 1;
        brought.add(value);
        return;
      }
      if (!graph.recomputable[value]) throw new Error(`${graph.ids[value]} is needed again but cannot be recomputed`);
      frames.push({ value, next: 0, fetched: [] });
    };
    enter(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1];
      const inputs = graph.inputs[frame.value];
      if (frame.next < inputs.length) {
        const input = inputs[frame.next++];
        if (onDevice[input]) continue;
        frame.fetched.push(input);
        enter(input);
        continue;
      }
      frames.pop();
      steps.push({ op: 'compute', node: frame.value });
      onDevice[frame.value] = 1;
      brought.add(frame.value);
      if (!options.transient) continue;
      for (const input of frame.fetched) {
        if (graph.keep[input] || graph.inputs[current].includes(input)) continue;
        free(input);
        brought.delete(input);
      }
    }
  };
  // Frees what nothing reads after `now`, and the evictions whose drop point is `now`.
  const release = (value: number, now: number) => {
    if (!onDevice[value] || graph.keep[value]) return;
    if (lastRead[value] <= now) return free(value);
    const choice = choices.get(value);
    if (!choice || dropped[value] || windows.get(value)!.dropAt !== now) return;
    if (choice.mode === 'recompute') {
      dropped[value] = 1;
      free(value);
    }
  };

  for (let node = 0; node < size; node++) {
    current = node;
    for (const value of prefetch[node]) if (!onDevice[value] && onHost[value]) bring(value);
    for (const input of graph.inputs[node]) if (!onDevice[input]) bring(input);
    steps.push({ op: 'compute', node });
    onDevice[node] = 1;
    if (choices.get(node)?.mode === 'swap') {
      steps.push({ op: 'swapOut', node });
      onHost[node] = 1;
    }
    for (const input of graph.inputs[node]) release(input, node);
    release(node, node);
    for (const value of freeLater[node]) {
      dropped[value] = 1;
      if (onDevice[value]) free(value);
    }
    // Values brought back for a recomputation go once nothing reads them any more.
    for (const value of brought) {
      if (!onDevice[value]) brought.delete(value);
      else if (!graph.keep[value] && lastRead[value] <= node) {
        free(value);
        brought.delete(value);
      }
    }
  }
  // Keep nodes waiting on the host come back at the end, as the contract requires.
  for (const value of prefetch[size]) if (!onDevice[value] && onHost[value]) bring(value);
  return steps;
}
