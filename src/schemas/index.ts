// Request and response schemas of the HTTP API, composed from the solver's contract
// schemas (Graph, Plan, PlanOptions, Step, Transfer). They are the single source of
// validation, TypeScript types and the OpenAPI document; nothing here redefines the contract.
import { z } from 'zod';
import { ERROR_CATALOGUE, type ErrorCode } from '../../solver/errors.js';
import { GraphSchema, type Graph } from '../../solver/graph/schema.js';
import { PlanSchema, FiguresSchema, NodeAnnotationSchema } from '../../solver/plan-schema.js';
import { PlanOptionsSchema } from '../../solver/plan.js';
import { StepSchema, TransferSchema } from '../../solver/schedule/types.js';

/** A small training graph: the example Swagger UI sends as it is. */
export const EXAMPLE_GRAPH: Graph = {
  name: 'tiny-chain',
  nodes: [
    { id: 'x', kind: 'input', bytes: 100, cost: 0 },
    { id: 'f0', op: 'conv', inputs: ['x'], bytes: 100, cost: 10 },
    { id: 'f1', op: 'relu', inputs: ['f0'], bytes: 100, cost: 10 },
    { id: 'f2', op: 'conv', inputs: ['f1'], bytes: 100, cost: 10 },
    { id: 'f3', op: 'relu', inputs: ['f2'], bytes: 100, cost: 10 },
    { id: 'f4', op: 'conv', inputs: ['f3'], bytes: 100, cost: 10 },
    { id: 'f5', op: 'relu', inputs: ['f4'], bytes: 100, cost: 10 },
    { id: 'loss', kind: 'loss', inputs: ['f5'], bytes: 4, cost: 1 },
    { id: 'g5', kind: 'backward', inputs: ['loss', 'f4', 'f5'], bytes: 100, cost: 20 },
    { id: 'g4', kind: 'backward', inputs: ['g5', 'f3', 'f4'], bytes: 100, cost: 20 },
    { id: 'g3', kind: 'backward', inputs: ['g4', 'f2', 'f3'], bytes: 100, cost: 20 },
    { id: 'g2', kind: 'backward', inputs: ['g3', 'f1', 'f2'], bytes: 100, cost: 20 },
    { id: 'g1', kind: 'backward', inputs: ['g2', 'f0', 'f1'], bytes: 100, cost: 20 },
    { id: 'g0', kind: 'backward', inputs: ['g1', 'f0'], bytes: 100, cost: 20 },
  ],
};

/** The example plan request of the docs. */
export const EXAMPLE_PLAN_REQUEST = { graph: EXAMPLE_GRAPH, budget: { fraction: 0.8 }, strategy: 'auto', timeLimitSeconds: 1 };

/** POST /v1/plans body: a graph and the plan options of the solver's contract. */
export const PlanRequestSchema = PlanOptionsSchema.extend({ graph: GraphSchema }).meta({
  id: 'PlanRequest',
  description: 'A graph, a device budget and solver options',
  example: EXAMPLE_PLAN_REQUEST,
});
export type PlanRequest = z.input<typeof PlanRequestSchema>;

export const PlanQuerySchema = z.object({
  wait: z.coerce
    .number()
    .min(0)
    .max(60)
    .default(5)
    .describe('Seconds to wait for the plan: 200 with the Plan if done by then, else 202 with the job'),
});

export const IdParamsSchema = z.object({ id: z.string().min(1).max(128) });

/** The catalogued error body every 4xx and 5xx reply carries. */
export const ErrorSchema = z
  .object({
    code: z.enum(Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).describe('Names the culprit: node, field, path, step'),
  })
  .meta({ id: 'Error' });

export const JOB_STATES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** What a running job has found so far. */
export const JobProgressSchema = z
  .object({
    elapsedSeconds: z.number(),
    incumbent: z.number().optional().describe('Replayed makespan of the best plan so far'),
    peakBytes: z.number().optional(),
    bound: z.number().optional().describe('Best proven lower bound on the makespan'),
    gap: z.number().optional().describe('(incumbent - bound) / incumbent'),
    strategy: z.string().optional(),
    message: z.string().optional(),
  })
  .meta({ id: 'JobProgress' });
