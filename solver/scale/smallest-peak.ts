// The smallest peak a remat plan can reach, searched from above: the top of the bracket of
// the smallest feasible budget (bracket.ts), and a feasibility search for budgets the
// scale search cannot meet. The greedy scheduler (greedy.ts) aims at a budget; below what
// it can reach it overshoots, and the peak it reaches is not monotone in its aim. So each
// order of first computations (large gradients late over the listed, saved-values-late and
// memory-aware orders, every gradient above a size threshold last, then those orders alone)
// is walked down: aim below the best peak so far, keep a lower legal peak, and move on once
// even a short step finds nothing. The repair descent (descent.ts) goes down from the
// no-remat plan: before the walk where there is a budget to meet, after it where there is
// none. Figures are exact (sequence.ts); the caller replays what it keeps. Then, until
// the deadline, it climbs over orders: a few nodes of the best sequence's order of first
// computations move within their topological windows, and the greedy aims just below the
// best peak on the new order; an order that peaks no higher becomes the one moved next
// (plateaus are wide), a lower peak is kept. The walk stops where one order's greedy can
// go no lower; the binding step is often fixed by which gradients and activations the
// order puts beside it, which the climb moves.
import type { IndexedGraph } from '../graph/validate.js';
import {
  GREEDY_COMPUTE_ALLOWANCE,
  SMALLEST_PEAK_CLIMB_AIM,
  SMALLEST_PEAK_CLIMB_EVICTIONS,
  SMALLEST_PEAK_CLIMB_HOT,
  SMALLEST_PEAK_CLIMB_MOVES,
  SMALLEST_PEAK_CLIMB_PATIENCE,
  SMALLEST_PEAK_CLIMB_SEED,
  SMALLEST_PEAK_COMPUTES_FACTOR,
  SMALLEST_PEAK_EVICTIONS,
  SMALLEST_PEAK_FIRST_STEP,
  SMALLEST_PEAK_LAST_STEP,
  TIME_SHARES,
} from '../limits.js';
import type { IndexedStep } from '../schedule/simulate.js';
import { seededRandom } from '../util/random.js';
import { runYielding } from '../util/yielding.js';
import { type Descended, descentSteps } from './descent.js';
import { greedySequence } from './greedy.js';
import {
  deferredOrder,
  lateGradientThresholds,
  lateGradientsOrder,
  lateSinksOrder,
  listedOrder,
  memoryAwareOrder,
  orderOfSequence,
  topologicalByKey,
} from './order.js';
import { profileOf, type SequenceProfile, sequenceToSteps } from './sequence.js';

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
  /** The repair descent (default true): before the walk with `enoughBytes`, after it without. */
  descent?: boolean;
  /**
   * Where an earlier descent on this graph stopped short of its target: the descent starts
   * from its sequence instead of the no-remat plan, and is not run again where it was stuck
   * at a target no higher than this search's.
   */
  descentFrom?: Descended;
  /** Climb over orders after the walk (default true). */
  climb?: boolean;
  signal?: AbortSignal;
}

/** Searches the smallest peak of a remat plan; undefined when no greedy run gave a legal sequence in time. */
export function smallestPeakSearch(graph: IndexedGraph, options: SmallestPeakOptions): SmallestPeak | undefined {
  const search = smallestPeakRuns(graph, options);
  for (let step = search.next(); ; step = search.next()) if (step.done) return step.value;
}

/** The same search, handing the event loop back every SEARCH_YIELD_MS (a stop request can come in). */
export function smallestPeakSearchAsync(graph: IndexedGraph, options: SmallestPeakOptions): Promise<SmallestPeak | undefined> {
  return runYielding(smallestPeakRuns(graph, options));
}

/**
 * How many computes a greedy run may take before it gives up: SMALLEST_PEAK_COMPUTES_FACTOR
 * times the best sequence's (plus GREEDY_COMPUTE_ALLOWANCE), the greedy's own limit before
 * there is one. A run much longer than the best is thrashing at an aim it cannot meet: on
 * a 4,000-node LSTM such runs took 2-3 s each, and capped the search reaches 70.8 % of the
 * no-remat peak in 40 s against 71.7 %.
 */
