// Request and response schemas of the HTTP API, composed from the solver's contract
// schemas (Graph, Plan, PlanOptions, Step, Transfer). They are the single source of
// validation, TypeScript types and the OpenAPI document; nothing here redefines the contract.
import { z } from 'zod';
import { ERROR_CATALOGUE, type ErrorCode } from '../../solver/errors.js';
import { GraphSchema, type Graph } from '../../solver/graph/schema.js';
import { PlanSchema, FiguresSchema, NodeAnnotationSchema, SmallestBudgetSchema } from '../../solver/plan-schema.js';
import { PlanOptionsSchema } from '../../solver/plan.js';
import { StepSchema, TransferSchema } from '../../solver/schedule/types.js';
import { noRematSteps } from '../../solver/schedule/no-remat.js';
import { parseGraph } from '../../solver/graph/validate.js';
import { eligibleForms, lower, mapSteps, preferredImplementations } from '../../solver/schedule/lower.js';
import { toSchedule } from '../../solver/schedule/simulate.js';
import {
  MAX_BUDGET_BYTES,
  MAX_ID_LENGTH,
  MAX_JOB_LIST,
  MAX_PLAN_WAIT_SECONDS,
  MAX_SIMULATE_STEPS,
  MAX_TIMELINE_ROWS,
} from '../../solver/limits.js';

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

/**
 * The example plan request of the docs: at 90 % of the no-remat peak auto recomputes one
 * node and proves the plan optimal over every schedule within a fraction of a second.
 */
export const EXAMPLE_PLAN_REQUEST = { graph: EXAMPLE_GRAPH, budget: '90%', strategy: 'auto', timeLimitSeconds: 10 };

/**
 * The example graph with node options: each ReLU output has a 1-bit mask its backward
 * users read (Gist), the first convolution's output a compressed form that decodes
 * (cDMA), and each convolution a faster algorithm that needs workspace.
 */
export const EXAMPLE_OPTIONS_GRAPH: Graph = {
  name: 'tiny-chain-with-options',
  nodes: EXAMPLE_GRAPH.nodes.map((node) => {
    const readers = EXAMPLE_GRAPH.nodes.filter((user) => user.kind === 'backward' && user.inputs?.includes(node.id)).map((user) => user.id);
    if (node.op === 'relu') return { ...node, encodings: [{ name: 'mask', bytes: 4, encodeCost: 1, readers }] };
    if (node.op !== 'conv') return node;
    const withAlternative = { ...node, alternatives: [{ name: 'winograd', cost: 7, workspaceBytes: 150 }] };
    return node.id === 'f0'
      ? { ...withAlternative, encodings: [{ name: 'zvc', bytes: 50, encodeCost: 2, decodeCost: 2 }] }
      : withAlternative;
  }),
};

/** The example plan request with node options: at 60 % auto keeps masks for the backward pass and picks algorithms. */
export const EXAMPLE_OPTIONS_PLAN_REQUEST = { graph: EXAMPLE_OPTIONS_GRAPH, budget: '60%', strategy: 'auto', timeLimitSeconds: 10 };

/** Gist's schedule of the example graph with options (masks after the last forward use, the faster algorithms). */
function exampleOptionsSchedule() {
  const graph = parseGraph(EXAMPLE_OPTIONS_GRAPH);
  const choice = { forms: eligibleForms(graph, { decodes: false }), alternatives: preferredImplementations(graph, 'cost') };
  const lowered = lower(graph, choice);
  return toSchedule(graph, mapSteps(lowered, noRematSteps(lowered.graph), choice));
}

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
    .max(MAX_PLAN_WAIT_SECONDS)
    .default(5)
    .describe('Seconds to wait for the plan: 200 with the Plan if done by then, else 202 with the job'),
});

export const IdParamsSchema = z.object({ id: z.string().min(1).max(MAX_ID_LENGTH) });

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

