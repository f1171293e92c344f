// sweep(graph, options) -> the plans along a budget axis in one request (../shared/DESIGN.md,
// "Sweeps"), on one BudgetAxis (axis.ts). A first pass in decreasing budget carries bounds
// down and gives each open budget an equal share of what is left (large budgets close fast
// and hand their time down; the smallest, when every larger one closed, gets all of it);
// then rounds solve the neediest open budgets again (the frontier of feasibility, then the
// largest gaps), in increasing budget so each starts from the plans of the smaller ones,
// the frontier first in weight. Budgets that a plan already closes are
// not solved. Every point ends with the best plan that fits it
// and the best bound carried down from larger budgets, so makespans never increase with
// the budget and bounds never decrease as it shrinks. The inverse questions (inverse.ts)
// search the same axis with their share of the time.
import { budgetBytes as bytesOfBudget } from '../budget.js';
import { MemplanError } from '../errors.js';
import { assertFinite } from '../finite.js';
import type { IndexedGraph } from '../graph/validate.js';
import {
  FIRST_PASS_SHARE,
  FRONTIER_WEIGHT,
  INVERSE_TIME_SHARE,
  MIN_SWEEP_EVALUATION_SECONDS,
  MAX_REFINE_ROUNDS,
  MIN_REFINE_SECONDS,
  REFINE_GROWTH,
  REFINE_LAST_GROWTH,
  SWEEP_MARGIN_SECONDS,
  SWEEP_MARGIN_SHARE,
} from '../limits.js';
import type { Plan } from '../plan-schema.js';
import { resolveTransfer } from '../plan.js';
import { getStrategy, strategyNames } from '../strategies/registry.js';
import type { ProgressEvent } from '../strategies/types.js';
import { Clock } from '../util/clock.js';
import { StopSignal } from '../util/stop.js';
import { BudgetAxis, type Evaluation } from './axis.js';
import { kneeIndex, paretoIndices } from './front.js';
import { smallestBudgetWithin, smallestFeasibleBudget } from './inverse.js';
import { type ParsedSweepOptions, type SweepOptions, SweepOptionsSchema, type SweepPoint, type SweepResult } from './schema.js';

export interface SweepHooks {
  /** Stops the sweep when it aborts; the sweep then returns what it has. */
  signal?: AbortSignal;
  /** Shared stop flags set by another thread (a thread-pool task's flag): read synchronously, as plan() reads them. */
  stopFlags?: readonly Int32Array[];
  /** A 'point' event per budget solved (again when solved again), and one per inverse question answered. */
  onProgress?: (event: ProgressEvent) => void;
}

/**
 * A sweep's result and its plans: each point and answer with a plan names it by its index
 * in `plans` as planId ("0", "1", ...); the service stores them and renames the ids.
 */
export interface SweepOutcome {
  result: SweepResult;
  plans: Plan[];
}

/** A zod issue as far as parsing got: a union's issue is replaced by that of the branch that matched the value's type. */
interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  errors?: Issue[][];
}

function innermost(issue: Issue, above: PropertyKey[] = []): Issue {
  const path = [...above, ...issue.path];
  if (issue.code !== 'invalid_union' || !issue.errors?.length) return { ...issue, path };
  const firsts = issue.errors.map((branch) => branch[0]).filter((first): first is Issue => first !== undefined);
  const matched = (first: Issue) => !(first.path.length === 0 && (first.code === 'invalid_type' || first.code === 'invalid_value'));
  const chosen = firsts.find((first) => first.code === 'custom') ?? firsts.find(matched) ?? firsts[0];
  return chosen ? innermost(chosen, path) : { ...issue, path };
}

/** Parses sweep options; errors name the field (MEMPLAN_ERR_INVALID_BUDGET for a budget's form). */
export function parseSweepOptions(raw: SweepOptions): ParsedSweepOptions {
  const parsed = SweepOptionsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = innermost(parsed.error.issues[0] as Issue);
  const path = issue.path.join('.') || '(root)';
  if (issue.path[0] === 'budgets' && issue.path.length > 1 && issue.code === 'custom')
    throw new MemplanError('MEMPLAN_ERR_INVALID_BUDGET', { detail: `${path}: ${issue.message}` });
  throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path, detail: issue.message });
}

