// checkmate-milp: Checkmate's exact MILP (Jain et al., MLSys 2020) solved by HiGHS in a
// worker thread within the time limit. Optimal, or the best plan found with its proven
// gap; a time-out with a plan is a result, not an error.
import { runCheckmateMilp, tooLarge } from '../milp/checkmate-solve.js';
import type { Strategy, StrategyContext, StrategyOutcome } from './types.js';

/** Seconds left of the request's time limit (at least a short slice). */
export function secondsLeft(context: StrategyContext, floor = 0.5): number {
  return Math.max(floor, context.timeLimitSeconds - (Date.now() - context.startedAt) / 1000);
}

/** Runs the exact MILP and turns its run into an outcome. */
async function runMilp(context: StrategyContext): Promise<StrategyOutcome> {
  const large = tooLarge(context.graph, context.formulation);
  if (large) return { kind: 'infeasible', message: `checkmate-milp: ${large}; use auto, which falls back to the baselines` };
  const elapsed = () => (Date.now() - context.startedAt) / 1000;
  let bestBound: number | undefined;
  const run = await runCheckmateMilp({
    graph: context.graph,
    budgetBytes: context.budgetBytes,
    variant: context.formulation,
    timeLimitSeconds: secondsLeft(context),
    relativeGap: context.relativeGap,
    signal: context.signal,
    onPlan: (plan) =>
      context.onProgress?.({
        kind: 'incumbent',
        elapsedSeconds: elapsed(),
        makespan: plan.makespan,
        peakBytes: plan.peakBytes,
        strategy: 'checkmate-milp',
        bound: bestBound,
      }),
    onBound: (bound) => {
      bestBound = bound;
      if (!context.transfer) context.onProgress?.({ kind: 'bound', elapsedSeconds: elapsed(), bound, strategy: 'checkmate-milp' });
    },
  });
  // Without a host link a plan's makespan is its compute cost, so the MILP bound bounds it.
  const bound = run.bound !== undefined && !context.transfer ? { makespan: run.bound, source: 'milp' } : undefined;
  const stop = run.solve.stop;
  if (run.best) {
    return {
      kind: 'schedule',
      steps: run.best.steps,
      status: stop === 'optimal' ? 'optimal' : stop === 'timeLimit' ? 'timeLimit' : 'feasible',
      bound,
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
    bound,
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
