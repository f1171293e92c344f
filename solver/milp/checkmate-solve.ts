// Solving the Checkmate formulation: the LP relaxation with two-phase rounding, and the
// exact MILP (optionally warm-started from a plan). Both extract schedules from R and
// replay them in the simulator; every figure they report comes from the replay. The
// bounds they prove hold for Checkmate's class of schedules (frontier-advancing stages,
// in-order recomputation; 'tight' also recomputes forward nodes only), and without swaps
// a plan's makespan is its compute cost, so they bound the makespan of remat plans.
import type { IndexedGraph } from '../graph/validate.js';
import {
  FEASIBILITY_TOLERANCE,
  LP_GUIDE_MIN_EXTRA,
  MAX_FORMULATION_NONZEROS,
  MIN_LP_SECONDS,
  MIN_SOLVE_SECONDS,
  NONZERO_ESTIMATE_SLACK,
  SOLVER_RELATIVE_TOLERANCE,
} from '../limits.js';
import type { SolverInfo } from '../plan-schema.js';
import { simulateIndexed, type IndexedStep } from '../schedule/simulate.js';
import { Clock } from '../util/clock.js';
import type { MilpBackend, SolveResult } from './backend.js';
import {
  assignmentFromStages,
  buildCheckmate,
  estimateCheckmateSize,
  objectiveToCost,
  stagesOf,
  type CheckmateFormulation,
  type CheckmateVariant,
} from './checkmate.js';
import { canonicalStages, scheduleFromStages } from './extract.js';
import { highsBackend } from './highs-backend.js';
import { extractStageSchedule } from './stage-schedule.js';
import { twoPhaseRounding } from './rounding.js';

/** Why a graph is too large for the formulation, or undefined when it fits. */
export function tooLarge(graph: IndexedGraph, variant: CheckmateVariant): string | undefined {
  const estimate = estimateCheckmateSize(graph, variant);
  if (estimate.nonzeros <= MAX_FORMULATION_NONZEROS) return undefined;
  return (
    `the ${variant} formulation of ${graph.size} nodes would have about ${estimate.nonzeros} nonzeros (limit ` +
    `${MAX_FORMULATION_NONZEROS})`
  );
}

/**
 * Builds the formulation when it has at most `maxNonzeros` nonzeros; undefined when it is
 * larger. A formulation estimated well past the limit is not built at all (that alone
 * takes seconds).
 */
export function buildWithin(
  graph: IndexedGraph,
  options: { budgetBytes: number; variant: CheckmateVariant },
  maxNonzeros: number,
): CheckmateFormulation | undefined {
  if (estimateCheckmateSize(graph, options.variant).nonzeros > maxNonzeros * NONZERO_ESTIMATE_SLACK) return undefined;
  const form = buildCheckmate(graph, options);
  return form.model.nonzeroCount <= maxNonzeros ? form : undefined;
}

/** A replayed plan within the budget. */
export interface ReplayedPlan {
  steps: IndexedStep[];
  computeCost: number;
  makespan: number;
  peakBytes: number;
}

export interface CheckmateRunOptions {
  graph: IndexedGraph;
  budgetBytes: number;
  variant: CheckmateVariant;
  timeLimitSeconds: number;
  relativeGap?: number;
  signal?: AbortSignal;
  backend?: MilpBackend;
  /** False: the solver's sub-MIP heuristics are off (SolveOptions.heuristics). */
  heuristics?: boolean;
  /** Branchings before a pseudo-cost is trusted (SolveOptions.pseudoCostReliable). */
  pseudoCostReliable?: number;
  /** A reused formulation (same graph, budget and variant). */
  formulation?: CheckmateFormulation;
}

export interface LpRun {
  formulation: CheckmateFormulation;
  solve: SolveResult;
  /** The LP optimum as a compute cost (a lower bound), when the LP was solved. */
  bound?: number;
  /** True when the LP proved the formulation infeasible. */
  infeasible: boolean;
  best?: ReplayedPlan;
  smallestPeakBytes?: number;
  /** The nodes the LP optimum recomputes (lpRecomputed), when the LP was solved. */
  recomputed?: number[];
  solver: SolverInfo;
}

export interface MilpRun {
  formulation: CheckmateFormulation;
  solve: SolveResult;
  bound?: number;
  best?: ReplayedPlan;
  infeasible: boolean;
  /** The warm start was accepted as a full assignment. */
  warmStarted: boolean;
  solver: SolverInfo;
}

/** Replays steps; returns the plan when legal and within the budget. */
export function replayWithin(graph: IndexedGraph, steps: IndexedStep[], budgetBytes: number): ReplayedPlan | undefined {
  const replay = simulateIndexed(graph, steps);
  if (!replay.ok || replay.figures.peakBytes > budgetBytes) return undefined;
  return { steps, computeCost: replay.figures.computeCost, makespan: replay.figures.makespan, peakBytes: replay.figures.peakBytes };
}

