// The smallest peak a remat plan can reach, searched from above: the top of the bracket of
// the smallest feasible budget (bracket.ts), and a feasibility search for budgets the
// scale search cannot meet. The greedy scheduler (greedy.ts) aims at a budget; below what
// it can reach it overshoots, and the peak it reaches is not monotone in its aim. So each
// order of first computations (large gradients late over the listed, saved-values-late and
// memory-aware orders, then those orders alone) is walked down: aim below the best peak so
// far, keep a lower legal peak, and move on once even a short step finds nothing. Figures are exact
// (sequence.ts); the caller replays what it keeps.
import type { IndexedGraph } from '../graph/validate.js';
import { SEARCH_YIELD_MS, SMALLEST_PEAK_EVICTIONS, SMALLEST_PEAK_FIRST_STEP, SMALLEST_PEAK_LAST_STEP } from '../limits.js';
import type { IndexedStep } from '../schedule/simulate.js';
import { greedySequence } from './greedy.js';
import { deferredOrder, lateSinksOrder, listedOrder, memoryAwareOrder } from './order.js';
import { profileOf, sequenceToSteps } from './sequence.js';

/** The smallest peak found (residentBytes included) and a schedule reaching it. */
export interface SmallestPeak {
  peakBytes: number;
  steps: IndexedStep[];
}

/** Options of the search. */
export interface SmallestPeakOptions {
  /** Date.now() after which no new greedy run starts. */
  deadline: number;
  /** Aim no lower than this (a proven floor), residentBytes included. */
  floorBytes?: number;
  /** Stop as soon as a peak at most this is found (a budget to meet), residentBytes included. */
  enoughBytes?: number;
  signal?: AbortSignal;
}

/** Searches the smallest peak of a remat plan; undefined when no greedy run gave a legal sequence in time. */
export function smallestPeakSearch(graph: IndexedGraph, options: SmallestPeakOptions): SmallestPeak | undefined {
  const search = smallestPeakRuns(graph, options);
  for (let step = search.next(); ; step = search.next()) if (step.done) return step.value;
}

/** The same search, handing the event loop back every SEARCH_YIELD_MS (a stop request can come in). */
export async function smallestPeakSearchAsync(graph: IndexedGraph, options: SmallestPeakOptions): Promise<SmallestPeak | undefined> {
  const search = smallestPeakRuns(graph, options);
  let lastYield = Date.now();
  for (let step = search.next(); ; step = search.next()) {
    if (step.done) return step.value;
    if (Date.now() - lastYield >= SEARCH_YIELD_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = Date.now();
    }
  }
}

/** The search as a generator that pauses after each greedy run. */
function* smallestPeakRuns(graph: IndexedGraph, options: SmallestPeakOptions): Generator<void, SmallestPeak | undefined> {
  const resident = graph.residentBytes;
  const floor = Math.max(resident, options.floorBytes ?? 0);
  const listed = listedOrder(graph);
  const delta = memoryAwareOrder(graph, 'delta');
  const orders = [
    lateSinksOrder(graph, listed),
    lateSinksOrder(graph, deferredOrder(graph)),
    lateSinksOrder(graph, delta),
    listed,
    delta,
    deferredOrder(graph),
  ];
  let best: { peak: number; sequence: number[] } | undefined;
  const done = () =>
    options.signal?.aborted === true || Date.now() > options.deadline || (best !== undefined && best.peak <= (options.enoughBytes ?? -1));
  const consider = (sequence: number[]) => {
    const profile = profileOf(graph, sequence);
    if (typeof profile === 'string') return false;
    const peak = profile.peak + resident;
    if (best && peak >= best.peak) return false;
    best = { peak, sequence };
    return true;
  };
  for (const order of orders) {
    if (done()) break;
    // Each order's own no-remat plan, then aims walked down from the best peak so far: half
    // the way to the floor, and shorter steps after a miss; a hit starts over at half.
    consider(order);
    for (let fraction = SMALLEST_PEAK_FIRST_STEP; fraction >= SMALLEST_PEAK_LAST_STEP && !done(); ) {
      const top = best?.peak ?? Infinity;
      if (!Number.isFinite(top) || top <= floor) break;
      const aim = Math.floor(top - (top - floor) * fraction);
      let improved = false;
      for (const { alpha, costExponent } of SMALLEST_PEAK_EVICTIONS) {
        const result = greedySequence(graph, aim - resident, { alpha, costExponent, order });
        if (result && consider(result.sequence)) improved = true;
        yield;
        if (done()) break;
      }
      fraction = improved ? SMALLEST_PEAK_FIRST_STEP : fraction / 2;
    }
  }
  const winner = best as { peak: number; sequence: number[] } | undefined;
  return winner ? { peakBytes: winner.peak, steps: sequenceToSteps(graph, winner.sequence) } : undefined;
}
