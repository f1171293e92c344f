// auto: the portfolio, a list of phases run in order behind one check (canRun in
// phases.ts: not stopped, not yet proven within the gap, time left). Each phase offers its plans and
// bounds to one incumbent, which keeps the best valid plan and the best proven bound and
// reports every improvement through onProgress. What runs is chosen by size and time
// left: the LP relaxation needs the WASM heap of a few hundred nodes at most and the
// exact MILP rarely closes beyond ~100 nodes, but the best plan so far is always returned.
// Every number (size limits, time shares) is in solver/limits.ts.
import {
  ARRIVAL_FLOOR_FULL_MAX_NODES,
  ATTEMPT_ROUND_STRIDE,
  AUTO_MARGIN_SECONDS,
  BESIDE_MILP_EARLY_SHARE,
  BESIDE_MILP_IDLE_ROUNDS,
  BESIDE_MILP_MIN_ROUND_SECONDS,
  BESIDE_MILP_ROUND_SECONDS,
  AUTO_MAX_NONZEROS,
  BOUND_SOLVE_PSEUDOCOST_RELIABLE,
  FINAL_LOCAL_SEARCH_RESERVE_SECONDS,
  FINAL_SEARCH_OPEN_GAP,
  FINAL_SEARCH_PATIENCE,
  LOCAL_SEARCH_SECONDS,
  BOUND_MAX_NODES,
  CLOSURE_INLINE_MAX_NODES,
  CLOSURE_SMALL_SPLIT_MIN_SECONDS,
  CLOSURE_SMALL_SPLIT_SHORT_SECONDS,
  CLOSURE_SMALL_SPLITS,
  CLOSURE_SPLIT_MIN_SECONDS,
  CLOSURE_SPLITS,
  LP_GUIDED_SEARCH_SECONDS,
  LP_MAX_NODES,
  MILP_MAX_NODES,
  MIN_BRACKET_SECONDS,
  MIN_LOCAL_SEARCH_SECONDS,
  MIN_PHASE_SECONDS,
  RUIN_FIRST_MIN_SECONDS,
  SWAP_BOUND_INLINE_MAX_SECONDS,
  TIME_SHARES,
} from '../limits.js';
import { buildCheckmate } from '../milp/checkmate.js';
import { buildWithin, type ReplayedPlan, runCheckmateLp, runCheckmateMilp } from '../milp/checkmate-solve.js';
import { recomputeBound } from '../scale/bound.js';
import { type FloorAndSchedule, type ProvenFloor, provenFloor, smallestBudget, smallestBudgetAsync } from '../scale/bracket.js';
import { smallestPeakSearchAsync } from '../scale/smallest-peak.js';
import { convertRecomputesToSwaps } from '../scale/swap-convert.js';
import { hasSwaps, type IndexedStep } from '../schedule/simulate.js';
import { type PendingBound, startClosureBound } from '../bounds/parallel.js';
import type { ClosureBound } from '../bounds/closure-milp.js';
import { lastComputationFloor } from '../bounds/last-computation.js';
import { closureBoundOf, floorRelaxations, optionsRelaxation } from '../bounds/relaxation.js';
import { betterOrder, reorderedGraph } from '../schedule/reorder.js';
import { Clock } from '../util/clock.js';
import { childStop } from '../util/stop.js';
import { BASELINES } from './baselines.js';
import { capuchin } from './capuchin.js';
import { scaleImprove } from './local-search.js';
import { improveLoweredAgain, optionsPhase, smallestPeakWithOptions } from './options-phase.js';
import { type Phase, PhasedRun, runPhases } from './phases.js';
import { solveSwapMilp } from './swap-milp.js';
import type { Strategy, StrategyContext, StrategyOutcome } from './types.js';
import { vdnnAll, vdnnConv } from './vdnn.js';

/** The baselines auto starts from: heuristics, and the swap heuristics when a link is given. */
export const AUTO_BASELINES: readonly Strategy[] = [...BASELINES, vdnnAll, vdnnConv, capuchin];

/** How auto runs one scale search (improveLocally); every field has a default. */
interface LocalSearchOptions {
  /** The scale search's round (scale/multistart.ts; default 0). */
  round?: number;
  /** What the greedy evicts first (default the closure bound's recomputed set, run.guide). */
  guide?: ReadonlySet<number>;
  /** The phase's name in the plan's message (default 'local-search'). */
  name?: string;
  /** Stops the search (default the solve's). */
  signal?: AbortSignal;
  /** The scale search's option of that name (default false). */
  ruinFirst?: boolean;
}

/** Runs the scale search from the best plan and the best in-order plan and offers what it finds. */
async function improveLocally(run: PhasedRun, seconds: number, options: LocalSearchOptions = {}): Promise<undefined> {
  const { round = 0, guide = run.guide, name = 'local-search', signal = run.context.signal, ruinFirst = false } = options;
  const { incumbent } = run;
  run.note(name);
  const starts = incumbent.best ? [{ steps: incumbent.best.steps, from: incumbent.best.from }] : [];
  if (incumbent.inOrder && incumbent.inOrder.steps !== incumbent.best?.steps)
    starts.push({ steps: incumbent.inOrder.steps, from: 'in-order' });
  if (run.remat) starts.push({ steps: run.remat.steps, from: 'remat' });
  const context = signal === run.context.signal ? run.context : { ...run.context, signal };
  // A later attempt at the same budget searches from other seeds (StrategyContext.attempt).
  // The repair descent is deterministic: asked for once per solve, of its first search (which
  // runs it only where nothing fits), and not in a later attempt at the same budget.
  const repairDescent = !run.descended && (run.context.attempt ?? 0) === 0;
  run.descended = true;
  const local = await scaleImprove(context, starts, seconds, {
    prefer: guide,
    round: round + (run.context.attempt ?? 0) * ATTEMPT_ROUND_STRIDE,
    repairDescent,
    ruinFirst,
    onDescended: (descended) => {
      if (!run.lowestDescent || descended.peak < run.lowestDescent.peak) run.lowestDescent = descended;
    },
  });
  if (local.bound) incumbent.offerBound(local.bound.makespan, local.bound.source);
  if (local.kind === 'schedule') {
    const candidate = incumbent.offer(local.steps, name);
    if (candidate.fits && (!run.remat || candidate.makespan < run.remat.makespan))
      run.remat = { steps: local.steps, makespan: candidate.makespan };
  }
  return undefined;
}

