// The heavy per-request work of the service, kept off the event loop: parsing and
// validating request bodies (up to the body limit, 32 MiB by default), hashing graphs,
// replaying client schedules, checking stored plans and drawing SVGs. Each task is a pure
// function from text to a result or a MemplanError; src/codec/worker.ts runs them on a
// codec thread, and tests may call them directly.
import { createHash } from 'node:crypto';
import { isMemplanError, MemplanError } from '../../solver/errors.js';
import { assertFinite, findNonFinite } from '../../solver/finite.js';
import { graphStats } from '../../solver/schedule/graph-stats.js';
import { ANALYZE_BRACKET_SECONDS } from '../../solver/limits.js';
import { smallestBudget } from '../../solver/scale/bracket.js';
import { Clock } from '../../solver/util/clock.js';
import { GraphSchema } from '../../solver/graph/schema.js';
import { parseGraph } from '../../solver/graph/validate.js';
import { PlanSchema, type Plan } from '../../solver/plan-schema.js';
import type { PlanOptions } from '../../solver/plan.js';
import type { ParsedSweepOptions } from '../../solver/sweep/schema.js';
import { parseSweepOptions } from '../../solver/sweep/sweep.js';
import { z } from 'zod';
import { simulate } from '../../solver/schedule/simulate.js';
import { validationToError } from '../errors.js';
import {
  AnalyzeRequestSchema,
  GraphStatsSchema,
  PlanRequestSchema,
  SimulateRequestSchema,
  SimulateResponseSchema,
} from '../schemas/index.js';
import { memorySvg } from '../svg.js';

/** What a codec task needs to know about the server's limits. */
export interface CodecSettings {
  maxNodes: number;
  /** The server's cap on timeLimitSeconds. */
  maxTimeLimitSeconds: number;
  /** Strategy names the service accepts. */
  strategies: readonly string[];
}

/** A validated plan request, ready for the job manager. */
export interface PreparedPlan {
  /** The plan options, defaults filled in and the budget resolved to {fraction} or {bytes}. */
  options: PlanOptions;
  /** The cache key: sha256 of the graph's hash and the options. */
  hash: string;
  /** sha256 of graphText: stored graphs are deduplicated by it. */
  graphHash: string;
  /** The validated graph's canonical JSON (zod's output: known keys only, in the schema's order), as the store keeps it. */
  graphText: string;
  baseCost: number;
}

/** A reply body the route sends as it is. */
export interface TextReply {
  text: string;
}

/** sha256 in hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Parses a JSON body as fastify would, with its errors in the catalogue. */
function parseBody(text: string): unknown {
  if (text.length === 0) throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path: 'body', detail: 'the body is empty' });
  try {
    // JSON.parse makes "__proto__" an own key, never a prototype; the request schemas then
    // keep known keys only, so no client key reaches an object's prototype chain.
    return JSON.parse(text);
  } catch (error) {
    throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path: 'body', detail: `not valid JSON: ${(error as Error).message}` });
  }
}

/** Rejects a graph with too many nodes before anything else looks at it. */
function countNodesFirst(body: unknown, maxNodes: number): void {
  const nodes = (body as { graph?: { nodes?: unknown } } | null)?.graph?.nodes;
  if (Array.isArray(nodes) && nodes.length > maxNodes) {
    throw new MemplanError('MEMPLAN_ERR_TOO_MANY_NODES', { count: nodes.length, limit: maxNodes });
  }
}

/** Validates a body against a request schema; a failure becomes the catalogued error naming the culprit. */
function validate<T>(
  schema: { safeParse: (value: unknown) => { success: true; data: T } | { success: false; error: { issues: ZodIssueLike[] } } },
  body: unknown,
  maxNodes: number,
): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ instancePath: `/${issue.path.join('/')}`, message: issue.message }));
  throw validationToError('body', issues, body, maxNodes);
}

interface ZodIssueLike {
  path: PropertyKey[];
  message: string;
}

/** POST /v1/plans: the body validated, the graph checked, the cache key computed. */
export function preparePlan(text: string, settings: CodecSettings): PreparedPlan {
  const body = parseBody(text);
  countNodesFirst(body, settings.maxNodes);
  const request = validate(PlanRequestSchema, body, settings.maxNodes);
  const { graph, ...options } = request;
  const indexed = parseGraph(graph, { maxNodes: settings.maxNodes });
  if (!settings.strategies.includes(options.strategy)) {
    const known = settings.strategies.filter((name) => !name.startsWith('test:')).join(', ');
    throw new MemplanError('MEMPLAN_ERR_UNKNOWN_STRATEGY', { strategy: options.strategy, known });
  }
  if (options.timeLimitSeconds > settings.maxTimeLimitSeconds) {
    throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', {
      path: 'body.timeLimitSeconds',
      detail: `${options.timeLimitSeconds} is above this server's cap of ${settings.maxTimeLimitSeconds} seconds`,
    });
  }
  // zod's output keeps the schema's key order, so its JSON is canonical: equal graphs give
  // equal text whatever the order of keys the client sent.
  const graphText = JSON.stringify(graph);
  const graphHash = sha256(graphText);
  const hash = sha256(`${graphHash}\n${JSON.stringify(options)}`);
  return { options, hash, graphHash, graphText, baseCost: indexed.baseCost };
}

/** A validated sweep request, ready for the job manager. */
export interface PreparedSweep extends Omit<PreparedPlan, 'options'> {
  /** The sweep options, defaults filled in and budgets resolved to {fraction} or {bytes}. */
  options: ParsedSweepOptions;
}

