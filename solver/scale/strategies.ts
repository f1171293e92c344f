// The scale strategies: greedy-remat (the next-need greedy scheduler with a local search,
// about a second), local-search (the baselines' plans and the greedy's, each improved,
// then randomized restarts until its share of the time limit) and auto-scale (local
// search around the auto portfolio). All report the recomputation bound of bound.ts.
// The first two are remat-only: with a host link they still plan without swaps, which is valid.
import { simulateIndexed } from '../schedule/simulate.js';
import { auto } from '../strategies/auto.js';
import type { Strategy, StrategyOutcome } from '../strategies/types.js';
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

/** Seconds auto-scale takes off auto's limit so the whole answer stays within its own. */
export const AUTO_SCALE_MARGIN_SECONDS = 4;

/** Share of the time limit auto-scale gives the local search before the portfolio runs. */
export const AUTO_SCALE_SEARCH_SHARE = 0.2;

/**
 * auto-scale: local-search first (a fifth of the time limit, at most 10 s), then the auto
 * portfolio with the time left, then more local search from the best plan if time is
 * left (auto returns early on graphs its solvers cannot take); the best plan and the best
 * of auto's bound and the recomputation bound (each holds for every plan within the
 * budget). This composes the two without touching auto; wiring scaleImprove into auto
 * itself also warm-starts the MILP from the local search's plan.
 */
export const autoScale: Strategy = {
  name: 'auto-scale',
  description:
    'local-search for a fifth of the time limit (at most 10 s), then the auto portfolio, then local search again with any time left; the best plan and the best proven bound',
  options: ['timeLimitSeconds', 'relativeGap', 'formulation'],
  async run(context) {
    const starts = await baselineStarts(context);
    const seconds = Math.min(LOCAL_SEARCH_SECONDS, AUTO_SCALE_SEARCH_SHARE * context.timeLimitSeconds) - (Date.now() - context.startedAt) / 1000;
    const local = scaleImprove(context, starts, seconds);
    if (local.kind === 'infeasible' && local.proven) return local;
    if (local.kind === 'schedule' && local.bound) {
      // Proven within the gap asked for: the portfolio cannot do better enough to matter.
      const replay = simulateIndexed(context.graph, local.steps);
      if (replay.ok && replay.figures.makespan > 0 && (replay.figures.makespan - local.bound.makespan) / replay.figures.makespan <= context.relativeGap) {
        return { ...local, status: 'optimal' };
      }
    }
    let localMakespan = Infinity;
    if (local.kind === 'schedule') {
      const replay = simulateIndexed(context.graph, local.steps, { transfer: context.transfer });
      if (replay.ok && replay.figures.peakBytes <= context.budgetBytes) {
        localMakespan = replay.figures.makespan;
        context.onProgress?.({
          kind: 'incumbent',
          elapsedSeconds: (Date.now() - context.startedAt) / 1000,
          makespan: localMakespan,
          peakBytes: replay.figures.peakBytes,
          strategy: 'local-search',
        });
      }
    }
    // auto measures its time from context.startedAt, so it gets what is left, less a margin
    // for its solver workers to stop (measured overshoots of 1-5 s on this loaded machine).
    const margin = Math.min(AUTO_SCALE_MARGIN_SECONDS, 0.1 * context.timeLimitSeconds);
    const portfolio = await auto.run({ ...context, timeLimitSeconds: context.timeLimitSeconds - margin });
    let portfolioMakespan = Infinity;
    if (portfolio.kind === 'schedule') {
      const replay = simulateIndexed(context.graph, portfolio.steps, { transfer: context.transfer });
      if (replay.ok && replay.figures.peakBytes <= context.budgetBytes) portfolioMakespan = replay.figures.makespan;
    }
    // The better of the two bounds holds for every plan within the budget.
    let bound = portfolio.bound;
    const mine = local.bound;
    if (mine && (!bound || mine.makespan > bound.makespan)) bound = mine;
    let winner: StrategyOutcome = portfolio;
    let winnerMakespan = portfolioMakespan;
    if (local.kind === 'schedule' && localMakespan < portfolioMakespan) {
      winner = local;
      winnerMakespan = localMakespan;
    }
    // On graphs the solvers cannot take, the portfolio returns early: the time left goes to
    // more local search from the best plan so far.
    const left = context.timeLimitSeconds - (Date.now() - context.startedAt) / 1000;
    const closedAlready = bound !== undefined && winnerMakespan > 0 && (winnerMakespan - bound.makespan) / winnerMakespan <= context.relativeGap;
    if (winner.kind === 'schedule' && left > 1 && !closedAlready && !context.signal?.aborted) {
      const more = scaleImprove(context, [{ steps: winner.steps, from: 'best so far' }], left - Math.min(1.5, 0.05 * context.timeLimitSeconds));
      if (more.kind === 'schedule') {
        const replay = simulateIndexed(context.graph, more.steps, { transfer: context.transfer });
        if (replay.ok && replay.figures.peakBytes <= context.budgetBytes && replay.figures.makespan < winnerMakespan) {
          winner = { ...more, status: portfolio.kind === 'schedule' ? portfolio.status : 'feasible' };
          winnerMakespan = replay.figures.makespan;
          localMakespan = winnerMakespan;
        }
      }
    }
    // Checkmate's LP and MILP bound the listed order's frontier-advancing class only; a plan
    // outside that class can beat them (random_layered_n100 at 90 %: a reordered plan at
    // baseCost against an LP bound 0.3 % above it). Such a bound is dropped, never reported.
    const best = Math.min(winnerMakespan, localMakespan, portfolioMakespan);
    if (bound && best < bound.makespan) bound = mine && mine.makespan <= best ? mine : undefined;
    if (winner === portfolio) {
      if (portfolio.kind !== 'schedule') return portfolio;
      const gapOfPortfolio = bound ? Math.max(0, (portfolioMakespan - bound.makespan) / portfolioMakespan) : undefined;
      const closed = gapOfPortfolio !== undefined && gapOfPortfolio <= context.relativeGap;
      return { ...portfolio, bound, status: closed ? 'optimal' : portfolio.status };
    }
    if (winner.kind !== 'schedule') return portfolio;
    const gap = bound ? Math.max(0, (localMakespan - bound.makespan) / localMakespan) : undefined;
    const status = gap !== undefined && gap <= context.relativeGap ? 'optimal' : portfolio.kind === 'schedule' && portfolio.status === 'timeLimit' ? 'timeLimit' : 'feasible';
    return {
      kind: 'schedule',
      steps: winner.steps,
      status,
      bound,
      solver: portfolio.solver,
      message: `auto-scale: ${winner.message}; ${portfolio.message}`,
    };
  },
};