/**
 * The final search: the scale search as before, then again in later rounds with fresh
 * seeds until the time is up, as long as each round after the first finds a cheaper plan.
 * A round ends when its climb runs out of patience, and the next, with the same seeds,
 * would retrace it (mobilenet_v2 at 30 %: the final search stopped at 29 s of 60 with
 * 1.16687; a later round, 1.16414). Its first round keeps the seeds of the search before
 * it, so it plans what the single final search planned (a later round's seeds alone gave
 * resnet18-options at floor x 1.1 1.2045 instead of 1.1965). After round 1, a round
 * without a cheaper plan ends the phase and leaves the time unused where the solve shares
 * its time (a sweep hands it to its other budgets) or its gap is closed to
 * FINAL_SEARCH_OPEN_GAP; otherwise the rounds go on until FINAL_SEARCH_PATIENCE in a row
 * found nothing.
 */
async function improveFinally(run: PhasedRun, seconds: number): Promise<undefined> {
  const deadline = Clock.deadline(seconds);
  let fruitless = 0;
  for (let round = 0; run.canRun(Clock.secondsTo(deadline), MIN_LOCAL_SEARCH_SECONDS); round++) {
    const before = run.incumbent.best?.makespan ?? Infinity;
    // With node options, from round 1 the lowered graphs' searches (options-phase.ts) get
    // later rounds too, in half of the time left: the search here plans no encodings
    // (resnet50-options at 30 %: 1.75647 -> 1.73321, unet-options at floor x 1.1 1.94450
    // -> 1.92947; both ended their 60 s with the lowered searches' 6 s, at 57 s and 9 s).
    const lowered = round >= 1 && run.graph.hasOptions && (await improveLoweredAgain(run, Clock.secondsTo(deadline) / 2, round));
    // Ruin and recreate before the descents: the searches before this one descended the
    // plan it starts from already (at 60 s, resnet50 at 30 %: 1.7566 -> 1.7273 and 1.7420 in
    // two runs; unet-options at floor x 1.1 1.6357 -> 1.5977 in one run of two; gpt2-12,
    // whose plan comes from the descents, the same).
    await improveLocally(run, Clock.secondsTo(deadline), { round, ruinFirst: true });
    // Round 1 runs either way: fresh seeds are worth one try when round 0, retracing the
    // search before it, found nothing (unet-options at floor x 1.1: round 0 ends at 9 s).
    const improved = lowered || (run.incumbent.best?.makespan ?? Infinity) < before;
    fruitless = improved ? 0 : fruitless + 1;
    if (round >= 1 && !improved && (run.context.sharesTime || !gapOpen(run) || fruitless >= FINAL_SEARCH_PATIENCE)) break;
  }
  return undefined;
}

/** Whether the proven gap (none yet counts as open) is above FINAL_SEARCH_OPEN_GAP. */
function gapOpen(run: PhasedRun): boolean {
  return (run.incumbent.gap() ?? 1) > FINAL_SEARCH_OPEN_GAP;
}

/** With a host link: the best remat plans' recomputations turned into swaps where the copy is cheaper (scale/swap-convert.ts). */
async function convertToSwaps(run: PhasedRun, seconds: number): Promise<undefined> {
  const { context, incumbent } = run;
  run.note('swap-convert');
  const deadline = Clock.deadline(seconds);
  const sources = [run.remat?.steps, incumbent.inOrder?.steps, incumbent.best?.steps].filter(
    (steps, at, all): steps is IndexedStep[] => steps !== undefined && all.indexOf(steps) === at,
  );
  for (const steps of sources) {
    const converted = convertRecomputesToSwaps(context.graph, steps, context.budgetBytes, context.transfer!, {
      deadline,
      signal: context.signal,
    });
    if (converted && converted.converted > 0) incumbent.offer(converted.steps, 'swap-convert');
  }
  return undefined;
}

/**
 * On a small training graph, the closure bound again with intervals on its own thread, beside
 * the MILP (whose bounds hold for Checkmate's class only): near the floor it counts the values
 * recomputed twice that the plain rows count once (CLOSURE_SMALL_SPLITS has the figures). It
 * is offered as soon as it is in, then `offered` is called. True when it started (with at
 * least `minSeconds` left).
 */
function startIntervalBound(run: PhasedRun, minSeconds: number, offered: () => void): boolean {
  const { context, graph, clock } = run;
  if (graph.size > CLOSURE_INLINE_MAX_NODES || context.transfer || run.pendingBound || context.signal?.aborted) return false;
  if (run.incumbent.best === null || clock.left() < minSeconds) return false;
  // Its splits are backward nodes: on a graph without a backward pass (Moccasin's random
  // layered graphs) it raised nothing and took a core from the MILP and the search beside it.
  if (!graph.kind.includes('backward')) return false;
  const pending = startClosureBound(graph, context.budgetBytes, {
    timeLimitSeconds: clock.left(),
    signal: context.signal,
    splitSets: CLOSURE_SMALL_SPLITS,
  });
  void pending.result.then(
    (intervals) => {
      if (intervals && !intervals.infeasible) run.incumbent.offerBound(intervals.makespan, 'closure-bound');
      offered();
    },
    () => undefined,
  );
  run.pendingBound = pending;
  return true;
}