const GraphOnlySchema = z.object({ graph: GraphSchema });

/** POST /v1/sweeps: the graph validated and checked, the options parsed (errors name the field under body.), the job key computed. */
export function prepareSweep(text: string, settings: CodecSettings): PreparedSweep {
  const body = parseBody(text);
  countNodesFirst(body, settings.maxNodes);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path: 'body', detail: 'expected a JSON object' });
  }
  const { graph: rawGraph, ...rawOptions } = body as Record<string, unknown>;
  const { graph } = validate(GraphOnlySchema, { graph: rawGraph }, settings.maxNodes);
  const indexed = parseGraph(graph, { maxNodes: settings.maxNodes });
  let options: ParsedSweepOptions;
  try {
    options = parseSweepOptions(rawOptions);
  } catch (error) {
    if (isMemplanError(error) && error.code === 'MEMPLAN_ERR_INVALID_REQUEST') {
      throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { ...error.details, path: `body.${error.details.path}` });
    }
    throw error;
  }
  if (!settings.strategies.includes(options.strategy) || options.strategy.startsWith('test:')) {
    const known = settings.strategies.filter((name) => !name.startsWith('test:')).join(', ');
    throw new MemplanError('MEMPLAN_ERR_UNKNOWN_STRATEGY', { strategy: options.strategy, known });
  }
  if (options.timeLimitSeconds > settings.maxTimeLimitSeconds) {
    throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', {
      path: 'body.timeLimitSeconds',
      detail: `${options.timeLimitSeconds} is above this server's cap of ${settings.maxTimeLimitSeconds} seconds`,
    });
  }
  const graphText = JSON.stringify(graph);
  const graphHash = sha256(graphText);
  const hash = sha256(`sweep\n${graphHash}\n${JSON.stringify(options)}`);
  return { options, hash, graphHash, graphText, baseCost: indexed.baseCost };
}

/** POST /v1/analyze: the graph's statistics, every figure finite. */
export function analyze(text: string, settings: CodecSettings): TextReply {
  const body = parseBody(text);
  countNodesFirst(body, settings.maxNodes);
  const request = validate(AnalyzeRequestSchema, body, settings.maxNodes);
  const graph = parseGraph(request.graph, { maxNodes: settings.maxNodes });
  // The bracket of the smallest feasible budget is a short search (ANALYZE_BRACKET_SECONDS).
  const bracket = smallestBudget(graph, { deadline: Clock.deadline(ANALYZE_BRACKET_SECONDS) });
  const stats = assertFinite('statistics', { ...graphStats(graph), smallestBudget: bracket });
  return { text: JSON.stringify(GraphStatsSchema.encode(stats)) };
}

/** POST /v1/simulate: the replay's figures and one page of its timeline; an illegal step throws its 422. */
export function simulateRequest(text: string, settings: CodecSettings): TextReply {
  const body = parseBody(text);
  countNodesFirst(body, settings.maxNodes);
  const request = validate(SimulateRequestSchema, body, settings.maxNodes);
  const graph = parseGraph(request.graph, { maxNodes: settings.maxNodes });
  const replay = simulate(graph, request.schedule, {
    transfer: request.transfer,
    timeline: request.timeline,
    timelineFrom: request.timelineFrom,
    timelineLimit: request.timelineLimit,
  });
  if (!replay.ok) throw replay.error;
  const figures = assertFinite('replay', replay.figures);
  const fitsBudget = request.budgetBytes === undefined ? undefined : figures.peakBytes <= request.budgetBytes;
  const reply = SimulateResponseSchema.encode({
    ok: fitsBudget !== false,
    legal: true,
    figures,
    fitsBudget,
    nodes: replay.counts.map((count, node) => ({ id: graph.ids[node], ...count })),
    timeline: replay.timeline,
    timelineFrom: request.timeline ? request.timelineFrom : undefined,
    timelineTotal: request.timeline ? request.schedule.length : undefined,
  });
  return { text: JSON.stringify(reply) };
}

/** Why a stored plan cannot be served, or undefined when it can. */
export function planProblem(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'the plan is not JSON';
  }
  const parsed = PlanSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `the plan does not match the Plan schema at ${issue.path.join('.') || '(root)'}: ${issue.message}`;
  }
  const nonFinite = findNonFinite(parsed.data);
  if (nonFinite) return `the plan's ${nonFinite.field} is not finite`;
  return undefined;
}

/** Why a stored graph cannot be used, or undefined when it can. */
function graphProblem(text: string): string | undefined {
  try {
    parseGraph(GraphSchema.parse(JSON.parse(text)), { maxNodes: Number.MAX_SAFE_INTEGER });
    return undefined;
  } catch (error) {
    return isMemplanError(error) ? `the graph is invalid: ${error.message}` : 'the graph is not a valid Graph';
  }
}

/** GET /v1/plans/{id}/memory.svg: the picture, or a problem with the stored plan or graph. */
export function renderSvg(planText: string, graphText: string): TextReply | { problem: string } {
  const problem = planProblem(planText) ?? graphProblem(graphText);
  if (problem) return { problem };
  const plan = JSON.parse(planText) as Plan;
  const graph = parseGraph(JSON.parse(graphText), { maxNodes: Number.MAX_SAFE_INTEGER });
  return { text: memorySvg(graph, plan) };
}
