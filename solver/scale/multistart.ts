// The scale search, a multi-start local search: many cheap remat plans and a local search
// on each, within a deadline. Sources: starting schedules given by the caller (baselines,
// solver incumbents); the greedy in the orders of hints, plans of larger budgets that a
// sweep has (their order of first computations and their recomputed set carry over to a
// nearby smaller budget better than a fresh order: on a captured ResNet-50 the next budget's
// plan gave in 0.2 s plans that restarts had not found in 10 s); the greedy scheduler of
// greedy.ts with several eviction weightings and budget margins (and a few runs on orders
// with large gradients last); then randomized restarts of it until the deadline or a stall,
// and on request a descent and a climb.
// The descent makes exclusion moves on the best plan: the greedy run again in that plan's
// order with one of its recomputed values evicted last and the others first, so that what
// the plan paid for that value's recomputations is looked for elsewhere (an expensive
// recomputation exchanged for several cheaper ones, a large-neighbourhood move that no
// single drop or restart makes); a cheaper result is taken at once, and the descent goes on
// from it until a whole pass over the plan's recomputed values finds nothing. The exchange
// descent (exchange.ts) follows it: a recomputation removed and the memory it saved found
// again with cheaper recomputations elsewhere. Ruin and recreate (ruin.ts) comes next: a
// window of the plan's recomputations removed at once and the plan brought back within the
// budget by the repair descent, for as long as it keeps finding cheaper plans. A search from
// a plan that was descended already (auto's final search) runs it before the descents too.
// The climb: the best plan's order of first computations with a few nodes moved (those it
// recomputes or holds at its peak), the greedy run on it, and an order kept when its plan
// costs no more. Every fitting sequence goes through the improver; the cheapest result
// wins. All figures are exact (sequence.ts), and the caller replays the winner in the
// simulator anyway.
import type { IndexedGraph } from '../graph/validate.js';
import { hasSwaps, type IndexedStep } from '../schedule/simulate.js';
import {
  COST_CLIMB_PATIENCE,
  COST_CLIMB_SEED,
  EXCLUSION_ALPHAS,
  HINT_MARGINS,
  LATE_GRADIENT_ALPHAS,
  LATE_GRADIENT_IMPROVE_SLACK,
  ORDER_RESTARTS,
  ORDER_SEED,
  RESTART_SEED,
  RUIN_FIRST_MIN_SECONDS,
  SEARCH_ROUND_SEED_STRIDE,
  SEARCH_YIELD_MS,
  STALL_RESTARTS,
  STALL_RESTARTS_WITHOUT_PLAN,
  TIME_SHARES,
} from '../limits.js';
import { seededRandom } from '../util/random.js';
import { type Descended, repairDescent } from './descent.js';
import { exchangeDescent } from './exchange.js';
import { ruinAndRecreate } from './ruin.js';
import { type GreedyOptions, greedySequence } from './greedy.js';
import { improveSequence } from './improve.js';
import {
  cutLateOrders,
  deferredOrder,
  lateGradientThresholds,
  lateGradientsOrder,
  lateSinksOrder,
  listedOrder,
  memoryAwareOrder,
  orderOfSequence,
} from './order.js';
import { movedOrder, nodesAtPeak } from './smallest-peak.js';
import { profileOf, type SequenceProfile, sequenceToSteps, stepsToSequence } from './sequence.js';

/** A starting plan offered to the search. */
export interface SearchStart {
  steps: readonly IndexedStep[];
  from: string;
}