export const JOB_KINDS = ['plan', 'sweep'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

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
    pointsDone: z.number().int().optional().describe('A sweep: budgets done so far'),
    points: z.number().int().optional().describe('A sweep: budgets in all'),
  })
  .meta({ id: 'JobProgress' });
export type JobProgress = z.infer<typeof JobProgressSchema>;

export const JobLinksSchema = z.object({
  self: z.string(),
  events: z.string(),
  plan: z.string().optional(),
  memorySvg: z.string().optional(),
  sweep: z.string().optional().describe('A sweep job: its result'),
  paretoSvg: z.string().optional().describe('A sweep job: its Pareto plot'),
});

export const JobSchema = z
  .object({
    id: z.string(),
    kind: z.enum(JOB_KINDS).default('plan').describe('A plan (POST /v1/plans) or a sweep (POST /v1/sweeps)'),
    state: z.enum(JOB_STATES),
    createdAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    strategy: z.string(),
    progress: JobProgressSchema.optional(),
    plan: PlanSchema.optional().describe('When done; when cancelled after a plan was found, that plan (Plan.cancelled)'),
    error: ErrorSchema.optional().describe('When failed or cancelled'),
    links: JobLinksSchema,
  })
  .meta({ id: 'Job' });
export type Job = z.infer<typeof JobSchema>;

export const JobListSchema = z.object({ jobs: z.array(JobSchema.omit({ plan: true })) }).meta({ id: 'JobList' });

export const JobListQuerySchema = z.object({
  state: z.enum(JOB_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_JOB_LIST).default(50),
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
    smallestBudget: SmallestBudgetSchema.optional().describe(
      'A bracket for the smallest feasible budget without swaps: a proven floor and the smallest peak a short search reached',
    ),
  })
  .meta({ id: 'GraphStats' });

/** The no-remat schedule of the example graph: each value freed after its last use. */
const EXAMPLE_SCHEDULE = toSchedule(parseGraph(EXAMPLE_GRAPH), noRematSteps(parseGraph(EXAMPLE_GRAPH)));

/** The simulate request with node options: the example graph with options and Gist's schedule of it (encode and alt steps). */
export const EXAMPLE_OPTIONS_SIMULATE_REQUEST = { graph: EXAMPLE_OPTIONS_GRAPH, schedule: exampleOptionsSchedule() };

/** Named request examples Swagger UI offers beside each schema's own (src/openapi.ts puts them in the document). */
export const REQUEST_EXAMPLES: Record<string, Record<string, { summary: string; value: unknown }>> = {
  '/v1/plans': {
    'tiny-chain': { summary: 'A 14-node training step at 90 % of its no-remat peak', value: EXAMPLE_PLAN_REQUEST },
    'node-options': {
      summary: 'The same step with Gist masks, a compressed form and faster convolutions, at 60 %',
      value: EXAMPLE_OPTIONS_PLAN_REQUEST,
    },
  },
  '/v1/simulate': {
    'tiny-chain': { summary: 'The no-remat schedule of the 14-node step', value: { graph: EXAMPLE_GRAPH, schedule: EXAMPLE_SCHEDULE } },
    'node-options': { summary: 'A schedule with encode steps and alternatives', value: EXAMPLE_OPTIONS_SIMULATE_REQUEST },
  },
};

export const SimulateRequestSchema = z
  .object({
    graph: GraphSchema,
    schedule: z.array(StepSchema).max(MAX_SIMULATE_STEPS),
    transfer: TransferSchema.optional().describe('The host link; needed when the schedule swaps'),
    budgetBytes: z.number().int().min(0).max(MAX_BUDGET_BYTES).optional().describe('When given, the reply says whether the peak fits'),
    timeline: z.boolean().default(true).describe('Include the per-step timeline (one page of it, see timelineFrom and timelineLimit)'),
    timelineFrom: z.number().int().min(0).default(0).describe('First step of the timeline page'),
    timelineLimit: z
      .number()
      .int()
      .min(1)
      .max(MAX_TIMELINE_ROWS)
      .default(MAX_TIMELINE_ROWS)
      .describe(`Most timeline rows in the reply (at most ${MAX_TIMELINE_ROWS})`),
  })
  .meta({ id: 'SimulateRequest', example: { graph: EXAMPLE_GRAPH, schedule: EXAMPLE_SCHEDULE } });

