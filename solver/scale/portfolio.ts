// The scale search as the portfolio uses it: the recomputation bound, the baselines' plans
// as starting points, and scaleImprove (search and local search within a time share). The
// auto portfolio can import this file without an import cycle (strategies.ts imports auto).
import { simulateIndexed } from '../schedule/simulate.js';
import { BASELINES } from '../strategies/baselines.js';
import type { StrategyContext, StrategyOutcome } from '../strategies/types.js';
import { recomputeBound } from './bound.js';
import { scaleSearch, type SearchStart } from './search.js';

/** Seconds local-search spends on restarts at most, whatever the time limit. */
export const LOCAL_SEARCH_SECONDS = 10;

/** Runs the baselines and returns their plans that replay legally, as search starts. */
export async function baselineStarts(context: StrategyContext): Promise<SearchStart[]> {
  const starts: SearchStart[] = [];
  for (const strategy of BASELINES) {
    if (context.signal?.aborted) break;
    const outcome = await strategy.run(context);
    if (outcome.kind !== 'schedule') continue;
    const replay = simulateIndexed(context.graph, outcome.steps);
    if (replay.ok && replay.figures.peakBytes <= context.budgetBytes) starts.push({ steps: outcome.steps, from: strategy.name });
  }
  return starts;
}

/**
 * Improves the given plans and searches further until `seconds` from now; the auto
 * portfolio calls this with its incumbents. Returns a schedule outcome or infeasible.
 */
export function scaleImprove(context: StrategyContext, starts: readonly SearchStart[], seconds: number, restarts = true): StrategyOutcome {
  const proof = rematBound(context);
  if (proof?.infeasible) {
    return {
      kind: 'infeasible',
      proven: true,
      message: 'no remat plan fits: the recomputation bound (solver/scale/bound.ts) proves the budget too small',
    };
  }
  const result = scaleSearch(context.graph, context.budgetBytes, {
    deadline: Date.now() + Math.max(0, seconds) * 1000,
    starts,
    restarts,
    signal: context.signal,
    stopAt: proof ? proof.makespan / (1 - Math.min(context.relativeGap, 0.5)) : undefined,
  });
  if (!result.found) {
    return {
      kind: 'infeasible',
      smallestPeakBytes: Number.isFinite(result.smallestPeak) ? result.smallestPeak : undefined,
      bound: proof ? { makespan: proof.makespan, source: 'recompute-bound' } : undefined,
      message: `scale search: no plan within the budget (${result.tried} candidates)`,
    };
  }
  return {
    kind: 'schedule',
    steps: result.steps,
    bound: proof ? { makespan: proof.makespan, source: 'recompute-bound' } : undefined,
    message: `best of ${result.tried} candidates: ${result.from}`,
  };
}

/** The recomputation bound of bound.ts, only without a host link (swaps escape its argument). */
export function rematBound(context: StrategyContext): { makespan: number; infeasible: boolean } | undefined {
  if (context.transfer) return undefined;
  const bound = recomputeBound(context.graph, context.budgetBytes);
  return { makespan: bound.makespan, infeasible: bound.infeasible };
}