/**
 * The exact MILP phase: on training graphs a forward-only MILP for plans beside the full one
 * (two HiGHS threads: the WASM solver is single-threaded, and the machine has two cores), in
 * the listed or the best plan's order.
 */
async function milpPhase(run: PhasedRun): Promise<undefined> {
  const { context, graph, incumbent, form } = run;
  // With a host link, part of what is left goes to swap-milp.
  const milpSeconds = context.transfer ? run.clock.ofLeft('milpWithLink') : run.clock.left();
  const milpDeadline = Clock.deadline(milpSeconds);
  // Checkmate's class follows the listed order, or the best plan's order when that plan
  // beats every plan in the listed order (betterOrder). In another order the MILP's plans
  // count, but its bounds and its proof hold for that order's class only: not offered.
  // With a host link the best plan may swap; the best remat plan gives the order then.
  const best = incumbent.best && !hasSwaps(incumbent.best.steps) ? incumbent.best : (run.remat ?? null);
  const order = betterOrder(graph, best, incumbent.inOrder);
  const reordered = order ? reorderedGraph(graph, order) : undefined;
  const milpGraph = reordered?.graph ?? graph;
  const milpForm = reordered ? buildCheckmate(milpGraph, { budgetBytes: context.budgetBytes, variant: context.formulation }) : form!;
  // Both solves stop with the run, at the phase's deadline (from outside: two HiGHS threads
  // that start together overrun their own clocks), once the plans and bounds of both close
  // the gap, and the forward-only one once the full one is done.
  const { signal, stop, dispose } = childStop(context.signal, milpDeadline);
  const stopWhenClosed = () => {
    if (incumbent.closed()) stop();
  };
  // The closure bound with intervals on a small training graph is offered when it arrives,
  // and may close the gap: with CLOSURE_SMALL_SPLIT_MIN_SECONDS left beside both MILPs, with
  // less in place of the full one's bound (below).
  const restricted = milpGraph.recomputable.some((recomputable, node) => recomputable && milpGraph.kind[node] !== 'forward');
  const withForward = restricted && context.formulation === 'tight';
  const besideBoth = startIntervalBound(run, CLOSURE_SMALL_SPLIT_MIN_SECONDS, stopWhenClosed);
  const insteadOfFull =
    !besideBoth && withForward && reordered === undefined && startIntervalBound(run, CLOSURE_SMALL_SPLIT_SHORT_SECONDS, stopWhenClosed);
  const common = { graph: milpGraph, budgetBytes: context.budgetBytes, relativeGap: context.relativeGap, signal };
  const source = `checkmate-milp${reordered ? " (in the best plan's order)" : ''}`;
  const start = reordered ? reordered.fromOriginal(best!.steps) : incumbent.inOrder?.steps;
  const onPlan = (plan: ReplayedPlan) => {
    incumbent.offer(reordered ? reordered.toOriginal(plan.steps) : plan.steps, source);
    stopWhenClosed();
  };
  /** The full MILP, beside the forward-only one or alone with the search beside it; stops the forward-only one when done. */
  const fullMilp = async (): Promise<void> => {
    run.note(source);
    // Beside the forward-only one, the full MILP in the listed order is there for its bound:
    // HiGHS's sub-MIP heuristics, which look for plans, are off in it (vgg_unet at 55 %,
    // started from the optimal plan: proven in 13.7 s instead of 29 s; they took 11 s of
    // its root node), and it trusts pseudo-costs sooner (BOUND_SOLVE_PSEUDOCOST_RELIABLE).
    // In the best plan's order its bound is not the class's: it looks for plans.
    const forBound = withForward && reordered === undefined;
    const full = runCheckmateMilp({
      ...common,
      variant: context.formulation,
      formulation: milpForm,
      timeLimitSeconds: Clock.secondsTo(milpDeadline),
      start,
      heuristics: !forBound,
      pseudoCostReliable: forBound ? BOUND_SOLVE_PSEUDOCOST_RELIABLE : undefined,
      onPlan,
      onBound: reordered
        ? undefined
        : (bound) => {
            incumbent.offerBound(bound, 'milp');
            stopWhenClosed();
          },
    });
    // With one HiGHS thread at work the main thread would wait: it searches beside it.
    if (!withForward) await searchBesideMilp(run, full, milpDeadline, stopWhenClosed);
    // Each solve has streamed its best plan through onPlan already (runCheckmateMilp).
    const milp = await full;
    run.solver = milp.solver;
    if (!reordered && milp.bound !== undefined) incumbent.offerBound(milp.bound, 'milp');
    if (!reordered && milp.solve.stop === 'optimal') run.proven = true;
    run.stopped('checkmate-milp', milp.solve.stop, milp.solve.error, milp.solve.aborted);
    // The full MILP is done: the forward-only one has nothing left to add.
    stop();
  };
  try {
    // On training graphs a MILP that recomputes forward nodes only (much smaller, often
    // optimal quickly) looks for plans; its bound is not a bound of the class, so only the
    // full one's counts. It runs on its own thread beside the full one, which thus has the
    // whole phase for its bound (segnet at 41.6 %: the forward-only MILP took 22 of 58 s
    // before the full one started, when they ran one after the other).
    const forwardSource = `${source}, forward recomputation only`;
    // Settled into data at once: a failure while the full one runs is rethrown after it.
    const forward = withForward
      ? runCheckmateMilp({
          ...common,
          variant: 'tight',
          formulation: buildCheckmate(milpGraph, { budgetBytes: context.budgetBytes, variant: 'tight', recompute: 'forward' }),
          timeLimitSeconds: Math.max(MIN_PHASE_SECONDS, milpSeconds),
          start,
          onPlan,
        }).then(
          (done) => ({ done }),
          (error: unknown) => ({ error }),
        )
      : undefined;
    if (forward) run.note(forwardSource);
    // With little time the full MILP proves nothing here (Checkmate's graphs at 5 s: every
    // case closed by the closure bound or baseCost), and a third thread would slow the
    // forward-only one: the closure bound with intervals gives the bound instead.
    if (!insteadOfFull) await fullMilp();
    const settled = await forward;
    if (settled && 'error' in settled) throw settled.error;
    if (settled && insteadOfFull) run.solver = settled.done.solver;
    if (settled) run.stopped(forwardSource, settled.done.solve.stop, settled.done.solve.error, settled.done.solve.aborted);
  } finally {
    // Nothing of this phase runs on after it (a failure of the full solve included).
    stop();
    dispose();
  }
  return undefined;
}