function computesCap(best: { sequence: readonly number[] } | undefined): number | undefined {
  return best ? Math.ceil(SMALLEST_PEAK_COMPUTES_FACTOR * best.sequence.length) + GREEDY_COMPUTE_ALLOWANCE : undefined;
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
    ...lateGradientThresholds(graph).map((threshold) => lateGradientsOrder(graph, threshold, listed)),
    listed,
    delta,
    deferredOrder(graph),
  ];
  let best: { peak: number; sequence: number[] } | undefined;
  const done = () =>
    options.signal?.aborted === true || Date.now() > options.deadline || (best !== undefined && best.peak <= (options.enoughBytes ?? -1));
  const consider = (sequence: number[], profile = profileOf(graph, sequence)) => {
    if (typeof profile === 'string') return false;
    const peak = profile.peak + resident;
    if (best && peak >= best.peak) return false;
    best = { peak, sequence };
    return true;
  };
  // The repair descent (descent.ts) from the no-remat plan, down to the floor or the budget
  // to meet, with a share of the time left: on a captured Inception-v3 it reaches 39.1 % of
  // the no-remat peak, where the walk and the climb stop at 42.9 %. An earlier descent's
  // sequence goes on from where it stopped (a stuck one, again, would retrace its path).
  const target = Math.max(floor, options.enoughBytes ?? 0) - resident;
  const earlier = options.descentFrom;
  if (earlier) consider(earlier.sequence);
  const descend = (options.descent ?? true) && !(earlier?.stuck && target <= earlier.available);
  function* descent(share: number): Generator<void, void> {
    if (done()) return;
    const descentDeadline = Date.now() + share * Math.max(0, options.deadline - Date.now());
    const descended = yield* descentSteps(graph, target, { deadline: descentDeadline, signal: options.signal, from: earlier?.sequence });
    if (descended) consider(descended.sequence);
  }
  // With a budget to meet (auto, where nothing fits), the descent goes first: near the floor
  // of a large CNN it is what meets it, and the walk's greedy runs there may take the time
  // (Inception-v3 at 40 % with 15 s: nothing below 43.7 % when the walk went first). Without
  // one (the bracket), after the walk, which is quick where it does well (random layered
  // graphs, an LSTM) and leaves the descent the time it does not use.
  const descentFirst = options.enoughBytes !== undefined;
  if (descend && descentFirst) yield* descent(TIME_SHARES.smallestPeakDescentFirst);
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
        const result = greedySequence(graph, aim - resident, {
          alpha,
          costExponent,
          order,
          maxComputes: computesCap(best),
          deadline: options.deadline,
          signal: options.signal,
        });
        if (result && consider(result.sequence)) improved = true;
        yield;
        if (done()) break;
      }
      fraction = improved ? SMALLEST_PEAK_FIRST_STEP : fraction / 2;
    }
  }
  if (descend && !descentFirst) yield* descent(TIME_SHARES.smallestPeakDescent);
  if (best && (options.climb ?? true))
    yield* climbOrders(graph, {
      floor,
      resident,
      done,
      consider,
      best: () => best as { peak: number; sequence: number[] },
      deadline: options.deadline,
      signal: options.signal,
    });
  const winner = best as { peak: number; sequence: number[] } | undefined;
  return winner ? { peakBytes: winner.peak, steps: sequenceToSteps(graph, winner.sequence) } : undefined;
}

/** The nodes whose values are on the device while the peak compute of a sequence runs, and that node itself. */
export function nodesAtPeak(
  graph: IndexedGraph,
  sequence: readonly number[],
  profile: SequenceProfile | string = profileOf(graph, sequence),
): number[] {
  if (typeof profile === 'string') return [];
  const at = profile.during.indexOf(profile.peak);
  const nodes = new Set<number>([sequence[at]]);
  for (let position = 0; position < at; position++) if (profile.end[position] > at) nodes.add(sequence[position]);
  return [...nodes];
}

/**
 * `order` with 1 to SMALLEST_PEAK_CLIMB_MOVES nodes moved to random places between their last
 * input and first user; each is one of `hot` (the nodes at the peak) with probability
 * SMALLEST_PEAK_CLIMB_HOT.
 */
export function movedOrder(graph: IndexedGraph, order: readonly number[], random: () => number, hot: readonly number[] = []): number[] {
  const key = new Float64Array(graph.size);
  order.forEach((node, at) => {
    key[node] = at;
  });
  const moves = 1 + Math.floor(random() * SMALLEST_PEAK_CLIMB_MOVES);
  for (let move = 0; move < moves; move++) {
    const node =
      hot.length > 0 && random() < SMALLEST_PEAK_CLIMB_HOT
        ? hot[Math.floor(random() * hot.length)]
        : order[Math.floor(random() * order.length)];
    let low = -1;
    let high = order.length;
    for (const input of graph.inputs[node]) low = Math.max(low, key[input]);
    for (const user of graph.users[node]) high = Math.min(high, key[user]);
    key[node] = low + (high - low) * random();
  }
  return topologicalByKey(graph, key);
}

/** The climb over orders (see the file comment); it pauses after each greedy run. */
function* climbOrders(
  graph: IndexedGraph,
  search: {
    floor: number;
    resident: number;
    done: () => boolean;
    consider: (sequence: number[], profile: SequenceProfile) => boolean;
    best: () => { peak: number; sequence: number[] };
    /** Date.now() at which a greedy run gives up. */
    deadline: number;
    signal?: AbortSignal;
  },
): Generator<void, void> {
  const random = seededRandom(SMALLEST_PEAK_CLIMB_SEED);
  let tried = 0;
  let order = orderOfSequence(graph, search.best().sequence);
  let hot = nodesAtPeak(graph, search.best().sequence);
  for (let idle = 0; idle < SMALLEST_PEAK_CLIMB_PATIENCE && !search.done(); idle++) {
    const top = search.best().peak;
    if (top <= search.floor) return;
    const candidate = movedOrder(graph, order, random, hot);
    const aim = Math.floor(top - (top - search.floor) * SMALLEST_PEAK_CLIMB_AIM);
    // One greedy run per order, the eviction weightings in turn: more orders in the time.
    const { alpha, costExponent } = SMALLEST_PEAK_CLIMB_EVICTIONS[tried++ % SMALLEST_PEAK_CLIMB_EVICTIONS.length];
    const result = greedySequence(graph, aim - search.resident, {
      alpha,
      costExponent,
      order: candidate,
      maxComputes: computesCap(search.best()),
      deadline: search.deadline,
      signal: search.signal,
    });
    const profile = result && profileOf(graph, result.sequence);
    if (result && profile && typeof profile !== 'string') {
      // A lower peak is kept; an order that reaches the best peak again, or no higher, is the one moved next.
      if (search.consider(result.sequence, profile)) {
        idle = -1;
        hot = nodesAtPeak(graph, result.sequence, profile);
      }
      if (profile.peak + search.resident <= top) order = candidate;
    }
    yield;
  }
}
