// The scale strategies: greedy-remat (the next-need greedy scheduler with a local search,
// deterministic and fast) and local-search (the baselines' plans and the greedy's, each
// improved, then randomized restarts until its share of the time limit). Both are
// remat-only: with a host link they still plan without swaps, which is valid.
import { simulateIndexed } from '../schedule/simulate.js';
import { BASELINES } from '../strategies/baselines.js';
import type { Strategy, StrategyContext, StrategyOutcome } from '../strategies/types.js';
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
  const result = scaleSearch(context.graph, context.budgetBytes, {
    deadline: Date.now() + Math.max(0, seconds) * 1000,
    starts,
    restarts,
    signal: context.signal,
  });
  if (!result.found) {
    return {
      kind: 'infeasible',
      smallestPeakBytes: Number.isFinite(result.smallestPeak) ? result.smallestPeak : undefined,
      message: `scale search: no plan within the budget (${result.tried} candidates)`,
    };
  }
  return { kind: 'schedule', steps: result.steps, message: `best of ${result.tried} candidates: ${result.from}` };
}

export const greedyRemat: Strategy = {
  name: 'greedy-remat',
  description:
    'Offline greedy remat for any DAG: evict the value with the least recompute cost per byte and distance to its next need, then remove recomputations that still fit (local search)',
  options: [],
  run(context) {
    return scaleImprove(context, [], 0, false);
  },
};

export const localSearch: Strategy = {
  name: 'local-search',
  description:
    'The baselines and greedy-remat, each improved by a local search that removes recomputations while the simulator says the plan fits, then randomized restarts within the time limit (at most 10 s)',
  options: ['timeLimitSeconds'],
  async run(context) {
    const starts = await baselineStarts(context);
    const elapsed = (Date.now() - context.startedAt) / 1000;
    const seconds = Math.min(LOCAL_SEARCH_SECONDS, context.timeLimitSeconds) - elapsed;
    return scaleImprove(context, starts, seconds);
  },
};
