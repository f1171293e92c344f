// The scale strategies: greedy-remat (the next-need greedy scheduler with a local search,
// about a second) and local-search (the baselines' plans and the greedy's, each improved,
// then randomized restarts until its share of the time limit). Both report the
// recomputation bound of scale/bound.ts. auto runs the same search (scaleImprove) between
// its phases. Both are remat-only: with a host link they still plan without swaps, which
// is valid.
import { GREEDY_REMAT_SECONDS, LOCAL_SEARCH_SECONDS, MAX_SEARCH_STOP_GAP, MILP_MAX_NODES } from '../limits.js';
import { optionsRelaxation } from '../bounds/relaxation.js';
import { recomputeBound } from '../scale/bound.js';
import { type ScaleSearchOptions, scaleSearch, type SearchStart } from '../scale/multistart.js';
import { stepsToSequence } from '../scale/sequence.js';
import { hasSwaps } from '../schedule/simulate.js';
import { BASELINES } from './baselines.js';
import { Incumbent } from './incumbent.js';
import type { Strategy, StrategyContext, StrategyOutcome } from './types.js';

/** What scaleImprove's search does beyond improving its starts: the scale search's options of those names, passed through. */
export type ScaleImproveOptions = Pick<ScaleSearchOptions, 'restarts' | 'prefer' | 'round' | 'repairDescent' | 'onDescended' | 'ruinFirst'>;

/**
 * Improves the given plans and searches further until `seconds` from now (the scale
 * search of scale/multistart.ts); auto calls this with its incumbents. Returns a schedule
 * outcome or infeasible, with the recomputation bound without a host link.
 */
export async function scaleImprove(
  context: StrategyContext,
  starts: readonly SearchStart[],
  seconds: number,
  search: ScaleImproveOptions = {},
): Promise<StrategyOutcome> {
  const restarts = search.restarts ?? true;
  // Stopped already (a cancel, the time limit): no time for the bound; the plans found are kept.
  const proof = context.signal?.aborted ? undefined : rematBound(context);
  if (proof?.infeasible) {
    return {
      kind: 'infeasible',
      proven: true,
      message: 'no remat plan fits: the recomputation bound (solver/scale/bound.ts) proves the budget too small',
    };
  }
  const result = await scaleSearch(context.graph, context.budgetBytes, {
    ...search,
    deadline: Date.now() + Math.max(0, seconds) * 1000,
    starts,
    restarts,
    // Above the MILP's size limit nothing follows that would use the time better.
    climb: restarts && context.graph.size > MILP_MAX_NODES,
    // A sweep's plans of larger budgets (remat plans only: a swap plan is no sequence).
    hints: context.hints?.filter((steps) => !hasSwaps(steps)).map((steps) => stepsToSequence(steps)),
    signal: context.signal,
    stopAt: proof ? proof.makespan / (1 - Math.min(context.relativeGap, MAX_SEARCH_STOP_GAP)) : undefined,
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

/** The recomputation bound of scale/bound.ts without a host link (swaps escape its argument), on the options relaxation of a graph with options. */
export function rematBound(context: StrategyContext): { makespan: number; infeasible: boolean } | undefined {
  if (context.transfer) return undefined;
  const bound = recomputeBound(optionsRelaxation(context.graph, context.budgetBytes), context.budgetBytes);
  return { makespan: bound.makespan, infeasible: bound.infeasible };
}

export const greedyRemat: Strategy = {
  name: 'greedy-remat',
  description:
    'Offline greedy remat for any DAG: evict the value with the least recompute cost per byte and distance to its next need, then ' +
    'remove recomputations that still fit (local search)',
  options: [],
  run(context) {
    return scaleImprove(context, [], Math.min(GREEDY_REMAT_SECONDS, context.timeLimitSeconds), { restarts: false });
  },
};

export const localSearch: Strategy = {
  name: 'local-search',
  description:
    'The baselines and greedy-remat, each improved by a local search that removes recomputations while the simulator says the plan ' +
    'fits (where none fits, the repair descent from the no-remat plan), then randomized restarts within the time limit (at most 10 s)',
  options: ['timeLimitSeconds'],
  async run(context) {
    // The baselines' plans that fit are the search's starting points, in their order.
    const incumbent = new Incumbent(context, { progress: false });
    const starts = await incumbent.runEach(BASELINES);
    const seconds = Math.min(LOCAL_SEARCH_SECONDS, context.timeLimitSeconds) - incumbent.clock.elapsed();
    return scaleImprove(context, starts, seconds, { repairDescent: true });
  },
};