/**
 * The scale search in short rounds with fresh seeds, guided by the LP's recomputed set (or
 * the closure bound's), on the main thread while a MILP solves on its HiGHS thread, until
 * the MILP is done or `deadline`. On random_layered_n100 at 33,862 B the MILP explores no
 * node in its first 20 s, while 2 s searches from other seeds find 1.020-1.022 where round 0
 * found 1.045-1.051 (the LP's set, rounds 0-2): both cores work, and a short solve (a
 * sweep's point) gets the search's plans instead of a MILP that has not started branching.
 */
async function searchBesideMilp(run: PhasedRun, solving: Promise<unknown>, deadline: number, afterRound: () => void): Promise<void> {
  // The search's own stop: with the run, at the deadline, or once the MILP is done.
  const { signal, stop, dispose } = childStop(run.context.signal, deadline);
  solving.then(stop, stop);
  const guide = run.lpGuide ?? run.guide;
  try {
    // A round that ends well before its time has run out of moves; a few such in a row
    // without a cheaper plan end the search (on small graphs each round takes milliseconds).
    for (let round = 1, idle = 0; !signal.aborted && idle < BESIDE_MILP_IDLE_ROUNDS; round++) {
      const seconds = Math.min(Clock.secondsTo(deadline), BESIDE_MILP_ROUND_SECONDS);
      if (seconds < BESIDE_MILP_MIN_ROUND_SECONDS) break;
      const before = run.incumbent.best?.makespan ?? Infinity;
      const started = Date.now();
      await improveLocally(run, seconds, { round, guide, name: 'guided search (beside the MILP)', signal });
      const early = Date.now() - started < BESIDE_MILP_EARLY_SHARE * seconds * 1000;
      idle = early && !((run.incumbent.best?.makespan ?? Infinity) < before) ? idle + 1 : 0;
      afterRound();
    }
  } finally {
    dispose();
  }
}

/**
 * The answer when a remat argument proves that nothing fits the budget: the budget plus one
 * byte is then a proven floor, and the smallest-peak search says how far off it is, with
 * the time the smallest-peak phase would have had (nothing else runs after a proof).
 */
async function provenInfeasible(run: PhasedRun, argument: string): Promise<StrategyOutcome> {
  const { context, clock } = run;
  const share = context.graph.size <= MILP_MAX_NODES ? 'smallestPeak' : 'smallestPeakWithoutMilp';
  const bracket = await smallestBudgetAsync(context.graph, {
    deadline: Clock.deadline(Math.min(clock.ofLimit(share), clock.left())),
    signal: context.signal,
  });
  return {
    kind: 'infeasible',
    proven: true,
    smallestPeakBytes: bracket.foundBytes,
    smallestBudget:
      bracket.floorBytes > context.budgetBytes
        ? bracket
        : { ...bracket, floorBytes: context.budgetBytes + 1, floorSource: 'closure-floor' },
    message: `auto: ${argument} proves that no remat plan fits the budget`,
  };
}

/** How an answer names the argument that proved a floor. */
const FLOOR_ARGUMENTS: Record<ProvenFloor['floorSource'], string> = {
  'contract-floor': "the contract's floor",
  'closure-floor': 'the closure floor',
  'arrival-floor': 'the last-arrival floor',
};

/**
 * The answer when the budget is below a floor the smallest-peak phase proved: nothing fits,
 * and the time left goes to the bracket's top (its search ends once it reaches the floor:
 * random_layered_n100's bracket closed at 54.1 % of its no-remat peak, where the MILPs had
 * gone on to the time limit for a plan that cannot exist).
 */
async function belowProvenFloor(run: PhasedRun, floor: FloorAndSchedule): Promise<StrategyOutcome> {
  const { context, clock, incumbent } = run;
  const reached = Math.min(incumbent.smallestPeakBytes ?? Infinity, floor.reached?.peakBytes ?? Infinity);
  const bracket = await smallestBudgetAsync(context.graph, {
    deadline: Clock.deadline(clock.left()),
    swaps: context.transfer !== undefined,
    knownFloor: floor,
    reachedBytes: Number.isFinite(reached) ? reached : undefined,
    signal: context.signal,
  });
  return {
    kind: 'infeasible',
    proven: true,
    smallestPeakBytes: bracket.foundBytes,
    smallestBudget: bracket,
    message: `auto: ${FLOOR_ARGUMENTS[bracket.floorSource]} proves that no remat plan fits the budget`,
  };
}

/** Waits until one of `promises` settles or `seconds` have passed, whichever comes first. */
async function settledWithin(promises: readonly Promise<unknown>[], seconds: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([...promises, new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, seconds) * 1000)))]);
  clearTimeout(timer);
}

/**
 * What a wait for the closure bound ends on: its result, or its plain bound when the bound
 * goes on with intervals and the plain one is not taken yet (enough to guide the search: it
 * comes when the bound without intervals would have ended).
 */
function arrivals(pending: PendingBound): Promise<unknown>[] {
  return pending.plainReady && !pending.plainTaken ? [pending.result, pending.plainReady] : [pending.result];
}

/**
 * Takes the closure bound when it is in: waiting up to `waitSeconds` for it (Infinity:
 * until the time is up, then it is asked to stop and gives its best dual bound), and
 * offers it; its recomputed set guides the search after. A proof that nothing fits ends the run.
 */
