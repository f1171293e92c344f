// The Plan contract (../shared/DESIGN.md, "Plan"): what every strategy and optimizer
// returns, after the simulator has replayed its schedule.
import { z } from 'zod';
import { ScheduleSchema, TransferSchema } from './schedule/types.js';

export const PLAN_STATUSES = ['optimal', 'feasible', 'infeasible', 'timeLimit', 'error'] as const;

/** Which schedules a bound covers: every legal one, or Checkmate's class only. */
export const BOUND_SCOPES = ['all-schedules', 'checkmate-class'] as const;

/** The schedules a proven bound covers. */
export type BoundScope = (typeof BOUND_SCOPES)[number];

/**
 * Every source of a proven bound and the schedules it covers: the one table a bound's scope
 * is read from. A new source must be added here (its type is a key of this table), so it
 * cannot claim all schedules by accident. Bounds from the stage formulations (lp, milp)
 * hold only within Checkmate's class of schedules.
 */
export const BOUND_SOURCES = {
  baseCost: 'all-schedules',
  'recompute-bound': 'all-schedules',
  'closure-bound': 'all-schedules',
  'closure-swap-bound': 'all-schedules',
  'fitting-cost': 'all-schedules',
  lp: 'checkmate-class',
  milp: 'checkmate-class',
} as const satisfies Record<string, BoundScope>;

/** What proved a bound. */
export type BoundSource = keyof typeof BOUND_SOURCES;

/** A proven lower bound on the makespan and what proved it. */
export interface ProvenBound {
  makespan: number;
  source: BoundSource;
}

/**
 * Whether a source's bound still holds when the request allows swaps (a host link). Every
 * remat argument (recompute-bound, closure-bound, lp, milp) assumes a value leaves the
 * device only by a free, which a swap escapes; baseCost holds for every schedule, and so does
 * fitting-cost (inputs, output and workspace are on the device while a node computes,
 * swaps or not); closure-swap-bound is the closure bound with swaps priced by the copy
 * stream's time.
 */
export const BOUND_HOLDS_WITH_SWAPS = {
  baseCost: true,
  'recompute-bound': false,
  'closure-bound': false,
  'closure-swap-bound': true,
  'fitting-cost': true,
  lp: false,
  milp: false,
} as const satisfies Record<BoundSource, boolean>;

/**
 * The sources whose bounds account for node options (alternatives cheaper than a node's
 * own cost, encodings that stand in for recomputation): baseCost, which sums the cheapest
 * implementations, fitting-cost, which sums the cheapest that can run at the budget, the
 * stage formulations, which model the options of a graph that has them, and the remat
 * bounds, which are taken on the graph's options relaxation (bounds/relaxation.ts) when it
 * has options. A source not listed is not taken on such a graph.
 */
export const OPTION_AWARE_SOURCES: ReadonlySet<BoundSource> = new Set<BoundSource>([
  'baseCost',
  'lp',
  'milp',
  'recompute-bound',
  'closure-bound',
  'fitting-cost',
]);

/** Whether a bound from `source` holds on a graph (with or without node options). */
export function boundHolds(source: BoundSource, graphHasOptions: boolean): boolean {
  return !graphHasOptions || OPTION_AWARE_SOURCES.has(source);
}

/** The schedules a bound from `source` covers. */
export function boundScope(source: BoundSource): BoundScope {
  return BOUND_SOURCES[source];
}

export const FiguresSchema = z
  .object({
    peakBytes: z.number().describe('Replayed peak device bytes, residentBytes and workspace included'),
    computeCost: z.number().describe('Sum of the costs of compute, encode and decode steps'),
    baseCost: z.number().describe("Sum over all nodes, each once, of the cheapest implementation's cost"),
    makespan: z.number().describe('Two-stream finishing time'),
    overheadRatio: z.number().describe('makespan / baseCost'),
    transferBytes: z.number().describe('Bytes moved by swapOut and swapIn steps'),
  })
  .meta({ id: 'Figures' });

export const BoundSchema = z
  .object({
    makespan: z.number().describe('A proven lower bound on the makespan of any plan within the budget'),
    gap: z.number().describe('(predicted.makespan - bound.makespan) / predicted.makespan'),
    source: z
      .enum(Object.keys(BOUND_SOURCES) as [BoundSource, ...BoundSource[]])
      .optional()
      .describe(
        'What proved the bound (baseCost, recompute-bound, closure-bound, closure-swap-bound with a host link, fitting-cost with node options, lp, milp)',
      ),
    scope: z
      .enum(BOUND_SCOPES)
      .optional()
      .describe(
        'Which schedules the bound covers: every legal schedule (baseCost, recompute-bound, closure-bound, closure-swap-bound, fitting-cost), or only ' +
          "Checkmate's class (first computations in graph order, at most one recomputation of a node per stage: lp, milp)",
      ),
  })
  .meta({ id: 'Bound' });

