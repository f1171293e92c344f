// Picking the best of several candidate schedules: each is replayed in the simulator and
// the cheapest one within the budget wins; when none fits, the smallest peak is reported.
import { simulateIndexed, type IndexedStep } from '../schedule/simulate.js';
import type { StrategyContext, StrategyOutcome } from './types.js';

/** Tracks the best candidate of a sweep. */
export class CandidatePicker {
  private best: { steps: IndexedStep[]; makespan: number; peak: number } | null = null;
  private smallestPeak = Infinity;
  private tried = 0;
  private gaveUp = 0;
  private gaveUpRun = 0;

  constructor(private readonly context: StrategyContext) {}

  /** Replays a candidate; returns its peak. A null candidate (a generator gave up) counts as tried. */
  offer(steps: IndexedStep[] | null): number {
    if (steps === null) {
      this.tried++;
      this.gaveUp++;
      this.gaveUpRun++;
      return Infinity;
    }
    this.gaveUpRun = 0;
    const replay = simulateIndexed(this.context.graph, steps, { transfer: this.context.transfer });
    this.tried++;
    if (!replay.ok) throw new Error(`candidate schedule is illegal: ${replay.error.message}`);
    const { peakBytes, makespan } = replay.figures;
    if (peakBytes < this.smallestPeak) this.smallestPeak = peakBytes;
    if (peakBytes <= this.context.budgetBytes) {
      const better = !this.best || makespan < this.best.makespan || (makespan === this.best.makespan && peakBytes < this.best.peak);
      if (better) this.best = { steps, makespan, peak: peakBytes };
    }
    return peakBytes;
  }

  /** How many candidates in a row were given up (null); a sweep heading into thrashing stops on it. */
  get givenUpInARow(): number {
    return this.gaveUpRun;
  }

  /** True once some candidate fits the budget. */
  get found(): boolean {
    return this.best !== null;
  }

  /** The outcome of the sweep. */
  outcome(what: string): StrategyOutcome {
    if (this.best) return { kind: 'schedule', steps: this.best.steps, message: `${this.tried} candidates tried` };
    return {
      kind: 'infeasible',
      smallestPeakBytes: Number.isFinite(this.smallestPeak) ? this.smallestPeak : undefined,
      message: `${what}: no candidate within the budget (${this.tried} tried${this.gaveUp ? `, ${this.gaveUp} given up as too long` : ''})`,
    };
  }
}
