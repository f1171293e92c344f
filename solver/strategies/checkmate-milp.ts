// checkmate-milp: Checkmate's exact MILP (Jain et al., MLSys 2020) solved by HiGHS in a
// worker thread within the time limit. Optimal, or the best plan found with its proven
// gap; a time-out with a plan is a result, not an error.
import { runCheckmateMilp, tooLarge } from '../milp/checkmate-solve.js';
import { MIN_SOLVE_SECONDS } from '../limits.js';
import { Incumbent } from './incumbent.js';
import type { Strategy, StrategyContext, StrategyOutcome } from './types.js';

/** Runs the exact MILP and turns its run into an outcome. */
async function runMilp(context: StrategyContext): Promise<StrategyOutcome> {
  const large = tooLarge(context.graph, context.formulation);
  if (large) return { kind: 'infeasible', message: `checkmate-milp: ${large}; use auto, which falls back to the baselines` };
  // Without a host link a plan's makespan is its compute cost, so the MILP bound bounds
  // it; the incumbent takes no remat bound with a link.
  const incumbent = new Incumbent(context);
  const run = await runCheckmateMilp({
    graph: context.graph,
    budgetBytes: context.budgetBytes,
    variant: context.formulation,
    timeLimitSeconds: Math.max(MIN_SOLVE_SECONDS, incumbent.clock.left()),
    relativeGap: context.relativeGap,
    signal: context.signal,
    onPlan: (plan) => incumbent.offer(plan.steps, 'checkmate-milp'),
    onBound: (bound) => incumbent.offerBound(bound, 'milp'),
  });
  if (run.bound !== undefined) incumbent.offerBound(run.bound, 'milp');
  const stop = run.solve.stop;
  if (incumbent.best) {
    return {
      kind: 'schedule',
      steps: incumbent.best.steps,
      status: stop === 'optimal' ? 'optimal' : stop === 'timeLimit' ? 'timeLimit' : 'feasible',
      bound: incumbent.bound,
      solver: run.solver,
      message: `checkmate-milp (${context.formulation}): ${stop}${run.warmStarted ? ', warm-started' : ''}`,
    };
  }
  if (run.infeasible) {
    return {
      kind: 'infeasible',
      solver: run.solver,
      message: `checkmate-milp (${context.formulation}): no plan of Checkmate's class fits the budget (proven by the MILP)`,
    };
  }
  return {
    kind: 'infeasible',
    bound: incumbent.bound,
    solver: run.solver,
    message: `checkmate-milp (${context.formulation}): no plan found (${stop}${run.solve.error ? `: ${run.solve.error}` : ''})`,
  };
}

/** The exact Checkmate MILP. */
export const checkmateMilp: Strategy = {
  name: 'checkmate-milp',
  description: "Checkmate's exact MILP on HiGHS: the cheapest recomputation plan of its class, or the best found with its proven gap",
  options: ['timeLimitSeconds', 'relativeGap', 'formulation'],
  run: runMilp,
};
