// The incumbent: the one place where a strategy keeps the best of what it has found. Each
// candidate schedule is replayed once by the simulator; the incumbent keeps the fastest
// that fits the budget, the fastest whose first computations follow the listed order
// (the exact MILP's warm start, since Checkmate's class follows that order), the smallest
// peak of any candidate, and the best proven bound, and reports every improvement through
// the context's onProgress. A bound's source is a key of BOUND_SOURCES (plan-schema.ts),
// whose table says which schedules it covers.
import { roundBoundUp } from '../bounds/integral.js';
import { BOUND_HOLDS_WITH_SWAPS, boundHolds, boundScope, type BoundSource, type ProvenBound } from '../plan-schema.js';
import { inListedOrder } from '../schedule/reorder.js';
import { fastestImplementations } from '../schedule/implementations.js';
import { type IndexedStep, simulateIndexed } from '../schedule/simulate.js';
import { Clock } from '../util/clock.js';
import type { Strategy, StrategyContext, StrategyOutcome } from './types.js';

/** A replayed candidate: its figures (with the request's link) and where it came from. */
export interface Candidate {
  steps: IndexedStep[];
  makespan: number;
  peakBytes: number;
  from: string;
}

export interface IncumbentOptions {
  /** Progress events name the candidate's source after this label, as "label (source)"; default the source alone. */
  label?: string;
  /** At equal makespans keep the first plan (default) or the one with the lower peak (the baselines' sweeps). */
  ties?: 'first' | 'lower-peak';
  /** Report improvements through the context's onProgress (default true); a baseline's sweep stays quiet. */
  progress?: boolean;
  /**
   * On a graph with alternatives, keep each candidate at the fastest implementations that
   * fit where each computation runs (schedule/implementations.ts): auto's; a baseline plans
   * the implementations it names (default false).
   */
  rechoose?: boolean;
}

/** The best plan, bound and smallest peak of one strategy's run; see the module comment. */
export class Incumbent {
  /** The fastest candidate within the budget. */
  best: Candidate | null = null;
  /** The fastest candidate within the budget whose first computations follow the listed order. */
  inOrder: Candidate | null = null;
  /** The smallest peak of any candidate, fitting or not (residentBytes included). */
  smallestPeak = Infinity;
  /** The best proven bound that holds for the best plan. */
  bound: ProvenBound | undefined;
  /** Candidates replayed or given up. */
  tried = 0;
  /** Candidates a generator gave up on (too long). */
  givenUp = 0;
  /** Candidates given up in a row; a sweep heading into thrashing stops on it. */
  givenUpInARow = 0;
  readonly clock: Clock;
  /** The best bound of every schedule: what is left when a plan beats a bound of Checkmate's class. */
  private allSchedulesBound: ProvenBound | undefined;
  private readonly options: IncumbentOptions;

  constructor(
    readonly context: StrategyContext,
    options: IncumbentOptions = {},
  ) {
    this.options = options;
    this.clock = Clock.of(context);
  }

  /** Replays a candidate and keeps it when it is the best so far; throws on an illegal schedule (a bug in its generator). */
  offer(offered: IndexedStep[], from: string): Candidate & { fits: boolean } {
    this.tried++;
    this.givenUpInARow = 0;
    const { graph, transfer, budgetBytes } = this.context;
    let steps = offered;
    // Each computation at the cheapest implementation that fits where it runs: never
    // slower, and it may make the plan fit. It reads the timeline of this replay.
    const rechoose = this.options.rechoose === true && graph.hasOptions;
    let replay = simulateIndexed(graph, steps, { transfer, timeline: rechoose });
    if (!replay.ok) throw new Error(`${from}: candidate schedule is illegal: ${replay.error.message}`);
    const rechosen = rechoose ? fastestImplementations(graph, steps, budgetBytes, transfer, replay.timeline) : undefined;
    if (rechosen) {
      const again = simulateIndexed(graph, rechosen, { transfer });
      const fitsBefore = replay.figures.peakBytes <= budgetBytes;
      if (
        again.ok &&
        (again.figures.peakBytes <= budgetBytes || !fitsBefore) &&
        (!fitsBefore || again.figures.makespan <= replay.figures.makespan)
      ) {
        steps = rechosen;
        replay = again;
      }
    }
    const candidate = { steps, makespan: replay.figures.makespan, peakBytes: replay.figures.peakBytes, from };
    this.notePeak(candidate.peakBytes);
    const fits = candidate.peakBytes <= this.context.budgetBytes;
    if (fits) this.keep(candidate);
    return { ...candidate, fits };
  }

  /** Counts a candidate its generator gave up on (it grew too long) as tried. */
  giveUp(): void {
    this.tried++;
    this.givenUp++;
    this.givenUpInARow++;
  }

