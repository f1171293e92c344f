// Capuchin (Peng et al., ASPLOS 2020), replayed offline: values are evicted across their
// longest idle window, largest savings first. A value is swapped when both of its copies
// hide under the compute of its window; otherwise it is recomputed when that costs less
// than the stall a swap would add (and it can be recomputed), else swapped anyway. The
// number of evicted values is swept from none to all, and for each count two timings
// are tried: frees and prefetches placed so the copies hide under compute, or placed
// tight (the least memory); the cheapest plan within the budget wins. Keep nodes (parameter
// gradients) are evicted too, by swap only, from their compute to the end of the step.
import type { IndexedGraph } from '../graph/validate.js';
import { MIN_EVICTION_OVERHEAD } from '../limits.js';
import { Incumbent } from './incumbent.js';
import { copyTime, coverAfter, coverBefore, idleWindows, scheduleEvictions, type EvictionChoice, type IdleWindow } from './swapping.js';
import type { Strategy } from './types.js';
import { transferMissing } from './vdnn.js';

interface Ranked {
  window: IdleWindow;
  mode: 'swap' | 'recompute';
  hidden: boolean;
  /** Estimated extra time of the eviction. */
  overhead: number;
}

/** The evictions of a policy in ranking order (a prefix of it is one candidate). */
function select(graph: IndexedGraph, ranked: readonly Ranked[], policy: 'capuchin' | 'chained' | 'swap-only'): Ranked[] {
  if (policy === 'swap-only') return ranked.map((item) => ({ ...item, mode: 'swap' }));
  if (policy === 'chained') return ranked.slice();
  const evicted = new Uint8Array(graph.size);
  const recomputed = new Uint8Array(graph.size);
  const chosen: Ranked[] = [];
  for (const item of ranked) {
    const value = item.window.value;
    if (item.mode === 'recompute') {
      if (graph.inputs[value].some((input) => evicted[input])) continue;
    }
    if (graph.users[value].some((user) => recomputed[user])) continue;
    evicted[value] = 1;
    if (item.mode === 'recompute') recomputed[value] = 1;
    chosen.push(item);
  }
  return chosen;
}

/** Capuchin: swap where hidden, recompute where cheaper, evictions swept to fit. */
export const capuchin: Strategy = {
  name: 'capuchin',
  description: 'Capuchin: swap where both copies hide under compute, otherwise recompute when cheaper; evictions swept to fit',
  options: ['transfer'],
  usesTransfer: true,
  run(context) {
    const { graph, transfer } = context;
    if (!transfer) return transferMissing('capuchin');
    const incumbent = new Incumbent(context, { ties: 'lower-peak', progress: false });
    const windows = idleWindows(graph);
    const byValue = new Map(windows.map((window) => [window.value, window]));
    const ranked: Ranked[] = windows.map((window) => {
      let idle = 0;
      for (let node = window.dropAt + 1; node < window.reuse; node++) idle += graph.cost[node];
      const copies = 2 * copyTime(transfer, graph.bytes[window.value]);
      const stall = Math.max(0, copies - idle);
      // A keep node waiting for the end (a parameter gradient) leaves only by a swap.
      const recompute = graph.recomputable[window.value] && !graph.keep[window.value] ? graph.cost[window.value] : Infinity;
      const mode = stall > 0 && recompute < stall ? 'recompute' : 'swap';
      return { window, mode, hidden: stall === 0, overhead: mode === 'swap' ? stall : recompute };
    });
    // Hidden swaps first, largest first; then the best memory saved per unit of overhead.
    const saving = (item: Ranked) => graph.bytes[item.window.value] / Math.max(item.overhead, MIN_EVICTION_OVERHEAD);
    ranked.sort((a, b) => {
      if (a.hidden !== b.hidden) return a.hidden ? -1 : 1;
      if (a.hidden) return graph.bytes[b.window.value] - graph.bytes[a.window.value] || a.window.value - b.window.value;
      return saving(b) - saving(a) || a.window.value - b.window.value;
    });
    // Three policies over the same ranking: Capuchin's (recompute where cheaper; a value
    // whose recomputation would need another evicted value to be recomputed first is left
    // on the device, so recomputations never cascade); chained (recompute where cheaper,
    // cascades allowed, values brought back only for a recomputation freed right after
    // it); and swap-only (every evicted value swapped).
    for (const policy of ['capuchin', 'chained', 'swap-only'] as const) {
      const selected = select(graph, ranked, policy);
      const counts = new Set<number>([0, selected.length]);
      for (let count = 1; count < selected.length; count = Math.ceil(count * 1.3)) counts.add(count);
      for (const count of [...counts].sort((a, b) => a - b)) {
        for (const timing of ['hide', 'tight'] as const) {
          const choices = new Map<number, EvictionChoice>();
          for (const { window, mode } of selected.slice(0, count)) {
            if (mode === 'recompute') {
              choices.set(window.value, { mode });
              continue;
            }
            const duration = copyTime(transfer, graph.bytes[window.value]);
            const freeAfter =
              timing === 'hide' ? Math.max(window.dropAt, coverAfter(graph, window.value, duration, window.reuse - 1)) : window.dropAt;
            const prefetchAt = timing === 'hide' ? coverBefore(graph, window.reuse, duration, freeAfter + 1) : window.reuse;
            choices.set(window.value, { mode, freeAfter, prefetchAt });
          }
          const steps = scheduleEvictions(graph, byValue, choices, { transient: policy === 'chained' });
          if (steps) incumbent.offer(steps, 'capuchin');
          else incumbent.giveUp();
        }
      }
    }
    return incumbent.sweepOutcome('capuchin');
  },
};
