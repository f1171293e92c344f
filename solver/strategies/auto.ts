// auto: the portfolio. Runs the fast baselines, keeps the best valid plan, and (once the
// optimizers are registered) improves on it within the time limit.
import { simulateIndexed } from '../schedule/simulate.js';
import { BASELINES } from './baselines.js';
import type { Strategy, StrategyContext, StrategyOutcome } from './types.js';

/** Runs each strategy, replays its schedule, and keeps the cheapest within the budget. */
export async function bestOf(context: StrategyContext, strategies: readonly Strategy[]): Promise<StrategyOutcome & { from?: string }> {
  let best: { outcome: StrategyOutcome & { kind: 'schedule' }; makespan: number; from: string } | null = null;
  let smallestPeak = Infinity;
  for (const strategy of strategies) {
    if (context.signal?.aborted) break;
    if (strategy.usesTransfer && !context.transfer) continue;
    const outcome = await strategy.run(context);
    if (outcome.kind === 'infeasible') {
      if (outcome.smallestPeakBytes !== undefined) smallestPeak = Math.min(smallestPeak, outcome.smallestPeakBytes);
      continue;
    }
    const replay = simulateIndexed(context.graph, outcome.steps, { transfer: context.transfer });
    if (!replay.ok) continue;
    smallestPeak = Math.min(smallestPeak, replay.figures.peakBytes);
    if (replay.figures.peakBytes > context.budgetBytes) continue;
    if (!best || replay.figures.makespan < best.makespan) {
      best = { outcome, makespan: replay.figures.makespan, from: strategy.name };
      context.onProgress?.({
        kind: 'incumbent',
        elapsedSeconds: (Date.now() - context.startedAt) / 1000,
        makespan: replay.figures.makespan,
        peakBytes: replay.figures.peakBytes,
        strategy: strategy.name,
      });
    }
  }
  if (best) return { ...best.outcome, from: best.from, message: `best of the portfolio: ${best.from}` };
  return {
    kind: 'infeasible',
    smallestPeakBytes: Number.isFinite(smallestPeak) ? smallestPeak : undefined,
    message: 'no strategy of the portfolio fits the budget',
  };
}

export const auto: Strategy = {
  name: 'auto',
  description: 'Portfolio: every baseline, then the optimizers within the time limit; the best valid plan and the best bound',
  options: ['timeLimitSeconds', 'relativeGap', 'transfer'],
  run: (context) => bestOf(context, BASELINES),
};