export type JobProgress = z.infer<typeof JobProgressSchema>;

export const JobLinksSchema = z.object({
  self: z.string(),
  events: z.string(),
  plan: z.string().optional(),
  memorySvg: z.string().optional(),
});

export const JobSchema = z
  .object({
    id: z.string(),
    state: z.enum(JOB_STATES),
    createdAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    strategy: z.string(),
    progress: JobProgressSchema.optional(),
    plan: PlanSchema.optional().describe('When done'),
    error: ErrorSchema.optional().describe('When failed or cancelled'),
    links: JobLinksSchema,
  })
  .meta({ id: 'Job' });
export type Job = z.infer<typeof JobSchema>;

export const JobListSchema = z.object({ jobs: z.array(JobSchema.omit({ plan: true })) }).meta({ id: 'JobList' });

export const JobListQuerySchema = z.object({
  state: z.enum(JOB_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export const AnalyzeRequestSchema = z.object({ graph: GraphSchema }).meta({
  id: 'AnalyzeRequest',
  example: { graph: EXAMPLE_GRAPH },
});

export const GraphStatsSchema = z
  .object({
    nodes: z.number().int(),
    edges: z.number().int(),
    forwardNodes: z.number().int(),
    baseCost: z.number(),
    residentBytes: z.number(),
    keepBytes: z.number(),
    noRematPeakBytes: z.number(),
    floorBytes: z.number().describe('Proven lower bound on the peak of any legal schedule without swaps'),
    floorWithSwapsBytes: z.number(),
    articulationPoints: z.number().int(),
  })
  .meta({ id: 'GraphStats' });

const EXAMPLE_SCHEDULE = EXAMPLE_GRAPH.nodes.map((node) => ({ op: 'compute' as const, node: node.id }));

export const SimulateRequestSchema = z
  .object({
    graph: GraphSchema,
    schedule: z.array(StepSchema).max(1_000_000),
    transfer: TransferSchema.optional().describe('The host link; needed when the schedule swaps'),
    budgetBytes: z.number().int().nonnegative().optional().describe('When given, the reply says whether the peak fits'),
    timeline: z.boolean().default(true).describe('Include the per-step timeline'),
  })
  .meta({ id: 'SimulateRequest', example: { graph: EXAMPLE_GRAPH, schedule: EXAMPLE_SCHEDULE } });

export const TimelineRowSchema = z
  .object({
    step: z.number().int(),
    op: StepSchema.shape.op,
    node: z.string(),
    bytes: z.number().describe('Device bytes while the step runs'),
    bytesAfter: z.number(),
    start: z.number(),
    end: z.number(),
  })
  .meta({ id: 'TimelineRow' });

export const SimulateResponseSchema = z
  .object({
    figures: FiguresSchema,
    fitsBudget: z.boolean().optional(),
    nodes: z.array(NodeAnnotationSchema),
    timeline: z.array(TimelineRowSchema).optional(),
  })
  .meta({ id: 'SimulateResponse' });

export const StrategyInfoSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    options: z.array(z.string()),
    usesTransfer: z.boolean(),
  })
  .meta({ id: 'StrategyInfo' });

export const StrategiesResponseSchema = z.object({ strategies: z.array(StrategyInfoSchema) });

export const JobAcceptedSchema = z
  .object({
    jobId: z.string(),
    state: z.enum(JOB_STATES),
    links: JobLinksSchema,
  })
  .meta({ id: 'JobAccepted' });

export const HealthSchema = z.object({
  status: z.enum(['ok', 'shutting-down']),
  uptimeSeconds: z.number(),
  workers: z.number().int(),
  busyWorkers: z.number().int(),
  queued: z.number().int(),
});

/** Error replies shared by the routes, for the OpenAPI document. */
export function errorResponses<const S extends readonly number[]>(...statuses: S): Record<S[number], typeof ErrorSchema> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorSchema])) as Record<S[number], typeof ErrorSchema>;
}
