// POST /v1/analyze, POST /v1/simulate, GET /v1/strategies.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { graphStats } from '../../solver/schedule/graph-stats.js';
import { parseGraph } from '../../solver/graph/validate.js';
import { simulate } from '../../solver/schedule/simulate.js';
import { STRATEGIES } from '../../solver/strategies/registry.js';
import {
  AnalyzeRequestSchema,
  errorResponses,
  GraphStatsSchema,
  SimulateRequestSchema,
  SimulateResponseSchema,
  StrategiesResponseSchema,
} from '../schemas/index.js';

/** Graph statistics, schedule replay and the strategy list. */
export const toolRoutes: FastifyPluginAsyncZod = async (app) => {
  const { maxNodes } = app.memplan;

  app.post(
    '/analyze',
    {
      schema: {
        tags: ['tools'],
        summary: "A graph's statistics before planning: nodes, edges, baseCost, no-remat peak, proven floor, keep bytes",
        body: AnalyzeRequestSchema,
        response: { 200: GraphStatsSchema, ...errorResponses(400, 401, 413, 415) },
      },
    },
    async (request) => graphStats(parseGraph(request.body.graph, { maxNodes })),
  );

  app.post(
    '/simulate',
    {
      schema: {
        tags: ['tools'],
        summary: "Replay a client's own schedule: legality, figures and the per-step timeline",
        description: 'An illegal step is answered 422 with the step index and node; a swap without `transfer` is 400.',
        body: SimulateRequestSchema,
        response: { 200: SimulateResponseSchema, ...errorResponses(400, 401, 413, 415, 422) },
      },
    },
    async (request) => {
      const { graph: rawGraph, schedule, transfer, budgetBytes, timeline } = request.body;
      const graph = parseGraph(rawGraph, { maxNodes });
      const replay = simulate(graph, schedule, { transfer, timeline });
      if (!replay.ok) throw replay.error;
      return {
        figures: replay.figures,
        fitsBudget: budgetBytes === undefined ? undefined : replay.figures.peakBytes <= budgetBytes,
        nodes: replay.counts.map((count, node) => ({ id: graph.ids[node], ...count })),
        timeline: replay.timeline,
      };
    },
  );

  app.get(
    '/strategies',
    {
      schema: {
        tags: ['tools'],
        summary: 'Strategies: names, one-line descriptions, the options that apply',
        response: { 200: StrategiesResponseSchema, ...errorResponses(401) },
      },
    },
    async () => ({
      strategies: STRATEGIES.map((strategy) => ({
        name: strategy.name,
        description: strategy.description,
        options: [...strategy.options],
        usesTransfer: strategy.usesTransfer ?? false,
      })),
    }),
  );
};
