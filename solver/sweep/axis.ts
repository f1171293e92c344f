// The budget axis of one graph: everything a sweep and its inverse searches learn, kept
// once per graph and shared across budgets. Two facts make it one axis rather than many
// separate solves:
// - a plan whose replayed peak is p fits every budget b >= p, so the best plan at b is the
//   fastest known plan with peak <= b (makespans never increase with the budget);
// - less memory cannot be faster, so a lower bound proven at b' holds at every b <= b'
//   (bounds never decrease as the budget shrinks), and a proof that nothing fits at b'
//   holds below it too.
// The graph's budget-independent figures (no-remat peak, floor, the no-remat plan) are
// computed once. Each evaluation runs the strategy at one budget with the plans of smaller
// budgets as seeds, the nearest plans of larger ones as hints and the recomputed set of the
// nearest budget whose LP was solved as a guide, stops early once its plan
// meets the bound carried down from larger budgets (or the caller's own stop rule), and
// folds what it found back into the axis.
import { roundBoundUp } from '../bounds/integral.js';
import { peakFloor } from '../graph/analysis.js';
import type { IndexedGraph } from '../graph/validate.js';
import { MIN_SWEEP_EVALUATION_SECONDS, OPTIMAL_GAP, SWEEP_MAX_HINTS, SWEEP_MAX_SEEDS } from '../limits.js';
import { BOUND_SOURCES, boundScope, type BoundSource, type Plan, type ProvenBound, type SolverInfo } from '../plan-schema.js';
import { finalizePlan } from '../plan.js';
import { noRematPeak, noRematSteps } from '../schedule/no-remat.js';
import { type IndexedStep, simulateIndexed } from '../schedule/simulate.js';
import type { Transfer } from '../schedule/types.js';
import type { ProgressEvent, Strategy, StrategyContext } from '../strategies/types.js';
import { StopSignal, stopFlagsOf } from '../util/stop.js';

/** A plan the axis knows: its schedule, replayed figures and where it came from. */
export interface AxisPlan {
  steps: IndexedStep[];
  peakBytes: number;
  makespan: number;
  /** Where it was found, for messages ("auto at 123456 bytes"). */
  from: string;
  /** The budget of the evaluation that found it (undefined: not an evaluation's). */
  foundAt?: number;
}

/** What one evaluation proved at its budget (and so at every smaller one). */
interface Proof {
  budgetBytes: number;
  /** The best bound over every schedule. */
  all?: ProvenBound;
  /** Bounds of Checkmate's class, best first. */
  classBounds: ProvenBound[];
  /** The strategy proved that no plan fits. */
  infeasible: boolean;
}

/** One run of the strategy at one budget. */
export interface Evaluation {
  budgetBytes: number;
  seconds: number;
  /** The time limit it was given. */
  limitSeconds: number;
  /** The plan it found (fitting its budget), if any. */
  found?: AxisPlan;
  /** It proved that no plan fits. */
  provenInfeasible: boolean;
  /** It ran until its time limit (more time might find more). */
  ranOut: boolean;
  /** It was stopped early by the stop rule (its plan met the bound carried to it, or the caller's question was answered). */
  stoppedEarly: boolean;
  smallestPeakBytes?: number;
  solver?: SolverInfo;
  message?: string;
}

/** What an evaluation's stop rule sees at its budget: the best plan's makespan (Infinity: none yet), the best bound over every schedule. */
export interface EvaluationState {
  incumbent: number;
  bound: number;
}

export interface AxisSettings {
  strategy: Strategy;
  transfer?: Transfer;
  relativeGap: number;
  formulation: 'tight' | 'plain';
  /** The sweep's stop (a cancel); its shared flags reach each budget's solve as plan()'s do. */
  signal?: AbortSignal;
}

/** True when a progress event's strategy names a bound source. */
function isBoundSource(name: string | undefined): name is BoundSource {
  return name !== undefined && Object.hasOwn(BOUND_SOURCES, name);
}

/** The axis of one graph; see the module comment. */
export class BudgetAxis {
  readonly floorBytes: number;
  readonly noRematPeakBytes: number;
  readonly baseCost: number;
  readonly evaluations: Evaluation[] = [];
  /** Known plans, none beaten in both peak and makespan by another, in increasing peak. */
  private plans: AxisPlan[] = [];
  private readonly proofs: Proof[] = [];
  /** The LP relaxation's recomputed set by the budget it was solved at (a strategy outcome's guide). */
  private readonly guides = new Map<number, number[]>();

  constructor(
    readonly graph: IndexedGraph,
    readonly settings: AxisSettings,
  ) {
    this.noRematPeakBytes = noRematPeak(graph);
    this.floorBytes = peakFloor(graph, { swaps: settings.transfer !== undefined });
    this.baseCost = graph.baseCost;
    this.addPlan(noRematSteps(graph), 'the no-remat schedule');
  }