/** Options of the scale search. */
export interface ScaleSearchOptions {
  /** Date.now() after which no new restart begins. */
  deadline: number;
  starts?: readonly SearchStart[];
  /** Run the greedy scheduler (default true). */
  greedy?: boolean;
  /** Randomized restarts after the fixed variants, until the deadline (default true). */
  restarts?: boolean;
  signal?: AbortSignal;
  /** Stop once a plan costs at most this (a proven bound within the relative gap asked for). */
  stopAt?: number;
  /**
   * After the restarts stall (or have had TIME_SHARES.searchRestarts of the time left), the
   * exclusion descent, then climb over orders of first computations until the deadline
   * (default false; auto asks for it on graphs too large for its MILP, which would use the time better).
   */
  climb?: boolean;
  /** The exclusion descent before the climb (default: when climbing). */
  descend?: boolean;
  /** Ruin and recreate (ruin.ts) after the exchange descent, before the climb (default: when climbing). */
  ruin?: boolean;
  /**
   * Ruin and recreate before the exclusion descent too, right after the restarts (default
   * false): for a search whose start an earlier search of the same budget already descended
   * (auto's search while it waits for the closure bound, and its final search), where the
   * descent finds little and the move much. With RUIN_FIRST_MIN_SECONDS or more, the restarts
   * before it then get TIME_SHARES.searchRestartsBeforeRuin of the time, and it
   * TIME_SHARES.searchRuinFirst (with less, searchRestarts and searchRuin).
   */
  ruinFirst?: boolean;
  /** Orders in a row without a cheaper plan after which the climb stops (default COST_CLIMB_PATIENCE). */
  climbPatience?: number;
  /**
   * Values the greedy evicts first (the recomputed set of the closure bound's solution):
   * the fixed variants run with and without it, the restarts alternate.
   */
  prefer?: ReadonlySet<number>;
  /**
   * Plans of larger budgets that need not fit this one (a sweep's plans above this budget),
   * as sequences: the greedy runs in each one's order with its recomputed values evicted
   * first (HINT_MARGINS), before the fixed variants, and the restarts draw their orders too.
   */
  hints?: readonly (readonly number[])[];
  /** Which round of the search this is (default 0): a later one draws its restarts and climb moves from other seeds (SEARCH_ROUND_SEED_STRIDE). */
  round?: number;
  /**
   * The repair descent (descent.ts) from the no-remat plan, and from the lowest hint, when
   * no plan fits after the greedy's fixed variants (default false: it is deterministic, so
   * the caller asks once per budget).
   */
  repairDescent?: boolean;
  /** Called with where each repair descent got when it did not reach the budget (auto hands the lowest to its smallest-peak search). */
  onDescended?: (descended: Descended) => void;
}

/** The best plan the search found, or the smallest peak it reached. */
export type ScaleSearchResult =
  | { found: true; steps: IndexedStep[]; cost: number; peak: number; from: string; tried: number }
  | { found: false; smallestPeak: number; tried: number };

/** The nodes the cost climb moves most: the ones a sequence recomputes, and those held at its peak. */
function climbNodes(graph: IndexedGraph, sequence: readonly number[]): number[] {
  const seen = new Uint8Array(graph.size);
  const nodes = new Set<number>();
  for (const node of sequence) {
    if (seen[node]) nodes.add(node);
    seen[node] = 1;
  }
  for (const node of nodesAtPeak(graph, sequence)) nodes.add(node);
  return [...nodes];
}

/** A sequence's recomputed nodes, the costliest recomputations (cost times extra computations) first. */
function recomputedByCost(graph: IndexedGraph, sequence: readonly number[]): number[] {
  const count = new Map<number, number>();
  for (const node of sequence) count.set(node, (count.get(node) ?? 0) + 1);
  return [...count]
    .filter(([, times]) => times > 1)
    .sort(([a, timesA], [b, timesB]) => graph.cost[b] * (timesB - 1) - graph.cost[a] * (timesA - 1) || a - b)
    .map(([node]) => node);
}

/** The fixed greedy variants: eviction weighting alpha and the share of the budget aimed at. */
export const GREEDY_VARIANTS: readonly { alpha: number; margin: number }[] = [
  { alpha: 1, margin: 1 },
  { alpha: 0.5, margin: 1 },
  { alpha: 2, margin: 1 },
  { alpha: 0.25, margin: 1 },
  { alpha: 1.5, margin: 1 },
  { alpha: 3, margin: 1 },
  { alpha: 1, margin: 0.97 },
  { alpha: 0.5, margin: 0.97 },
  { alpha: 1, margin: 0.93 },
  { alpha: 0.5, margin: 0.93 },
];

/**
 * Searches remat plans for `budgetBytes` (residentBytes included); see the file comment.
 * It hands the event loop back every SEARCH_YIELD_MS, so a stop request, a worker's message
 * or a timer can come in while it runs.
 */
