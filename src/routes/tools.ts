// POST /v1/analyze, POST /v1/simulate, GET /v1/strategies. The bodies (up to the body
// limit) are parsed, validated and replayed on a codec thread; the replies come back as text.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { STRATEGIES } from '../../solver/strategies/registry.js';
import { bodyBytes } from '../codec/raw-body.js';
import {
  AnalyzeRequestSchema,
  errorResponses,
  GraphStatsSchema,
  json,
  SimulateRequestSchema,
  SimulateResponseSchema,
  StrategiesResponseSchema,
} from '../schemas/index.js';
import { sendJsonText } from './views.js';

/** Graph statistics, schedule replay and the strategy list. */
export const toolRoutes: FastifyPluginAsyncZod = async (app) => {
  const { codec, settings } = app.memplan;

  app.post(
    '/analyze',
    {
      schema: {
        tags: ['tools'],
        summary: "A graph's statistics before planning: nodes, edges, baseCost, no-remat peak, proven floor, keep bytes",
        body: AnalyzeRequestSchema,
        response: { 200: json("The graph's statistics", GraphStatsSchema), ...errorResponses(400, 401, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const { text } = await codec.run({ kind: 'analyze', body: bodyBytes(request.body), settings });
      return sendJsonText(reply, 200, text);
    },
  );

  app.post(
    '/simulate',
    {
      schema: {
        tags: ['tools'],
        summary: "Replay a client's own schedule: legality, figures and the per-step timeline",
        description:
          'An illegal step is answered 422 with the step index and node; a swap without `transfer` is 400. The reply says `ok` ' +
          '(legal, and within `budgetBytes` when given) and carries one page of the timeline (`timelineFrom`, `timelineLimit`).',
        body: SimulateRequestSchema,
        response: {
          200: json('The replay: ok, figures, per-node counts and a page of the timeline', SimulateResponseSchema),
          ...errorResponses(400, 401, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const { text } = await codec.run({ kind: 'simulate', body: bodyBytes(request.body), settings });
      return sendJsonText(reply, 200, text);
    },
  );

  app.get(
    '/strategies',
    {
      schema: {
        tags: ['tools'],
        summary: 'Strategies: names, one-line descriptions, the options that apply',
        response: { 200: json('The strategies', StrategiesResponseSchema), ...errorResponses(401) },
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