  /** Replays a schedule and keeps it unless a known plan is at least as good in both peak and makespan. */
  addPlan(steps: IndexedStep[], from: string, foundAt?: number): AxisPlan | undefined {
    const replay = simulateIndexed(this.graph, steps, { transfer: this.settings.transfer });
    if (!replay.ok) return undefined;
    const plan: AxisPlan = { steps, peakBytes: replay.figures.peakBytes, makespan: replay.figures.makespan, from, foundAt };
    if (this.plans.some((known) => known.peakBytes <= plan.peakBytes && known.makespan <= plan.makespan)) return undefined;
    this.plans = this.plans.filter((known) => !(plan.peakBytes <= known.peakBytes && plan.makespan <= known.makespan));
    this.plans.push(plan);
    this.plans.sort((a, b) => a.peakBytes - b.peakBytes);
    return plan;
  }

  /** The fastest known plan that fits `budgetBytes`. */
  bestPlanAt(budgetBytes: number): AxisPlan | undefined {
    let best: AxisPlan | undefined;
    for (const plan of this.plans) if (plan.peakBytes <= budgetBytes && (!best || plan.makespan < best.makespan)) best = plan;
    return best;
  }

  /** The known plan with the smallest peak among those no slower than `maxMakespan`. */
  smallestPlan(maxMakespan = Infinity): AxisPlan | undefined {
    return this.plans.find((plan) => plan.makespan <= maxMakespan);
  }

  /** True when no plan can fit `budgetBytes`: below the floor, or a strategy proved it at this budget or a larger one. */
  provenInfeasible(budgetBytes: number): boolean {
    return budgetBytes < this.floorBytes || this.proofs.some((proof) => proof.infeasible && proof.budgetBytes >= budgetBytes);
  }

  /** The smallest budget not proven infeasible: no plan exists below it. */
  provenFloor(): number {
    let floor = this.floorBytes;
    for (const proof of this.proofs) if (proof.infeasible && proof.budgetBytes + 1 > floor) floor = proof.budgetBytes + 1;
    return floor;
  }

  /** The best bound over every schedule at `budgetBytes` (baseCost at least), from proofs at it or at larger budgets. */
  allSchedulesBound(budgetBytes: number): ProvenBound {
    let best: ProvenBound = { makespan: this.baseCost, source: 'baseCost' };
    for (const proof of this.proofs) {
      if (proof.budgetBytes >= budgetBytes && proof.all && proof.all.makespan > best.makespan) best = proof.all;
    }
    return best;
  }

  /**
   * The best bound at `budgetBytes` that holds for a plan of makespan `makespan`: the best
   * bound over every schedule, or a bound of Checkmate's class when it is higher and the
   * plan does not beat it (a plan that beats a class bound is outside the class).
   */
  boundAt(budgetBytes: number, makespan = Infinity): ProvenBound {
    let best = this.allSchedulesBound(budgetBytes);
    for (const proof of this.proofs) {
      if (proof.budgetBytes < budgetBytes) continue;
      for (const bound of proof.classBounds) if (bound.makespan <= makespan && bound.makespan > best.makespan) best = bound;
    }
    return best;
  }

  /** The relative gap of the best plan at `budgetBytes` to the best bound there; Infinity without a plan. */
  gapAt(budgetBytes: number): number {
    const plan = this.bestPlanAt(budgetBytes);
    if (!plan) return Infinity;
    const bound = this.boundAt(budgetBytes, plan.makespan);
    return plan.makespan > 0 ? Math.max(0, (plan.makespan - bound.makespan) / plan.makespan) : 0;
  }

  /** True when the best plan at `budgetBytes` is proven within the relative gap (or nothing can fit there). */
  closedAt(budgetBytes: number): boolean {
    return this.provenInfeasible(budgetBytes) || this.gapAt(budgetBytes) <= Math.max(this.settings.relativeGap, OPTIMAL_GAP);
  }

  /** Seeds for a budget: the fastest known plans that fit it. */
  private seedsAt(budgetBytes: number): IndexedStep[][] {
    return this.plans
      .filter((plan) => plan.peakBytes <= budgetBytes)
      .sort((a, b) => a.makespan - b.makespan)
      .slice(0, SWEEP_MAX_SEEDS)
      .map((plan) => plan.steps);
  }

  /** Hints for a budget: the known plans that do not fit it, the smallest peaks first (the nearest budgets' plans). */
  private hintsAt(budgetBytes: number): IndexedStep[][] {
    return this.plans
      .filter((plan) => plan.peakBytes > budgetBytes)
      .slice(0, SWEEP_MAX_HINTS)
      .map((plan) => plan.steps);
  }