async function collectBound(run: PhasedRun, waitSeconds: number): Promise<StrategyOutcome | undefined> {
  const pending = run.pendingBound;
  if (!pending) return undefined;
  // A synchronous phase may have held the event loop: let the worker's message in first.
  await new Promise((resolve) => setImmediate(resolve));
  const final = waitSeconds === Infinity;
  if (!pending.settled && !final) {
    await settledWithin(arrivals(pending), waitSeconds);
    if (!pending.settled) {
      if (!pending.plain || pending.plainTaken) return undefined;
      pending.plainTaken = true;
      return takeClosureBound(run, pending.plain);
    }
  }
  run.pendingBound = undefined;
  const timer = setTimeout(() => pending.stop(), Math.max(0, run.clock.left()) * 1000);
  const closure = await pending.result;
  clearTimeout(timer);
  return takeClosureBound(run, closure);
}

/**
 * Waits a share of the time left for the closure bound, whose recomputed set guides the
 * final search, with the scale search from the best plan running meanwhile: the main
 * thread's core would idle otherwise (resnet50 at 30 %: 14 s of 60 before the plain bound
 * came). The search stops when the bound, or its plain part, comes in, and starts again
 * when the recomputed set of a later separation round does.
 */
async function searchWhileWaiting(run: PhasedRun): Promise<StrategyOutcome | undefined> {
  const pending = run.pendingBound;
  if (!pending) return undefined;
  await new Promise((resolve) => setImmediate(resolve));
  const deadline = Clock.deadline(run.clock.ofLeft('waitForBound'));
  let name = 'local-search (waiting for the bound)';
  for (;;) {
    const plainIn = pending.plain !== undefined && !pending.plainTaken;
    if (pending.settled || plainIn || !run.canRun(Clock.secondsTo(deadline), MIN_LOCAL_SEARCH_SECONDS)) break;
    // The bound's latest round guides the search until the next round's set comes in: the
    // search then starts again with it (densenet121 at 70 %: the second round's set, at
    // 6.6 s, guided the search to 1.0121 in 3 s; the plain bound came at 17 s).
    const seen = pending.guides;
    const nextGuide = pending.nextGuide();
    const guide = pending.guide ? new Set(pending.guide) : run.guide;
    const { signal, stop, dispose } = childStop(run.context.signal, deadline);
    void Promise.race([...arrivals(pending), nextGuide]).then(stop, stop);
    try {
      // Ruin and recreate first, as in the final search, where there is time for it: the plan
      // comes from a search that descended it already, and the move needs seconds (resnet50 at
      // 30 %: this wait is 10-24 s of 60, where the descents found nothing and ruin and
      // recreate 1.7596 -> 1.7061).
      const seconds = Clock.secondsTo(deadline);
      await improveLocally(run, seconds, { guide, name, signal, ruinFirst: seconds >= RUIN_FIRST_MIN_SECONDS });
    } finally {
      dispose();
    }
    name = "local-search (waiting for the bound, a later round's guide)";
    if (pending.guides !== seen) continue;
    // A search that ended before anything came in waits for the bound or the next guide.
    await settledWithin([...arrivals(pending), nextGuide], Clock.secondsTo(deadline));
    if (pending.guides === seen) break;
  }
  // The rest of the wait is the bound's.
  return collectBound(run, Math.max(0, Clock.secondsTo(deadline)));
}

/**
 * The remat closure bound's result, inline or from its thread: without a host link its proof
 * that nothing fits ends the run, and its bound is offered; its recomputed set guides the
 * search either way (with a link a swap escapes the argument, so it only guides).
 */
function takeClosureBound(run: PhasedRun, closure: ClosureBound | undefined): Promise<StrategyOutcome> | undefined {
  const link = run.context.transfer !== undefined;
  // A proof arrives only where no plan can exist, so the incumbent has none.
  if (closure?.infeasible && !run.incumbent.best && !link) return provenInfeasible(run, 'the closure bound');
  if (closure && !closure.infeasible && !link) run.incumbent.offerBound(closure.makespan, 'closure-bound');
  if (closure?.recompute.length) run.guide = new Set(closure.recompute);
  return undefined;
}

/** True when `set` holds exactly the nodes of `list`. */
function sameSet(set: ReadonlySet<number>, list: readonly number[] | undefined): boolean {
  return list !== undefined && list.length === set.size && list.every((node) => set.has(node));
}