/** The distinct budgets of a sweep in bytes, increasing. */
export function sweepBudgets(
  options: Pick<ParsedSweepOptions, 'budgets'>,
  axis: { floorBytes: number; noRematPeakBytes: number },
): number[] {
  const peak = axis.noRematPeakBytes;
  let budgets: number[];
  if (Array.isArray(options.budgets)) budgets = options.budgets.map((budget) => bytesOfBudget(budget, peak));
  else {
    const { from, to, points } = options.budgets;
    const low = from === 'floor' ? axis.floorBytes : bytesOfBudget(from, peak);
    const high = bytesOfBudget(to, peak);
    const [start, end] = low <= high ? [low, high] : [high, low];
    budgets = Array.from({ length: points }, (_, index) => Math.round(start + ((end - start) * index) / (points - 1)));
  }
  return [...new Set(budgets)].sort((a, b) => a - b);
}

/** An open point of a refine round: its budget, its index among the sweep's budgets, its shares of the time. */
interface OpenPoint {
  budget: number;
  index: number;
  weight: number;
}

/**
 * The points a refine round solves again, in increasing budget: the most of the neediest
 * (largest gap first; a point without a plan has an infinite gap) whose shares of `seconds`
 * each reach REFINE_GROWTH times the limit that point had (REFINE_LAST_GROWTH for a single
 * point: all of the time, on the plans it has, does better than the same run again) and
 * MIN_REFINE_SECONDS. None when even the neediest alone would not.
 */
export function neediest(
  open: readonly OpenPoint[],
  seconds: number,
  limitOf: (index: number) => number,
  gapOf: (budget: number) => number,
): OpenPoint[] {
  const byNeed = [...open].sort((a, b) => gapOf(b.budget) - gapOf(a.budget) || a.budget - b.budget);
  for (let count = byNeed.length; count >= 1; count--) {
    const top = byNeed.slice(0, count);
    const weights = top.reduce((sum, entry) => sum + entry.weight, 0);
    const growth = count === 1 ? REFINE_LAST_GROWTH : REFINE_GROWTH;
    const enough = (entry: OpenPoint) => {
      const share = (seconds * entry.weight) / weights;
      return share >= MIN_REFINE_SECONDS && share >= growth * limitOf(entry.index);
    };
    if (top.every(enough)) return top.sort((a, b) => a.budget - b.budget);
  }
  return [];
}

/** Runs a sweep; see the module comment. Throws MEMPLAN_ERR_* for bad options. */
export async function sweep(graph: IndexedGraph, rawOptions: SweepOptions, hooks: SweepHooks = {}): Promise<SweepOutcome> {
  // The one stop of this sweep (util/stop.ts): a cancel through the hooks; each budget's
  // solve adds its own deadline (axis.ts), and the clock below keeps the sweep's time limit.
  const signal = new StopSignal({ flags: hooks.stopFlags, parent: hooks.signal });
  try {
    return await sweepUntilStopped(graph, rawOptions, { signal, onProgress: hooks.onProgress });
  } finally {
    signal.dispose();
  }
}

