// The sweep contract (../shared/DESIGN.md, "Sweeps"): a budget axis in one request, and
// what comes back (one point per budget, the Pareto points, the knee), with two inverse
// questions on the same axis as a consistent superset (the smallest budget within an
// overhead cap, the smallest feasible budget). One schema per contract type; the service
// composes its request and reply schemas from these.
import { z } from 'zod';
import { BudgetSchema } from '../budget.js';
import { MemplanError } from '../errors.js';
import { DEFAULT_KNEE_SLOPE, DEFAULT_SWEEP_POINTS, MAX_OVERHEAD_CAP, MAX_SWEEP_POINTS } from '../limits.js';
import { BoundSchema, FiguresSchema, PLAN_STATUSES } from '../plan-schema.js';
import { PlanOptionsSchema } from '../plan.js';
import { TransferSchema } from '../schedule/types.js';

/** The shapes an overhead cap may take, for error messages. */
export const OVERHEAD_SHAPES = 'a percentage ("5%") or a fraction (0.05) of baseCost';

/** Reads an overhead cap ("5%" or 0.05) as a fraction, or says what is wrong with it. */
function overheadOf(value: unknown): { cap?: number; problem?: string } {
  let cap: number | undefined;
  if (typeof value === 'number') cap = value;
  else if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(%)?\s*$/.exec(value);
    if (match) cap = match[2] ? Number(match[1]) / 100 : Number(match[1]);
  }
  if (cap === undefined || !Number.isFinite(cap)) return { problem: `${JSON.stringify(value)?.slice(0, 64)}: expected ${OVERHEAD_SHAPES}` };
  if (cap < 0 || cap > MAX_OVERHEAD_CAP)
    return { problem: `${JSON.stringify(value)?.slice(0, 64)}: the cap must be in [0, ${MAX_OVERHEAD_CAP}]` };
  return { cap };
}

/** Parses an overhead cap ("5%" or 0.05) to a fraction of baseCost; throws MEMPLAN_ERR_INVALID_REQUEST naming the field. */
export function parseOverheadCap(value: unknown, path = 'maxOverhead'): number {
  const { cap, problem } = overheadOf(value);
  if (cap !== undefined) return cap;
  throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path, detail: problem });
}

/** An overhead cap: the most extra time over baseCost a plan may take, "5%" or 0.05. */
export const OverheadCapSchema = z
  .union([z.number(), z.string().max(32)])
  .transform((value, context) => {
    const { cap, problem } = overheadOf(value);
    if (cap !== undefined) return cap;
    context.addIssue({ code: 'custom', message: problem ?? 'invalid', input: value });
    return z.NEVER;
  })
  .meta({
    id: 'OverheadCap',
    description: `The most extra time a plan may take over baseCost: ${OVERHEAD_SHAPES}. 5 % means makespan / baseCost <= 1.05.`,
    examples: ['5%', 0.05],
  });

/** Budgets spread evenly in bytes from `from` to `to`. */
export const SweepRangeSchema = z
  .object({
    from: z
      .union([z.literal('floor'), BudgetSchema])
      .prefault('floor')
      .describe('The smallest budget: "floor" (the proven floor, the default) or a budget'),
    to: BudgetSchema.prefault('100%').describe('The largest budget (default "100%", the no-remat peak)'),
    points: z
      .number()
      .int()
      .min(2)
      .max(MAX_SWEEP_POINTS)
      .default(DEFAULT_SWEEP_POINTS)
      .describe(`How many budgets, evenly spaced in bytes, both ends included (2 to ${MAX_SWEEP_POINTS})`),
  })
  .strict()
  .meta({ id: 'SweepRange' });

const { strategy, relativeGap, formulation, transfer } = PlanOptionsSchema.shape;

/** A sweep's options: the budgets, the strategy options of a plan, and the inverse questions. */
export const SweepOptionsObject = z.object({
  budgets: z
    .union([z.array(BudgetSchema).max(MAX_SWEEP_POINTS), SweepRangeSchema])
    .prefault({})
    .describe(
      'A list of budgets, or {from, to, points}; default {from: "floor", to: "100%", points: 10}. Points come back in increasing ' +
        'budget, one per distinct budget. An empty list asks the inverse questions only.',
    ),
  strategy,
  timeLimitSeconds: PlanOptionsSchema.shape.timeLimitSeconds.describe(
    'Wall-clock limit for the whole sweep, points and inverse questions together, in seconds (a service may set a lower cap)',
  ),
  relativeGap,
  formulation,
  transfer,
  maxOverhead: OverheadCapSchema.optional().describe(
    'Also answer: the smallest budget whose plan stays within this overhead, bracketed with a statement about the budget 1 % of ' +
      'the no-remat peak below it (a proof that none exists there, or that none was found)',
  ),
  smallestFeasible: z
    .boolean()
    .default(false)
    .describe('Also answer: the smallest feasible budget, bracketed (the proven floor, the smallest budget with a plan found)'),
  kneeSlope: z
    .number()
    .min(0)
    .max(1000)
    .default(DEFAULT_KNEE_SLOPE)
    .describe(
      'The knee is the first Pareto point after which more memory buys less than this much time per budget (time as a fraction ' +
        'of baseCost, budget as a fraction of the no-remat peak): 0.1, the default, is 1 % of time per 10 % of budget',
    ),
});

