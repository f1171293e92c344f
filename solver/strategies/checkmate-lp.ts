// checkmate-lp: the LP relaxation of Checkmate's MILP (a proven lower bound) and its
// deterministic two-phase rounding over a sweep of thresholds; the cheapest rounded plan
// within the budget, with the LP bound and the gap.
import { runCheckmateLp, tooLarge } from '../milp/checkmate-solve.js';
import { MIN_SOLVE_SECONDS } from '../limits.js';
import { Incumbent } from './incumbent.js';
import type { Strategy, StrategyContext, StrategyOutcome } from './types.js';

/** Solves the LP, rounds it and turns the run into an outcome. */
async function runLp(context: StrategyContext): Promise<StrategyOutcome> {
  const large = tooLarge(context.graph, context.formulation);
  if (large) return { kind: 'infeasible', message: `checkmate-lp: ${large}; use auto, which falls back to the baselines` };
  const incumbent = new Incumbent(context);
  const run = await runCheckmateLp({
    graph: context.graph,
    budgetBytes: context.budgetBytes,
    variant: context.formulation,
    timeLimitSeconds: Math.max(MIN_SOLVE_SECONDS, incumbent.clock.left()),
    signal: context.signal,
  });
  if (run.bound !== undefined) incumbent.offerBound(run.bound, 'lp');
  incumbent.notePeak(run.smallestPeakBytes);
  if (run.best) incumbent.offer(run.best.steps, 'checkmate-lp');
  if (incumbent.best) {
    return {
      kind: 'schedule',
      steps: incumbent.best.steps,
      status: 'feasible',
      bound: incumbent.bound,
      solver: run.solver,
      message: `checkmate-lp (${context.formulation}): LP ${run.solve.stop}, rounded`,
    };
  }
  return {
    kind: 'infeasible',
    smallestPeakBytes: incumbent.smallestPeakBytes,
    bound: incumbent.bound,
    solver: run.solver,
    message: run.infeasible
      ? `checkmate-lp (${context.formulation}): the LP relaxation is infeasible: no plan of Checkmate's class fits`
      : `checkmate-lp (${context.formulation}): no rounded plan fits the budget ` +
        `(LP ${run.solve.stop}${run.solve.error ? `: ${run.solve.error}` : ''})`,
  };
}

/** LP relaxation plus two-phase rounding. */
export const checkmateLp: Strategy = {
  name: 'checkmate-lp',
  description: "Checkmate's LP relaxation (a certified lower bound) with deterministic two-phase rounding",
  options: ['timeLimitSeconds', 'formulation'],
  run: runLp,
};