export const TimelineRowSchema = z
  .object({
    step: z.number().int(),
    op: StepSchema.shape.op,
    node: z.string(),
    alt: z.string().optional().describe("The alternative a compute used, when not the node's own"),
    encoding: z.string().optional().describe('The encoding the step made, read or moved'),
    bytes: z.number().describe('Device bytes while the step runs'),
    bytesAfter: z.number(),
    start: z.number(),
    end: z.number(),
  })
  .meta({ id: 'TimelineRow' });

export const SimulateResponseSchema = z
  .object({
    ok: z.boolean().describe('The schedule is legal and, when budgetBytes was given, its peak fits'),
    legal: z.literal(true).describe('Always true in a 200 reply: an illegal schedule is answered 422 naming the step'),
    figures: FiguresSchema,
    fitsBudget: z.boolean().optional().describe('Whether the peak is within budgetBytes, when given'),
    nodes: z.array(NodeAnnotationSchema),
    timeline: z.array(TimelineRowSchema).optional().describe('One page of the per-step timeline'),
    timelineFrom: z.number().int().optional().describe('The first step of the page'),
    timelineTotal: z
      .number()
      .int()
      .optional()
      .describe('Steps in the schedule: the timeline has more pages when above timelineFrom + rows'),
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

/** DELETE /v1/plans/{id}: what went. */
export const PlanDeletedSchema = z.object({ id: z.string(), deleted: z.literal(true) }).meta({ id: 'PlanDeleted' });

export const HealthSchema = z.object({
  status: z.enum(['ok', 'shutting-down', 'degraded']).describe('degraded: scaled out, the job queue (Redis) cannot be reached'),
  uptimeSeconds: z.number(),
  workers: z.number().int().describe("Solver threads: this process's, or scaled out every worker process's"),
  busyWorkers: z.number().int(),
  queued: z.number().int(),
  mode: z.enum(['distributed']).optional().describe('Present when scaled out (MEMPLAN_REDIS_URL)'),
  queue: z.enum(['ok', 'unavailable']).optional().describe('Scaled out: whether Redis answers'),
});

/** Request schemas whose bodies a codec thread validates (src/codec/tasks.ts), not the event loop. */
export const CODEC_BODY_SCHEMAS: ReadonlySet<unknown> = new Set([PlanRequestSchema, AnalyzeRequestSchema, SimulateRequestSchema]);

/** A JSON response with its description, for the route schemas and the OpenAPI document. */
export function json<const T extends z.ZodType>(description: string, schema: T) {
  return { description, content: { 'application/json': { schema } } };
}

/** What each error status means, as the OpenAPI document describes it. */
const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: the error names the field, node or path',
  401: 'A valid API key is required',
  404: 'Not found (or owned by another API key)',
  409: 'The job was cancelled',
  410: 'The stored record cannot be read; delete it and submit the request again',
  413: 'The request body is larger than the server accepts',
  415: 'The body is not application/json',
  422: 'The request is well formed but cannot be replayed or planned: the error names the step or figure',
  429: 'The queue or this key is at its limit; retry after Retry-After seconds',
  500: 'The solver or its worker failed',
  503: 'The server is shutting down; retry after Retry-After seconds',
};

/** Error replies shared by the routes (always JSON, whatever the route's success type), for the OpenAPI document. */
export function errorResponses<const S extends readonly number[]>(
  ...statuses: S
): Record<S[number], ReturnType<typeof json<typeof ErrorSchema>>> {
  return Object.fromEntries(statuses.map((status) => [status, json(ERROR_DESCRIPTIONS[status] ?? 'Error', ErrorSchema)])) as Record<
    S[number],
    ReturnType<typeof json<typeof ErrorSchema>>
  >;
}
