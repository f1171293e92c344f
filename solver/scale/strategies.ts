// The scale strategies: greedy-remat (the next-need greedy scheduler with a local search,
// about a second) and local-search (the baselines' plans and the greedy's, each improved,
// then randomized restarts until its share of the time limit). Both report the
// recomputation bound of bound.ts. The auto portfolio runs the same search
// (portfolio.ts's scaleImprove) between its phases.
// The first two are remat-only: with a host link they still plan without swaps, which is valid.
import type { Strategy } from '../strategies/types.js';
import { LOCAL_SEARCH_SECONDS, baselineStarts, scaleImprove } from './portfolio.js';

export const greedyRemat: Strategy = {
  name: 'greedy-remat',
  description:
    'Offline greedy remat for any DAG: evict the value with the least recompute cost per byte and distance to its next need, then remove recomputations that still fit (local search)',
  options: [],
  run(context) {
    return scaleImprove(context, [], Math.min(1, context.timeLimitSeconds), false);
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
