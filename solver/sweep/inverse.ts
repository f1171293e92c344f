// The inverse questions on a budget axis, each a bracketing search with a statement at
// both ends:
// - the smallest budget B whose plan stays within an overhead cap: B is the peak of the
//   smallest plan found within the cap, and for B minus the resolution (1 % of the no-remat
//   peak) the answer is a proof that no plan within the cap exists there (the floor, a
//   proof of infeasibility, or a bound over every schedule above the cap) or the plain
//   statement that none was found;
// - the smallest feasible budget: the proven floor (nothing fits below it) and the smallest
//   budget with a plan found (that plan's peak).
// Both bisect between what is proven and what is found. An evaluation that neither finds
// what is asked nor proves it impossible moves the search, not the proof: the bracket then
// says "none found" on that side. Evaluations stop as soon as they answer their question.
import { INVERSE_RESOLUTION } from '../limits.js';
import { boundScope, type Plan } from '../plan-schema.js';
import { Clock } from '../util/clock.js';
import type { AxisPlan, BudgetAxis } from './axis.js';
import type { FeasibleAnswer, OverheadAnswer } from './schema.js';

/** An answer with the Plan at its budget (the caller stores it and sets planId). */
export interface Answered<T> {
  answer: T;
  plan: Plan;
}

/** How many evaluations a bisection of `width` bytes at `resolution` takes, with one more for the end statement. */
function stepsFor(width: number, resolution: number): number {
  return Math.max(1, Math.ceil(Math.log2(Math.max(2, width / resolution)))) + 1;
}

function percentOf(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)} %`;
}

/** A makespan as its overhead over baseCost, "5.125 %". */
function overOf(makespan: number, axis: BudgetAxis): string {
  return `${(100 * (makespan / axis.baseCost - 1)).toFixed(3)} %`;
}

/** The search resolution in bytes: INVERSE_RESOLUTION of the no-remat peak, at least one byte. */
export function resolutionBytes(axis: BudgetAxis): number {
  return Math.max(1, Math.ceil(INVERSE_RESOLUTION * axis.noRematPeakBytes));
}

/**
 * The smallest budget whose plan stays within `cap` (makespan / baseCost <= 1 + cap),
 * searched until `deadline` (a Date.now() value); see the module comment.
 */
export async function smallestBudgetWithin(axis: BudgetAxis, cap: number, deadline: number): Promise<Answered<OverheadAnswer>> {
  const started = Date.now();
  const evaluationsBefore = axis.evaluations.length;
  const limit = axis.baseCost * (1 + cap);
  const within = (makespan: number) => makespan / axis.baseCost <= 1 + cap;
  const resolution = resolutionBytes(axis);
  const proves = (budget: number) => axis.provenInfeasible(budget) || !within(axis.allSchedulesBound(budget).makespan);
  // Budgets searched without a plan within the cap and without a proof.
  const noneFound: number[] = [];
  const answerPlan = (): AxisPlan => axis.smallestPlan(limit)!;
  for (;;) {
    if (axis.settings.signal?.aborted) break;
    const high = answerPlan().peakBytes;
    const target = high - resolution;
    if (proves(target)) break;
    const searched = noneFound.filter((budget) => budget < high);
    // The final statement is about the target itself: search there once the bracket is closed.
    const lowSearch = Math.max(axis.floorBytes - 1, largestProven(axis, proves, high), ...searched);
    const probe = high - lowSearch <= resolution ? target : Math.floor((lowSearch + high) / 2);
    if (probe === target && searched.includes(target)) break;
    const left = Clock.secondsTo(deadline);
    if (left <= 0) break;
    const seconds = left / stepsFor(high - lowSearch, resolution);
    const evaluation = await axis.evaluate(probe, seconds, (state) => within(state.incumbent) || !within(state.bound));
    if (!(evaluation.found && within(evaluation.found.makespan)) && !proves(probe)) noneFound.push(probe);
  }
  const best = answerPlan();
  const budgetBytes = best.peakBytes;
  const plan = axis.planAt(budgetBytes);
  const target = budgetBytes - resolution;
  const capText = `${(100 * cap).toFixed(3).replace(/\.?0+$/, '')} %`;
  const below = describeBelow(axis, target, within, noneFound, capText);
  const provenBelow = largestProven(axis, proves, budgetBytes);
  const answer: OverheadAnswer = {
    maxOverhead: cap,
    budgetBytes,
    fraction: budgetBytes / axis.noRematPeakBytes,
    predicted: plan.predicted!,
    bound: plan.bound,
    below,
    provenBelowBytes: provenBelow >= axis.floorBytes ? provenBelow : axis.floorBytes - 1,
    evaluations: axis.evaluations.length - evaluationsBefore,
    seconds: (Date.now() - started) / 1000,
    statement:
      `the smallest budget found with a plan within ${capText} of baseCost is ${budgetBytes} bytes ` +
      `(${percentOf(budgetBytes, axis.noRematPeakBytes)} of the no-remat peak; overhead ${overOf(plan.predicted!.makespan, axis)}); ` +
      below.statement,
  };
  return { answer, plan };
}

/** The largest budget below `under` where `proves` holds (the floor minus one at least). */
function largestProven(axis: BudgetAxis, proves: (budget: number) => boolean, under: number): number {
  let largest = axis.floorBytes - 1;
  for (const evaluation of axis.evaluations) {
    if (evaluation.budgetBytes < under && evaluation.budgetBytes > largest && proves(evaluation.budgetBytes))
      largest = evaluation.budgetBytes;
  }
  return largest;
}

/** The statement about `target`, the budget just below the answer. */
function describeBelow(
  axis: BudgetAxis,
  target: number,
  within: (makespan: number) => boolean,
  noneFound: readonly number[],
  capText: string,
): OverheadAnswer['below'] {
  const fraction = target / axis.noRematPeakBytes;
  const at = `${target} bytes (${percentOf(target, axis.noRematPeakBytes)})`;
  if (target < axis.floorBytes) {
    return {
      budgetBytes: target,
      fraction,
      proven: true,
      reason: 'below-floor',
      statement: `${at} is below the proven floor ${axis.floorBytes}: no plan fits there`,
    };
  }
  if (axis.provenInfeasible(target)) {
    return { budgetBytes: target, fraction, proven: true, reason: 'infeasible', statement: `at ${at} no plan fits (proven)` };
  }
  const best = axis.bestPlanAt(target);
  const bound = axis.boundAt(target, best?.makespan);
  const allBound = axis.allSchedulesBound(target);
  const gap = best && best.makespan > 0 ? Math.max(0, (best.makespan - bound.makespan) / best.makespan) : undefined;
  const common = {
    budgetBytes: target,
    fraction,
    bound: { makespan: bound.makespan, gap: gap ?? 0, source: bound.source, scope: boundScope(bound.source) },
    boundOverheadRatio: bound.makespan / axis.baseCost,
    bestOverheadRatio: best ? best.makespan / axis.baseCost : undefined,
  };
  if (!within(allBound.makespan)) {
    return {
      ...common,
      bound: { makespan: allBound.makespan, gap: gap ?? 0, source: allBound.source, scope: 'all-schedules' },
      boundOverheadRatio: allBound.makespan / axis.baseCost,
      proven: true,
      reason: 'bound',
      statement:
        `at ${at} no plan within ${capText} exists: every schedule takes at least ${overOf(allBound.makespan, axis)} over baseCost ` +
        `(${allBound.source} bound)`,
    };
  }
  const searched = noneFound.some((budget) => budget >= target) || axis.evaluations.some((evaluation) => evaluation.budgetBytes >= target);
  const classNote =
    !within(bound.makespan) && bound.source !== allBound.source
      ? ` (no plan of Checkmate's class is within it: its ${bound.source} bound is ${overOf(bound.makespan, axis)} over)`
      : '';
  const bestNote = best
    ? `; the best plan found there is ${(100 * (best.makespan / axis.baseCost - 1)).toFixed(3)} % over`
    : '; no plan fitting it was found';
  return {
    ...common,
    proven: false,
    reason: 'none-found',
    statement:
      `at ${at} no plan within ${capText} was found${searched ? '' : ' (the time ran out before a search there)'}, and none is ` +
      `proven impossible: the best bound over every schedule is ${overOf(allBound.makespan, axis)} over baseCost${classNote}${bestNote}`,
  };
}

