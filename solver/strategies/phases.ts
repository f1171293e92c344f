// The machinery of a strategy run as a list of phases (auto): the run's state (its clock,
// its incumbent, the formulation and solver info the phases share, notes), the one check
// every phase and solve passes (canRun), and the loop that runs the phases in order and
// turns the incumbent into the outcome.
import type { Descended } from '../scale/descent.js';
import type { PendingBound } from '../bounds/parallel.js';
import type { IndexedGraph } from '../graph/validate.js';
import { MIN_PHASE_SECONDS, TIME_SHARES } from '../limits.js';
import type { CheckmateFormulation } from '../milp/checkmate.js';
import type { LpRun } from '../milp/checkmate-solve.js';
import type { PhaseFailure, SmallestBudget, SolverInfo } from '../plan-schema.js';
import type { IndexedStep } from '../schedule/simulate.js';
import type { ProvenFloor } from '../scale/bracket.js';
import { Clock } from '../util/clock.js';
import { stopCauseOf } from '../util/stop.js';
import { failureError, phaseFailure } from './failure.js';
import { Incumbent } from './incumbent.js';
import type { StrategyContext, StrategyOutcome } from './types.js';

/** One run of a phased strategy: the request, its clock, the incumbent, and what the phases found. */
export class PhasedRun {
  readonly graph: IndexedGraph;
  readonly clock: Clock;
  readonly incumbent: Incumbent;
  /** Checkmate's formulation, once a phase has built it (undefined when too large). */
  form: CheckmateFormulation | undefined;
  solver: SolverInfo | undefined;
  /** An exact MILP in the listed order proved its plan optimal within the class. */
  proven = false;
  /** The best remat-only plan of the scale search and its makespan (with a link, swap conversions start from it). */
  remat: { steps: IndexedStep[]; makespan: number } | undefined;
  /** The recomputed set of the closure bound's solution: the search evicts these first. */
  guide: ReadonlySet<number> | undefined;
  /** The recomputed set of the LP relaxation's optimum (checkmate-solve.ts, lpRecomputed): the search after the LP evicts these first. */
  lpGuide: ReadonlySet<number> | undefined;
  /** Checkmate's LP relaxation solving on its HiGHS thread beside the search, until the LP phase collects it (auto). */
  pendingLp: { result: Promise<LpRun>; stop: () => void } | undefined;
  /** Seconds the start of that LP took on the main thread (building and sending its formulation). */
  lpStartSeconds = 0;
  /** The closure bound running on its own thread, until a phase collects it. */
  pendingBound: PendingBound | undefined;
  /** A bracket for the smallest feasible budget, for an infeasible answer (set by a phase). */
  smallestBudget: SmallestBudget | undefined;
  /** Whether a scale search of this run has made the repair descent (scale/descent.ts; once per run). */
  descended = false;
  /** The lowest sequence that descent reached short of the budget: the smallest-peak phase starts its own descent there. */
  lowestDescent: Descended | undefined;
  /** A floor proven while time was left (the smallest-peak phase): the bracket at the end starts from it. */
  floor: ProvenFloor | undefined;
  timedOut = false;
  notes: string[] = [];
  /** Solves that failed (a WASM heap abort, a solver error): the plan says which. */
  failures: PhaseFailure[] = [];

  /** `maxMarginSeconds`: at most this (and TIME_SHARES.margin of the limit) is kept back from clock.left(). */
  constructor(
    readonly context: StrategyContext,
    maxMarginSeconds: number,
  ) {
    this.graph = context.graph;
    this.clock = Clock.of(context, Math.min(maxMarginSeconds, TIME_SHARES.margin * context.timeLimitSeconds));
    this.incumbent = new Incumbent(context, { rechoose: true });
  }

  /** The one check before every phase and solve: not stopped, not yet proven within the gap, and more than `minSeconds` to spend. */
  canRun(seconds: number, minSeconds = MIN_PHASE_SECONDS): boolean {
    return !this.context.signal?.aborted && !this.incumbent.closed() && seconds > minSeconds;
  }

  /** Notes what runs (or why not) and reports it as a phase event. */
  note(message: string): void {
    this.notes.push(message);
    this.context.onProgress?.({ kind: 'phase', elapsedSeconds: this.clock.elapsed(), message });
  }

  /** Records how a solver stopped; a failure (`aborted`: its WASM instance aborted) is noted and listed in the plan. */
  stopped(name: string, stop: string, error?: string, aborted?: boolean): void {
    if (stop === 'timeLimit') this.timedOut = true;
    if (stop !== 'error') return;
    const failure = phaseFailure(name, error, aborted);
    this.note(`${name} failed: ${failure.detail}`);
    this.failures.push(failure);
  }
}

/** A phase: what it does, when it applies, how long it may take, and the work. */
export interface Phase {
  name: string;
  /** What the phase adds (auto's description lists these). */
  summary: string;
  /** Why it does not apply to this request: a reason to note, or true to skip quietly. */
  skip?: (run: PhasedRun) => string | boolean;
  /** Seconds it may take (checked by canRun); undefined: it runs unless stopped. */
  seconds?: (run: PhasedRun) => number;
  /** canRun's threshold for `seconds` (default MIN_PHASE_SECONDS). */
  minSeconds?: number;
  /** The work; an outcome ends the run there (a proof that nothing fits). */
  run: (run: PhasedRun, seconds: number) => Promise<StrategyOutcome | undefined>;
}

/** Runs every phase that applies and passes canRun, in order; then the incumbent's best plan and bound. */
export async function runPhases(run: PhasedRun, phases: readonly Phase[], name: string): Promise<StrategyOutcome> {
  for (const phase of phases) {
    const skip = phase.skip?.(run);
    if (typeof skip === 'string') run.note(`${phase.name} skipped: ${skip}`);
    if (skip) continue;
    const seconds = phase.seconds?.(run) ?? Infinity;
    if (!run.canRun(seconds, phase.minSeconds ?? MIN_PHASE_SECONDS)) continue;
    const outcome = await phase.run(run, seconds);
    if (outcome) return outcome;
  }
  const { incumbent, notes, failures } = run;
  // Stopped by the request's deadline: the plan is the best within the time limit.
  if (stopCauseOf(run.context.signal) === 'deadline') run.timedOut = true;
  const best = incumbent.best;
  if (!best) {
    // No plan and a solver failed: that failure is the answer, never "infeasible".
    if (failures.length > 0) throw failureError(failures[0], name);
    return {
      kind: 'infeasible',
      smallestPeakBytes: incumbent.smallestPeakBytes,
      smallestBudget: run.smallestBudget,
      solver: run.solver,
      message: `${name}: no plan within the budget (${notes.join('; ')})`,
    };
  }
  const closed = incumbent.closed() || (run.proven && !run.context.transfer);
  return {
    kind: 'schedule',
    steps: best.steps,
    status: closed ? 'optimal' : run.timedOut ? 'timeLimit' : 'feasible',
    bound: incumbent.bound,
    solver: run.solver,
    message: `${name}: best plan from ${best.from} (${notes.join('; ')})`,
    failures: failures.length > 0 ? failures : undefined,
  };
}