  /** Folds in a peak reached elsewhere (a strategy's or a rounding's smallest peak). */
  notePeak(peakBytes: number | undefined): void {
    if (peakBytes !== undefined && peakBytes < this.smallestPeak) this.smallestPeak = peakBytes;
  }

  /** The smallest peak reached, or undefined when no candidate was replayed. */
  get smallestPeakBytes(): number | undefined {
    return Number.isFinite(this.smallestPeak) ? this.smallestPeak : undefined;
  }

  /**
   * Takes a proven lower bound on the makespan. With a host link only the sources that hold
   * with swaps are taken (BOUND_HOLDS_WITH_SWAPS; finalizePlan applies baseCost anyway); on a
   * graph with node options only the sources that model them are (boundHolds).
   */
  offerBound(makespan: number, source: BoundSource): void {
    if (this.context.transfer && !BOUND_HOLDS_WITH_SWAPS[source]) return;
    if (!boundHolds(source, this.context.graph.hasOptions)) return;
    // Where every makespan is an integer the bound proves the next one (bounds/integral.ts).
    const floor = roundBoundUp(this.context.graph, this.context.transfer, Math.max(makespan, this.context.graph.baseCost));
    if (boundScope(source) === 'all-schedules') {
      if (!this.allSchedulesBound || floor > this.allSchedulesBound.makespan) this.allSchedulesBound = { makespan: floor, source };
    } else if (this.best && floor > this.best.makespan) {
      // A class bound above a plan from outside the class says nothing of that plan.
      return;
    }
    if (this.bound && floor <= this.bound.makespan) return;
    this.bound = { makespan: floor, source };
    this.report({ kind: 'bound', bound: floor, makespan: this.best?.makespan, gap: this.gap(), strategy: source });
  }

  /** The proven relative gap of the best plan, when there are a plan and a bound. */
  gap(): number | undefined {
    if (!this.best || !this.bound) return undefined;
    return this.best.makespan > 0 ? Math.max(0, (this.best.makespan - this.bound.makespan) / this.best.makespan) : 0;
  }

  /** True once the best plan is proven within the relative gap asked for. */
  closed(): boolean {
    const gap = this.gap();
    return gap !== undefined && gap <= this.context.relativeGap;
  }

  /**
   * Runs each strategy (those that swap only when there is a link), offers its plan and
   * folds in the smallest peak it reached; returns the plans that fit, in order.
   */
  async runEach(strategies: readonly Strategy[]): Promise<Candidate[]> {
    const fitting: Candidate[] = [];
    for (const strategy of strategies) {
      if (this.context.signal?.aborted) break;
      if (strategy.usesTransfer && !this.context.transfer) continue;
      const outcome = await strategy.run(this.context);
      if (outcome.kind === 'infeasible') {
        this.notePeak(outcome.smallestPeakBytes);
        continue;
      }
      const { fits, ...candidate } = this.offer(outcome.steps, strategy.name);
      if (fits) fitting.push(candidate);
    }
    return fitting;
  }

  /** The outcome of a baseline's sweep: its best plan, or the smallest peak and what was tried. */
  sweepOutcome(name: string): StrategyOutcome {
    if (this.best) return { kind: 'schedule', steps: this.best.steps, message: `${this.tried} candidates tried` };
    const givenUp = this.givenUp ? `, ${this.givenUp} given up as too long` : '';
    return {
      kind: 'infeasible',
      smallestPeakBytes: this.smallestPeakBytes,
      message: `${name}: no candidate within the budget (${this.tried} tried${givenUp})`,
    };
  }

  private keep(candidate: Candidate): void {
    if ((!this.inOrder || candidate.makespan < this.inOrder.makespan) && inListedOrder(candidate.steps)) this.inOrder = candidate;
    const best = this.best;
    const better =
      !best ||
      candidate.makespan < best.makespan ||
      (this.options.ties === 'lower-peak' && candidate.makespan === best.makespan && candidate.peakBytes < best.peakBytes);
    if (!better) return;
    this.best = candidate;
    // A plan below a bound of Checkmate's class comes from outside the class: that bound
    // says nothing of it, and the best bound of every schedule is left.
    if (this.bound && boundScope(this.bound.source) === 'checkmate-class' && candidate.makespan < this.bound.makespan)
      this.bound = this.allSchedulesBound;
    const label = this.options.label;
    this.report({
      kind: 'incumbent',
      makespan: candidate.makespan,
      peakBytes: candidate.peakBytes,
      bound: this.bound?.makespan,
      gap: this.gap(),
      strategy: label ? `${label} (${candidate.from})` : candidate.from,
    });
  }

  private report(event: {
    kind: 'incumbent' | 'bound';
    makespan?: number;
    peakBytes?: number;
    bound?: number;
    gap?: number;
    strategy: string;
  }) {
    if (this.options.progress === false) return;
    this.context.onProgress?.({ ...event, elapsedSeconds: this.clock.elapsed() });
  }
}