function solverInfo(form: CheckmateFormulation, solve: SolveResult, backend: MilpBackend): SolverInfo {
  return {
    name: backend.name,
    version: backend.version,
    wallSeconds: solve.wallSeconds,
    variables: form.model.variableCount,
    rows: form.model.rowCount,
    nodesExplored: solve.nodes,
    stopReason: solve.error ? `${solve.stop}: ${solve.error}` : solve.stop,
  };
}

/** A bound from the solver, in cost units, never above a cost it is compared with. */
function boundCost(form: CheckmateFormulation, bound: number | undefined): number | undefined {
  if (bound === undefined || !Number.isFinite(bound)) return undefined;
  // HiGHS works to relative tolerances; shave one off so the bound stays a bound.
  const cost = objectiveToCost(form, bound);
  return cost - SOLVER_RELATIVE_TOLERANCE * Math.abs(cost);
}

/**
 * The plan of a solution vector: R -> stages -> schedule -> replay; with node options the
 * stage-wise extraction, which also honours S, the encodings and the alternatives.
 */
export function planFromValues(form: CheckmateFormulation, values: ArrayLike<number>, budgetBytes: number): ReplayedPlan | undefined {
  const steps = form.options ? extractStageSchedule(form, values) : scheduleFromStages(form.graph, stagesOf(form, values));
  return replayWithin(form.graph, steps, budgetBytes);
}

/**
 * The nodes an LP solution recomputes: those whose R mass outside their own stage reaches
 * LP_GUIDE_MIN_EXTRA of one recomputation, the most recomputed first. A greedy that evicts
 * these first finds plans the closure bound's recomputed set does not lead it to
 * (random_layered_n100 at 33,862 B: 1.020-1.037 in 3 s against 1.05068).
 */
export function lpRecomputed(form: CheckmateFormulation, values: ArrayLike<number>): number[] {
  const extra = new Float64Array(form.graph.size);
  for (let stage = 0; stage < form.R.length; stage++) {
    const row = form.R[stage];
    for (let node = 0; node < row.length; node++) if (row[node] >= 0 && node !== stage) extra[node] += values[row[node]];
  }
  const nodes: number[] = [];
  for (let node = 0; node < extra.length; node++) if (extra[node] >= LP_GUIDE_MIN_EXTRA) nodes.push(node);
  return nodes.sort((a, b) => extra[b] - extra[a] || a - b);
}

/** Budget fractions (of the budget above residentBytes) the LP is re-solved at when no rounded plan fits. */
export const ROUNDING_SHRINK = [0.9, 0.8, 0.7, 0.6, 0.5] as const;

/**
 * Solves the LP relaxation (its optimum is the bound) and rounds it (two-phase, threshold
 * sweep). Rounding needs slack at tight budgets, so when no rounded plan fits, the LP is
 * re-solved at shrunk budgets (ROUNDING_SHRINK) and rounded against the real budget,
 * while time is left (unless `shrink` is or returns false: a caller with a plan in hand wants the bound).
 */
export async function runCheckmateLp(options: CheckmateRunOptions & { shrink?: boolean | (() => boolean) }): Promise<LpRun> {
  const backend = options.backend ?? highsBackend();
  const clock = new Clock(options.timeLimitSeconds);
  const formulation = options.formulation ?? buildCheckmate(options.graph, { budgetBytes: options.budgetBytes, variant: options.variant });
  const solve = await backend.solve(formulation.model, {
    timeLimitSeconds: Math.max(MIN_LP_SECONDS, clock.left()),
    relaxation: true,
    signal: options.signal,
  });
  const run: LpRun = { formulation, solve, infeasible: solve.stop === 'infeasible', solver: solverInfo(formulation, solve, backend) };
  if (solve.stop === 'optimal') run.bound = boundCost(formulation, solve.bound);
  if (solve.stop === 'optimal' && solve.values) run.recomputed = lpRecomputed(formulation, solve.values);
  const round = (form: CheckmateFormulation, values: ArrayLike<number>) => {
    const rounding = twoPhaseRounding(form, values, options.budgetBytes);
    if (Number.isFinite(rounding.smallestPeakBytes))
      run.smallestPeakBytes = Math.min(run.smallestPeakBytes ?? Infinity, rounding.smallestPeakBytes);
    if (rounding.best) run.best = replayWithin(options.graph, rounding.best.steps, options.budgetBytes);
  };
  if (solve.values && solve.stop === 'optimal') round(formulation, solve.values);
  if (solve.stop !== 'optimal') return run;
  const resident = options.graph.residentBytes;
  // Asked once the LP is solved: a caller that started it early learns by then whether it has a plan.
  const shrink = typeof options.shrink === 'function' ? options.shrink() : options.shrink !== false;
  for (const factor of shrink ? ROUNDING_SHRINK : []) {
    if (run.best || options.signal?.aborted || clock.left() < MIN_SOLVE_SECONDS) break;
    const budget = resident + Math.floor(factor * (options.budgetBytes - resident));
    const shrunk = buildCheckmate(options.graph, { budgetBytes: budget, variant: options.variant });
    const again = await backend.solve(shrunk.model, {
      timeLimitSeconds: Math.max(MIN_LP_SECONDS, clock.left()),
      relaxation: true,
      signal: options.signal,
    });
    run.solver.wallSeconds += again.wallSeconds;
    if (again.stop !== 'optimal' || !again.values) break;
    round(shrunk, again.values);
  }
  return run;
}