/** The sweep itself, stopped by `hooks.signal`. */
async function sweepUntilStopped(
  graph: IndexedGraph,
  rawOptions: SweepOptions,
  hooks: { signal: StopSignal; onProgress?: SweepHooks['onProgress'] },
): Promise<SweepOutcome> {
  const started = Date.now();
  const options = parseSweepOptions(rawOptions);
  const strategy = getStrategy(options.strategy);
  if (!strategy) throw new MemplanError('MEMPLAN_ERR_UNKNOWN_STRATEGY', { strategy: options.strategy, known: strategyNames().join(', ') });
  const transfer = resolveTransfer(options.transfer);
  const axis = new BudgetAxis(graph, {
    strategy,
    transfer,
    relativeGap: options.relativeGap,
    formulation: options.formulation,
    signal: hooks.signal,
  });
  const budgets = sweepBudgets(options, axis);
  const clock = new Clock(options.timeLimitSeconds, started, Math.min(SWEEP_MARGIN_SECONDS, SWEEP_MARGIN_SHARE * options.timeLimitSeconds));
  const questions = (options.maxOverhead !== undefined ? 1 : 0) + (options.smallestFeasible ? 1 : 0);
  const pointShare = budgets.length === 0 ? 0 : questions > 0 ? 1 - INVERSE_TIME_SHARE : 1;
  const pointsDeadline = Clock.deadline(pointShare * clock.left());
  const report = (event: Omit<ProgressEvent, 'elapsedSeconds'>) => hooks.onProgress?.({ ...event, elapsedSeconds: clock.elapsed() });

  const own: (Evaluation | undefined)[] = budgets.map(() => undefined);
  const reportPoint = (index: number) => {
    const budget = budgets[index];
    const best = axis.bestPlanAt(budget);
    const gap = axis.gapAt(budget);
    report({
      kind: 'point',
      point: index,
      points: budgets.length,
      budgetBytes: budget,
      makespan: best?.makespan,
      bound: best ? axis.boundAt(budget, best.makespan).makespan : undefined,
      gap: Number.isFinite(gap) ? gap : undefined,
      message: `point ${index + 1}/${budgets.length} at ${((100 * budget) / axis.noRematPeakBytes).toFixed(1)} %: ${
        best ? `${(best.makespan / axis.baseCost).toFixed(4)}x, gap ${(100 * gap).toFixed(2)} %` : 'no plan'
      }`,
    });
  };
  // A point solved once more: its seconds add up, and it keeps its earlier plan if it finds none.
  const solveAgain = async (index: number, seconds: number) => {
    const before = own[index];
    const again = await axis.evaluate(budgets[index], seconds);
    own[index] = { ...again, seconds: again.seconds + (before?.seconds ?? 0), found: again.found ?? before?.found };
    reportPoint(index);
  };
  // The open points again with the time left over (points closed early give theirs up, and
  // a strategy given little time skips its solvers), in rounds. Each round takes the most
  // open points that each get well above the time they had, the neediest first: the
  // frontier (the largest budget without a plan, below every budget with one), with
  // FRONTIER_WEIGHT shares, then the largest gaps. It solves them in increasing budget, so
  // each starts from the plans found below it. (Shares skipped in budget order flowed on to
  // the largest budgets: resnet50's sweep solved again only its points above 68 %, whose
  // gaps were under 0.1 %, and none of those between 29.7 and 64.8 %, with gaps up to 28 %.)
  const refine = async (deadline: number) => {
    for (let round = 0; round < MAX_REFINE_ROUNDS * budgets.length && !hooks.signal.aborted; round++) {
      const lowestPlanned = budgets.find((budget) => axis.bestPlanAt(budget)) ?? Infinity;
      const frontier = budgets.filter((budget) => budget < lowestPlanned && !axis.provenInfeasible(budget)).at(-1);
      const open = budgets
        .map((budget, index) => ({ budget, index, weight: budget === frontier ? FRONTIER_WEIGHT : 1 }))
        .filter(({ budget }) => budget === frontier || (axis.bestPlanAt(budget) && !axis.closedAt(budget)));
      const chosen = neediest(
        open,
        Clock.secondsTo(deadline),
        (index) => own[index]?.limitSeconds ?? 0,
        (budget) => axis.gapAt(budget),
      );
      if (chosen.length === 0) break;
      let weights = chosen.reduce((sum, entry) => sum + entry.weight, 0);
      for (const { budget, index, weight } of chosen) {
        const seconds = (Clock.secondsTo(deadline) * weight) / weights;
        weights -= weight;
        if (hooks.signal.aborted || seconds < MIN_REFINE_SECONDS) break;
        if (!axis.closedAt(budget)) await solveAgain(index, seconds);
      }
    }
  };

  // First the points in decreasing budget, within a first share of the points' time: a
  // bound proven at a larger budget is carried down (an evaluation stops once its plan meets
  // it), and each open point gets an equal share of what is left, so the easy large budgets
  // hand their time down to the hard small ones. Below a point that found no plan, each
  // further point without one halves the share of the next (plans may still exist lower
  // down, where a solver finds them, but often none does); the frontier gets more later.
  const firstPassDeadline = Clock.deadline(FIRST_PASS_SHARE * Clock.secondsTo(pointsDeadline));
  let misses = 0;
  for (let index = budgets.length - 1; index >= 0; index--) {
    if (hooks.signal.aborted) break;
    const budget = budgets[index];
    if (!axis.closedAt(budget)) {
      const open = budgets.slice(0, index + 1).filter((smaller) => !axis.closedAt(smaller)).length;
      // The smallest budget with every larger one closed (or stopped by the stop rule, whose
      // view of the gap can differ by a hair): the rounds after would only solve it again,
      // from scratch, so it gets all the points' time at once (segnet's floor point had
      // 42.7 s, and the 47 s left were too few for a second solve; a separate solve proves
      // it optimal in 55 s).
      const alone = index === 0 && budgets.every((larger, at) => at === 0 || axis.closedAt(larger) || own[at]?.stoppedEarly === true);
      const share = alone ? Clock.secondsTo(pointsDeadline) : Clock.secondsTo(firstPassDeadline) / Math.max(1, open);
      own[index] = await axis.evaluate(budget, Math.max(MIN_SWEEP_EVALUATION_SECONDS, share / 2 ** misses));
      misses = axis.bestPlanAt(budget) || axis.provenInfeasible(budget) ? 0 : misses + 1;
    }
    reportPoint(index);
  }
  await refine(pointsDeadline);

  // The inverse questions share what is left.
  const plans: Plan[] = [];
  const keep = (plan: Plan): string => {
    plans.push(plan);
    return String(plans.length - 1);
  };
  let maxOverhead: SweepResult['maxOverhead'];
  let smallestFeasible: SweepResult['smallestFeasible'];
  if (options.maxOverhead !== undefined && !hooks.signal.aborted) {
    const deadline = Clock.deadline(clock.left() / (options.smallestFeasible ? 2 : 1));
    const { answer, plan } = await smallestBudgetWithin(axis, options.maxOverhead, deadline);
    maxOverhead = { ...answer, planId: keep(plan) };
    report({ kind: 'point', budgetBytes: answer.budgetBytes, message: `max overhead: ${answer.statement}` });
  }
  if (options.smallestFeasible && !hooks.signal.aborted) {
    const { answer, plan } = await smallestFeasibleBudget(axis, Clock.deadline(clock.left()));
    smallestFeasible = { ...answer, planId: keep(plan) };
    report({ kind: 'point', budgetBytes: answer.foundBytes, message: `smallest feasible: ${answer.statement}` });
  }

  // Time left over from the questions goes to the open points too.
  await refine(Clock.deadline(clock.left()));

  // Every point from everything the axis learned (the inverse searches included).
  const points: SweepPoint[] = budgets.map((budget, index) => {
    const plan = axis.planAt(budget, own[index]);
    const point: SweepPoint = {
      budgetBytes: budget,
      fraction: budget / axis.noRematPeakBytes,
      status: plan.status,
      predicted: plan.predicted,
      bound: plan.bound,
      smallestPeakBytes: plan.smallestPeakBytes,
      seconds: own[index]?.seconds ?? 0,
      message: plan.message,
    };
    if (plan.predicted) point.planId = keep(plan);
    return point;
  });
  const curve = points.map((point) => ({ budgetBytes: point.budgetBytes, makespan: point.predicted?.makespan }));
  const pareto = paretoIndices(curve);
  const result: SweepResult = {
    strategy: strategy.name,
    transfer,
    floorBytes: axis.floorBytes,
    noRematPeakBytes: axis.noRematPeakBytes,
    baseCost: axis.baseCost,
    points,
    pareto,
    knee: kneeIndex(curve, pareto, axis, options.kneeSlope),
    kneeSlope: options.kneeSlope,
    maxOverhead,
    smallestFeasible,
    timeLimitSeconds: options.timeLimitSeconds,
    wallSeconds: clock.elapsed(),
  };
  return { result: assertFinite('sweep', result), plans: plans.map((plan) => assertFinite('plan', plan)) };
}