  /** The recomputed set learned at the budget nearest `budgetBytes` (the larger on a tie), if any. */
  private guideAt(budgetBytes: number): number[] | undefined {
    let nearest: number | undefined;
    for (const at of this.guides.keys()) {
      const distance = Math.abs(at - budgetBytes);
      const best = nearest === undefined ? Infinity : Math.abs(nearest - budgetBytes);
      if (distance < best || (distance === best && at > (nearest ?? -Infinity))) nearest = at;
    }
    return nearest === undefined ? undefined : this.guides.get(nearest);
  }

  /**
   * Runs the strategy at `budgetBytes` for at most `seconds`, seeded with the plans that fit,
   * and folds its plan and its proofs into the axis. It stops early once the best plan meets
   * the bound carried to this budget within the relative gap, or when `stop` says so.
   */
  async evaluate(budgetBytes: number, seconds: number, stop?: (state: EvaluationState) => boolean): Promise<Evaluation> {
    const started = Date.now();
    const limitSeconds = Math.max(MIN_SWEEP_EVALUATION_SECONDS, seconds);
    const proof: Proof = { budgetBytes, classBounds: [], infeasible: false };
    const controller = new AbortController();
    const outer = this.settings.signal;
    const abort = () => controller.abort();
    outer?.addEventListener('abort', abort);
    if (outer?.aborted) controller.abort();
    let incumbent = this.bestPlanAt(budgetBytes)?.makespan ?? Infinity;
    let stoppedEarly = false;
    const check = () => {
      if (controller.signal.aborted) return;
      // The bounds proven so far at this budget, and those carried down from larger ones.
      const own = proof.classBounds.filter((bound) => bound.makespan <= incumbent).map((bound) => bound.makespan);
      const all = Math.max(this.allSchedulesBound(budgetBytes).makespan, proof.all?.makespan ?? 0);
      const bound = Math.max(this.boundAt(budgetBytes, incumbent).makespan, all, ...own);
      const closed = incumbent < Infinity && (incumbent <= 0 || (incumbent - bound) / incumbent <= this.settings.relativeGap);
      if (closed || stop?.({ incumbent, bound: all })) {
        stoppedEarly = true;
        controller.abort();
      }
    };
    const onProgress = (event: ProgressEvent) => {
      if (event.kind === 'bound' && event.bound !== undefined && isBoundSource(event.strategy)) {
        // Rounded already where it was made: bound events come from an incumbent (bounds/integral.ts).
        const bound = { makespan: event.bound, source: event.strategy };
        if (boundScope(bound.source) === 'all-schedules') {
          if (!proof.all || bound.makespan > proof.all.makespan) proof.all = bound;
        } else proof.classBounds.push(bound);
      }
      if (event.kind === 'incumbent' && event.makespan !== undefined && event.makespan < incumbent) incumbent = event.makespan;
      check();
    };
    check();
    // This budget's one stop signal, as plan() makes it (util/stop.ts): the sweep's cancel
    // flags read synchronously, the stop rule above, and this evaluation's time limit.
    const signal = new StopSignal({ flags: stopFlagsOf(outer), parent: controller.signal, deadline: started + limitSeconds * 1000 });
    const context: StrategyContext = {
      graph: this.graph,
      budgetBytes,
      transfer: this.settings.transfer,
      timeLimitSeconds: limitSeconds,
      relativeGap: this.settings.relativeGap,
      formulation: this.settings.formulation,
      signal,
      onProgress,
      startedAt: started,
      seeds: this.seedsAt(budgetBytes),
      hints: this.hintsAt(budgetBytes),
      guide: this.guideAt(budgetBytes),
      attempt: this.evaluations.filter((earlier) => earlier.budgetBytes === budgetBytes).length,
      sharesTime: true,
    };
    const evaluation: Evaluation = { budgetBytes, seconds: 0, limitSeconds, provenInfeasible: false, ranOut: false, stoppedEarly: false };
    try {
      // Already closed by what the axis knows: nothing to run.
      if (!controller.signal.aborted) {
        const outcome = await this.settings.strategy.run(context);
        evaluation.solver = outcome.solver;
        evaluation.message = outcome.message;
        if (outcome.guide) this.guides.set(budgetBytes, outcome.guide);
        if (outcome.kind === 'schedule') {
          const replay = simulateIndexed(this.graph, outcome.steps, { transfer: this.settings.transfer });
          if (replay.ok && replay.figures.peakBytes <= budgetBytes) {
            const from = `${this.settings.strategy.name} at ${budgetBytes} bytes`;
            evaluation.found = this.addPlan(outcome.steps, from, budgetBytes) ?? {
              steps: outcome.steps,
              peakBytes: replay.figures.peakBytes,
              makespan: replay.figures.makespan,
              from,
              foundAt: budgetBytes,
            };
          }
          if (outcome.status === 'timeLimit') evaluation.ranOut = true;
          if (outcome.bound) this.takeBound(proof, outcome.bound);
        } else {
          evaluation.smallestPeakBytes = outcome.smallestPeakBytes;
          if (outcome.proven) proof.infeasible = true;
          if (outcome.bound) this.takeBound(proof, outcome.bound);
          // A proven floor above the budget (auto's bracket: the closure floors) proves every
          // budget below it too, so points and inverse searches there need no solve.
          const floor = outcome.smallestBudget?.floorBytes;
          if (floor !== undefined && floor - 1 > budgetBytes)
            this.proofs.push({ budgetBytes: floor - 1, classBounds: [], infeasible: true });
        }
      }
    } finally {
      signal.dispose();
      outer?.removeEventListener('abort', abort);
    }
    evaluation.seconds = (Date.now() - started) / 1000;
    if (!stoppedEarly && evaluation.seconds >= 0.9 * limitSeconds) evaluation.ranOut = true;
    evaluation.stoppedEarly = stoppedEarly;
    evaluation.provenInfeasible = proof.infeasible;
    this.proofs.push(proof);
    this.evaluations.push(evaluation);
    return evaluation;
  }

