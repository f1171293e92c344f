// POST /v1/plans, GET /v1/plans/{id}, GET /v1/plans/{id}/memory.svg.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { MemplanError, type ErrorCode } from '../../solver/errors.js';
import { parseGraph } from '../../solver/graph/validate.js';
import { PlanSchema } from '../../solver/plan-schema.js';
import { strategyNames } from '../../solver/strategies/registry.js';
import { sendError } from '../errors.js';
import { requestHash } from '../jobs/store.js';
import { errorResponses, IdParamsSchema, JobAcceptedSchema, PlanQuerySchema, PlanRequestSchema } from '../schemas/index.js';
import { memorySvg } from '../svg.js';
import { jobLinks } from './views.js';

/** Plan submission and stored plans. */
export const planRoutes: FastifyPluginAsyncZod = async (app) => {
  const { manager, store, maxNodes, extraStrategies } = app.memplan;

  app.post(
    '/plans',
    {
      schema: {
        tags: ['plans'],
        summary: 'Plan a graph under a budget',
        description:
          'Validates the graph and queues a solve. With `wait` (seconds, default 5) the reply is 200 with the Plan ' +
          'when it is done by then, else 202 with the job id and its links. An identical earlier request (same graph and ' +
          'options) is answered from the store.',
        body: PlanRequestSchema,
        querystring: PlanQuerySchema,
        response: { 200: PlanSchema, 202: JobAcceptedSchema, ...errorResponses(400, 401, 409, 413, 415, 429, 500, 503) },
      },
    },
    async (request, reply) => {
      const { graph: rawGraph, ...options } = request.body;
      const graph = parseGraph(rawGraph, { maxNodes });
      const known = [...strategyNames(), ...extraStrategies];
      if (!known.includes(options.strategy)) {
        throw new MemplanError('MEMPLAN_ERR_UNKNOWN_STRATEGY', { strategy: options.strategy, known: strategyNames().join(', ') });
      }
      if (manager.closing) throw new MemplanError('MEMPLAN_ERR_SHUTTING_DOWN');
      const owner = request.owner;
      const hash = requestHash({ graph: rawGraph, options });
      const cached = store.findPlanByHash(hash, owner);
      if (cached) return reply.code(200).header('x-memplan-cache', 'hit').send(cached);
      const job = manager.findActive(hash, owner) ?? manager.submit({ owner, hash, graph: rawGraph, options, baseCost: graph.baseCost });
      await manager.waitFor(job.id, request.query.wait * 1000);
      const current = manager.get(job.id, owner);
      if (!current) throw new MemplanError('MEMPLAN_ERR_INTERNAL', { detail: `job ${job.id} vanished` });
      const { record, plan } = current;
      if (record.state === 'done' && plan) return reply.code(200).header('x-memplan-cache', 'miss').send(plan);
      if (record.state === 'failed' || record.state === 'cancelled') {
        const error = record.error ?? { code: 'MEMPLAN_ERR_INTERNAL', message: 'failed', details: {} };
        return sendError(reply, new MemplanError(error.code as ErrorCode, error.details));
      }
      return reply
        .code(202)
        .header('location', `/v1/jobs/${record.id}`)
        .send({ jobId: record.id, state: record.state, links: jobLinks(record) });
    },
  );

  app.get(
    '/plans/:id',
    {
      schema: {
        tags: ['plans'],
        summary: 'A stored plan',
        params: IdParamsSchema,
        response: { 200: PlanSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const record = store.getPlan(request.params.id, request.owner);
      if (!record) throw new MemplanError('MEMPLAN_ERR_NOT_FOUND', { what: 'plan', id: request.params.id });
      return record.plan;
    },
  );

  app.get(
    '/plans/:id/memory.svg',
    {
      schema: {
        tags: ['plans'],
        summary: "The plan's device memory over the steps, with the budget line and recompute / swap marks",
        params: IdParamsSchema,
        produces: ['image/svg+xml'],
        response: {
          200: { description: 'An SVG image', content: { 'image/svg+xml': { schema: z.string() } } },
          ...errorResponses(400, 401, 404),
        },
      },
    },
    async (request, reply) => {
      const record = store.getPlan(request.params.id, request.owner);
      if (!record) throw new MemplanError('MEMPLAN_ERR_NOT_FOUND', { what: 'plan', id: request.params.id });
      const svg = memorySvg(parseGraph(record.graph, { maxNodes: Number.MAX_SAFE_INTEGER }), record.plan);
      return reply
        .code(200)
        .header('content-type', 'image/svg+xml')
        .serializer((payload: unknown) => String(payload))
        .send(svg);
    },
  );
};