/** True when the options ask something: budgets, or an inverse question with an empty budget list. */
export function asksSomething(options: { budgets: unknown[] | object; maxOverhead?: number; smallestFeasible: boolean }): boolean {
  return !Array.isArray(options.budgets) || options.budgets.length > 0 || options.maxOverhead !== undefined || options.smallestFeasible;
}

/** The message and path of the check above. */
export const ASKS_SOMETHING = {
  message: 'an empty budget list needs an inverse question (maxOverhead or smallestFeasible)',
  path: ['budgets'],
};

/** A sweep's options: the budgets, the strategy options of a plan, and the inverse questions. */
export const SweepOptionsSchema = SweepOptionsObject.refine(asksSomething, ASKS_SOMETHING).meta({ id: 'SweepOptions' });

export type SweepOptions = z.input<typeof SweepOptionsSchema>;
export type ParsedSweepOptions = z.output<typeof SweepOptionsSchema>;

/** One budget of a sweep: the best plan known at it (its own or one from a smaller budget) and the best bound. */
export const SweepPointSchema = z
  .object({
    budgetBytes: z.number(),
    fraction: z.number().describe('budgetBytes / noRematPeakBytes'),
    status: z.enum(PLAN_STATUSES),
    planId: z.string().optional().describe('The plan at this budget: GET /v1/plans/{planId}'),
    predicted: FiguresSchema.optional().describe("The plan's replayed figures; absent when no plan was found"),
    bound: BoundSchema.optional().describe('The best proven bound at this budget (carried down from larger budgets)'),
    smallestPeakBytes: z.number().optional().describe('No plan: the smallest peak reached'),
    seconds: z.number().describe("Time spent solving at this budget (0 when a smaller budget's plan was already proven here)"),
    message: z.string().optional(),
  })
  .meta({ id: 'SweepPoint' });
export type SweepPoint = z.infer<typeof SweepPointSchema>;

/** What an inverse search says about the budget just below its answer. */
export const BelowAnswerSchema = z
  .object({
    budgetBytes: z.number(),
    fraction: z.number(),
    proven: z.boolean().describe('True when no plan (within the cap) can exist at this budget'),
    reason: z
      .enum(['below-floor', 'infeasible', 'bound', 'none-found'])
      .describe(
        'below-floor: under the proven floor; infeasible: proven that no plan fits; bound: a proven bound above the cap; ' +
          'none-found: nothing was found and nothing is proven',
      ),
    bound: BoundSchema.optional().describe('The best proven bound at this budget, with its gap to the best plan found there (if any)'),
    boundOverheadRatio: z.number().optional().describe('bound.makespan / baseCost'),
    bestOverheadRatio: z.number().optional().describe('The best plan found at this budget (above the cap)'),
    statement: z.string(),
  })
  .meta({ id: 'BelowAnswer' });

/** The smallest budget whose plan stays within an overhead cap. */
export const OverheadAnswerSchema = z
  .object({
    maxOverhead: z.number().describe('The cap, a fraction of baseCost'),
    budgetBytes: z.number().describe('The answer B: the peak of the smallest plan found within the cap (the plan fits at B)'),
    fraction: z.number(),
    planId: z.string().optional(),
    predicted: FiguresSchema,
    bound: BoundSchema.optional(),
    below: BelowAnswerSchema.describe('B minus 1 % of the no-remat peak'),
    provenBelowBytes: z.number().optional().describe('The largest budget proven to have no plan within the cap'),
    evaluations: z.number().int(),
    seconds: z.number(),
    statement: z.string(),
  })
  .meta({ id: 'OverheadAnswer' });
export type OverheadAnswer = z.infer<typeof OverheadAnswerSchema>;

/** The smallest feasible budget, bracketed. */
export const FeasibleAnswerSchema = z
  .object({
    provenFloorBytes: z.number().describe('No plan exists below this budget (proven)'),
    foundBytes: z.number().describe("The smallest budget with a plan found: that plan's peak"),
    fraction: z.number().describe('foundBytes / noRematPeakBytes'),
    tight: z.boolean().describe('The bracket is closed: foundBytes equals provenFloorBytes'),
    planId: z.string().optional(),
    predicted: FiguresSchema,
    evaluations: z.number().int(),
    seconds: z.number(),
    statement: z.string(),
  })
  .meta({ id: 'FeasibleAnswer' });
export type FeasibleAnswer = z.infer<typeof FeasibleAnswerSchema>;

/** A sweep's result. */
export const SweepResultSchema = z
  .object({
    strategy: z.string(),
    transfer: TransferSchema.optional().describe('The host link, when swaps were allowed'),
    floorBytes: z.number().describe('Proven lower bound on the peak of any legal schedule'),
    noRematPeakBytes: z.number(),
    baseCost: z.number(),
    points: z.array(SweepPointSchema).describe('One per distinct budget, in increasing budget'),
    pareto: z.array(z.number().int()).describe('Indices of the points no other point beats in both budget and makespan'),
    knee: z.number().int().optional().describe('Index of the knee point (see kneeSlope)'),
    kneeSlope: z.number(),
    maxOverhead: OverheadAnswerSchema.optional(),
    smallestFeasible: FeasibleAnswerSchema.optional(),
    timeLimitSeconds: z.number(),
    wallSeconds: z.number(),
  })
  .meta({ id: 'SweepResult' });
export type SweepResult = z.infer<typeof SweepResultSchema>;