  private takeBound(proof: Proof, proven: ProvenBound): void {
    // Where every makespan is an integer a bound proves the next one (bounds/integral.ts); a
    // strategy's outcome may carry a bound no incumbent took (local-search's recompute-bound).
    const bound = { ...proven, makespan: roundBoundUp(this.graph, this.settings.transfer, proven.makespan) };
    if (boundScope(bound.source) === 'all-schedules') {
      if (!proof.all || bound.makespan > proof.all.makespan) proof.all = bound;
    } else proof.classBounds.push(bound);
  }

  /** The smallest peak anything has reached: a known plan's peak or a strategy's smallest peak. */
  smallestPeakReached(): number | undefined {
    let smallest = this.plans[0]?.peakBytes ?? Infinity;
    for (const evaluation of this.evaluations)
      if (evaluation.smallestPeakBytes !== undefined && evaluation.smallestPeakBytes < smallest) smallest = evaluation.smallestPeakBytes;
    return Number.isFinite(smallest) ? smallest : undefined;
  }

  /**
   * The Plan at a budget from what the axis knows: the fastest plan that fits, replayed at
   * this budget, with the best bound that holds for it; optimal once the gap is within the
   * relative gap, timeLimit when the evaluation at this budget ran out of time.
   */
  planAt(budgetBytes: number, evaluation?: Evaluation): Plan {
    const common = {
      strategy: this.settings.strategy.name,
      budgetBytes,
      transfer: this.settings.transfer,
      floorBytes: this.floorBytes,
      noRematPeakBytes: this.noRematPeakBytes,
    };
    if (budgetBytes < this.floorBytes) {
      return {
        ...common,
        status: 'infeasible',
        smallestPeakBytes: this.floorBytes,
        message: `the budget ${budgetBytes} is below the proven floor ${this.floorBytes}: no legal schedule fits`,
        schedule: [],
        nodes: [],
      };
    }
    const best = this.bestPlanAt(budgetBytes);
    if (!best) {
      const proven = this.provenInfeasible(budgetBytes);
      return finalizePlan(
        this.graph,
        {
          kind: 'infeasible',
          smallestPeakBytes: this.smallestPeakReached(),
          solver: evaluation?.solver,
          message: proven
            ? `no plan fits ${budgetBytes} bytes: proven at this budget or a larger one`
            : `no plan within ${budgetBytes} bytes was found${evaluation?.message ? ` (${evaluation.message})` : ''}`,
        },
        common,
      );
    }
    const bound = this.boundAt(budgetBytes, best.makespan);
    const gap = best.makespan > 0 ? Math.max(0, (best.makespan - bound.makespan) / best.makespan) : 0;
    const closed = gap <= Math.max(this.settings.relativeGap, OPTIMAL_GAP);
    const own = best.foundAt === budgetBytes;
    return finalizePlan(
      this.graph,
      {
        kind: 'schedule',
        steps: best.steps,
        status: closed ? 'optimal' : evaluation?.ranOut ? 'timeLimit' : 'feasible',
        bound,
        solver: own ? evaluation?.solver : undefined,
        message: `plan from ${best.from}${own ? '' : ' (it fits this budget too)'}; bound ${bound.source}${
          bound.makespan > this.baseCost ? ' (proven at this budget or a larger one)' : ''
        }`,
      },
      common,
    );
  }
}