/** A plan's stages as a full assignment of `form` when it satisfies every row (a usable warm start), else null. */
export function warmStartValues(form: CheckmateFormulation, stages: readonly (readonly number[])[]): Float64Array | null {
  const values = assignmentFromStages(form, stages);
  return values && form.model.violation(values) <= FEASIBILITY_TOLERANCE ? values : null;
}

/** The warm start for a plan: its stages (canonicalised, replayed) as a full assignment. */
export function warmStart(
  form: CheckmateFormulation,
  steps: readonly IndexedStep[],
  budgetBytes: number,
): { values: Float64Array; plan: ReplayedPlan } | undefined {
  const stages = canonicalStages(form.graph, steps);
  if (!stages) return undefined;
  const plan = replayWithin(form.graph, scheduleFromStages(form.graph, stages), budgetBytes);
  if (!plan) return undefined;
  const values = assignmentFromStages(form, stages);
  if (!values) return undefined;
  return { values, plan };
}

/** Solves the MILP within the time limit; streams improving plans and bounds (as compute costs). */
export async function runCheckmateMilp(
  options: CheckmateRunOptions & {
    start?: readonly IndexedStep[];
    onPlan?: (plan: ReplayedPlan, elapsedSeconds: number) => void;
    onBound?: (bound: number, elapsedSeconds: number) => void;
  },
): Promise<MilpRun> {
  const backend = options.backend ?? highsBackend();
  const formulation = options.formulation ?? buildCheckmate(options.graph, { budgetBytes: options.budgetBytes, variant: options.variant });
  let best: ReplayedPlan | undefined;
  let warmStarted = false;
  let start: Float64Array | undefined;
  if (options.start) {
    const warm = warmStart(formulation, options.start, options.budgetBytes);
    if (warm && formulation.model.violation(warm.values) <= FEASIBILITY_TOLERANCE) {
      start = warm.values;
      warmStarted = true;
    }
  }
  // Every solution HiGHS reports is replayed; the cheapest plan is kept and streamed.
  const takeSolution = (values: ArrayLike<number>, elapsedSeconds: number) => {
    const plan = planFromValues(formulation, values, options.budgetBytes);
    if (plan && (!best || plan.computeCost < best.computeCost)) {
      best = plan;
      options.onPlan?.(plan, elapsedSeconds);
    }
  };
  let lastBound = -Infinity;
  const solve = await backend.solve(formulation.model, {
    timeLimitSeconds: options.timeLimitSeconds,
    relativeGap: options.relativeGap,
    start,
    heuristics: options.heuristics,
    pseudoCostReliable: options.pseudoCostReliable,
    signal: options.signal,
    onProgress: (progress) => {
      if (progress.kind === 'incumbent' && progress.values) takeSolution(progress.values, progress.elapsedSeconds);
      const bound = boundCost(formulation, progress.bound);
      if (bound !== undefined && bound > lastBound) {
        lastBound = bound;
        options.onBound?.(bound, progress.elapsedSeconds);
      }
    },
  });
  if (solve.values && solve.hasSolution) takeSolution(solve.values, solve.wallSeconds);
  const run: MilpRun = {
    formulation,
    solve,
    best,
    infeasible: solve.stop === 'infeasible',
    warmStarted,
    solver: solverInfo(formulation, solve, backend),
  };
  run.bound = boundCost(formulation, solve.bound);
  // Proven optimal with a bound equal to the plan's cost up to rounding: the cost is the bound.
  if (solve.stop === 'optimal' && best && solve.bound !== undefined) {
    const cost = objectiveToCost(formulation, solve.bound);
    if (Math.abs(cost - best.computeCost) <= SOLVER_RELATIVE_TOLERANCE * Math.max(1, best.computeCost)) run.bound = best.computeCost;
    else run.bound = Math.min(best.computeCost, run.bound ?? best.computeCost);
  }
  return run;
}