/** auto's phases, in order. */
const PHASES: readonly Phase[] = [
  {
    name: 'bounds',
    summary:
      'the recomputation bound, the last-computation floor (a proof that nothing fits) and the closure bound (solver/bounds: a covering MILP with closure rows, every remat schedule in any order); with a host link the closure bound with swaps, the remat one guiding the search',
    async run(run) {
      const { context, graph, incumbent, clock } = run;
      incumbent.offerBound(graph.baseCost, 'baseCost');
      // The recomputation bound (scale/bound.ts) holds for every remat-only schedule (swaps
      // escape its argument): its best row alone at once, then the closure bound
      // (bounds/closure-milp.ts), whose first round is the covering MILP of all rows and
      // whose later rounds add what a recomputation or a late computation needs.
      // With node options both are taken on its options relaxation (bounds/relaxation.ts),
      // a plain graph with the same node indices whose remat bounds hold for the original.
      // With node options, a node whose fast implementations' workspace fits nowhere at the
      // budget costs at least the cheapest that fits, in every schedule, with swaps too.
      if (graph.hasOptions) incumbent.offerBound(optionsRelaxation(graph, context.budgetBytes).baseCost, 'fitting-cost');
      if (graph.size > BOUND_MAX_NODES) return undefined;
      // With a host link the remat arguments bound nothing (a swap escapes them) but the
      // closure bound's recomputed set still guides the remat search, as without a link
      // (mobilenet_b512 at 30 %: 1.0409 with pcie4 against 1.0399 without, for want of it);
      // the bound is the closure bound with swaps (closure-milp.ts; none on a graph with
      // node options: closureBoundOf gives none there).
      const transfer = context.transfer;
      if (!transfer) {
        const remat = recomputeBound(optionsRelaxation(graph, context.budgetBytes), context.budgetBytes);
        if (remat.infeasible) return provenInfeasible(run, 'the recomputation bound');
        incumbent.offerBound(remat.makespan, 'recompute-bound');
        // The last-computation floor (bounds/last-computation.ts) sees what the closure
        // bound's first-computation rows miss: once the last wide backward node is done, the
        // keep nodes that depend on one are held (on a captured ViT, 38.2 % of the no-remat
        // peak against 30.5 %). It stops once a set proves that nothing fits.
        const deadline = Clock.deadline(clock.ofLimit('lastFloor'));
        for (const relaxed of floorRelaxations(graph)) {
          const floor = lastComputationFloor(relaxed, { above: context.budgetBytes, enough: context.budgetBytes, deadline });
          if (floor.witness >= 0) return provenInfeasible(run, 'the last-computation floor');
        }
      }
      if (context.signal?.aborted) return undefined;
      // On small graphs the closure bound takes a second or two: here, before the search,
      // whose early stop it informs. On large ones it runs on its own thread beside the
      // phases below, collected between them.
      if (graph.size <= CLOSURE_INLINE_MAX_NODES) {
        const closure = await closureBoundOf(graph, context.budgetBytes, {
          timeLimitSeconds: clock.ofLimit('closureInline'),
          signal: context.signal,
        });
        const proof = takeClosureBound(run, closure);
        if (proof) return proof;
      } else {
        // With the time of a plan (not of a sweep's point), once the plain rows are met the
        // bound goes on with intervals (bounds/interval-closure.ts). Not with a host link:
        // there only its recomputed set counts, and the plain bound gives that.
        const seconds = clock.ofLimit('closure');
        run.pendingBound = startClosureBound(graph, context.budgetBytes, {
          timeLimitSeconds: seconds,
          signal: context.signal,
          splitCount: !transfer && seconds >= CLOSURE_SPLIT_MIN_SECONDS ? CLOSURE_SPLITS : 0,
        });
      }
      if (transfer && !context.signal?.aborted) {
        const inline = clock.ofLimit('closureInline');
        const swaps = await closureBoundOf(graph, context.budgetBytes, {
          timeLimitSeconds: graph.size <= CLOSURE_INLINE_MAX_NODES ? inline : Math.min(inline, SWAP_BOUND_INLINE_MAX_SECONDS),
          signal: context.signal,
          transfer,
        });
        if (swaps && !swaps.infeasible) incumbent.offerBound(swaps.makespan, 'closure-swap-bound');
      }
      return undefined;
    },
  },
  {
    name: 'baselines',
    summary: 'the baselines (and vDNN and Capuchin with a host link)',
    // In a sweep, above MILP_MAX_NODES, not where a larger budget's plan or an earlier solve
    // at this budget is in: the search from those beats every baseline, whose plans then
    // only take the time (1.5 s of a 3.5 s point on resnet50's capture; its sweep without
    // them: every point's plan the same or cheaper but one, 37.5 %, by 0.1 %). Up to that
    // size they stay: they are quick there, and the MILP starts from their plans in the listed order.
    skip: ({ context, graph }) =>
      graph.size > MILP_MAX_NODES &&
      ((context.attempt ?? 0) > 0 || (context.hints?.length ?? 0) > 0) &&
      "a sweep's plans of larger budgets or an earlier solve at this one are in",
    async run(run) {
      run.note('baselines');
      await run.incumbent.runEach(AUTO_BASELINES);
      return undefined;
    },
  },
  {
    name: 'checkmate-lp (started)',
    summary: "Checkmate's LP relaxation started on its own thread, up to LP_MAX_NODES nodes",
    // The LP takes seconds (random_layered_n100: 3.5 s) on a HiGHS thread while the main
    // thread runs the baselines and the scale search: both cores work, and its bound and
    // recomputed set are in when the search ends (a sweep's 4 s solve had neither before).
    skip: (run) => run.graph.size > LP_MAX_NODES && `${run.graph.size} nodes is beyond ${LP_MAX_NODES}`,
    seconds: ({ clock }) => clock.left(),
    async run(run) {
      const { context, graph, incumbent } = run;
      const started = Date.now();
      run.form = buildWithin(graph, { budgetBytes: context.budgetBytes, variant: context.formulation }, AUTO_MAX_NONZEROS);
      if (!run.form) {
        run.note(`checkmate-lp skipped: ${graph.size} nodes is beyond the formulation's size limit`);
        return undefined;
      }
      const { signal, stop, dispose } = childStop(context.signal);
      const result = runCheckmateLp({
        graph,
        budgetBytes: context.budgetBytes,
        variant: context.formulation,
        formulation: run.form,
        // The LP phase stops it when its wait is over.
        timeLimitSeconds: Math.max(MIN_PHASE_SECONDS, run.clock.left()),
        // With a plan in hand the LP is there for its bound: its roundings at shrunk budgets
        // never beat auto's plan in 30 runs on the public graphs (each re-solve took as long
        // as the LP, 12.5 s of random_layered_n100's 17 s phase), and the MILP gets that time.
        shrink: () => incumbent.best === null,
        signal,
      }).finally(dispose);
      // Settled into data at once, so that a run that ends before collecting it leaves no rejection unhandled.
      result.catch(() => undefined);
      run.pendingLp = { result, stop };
      // Building and sending the formulation (0.2 s on random_layered_n100) is not the scale search's time.
      run.lpStartSeconds = (Date.now() - started) / 1000;
      return undefined;
    },
  },
  {
    name: 'scale-search',
    summary: 'the scale search (greedy remat, reordering, local search) from their plans (remat plans are plans with a link too)',
    // A share of the time, more where the MILP will not run.
    seconds: ({ clock, graph, lpStartSeconds }) =>
      Math.min(LOCAL_SEARCH_SECONDS, clock.ofLimit(graph.size <= MILP_MAX_NODES ? 'scaleSearch' : 'scaleSearchWithoutMilp')) -
      clock.elapsed() +
      lpStartSeconds,
    minSeconds: MIN_LOCAL_SEARCH_SECONDS,
    run: improveLocally,
  },
  {
    name: 'guided search (nearby budget)',
    summary: "in a sweep, the scale search again guided by the recomputed set of a nearby budget's LP",
    // A sweep's short solve seldom has the time for its own LP (random_layered_n100: 3.5 s),
    // and the search it would guide comes after it; the set of a nearby budget's LP guides
    // this search at once (the LP's set at a budget 4 % of the peak away led 3 s searches to
    // the same plans as the budget's own).
    skip: (run) => !run.context.guide?.length || run.graph.size > LP_MAX_NODES,
    seconds: ({ clock }) => Math.min(LP_GUIDED_SEARCH_SECONDS, clock.ofLeft('lpGuidedSearch')),
    minSeconds: MIN_LOCAL_SEARCH_SECONDS,
    run: (run, seconds) => improveLocally(run, seconds, { guide: new Set(run.context.guide), name: 'guided search (nearby budget)' }),
  },
  optionsPhase,
  {
    name: 'smallest-peak',
    summary:
      'when nothing fits yet, the smallest-peak search (the repair descent towards the budget, walking the greedy down from the best peak, in several orders, then climbing over orders)',
    skip: (run) => run.incumbent.best !== null,
    seconds: ({ clock, graph }) =>
      Math.min(clock.ofLimit(graph.size <= MILP_MAX_NODES ? 'smallestPeak' : 'smallestPeakWithoutMilp'), clock.left()),
    minSeconds: MIN_LOCAL_SEARCH_SECONDS,
    async run(run, seconds) {
      const { context, incumbent } = run;
      run.note('smallest-peak');
      // With node options the lowered graphs first (an encoding holds a saved value in fewer bytes), then the graph itself.
      const deadline = Clock.deadline(seconds);
      // The proven floor while there is time for it: an infeasible answer's bracket needs it,
      // and the search below cannot go under it.
      const swaps = context.transfer !== undefined;
      let floor = provenFloor(context.graph, swaps, Clock.deadline(seconds * TIME_SHARES.smallestPeakFloor));
      // Below a proven floor nothing fits: the time left goes to the bracket's top.
      if (floor.floorBytes > context.budgetBytes) return belowProvenFloor(run, floor);
      // The last-arrival argument's schedule is often the least peak there is (random_layered_n100:
      // 54.1 % of its no-remat peak, where the search reaches 59.6 %): where that floor had no
      // time for it, it gets a share of the phase.
      if (floor.floorSource === 'arrival-floor' && !floor.reached && context.graph.size <= ARRIVAL_FLOOR_FULL_MAX_NODES)
        floor = provenFloor(context.graph, swaps, Clock.deadline(seconds * TIME_SHARES.smallestPeakArrival), floor);
      run.floor = { floorBytes: floor.floorBytes, floorSource: floor.floorSource };
      // The last-arrival floor's schedule: a plan where it fits, and at the floor nothing lower exists to search for.
      if (floor.reached) {
        incumbent.offer(floor.reached.steps, 'arrival-floor');
        if (floor.reached.peakBytes <= floor.floorBytes) return undefined;
      }
      if (context.graph.hasOptions) await smallestPeakWithOptions(run, Clock.secondsTo(deadline) * TIME_SHARES.smallestPeakLowered);
      if (incumbent.best || !run.canRun(Clock.secondsTo(deadline), MIN_LOCAL_SEARCH_SECONDS)) return undefined;
      const found = await smallestPeakSearchAsync(context.graph, {
        deadline,
        floorBytes: run.floor.floorBytes,
        enoughBytes: context.budgetBytes,
        // The scale search's descent, where it ran and stopped short: from there, not again from the no-remat plan.
        descentFrom: run.lowestDescent,
        // The climb over orders runs up to MILP_MAX_NODES too: it starts only where the walk
        // finds nothing within the budget, and stops at the first plan that fits. A captured CNN
        // with frozen first layers reaches 73.1 % of its no-remat peak at best in the walk's
        // orders, and the MILP in the listed order finds nothing at 70 % in 30 s; the climb
        // reaches 64.7 %.
        signal: context.signal,
      });
      // A schedule within the budget is a plan: the phases after this one improve it.
      if (found) incumbent.offer(found.steps, 'smallest-peak');
      return undefined;
    },
  },
  {
    name: 'closure-bound (if in)',
    summary: 'the closure bound if it is in',
    skip: (run) => run.pendingBound === undefined,
    minSeconds: -Infinity,
    run: (run) => collectBound(run, 0),
  },
  {
    name: 'checkmate-lp',
    summary: 'the LP relaxation collected (its share of the time left at most), with two-phase rounding',
    skip: (run) => run.pendingLp === undefined,
    minSeconds: -Infinity,
    async run(run) {
      const { incumbent } = run;
      const pending = run.pendingLp!;
      run.pendingLp = undefined;
      run.note('checkmate-lp');
      // Waited for as the LP phase would have run (its share of what is left), then stopped.
      await settledWithin([pending.result], run.canRun(run.clock.left()) ? Math.max(MIN_PHASE_SECONDS, run.clock.ofLeft('lp')) : 0);
      pending.stop();
      const lp = await pending.result;
      run.solver = lp.solver;
      if (lp.bound !== undefined) incumbent.offerBound(lp.bound, 'lp');
      if (lp.recomputed?.length) run.lpGuide = new Set(lp.recomputed);
      incumbent.notePeak(lp.smallestPeakBytes);
      if (lp.best) incumbent.offer(lp.best.steps, 'checkmate-lp');
      run.stopped('checkmate-lp', lp.solve.stop, lp.solve.error, lp.solve.aborted);
      return undefined;
    },
  },
  {
    name: 'lp-guided search',
    summary: "the scale search again, its greedy evicting first what the LP's optimum recomputes",
    // The LP's recomputed set leads the greedy to plans the closure bound's set does not
    // (random_layered_n100 at 33,862 B: 1.020-1.037 in 3 s, against 1.05068 before and after
    // the MILP's 50 s); the MILP then starts from the better plan, in its order.
    skip: (run) => run.lpGuide === undefined || sameSet(run.lpGuide, run.context.guide),
    seconds: ({ clock }) => Math.min(LP_GUIDED_SEARCH_SECONDS, clock.ofLeft('lpGuidedSearch')),
    minSeconds: MIN_LOCAL_SEARCH_SECONDS,
    run: (run, seconds) => improveLocally(run, seconds, { guide: run.lpGuide, name: 'lp-guided search' }),
  },
  {
    name: 'checkmate-milp',
    summary:
      "the exact MILP warm-started from the best plan (in that plan's order when it beats every plan in the listed order), with the closure bound with intervals on its own thread on training graphs (beside both MILPs with 10 s or more left, in place of the full one's bound with less)",
    skip: (run) => !run.form || (run.graph.size > MILP_MAX_NODES && `${run.graph.size} nodes is beyond ${MILP_MAX_NODES}`),
    seconds: ({ clock }) => clock.left(),
    run: milpPhase,
  },
  {
    name: 'swap-milp',
    summary: 'swap-milp from the best plan with a host link',
    skip: (run) => !run.context.transfer || run.graph.size > MILP_MAX_NODES,
    seconds: ({ clock }) => clock.left(),
    async run(run) {
      const { context, graph, incumbent } = run;
      run.note('swap-milp');
      const best = incumbent.best;
      const swap = await solveSwapMilp(context, {
        slack: best ? best.makespan - graph.baseCost : undefined,
        starts: best ? [best.steps] : [],
      });
      if (swap.steps) incumbent.offer(swap.steps, 'swap-milp');
      run.stopped('swap-milp', swap.stop, swap.error, swap.aborted);
      return undefined;
    },
  },
  {
    name: 'closure-bound (for the final search)',
    summary:
      'the closure bound, waited for a while with the scale search running meanwhile, guided by the recomputed set of its latest separation round: its own recomputed set guides the final search',
    skip: (run) => run.pendingBound === undefined,
    minSeconds: -Infinity,
    run: searchWhileWaiting,
  },
  {
    name: 'local-search',
    summary:
      'local search with the time left, in rounds with fresh seeds while each finds a cheaper plan (outside a sweep, while the gap is above 1 %, until two rounds in a row find none) (with node options also on the lowered graphs)',
    // The solvers closed early or were skipped: more local search from the best plan (with a
    // link, less the swap conversion's share).
    seconds: ({ clock, context }) =>
      clock.left() - FINAL_LOCAL_SEARCH_RESERVE_SECONDS - (context.transfer ? clock.ofLimit('swapConvert') : 0),
    minSeconds: MIN_LOCAL_SEARCH_SECONDS,
    run: improveFinally,
  },
  {
    name: 'swap-convert',
    summary: 'with a host link, the recomputations of the best plans turned into swaps where that is faster',
    skip: (run) => run.context.transfer === undefined,
    seconds: ({ clock }) => clock.left(),
    minSeconds: -Infinity,
    run: (run, seconds) => convertToSwaps(run, Math.max(MIN_BRACKET_SECONDS, seconds)),
  },
  {
    name: 'closure-bound',
    summary: 'the closure bound, computed on its own thread since the start, collected',
    skip: (run) => run.pendingBound === undefined,
    minSeconds: -Infinity,
    run: (run) => collectBound(run, Infinity),
  },
  {
    name: 'bracket',
    summary: 'when nothing fits, a bracket for the smallest feasible budget (a proven floor, the smallest peak reached)',
    skip: (run) => run.incumbent.best !== null,
    // It always runs, briefly: an infeasible answer says how far off the budget is.
    minSeconds: -Infinity,
    async run(run) {
      const { context, incumbent, clock } = run;
      run.smallestBudget = smallestBudget(context.graph, {
        deadline: Clock.deadline(Math.max(MIN_BRACKET_SECONDS, clock.left())),
        swaps: context.transfer !== undefined,
        reachedBytes: incumbent.smallestPeakBytes,
        floorOnly: true,
        // The floor proven earlier, with more time: this one only tries to beat it.
        knownFloor: run.floor,
        signal: context.signal,
      });
      return undefined;
    },
  },
];

/** The portfolio run: every phase that applies and can run, then the best plan and bound. */
async function runAuto(context: StrategyContext): Promise<StrategyOutcome> {
  const run = new PhasedRun(context, AUTO_MARGIN_SECONDS);
  // The caller's plans (a sweep's plans at smaller budgets) come first: every later phase starts from the best of them.
  for (const seed of context.seeds ?? []) run.incumbent.offer(seed, 'seed');
  try {
    const outcome = await runPhases(run, PHASES, 'auto');
    return run.lpGuide ? { ...outcome, guide: [...run.lpGuide] } : outcome;
  } finally {
    // A run that ended before collecting its bound or its LP (proven, stopped) leaves no thread working.
    run.pendingBound?.stop();
    run.pendingLp?.stop();
  }
}

export const auto: Strategy = {
  name: 'auto',
  description:
    `Portfolio, within the time limit: ${PHASES.map((phase) => phase.summary).join('; then ')}. ` +
    'The best valid plan and the best proven bound',
  options: ['timeLimitSeconds', 'relativeGap', 'formulation', 'transfer'],
  run: runAuto,
};