export async function scaleSearch(graph: IndexedGraph, budgetBytes: number, options: ScaleSearchOptions): Promise<ScaleSearchResult> {
  let lastYield = Date.now();
  // With time enough, ruin and recreate first takes most of it (RUIN_FIRST_MIN_SECONDS).
  const ruinFirstLong = options.ruinFirst === true && options.deadline - Date.now() >= RUIN_FIRST_MIN_SECONDS * 1000;
  const breathe = async () => {
    if (Date.now() - lastYield < SEARCH_YIELD_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    lastYield = Date.now();
  };
  const available = budgetBytes - graph.residentBytes;
  const seedShift = (options.round ?? 0) * SEARCH_ROUND_SEED_STRIDE;
  let best: { sequence: number[]; cost: number; peak: number; from: string } | null = null;
  let smallestPeak = Infinity;
  let tried = 0;
  // Nothing beats baseCost without swaps, nor a proven bound: stop as soon as a plan reaches it.
  const enough = Math.max(graph.baseCost, options.stopAt ?? 0);
  // Every greedy run of the search stops with it, and at the deadline once a candidate was
  // tried: until then the search goes past it, as its loops do, so that it has something to offer.
  const greedy = (availableBytes: number, greedyOptions: GreedyOptions) =>
    greedySequence(graph, availableBytes, {
      ...greedyOptions,
      signal: options.signal,
      deadline: tried > 0 ? options.deadline : undefined,
    });
  const stop = () => options.signal?.aborted === true || (best !== null && (best as { cost: number }).cost <= enough);
  // An equal cost with a lower peak wins; `ties`: any equal cost wins (the climb moves along plateaus).
  // `slack`: the local search runs only when the plan costs at most slack times the best's cost.
  const consider = async (sequence: number[], from: string, ties = false, slack = Infinity) => {
    await breathe();
    tried++;
    const profile = profileOf(graph, sequence);
    if (typeof profile === 'string') return;
    smallestPeak = Math.min(smallestPeak, profile.peak + graph.residentBytes);
    if (profile.peak > available) return;
    if (best !== null && profile.cost > slack * (best as { cost: number }).cost) return;
    const improved = improveSequence(graph, sequence, available, { deadline: options.deadline, signal: options.signal });
    if (!best || improved.cost < best.cost || (improved.cost === best.cost && (ties || improved.peak < best.peak))) {
      best = { sequence: improved.sequence, cost: improved.cost, peak: improved.peak, from };
    }
  };

  // The exclusion descent (file comment): first improvement, going on from the next value after an improvement.
  const descending = options.descend ?? options.climb ?? false;
  // It may take TIME_SHARES.searchDescent of the time left without a cheaper plan; each
  // cheaper one gives it that share of what is left again.
  const descend = async () => {
    const share = () => Date.now() + TIME_SHARES.searchDescent * Math.max(0, options.deadline - Date.now());
    let deadline = share();
    let current = best as { sequence: number[]; cost: number };
    const cheaper = () => (best as { cost: number }).cost < current.cost;
    let candidates = recomputedByCost(graph, current.sequence);
    let order = orderOfSequence(graph, current.sequence);
    for (let at = 0, idle = 0; idle < candidates.length && !stop() && Date.now() < deadline; at++, idle++) {
      const excluded = candidates[at % candidates.length];
      const avoid = new Set([excluded]);
      // The plan's other recomputed values first; with a guide, the guide's too, and no preference.
      const prefers: (ReadonlySet<number> | undefined)[] = [new Set(candidates.filter((node) => node !== excluded))];
      if (options.prefer) prefers.push(new Set([...options.prefer].filter((node) => node !== excluded)), undefined);
      search: for (const prefer of prefers) {
        for (const alpha of EXCLUSION_ALPHAS) {
          if (stop() || Date.now() > deadline) return;
          const result = greedy(available, { alpha, order, prefer, avoid });
          if (result?.fits) await consider(result.sequence, 'exclusion descent+local-search');
          if (cheaper()) break search;
        }
      }
      if (cheaper()) {
        current = best as { sequence: number[]; cost: number };
        candidates = recomputedByCost(graph, current.sequence);
        order = orderOfSequence(graph, current.sequence);
        idle = -1;
        deadline = share();
      }
    }
  };

  // The exchange descent (exchange.ts) from the best plan, until `deadline`.
  const exchange = async (deadline: number) => {
    if (best === null || stop() || Date.now() >= deadline) return;
    const from = best as { sequence: number[]; cost: number };
    const exchanged = await exchangeDescent(graph, from.sequence, available, { deadline, signal: options.signal, pause: breathe });
    if (exchanged.cost < from.cost)
      best = { sequence: exchanged.sequence, cost: exchanged.cost, peak: exchanged.peak, from: 'exchange descent' };
  };

  // Ruin and recreate (ruin.ts) from the best plan, with `share` of the time left without a
  // cheaper plan; each cheaper one gives it that share of what is left again. Each pass draws
  // its windows from its own seed, over both runs of the move (ruinFirst).
  let ruinPass = 0;
  const ruin = async (share: number) => {
    while (best !== null && !stop()) {
      const deadline = Date.now() + share * Math.max(0, options.deadline - Date.now());
      const from = best as { sequence: number[]; cost: number };
      const ruined = await ruinAndRecreate(graph, from.sequence, available, {
        deadline,
        signal: options.signal,
        seed: seedShift + ruinPass++,
        stopAt: enough,
        maxAccepted: 1,
        pause: breathe,
      });
      if (ruined.cost >= from.cost) return;
      best = { sequence: ruined.sequence, cost: ruined.cost, peak: ruined.peak, from: 'ruin and recreate' };
    }
  };

  for (const start of options.starts ?? []) {
    if (stop()) break;
    // Swap plans are not remat sequences; only compute/free schedules are taken.
    if (hasSwaps(start.steps)) continue;
    await consider(stepsToSequence(start.steps), `${start.from}+local-search`);
  }
  // A larger budget's plan rarely fits, but its order and what it recomputes are close to a
  // good plan here: near a sweep's neighbouring budget they beat the restarts' (file comment).
  const hintOrders = (options.hints ?? []).map((hint) => orderOfSequence(graph, hint));
  hints: for (const [at, hint] of (options.hints ?? []).entries()) {
    const order = hintOrders[at];
    const recomputed = new Set(recomputedByCost(graph, hint));
    for (const prefer of recomputed.size > 0 ? [recomputed, undefined] : [undefined]) {
      for (const margin of HINT_MARGINS) {
        for (const alpha of EXCLUSION_ALPHAS) {
          if (stop() || (tried > 0 && Date.now() > options.deadline)) break hints;
          const result = greedy(Math.floor(available * margin), { alpha, order, prefer });
          if (result?.fits) await consider(result.sequence, 'hint greedy+local-search');
        }
      }
    }
  }
  if (options.greedy ?? true) {
    // The listed order first, then memory-aware orders (each is also a no-remat plan).
    const orders: number[][] = [listedOrder(graph)];
    const addOrder = (order: number[]) => {
      if (!orders.some((known) => known.every((node, at) => order[at] === node))) orders.push(order);
    };
    for (const rule of ['delta', 'during'] as const) addOrder(memoryAwareOrder(graph, rule));
    // Saved-for-backward values computed late (order.ts): on captured training graphs the
    // best plans compute them just before the backward pass reads them.
    addOrder(deferredOrder(graph));
    addOrder(deferredOrder(graph, memoryAwareOrder(graph, 'delta')));
    // Large gradients of small inputs computed last: what fits the tightest budgets.
    addOrder(lateSinksOrder(graph));
    // Perturbed memory-aware orders: the few with the lowest no-remat peak join the pool.
    const perturbed: { order: number[]; peak: number }[] = [];
    const orderRandom = seededRandom(ORDER_SEED);
    const orderDeadline = Date.now() + TIME_SHARES.searchOrders * Math.max(0, options.deadline - Date.now());
    for (let attempt = 0; attempt < ORDER_RESTARTS && Date.now() < orderDeadline && !stop(); attempt++) {
      const order = memoryAwareOrder(graph, 'delta', orderRandom, 0.5);
      const profile = profileOf(graph, order);
      if (typeof profile !== 'string') perturbed.push({ order, peak: profile.peak });
    }
    perturbed.sort((a, b) => a.peak - b.peak);
    for (const { order } of perturbed.slice(0, 2)) orders.push(order);
    for (const order of orders.slice(1)) if (!stop()) await consider(order, 'memory-aware order+local-search');
    // Large gradients computed after the first layers' backward (order.ts): near the smallest
    // feasible budget of a captured CNN the other orders do not fit, or fit only by
    // recomputing the backward pass once per gradient. A few greedy runs each; those within
    // LATE_GRADIENT_IMPROVE_SLACK of the plain greedy's cost go to the local search before
    // the fixed variants, the rest after them, and only if still within the slack of the best.
    const lateOrders: number[][] = [];
    for (const threshold of lateGradientThresholds(graph)) {
      lateOrders.push(lateGradientsOrder(graph, threshold, orders[0]));
      lateOrders.push(lateGradientsOrder(graph, threshold, deferredOrder(graph)));
    }
    // The sinks a minimum cut leaves for later, at a range of prices (order.ts): near the
    // floor, where no starting plan fits (elsewhere their greedy runs cost time for nothing).
    if (lateOrders.length > 0 && best === null) lateOrders.push(...cutLateOrders(graph, orders[0]));
    const lateRuns: { sequence: number[]; cost: number }[] = [];
    for (const order of lateOrders) {
      for (const alpha of LATE_GRADIENT_ALPHAS) {
        if (stop() || (tried > 0 && Date.now() > options.deadline)) break;
        const result = greedy(available, { alpha, order });
        const profile = result?.fits ? profileOf(graph, result.sequence) : undefined;
        if (result && profile !== undefined && typeof profile !== 'string')
          lateRuns.push({ sequence: result.sequence, cost: profile.cost });
      }
    }
    lateRuns.sort((a, b) => a.cost - b.cost);
    // The plain greedy's cost on the other orders (the first fixed variant, unimproved).
    let plainCost = best === null ? Infinity : (best as { cost: number }).cost;
    for (const order of orders) {
      if (lateRuns.length === 0 || stop() || Date.now() > options.deadline) break;
      const result = greedy(available, { alpha: GREEDY_VARIANTS[0].alpha, order });
      const profile = result?.fits ? profileOf(graph, result.sequence) : undefined;
      if (profile !== undefined && typeof profile !== 'string') plainCost = Math.min(plainCost, profile.cost);
    }
    const lateFirst = lateRuns.filter((run) => run.cost <= LATE_GRADIENT_IMPROVE_SLACK * plainCost);
    for (const run of lateFirst) {
      if (stop() || (tried > 0 && Date.now() > options.deadline)) break;
      await consider(run.sequence, 'late-gradients greedy+local-search', false, LATE_GRADIENT_IMPROVE_SLACK);
    }
    const guides: (ReadonlySet<number> | undefined)[] = options.prefer ? [options.prefer, undefined] : [undefined];
    for (const prefer of guides) {
      for (const variant of GREEDY_VARIANTS) {
        for (const order of orders) {
          if (stop() || (tried > 0 && Date.now() > options.deadline)) break;
          const result = greedy(Math.floor(available * variant.margin), { alpha: variant.alpha, order, prefer });
          if (result) await consider(result.sequence, prefer ? 'guided greedy+local-search' : 'greedy+local-search');
        }
      }
    }
    for (const run of lateRuns) {
      if (lateFirst.includes(run)) continue;
      if (stop() || (tried > 0 && Date.now() > options.deadline)) break;
      await consider(run.sequence, 'late-gradients greedy+local-search', false, LATE_GRADIENT_IMPROVE_SLACK);
    }
    // Nothing fits after the fixed sources: the repair descent (descent.ts), from the no-remat
    // plan and from the larger budget's plan nearest to this one. Only then: where the greedy
    // fits, the descent's plans cost more at first, and searching from them instead changed
    // plans both ways by up to 1.8 % (the real suite at 30 s); where it does not (a captured
    // Inception-v3 at 42.9 % of its no-remat peak), it gives the search a plan to start from.
    // On a large graph the fixed variants may have taken the search's time: auto's
    // smallest-peak phase, which follows, starts with the descent too.
    if (options.repairDescent && best === null && !stop()) {
      const descentDeadline = Date.now() + TIME_SHARES.searchRepairDescent * Math.max(0, options.deadline - Date.now());
      const nearest = (options.hints ?? [])
        .map((hint) => ({ hint, profile: profileOf(graph, hint) }))
        .filter((entry) => typeof entry.profile !== 'string')
        .sort((a, b) => (a.profile as SequenceProfile).peak - (b.profile as SequenceProfile).peak)[0]?.hint;
      for (const from of nearest ? [nearest, undefined] : [undefined]) {
        if (stop() || Date.now() > descentDeadline) break;
        const descended = await repairDescent(graph, available, { deadline: descentDeadline, signal: options.signal, from });
        if (descended?.reached) await consider(descended.sequence, 'repair descent+local-search');
        else if (descended) {
          smallestPeak = Math.min(smallestPeak, descended.peak + graph.residentBytes);
          options.onDescended?.(descended);
        }
      }
    }
    const ruining = options.ruin ?? options.climb ?? false;
    if (options.restarts ?? true) {
      // With a descent to follow, the restarts leave it a share of the time (most of it when
      // ruin and recreate comes first).
      const restartsShare = ruining && ruinFirstLong ? TIME_SHARES.searchRestartsBeforeRuin : TIME_SHARES.searchRestarts;
      const restartsDeadline = descending ? Date.now() + restartsShare * Math.max(0, options.deadline - Date.now()) : options.deadline;
      const random = seededRandom(RESTART_SEED + seedShift);
      let sinceBetter = 0;
      const stalled = () => sinceBetter >= (best === null ? STALL_RESTARTS_WITHOUT_PLAN : STALL_RESTARTS);
      // The late orders join the restarts only where their cheapest plan is within the slack of
      // the best: on graphs where they do not help (decoders) they would take most restarts.
      const bestCost = best === null ? Infinity : (best as { cost: number }).cost;
      const lateUseful = lateRuns.length > 0 && lateRuns[0].cost <= LATE_GRADIENT_IMPROVE_SLACK * Math.min(plainCost, bestCost);
      const pool = [...orders, ...hintOrders, ...(lateUseful ? lateOrders : [])];
      for (let seed = 1; !stop() && Date.now() < restartsDeadline && !stalled(); seed++) {
        const alpha = 0.25 + 2.75 * random();
        const margin = 1 - 0.1 * random() * random();
        const before = best === null ? Infinity : (best as { cost: number }).cost;
        // Half of the restarts follow a fresh perturbed order: the order matters as much as the evictions.
        const order = random() < 0.5 ? pool[Math.floor(random() * pool.length)] : memoryAwareOrder(graph, 'delta', random, 0.5 * random());
        const prefer = options.prefer && seed % 2 === 0 ? options.prefer : undefined;
        const result = greedy(Math.floor(available * margin), { alpha, noise: 0.3 + 0.7 * random(), seed, order, prefer });
        if (result) await consider(result.sequence, 'greedy+local-search');
        const after = best === null ? Infinity : (best as { cost: number }).cost;
        sinceBetter = after < before ? 0 : sinceBetter + 1;
      }
    }
    if (ruining && options.ruinFirst) await ruin(ruinFirstLong ? TIME_SHARES.searchRuinFirst : TIME_SHARES.searchRuin);
    if (descending && best !== null) {
      await descend();
      await exchange(Date.now() + TIME_SHARES.searchExchange * Math.max(0, options.deadline - Date.now()));
    }
    if (ruining) await ruin(TIME_SHARES.searchRuin);
    // The restarts draw orders afresh; the climb perturbs the best plan's own order instead.
    if (options.climb && best !== null) {
      const random = seededRandom(COST_CLIMB_SEED + seedShift);
      let current = best as { sequence: number[]; cost: number };
      let order = orderOfSequence(graph, current.sequence);
      let hot = climbNodes(graph, current.sequence);
      const patience = options.climbPatience ?? COST_CLIMB_PATIENCE;
      for (let idle = 0, seed = 1; idle < patience && !stop() && Date.now() < options.deadline; idle++, seed++) {
        const candidate = movedOrder(graph, order, random, hot);
        const prefer = options.prefer && seed % 2 === 0 ? options.prefer : undefined;
        const result = greedy(Math.floor(available * (1 - 0.1 * random() * random())), {
          alpha: 0.25 + 2.75 * random(),
          noise: random() < 0.5 ? 0 : 0.3 * random(),
          seed,
          order: candidate,
          prefer,
        });
        if (result) await consider(result.sequence, 'order climb+local-search', true);
        const now = best as { sequence: number[]; cost: number };
        // An equal cost moves on (plateaus are wide); a lower one also restarts the patience.
        if (now !== current) {
          if (now.cost < current.cost) idle = -1;
          current = now;
          order = candidate;
          hot = climbNodes(graph, current.sequence);
        }
      }
      // The climb ran out of patience before the deadline: the exchange descent from its best plan.
      await exchange(options.deadline);
    }
  }
  const winner = best as { sequence: number[]; cost: number; peak: number; from: string } | null;
  if (!winner) return { found: false, smallestPeak, tried };
  return {
    found: true,
    steps: sequenceToSteps(graph, winner.sequence),
    cost: winner.cost,
    peak: winner.peak + graph.residentBytes,
    from: winner.from,
    tried,
  };
}