/**
 * The smallest feasible budget, bracketed: the proven floor and the smallest plan found,
 * searched until `deadline`; see the module comment.
 */
export async function smallestFeasibleBudget(axis: BudgetAxis, deadline: number): Promise<Answered<FeasibleAnswer>> {
  const started = Date.now();
  const evaluationsBefore = axis.evaluations.length;
  const resolution = resolutionBytes(axis);
  const noneFound: number[] = [];
  let hint: number | undefined;
  for (;;) {
    if (axis.settings.signal?.aborted) break;
    const floor = axis.provenFloor();
    const high = axis.smallestPlan()!.peakBytes;
    if (high <= floor) break;
    const lowSearch = Math.max(floor - 1, ...noneFound.filter((budget) => budget < high));
    const floorTried = axis.evaluations.some((evaluation) => evaluation.budgetBytes === floor);
    if (high - lowSearch <= resolution && floorTried) break;
    // The floor first (a plan there closes the bracket); then a strategy's smallest peak, or the middle.
    let probe: number;
    if (!floorTried) probe = floor;
    else if (hint !== undefined && hint > lowSearch && hint < high) probe = hint;
    else probe = Math.floor((lowSearch + high) / 2);
    hint = undefined;
    if (probe <= lowSearch || probe >= high) break;
    const left = Clock.secondsTo(deadline);
    if (left <= 0) break;
    const seconds = left / stepsFor(high - lowSearch, resolution);
    const evaluation = await axis.evaluate(probe, seconds, (state) => state.incumbent < Infinity);
    if (!evaluation.found && !axis.provenInfeasible(probe)) {
      noneFound.push(probe);
      hint = evaluation.smallestPeakBytes;
    }
  }
  const found = axis.smallestPlan()!;
  const floor = axis.provenFloor();
  const plan = axis.planAt(found.peakBytes);
  const tight = found.peakBytes <= floor;
  const peak = axis.noRematPeakBytes;
  const answer: FeasibleAnswer = {
    provenFloorBytes: Math.min(floor, found.peakBytes),
    foundBytes: found.peakBytes,
    fraction: found.peakBytes / peak,
    tight,
    predicted: plan.predicted!,
    evaluations: axis.evaluations.length - evaluationsBefore,
    seconds: (Date.now() - started) / 1000,
    statement: tight
      ? `the smallest feasible budget is ${found.peakBytes} bytes (${percentOf(found.peakBytes, peak)} of the no-remat peak): ` +
        'a plan fits there and nothing fits below (proven)'
      : `the smallest feasible budget is between ${floor} bytes (${percentOf(floor, peak)}, proven: nothing fits below) ` +
        `and ${found.peakBytes} bytes (${percentOf(found.peakBytes, peak)}, the smallest plan found)`,
  };
  return { answer, plan };
}