export const SmallestBudgetSchema = z
  .object({
    floorBytes: z.number().describe('Proven: no legal schedule peaks lower (without a host link: no remat schedule)'),
    floorSource: z
      .enum(['contract-floor', 'closure-floor', 'arrival-floor'])
      .describe(
        "What proved the floor: the contract's (single nodes, keep nodes at the end), the closure argument, or the last-arrival argument (the nodes a node's computation needs at once, traced back to the sources; solver/bounds)",
      ),
    foundBytes: z.number().optional().describe('The smallest peak of a legal schedule found: a budget that has a plan'),
  })
  .meta({ id: 'SmallestBudget' });

/** A bracket for the smallest feasible budget: [floorBytes, foundBytes]. */
export type SmallestBudget = z.infer<typeof SmallestBudgetSchema>;

export const NodeAnnotationSchema = z
  .object({
    id: z.string(),
    computes: z.number().int().describe('Times computed (1 = never recomputed)'),
    swapOuts: z.number().int().describe('Swaps out of the value or of one of its encodings'),
    swapIns: z.number().int(),
    encodes: z.number().int().optional().describe('Encode steps (graphs with node options)'),
    decodes: z.number().int().optional().describe('Decode steps (graphs with node options)'),
  })
  .meta({ id: 'NodeAnnotation' });

export const SolverInfoSchema = z
  .object({
    name: z.string(),
    version: z.string().optional(),
    wallSeconds: z.number(),
    variables: z.number().int().optional(),
    rows: z.number().int().optional(),
    nodesExplored: z.number().int().optional(),
    stopReason: z.string().optional(),
  })
  .meta({ id: 'SolverInfo' });

/** A part of a strategy whose solver failed while the strategy went on (auto names the phase). */
export const PhaseFailureSchema = z
  .object({
    phase: z.string().describe('The phase or solve that failed (checkmate-lp, checkmate-milp, swap-milp, ...)'),
    code: z
      .enum(['MEMPLAN_ERR_SOLVER_ABORTED', 'MEMPLAN_ERR_SOLVER_FAILED'])
      .describe("MEMPLAN_ERR_SOLVER_ABORTED: the solver's WebAssembly instance aborted (its heap exhausted); else SOLVER_FAILED"),
    detail: z.string(),
  })
  .meta({ id: 'PhaseFailure' });
export type PhaseFailure = z.infer<typeof PhaseFailureSchema>;

export const PlanSchema = z
  .object({
    id: z.string().optional().describe('Set when the service stored the plan'),
    status: z.enum(PLAN_STATUSES),
    strategy: z.string(),
    budgetBytes: z.number(),
    transfer: TransferSchema.optional(),
    predicted: FiguresSchema.optional().describe('Absent when no plan within the budget exists'),
    bound: BoundSchema.optional(),
    smallestPeakBytes: z.number().optional().describe('Infeasible: the smallest peak the strategy reached'),
    smallestBudget: SmallestBudgetSchema.optional().describe(
      'Infeasible answers of auto: the smallest feasible budget lies between floorBytes (proven) and foundBytes (reached)',
    ),
    floorBytes: z.number().optional().describe('Proven lower bound on the peak of any legal schedule'),
    noRematPeakBytes: z.number().optional().describe('Peak of computing each node once and freeing after last use'),
    message: z.string().optional(),
    schedule: ScheduleSchema,
    nodes: z.array(NodeAnnotationSchema),
    solver: SolverInfoSchema.optional(),
    failures: z
      .array(PhaseFailureSchema)
      .optional()
      .describe('Phases whose solver failed; the plan is the best of the others (absent when none failed)'),
    cancelled: z
      .literal(true)
      .optional()
      .describe('The job was cancelled: this is the best plan found before the stop, with its proven gap'),
  })
  .meta({ id: 'Plan' });

export type Plan = z.infer<typeof PlanSchema>;
export type PlanStatus = (typeof PLAN_STATUSES)[number];
export type SolverInfo = z.infer<typeof SolverInfoSchema>;
