// POST /v1/plans, GET and DELETE /v1/plans/{id}, GET /v1/plans/{id}/memory.svg. The body
// is parsed and validated on a codec thread; plans are served as their checked stored text.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { MemplanError, type ErrorCode } from '../../solver/errors.js';
import { PlanSchema } from '../../solver/plan-schema.js';
import { bodyBytes } from '../codec/raw-body.js';
import { sendError } from '../errors.js';
import { unreadable } from '../jobs/store.js';
import {
  errorResponses,
  IdParamsSchema,
  JobAcceptedSchema,
  json,
  PlanDeletedSchema,
  PlanQuerySchema,
  PlanRequestSchema,
} from '../schemas/index.js';
import { checkPlanText, jobLinks, readPlan, sendJsonText } from './views.js';

/** Plan submission and stored plans. */
export const planRoutes: FastifyPluginAsyncZod = async (app) => {
  const { manager, store, codec, settings } = app.memplan;

  app.post(
    '/plans',
    {
      schema: {
        tags: ['plans'],
        summary: 'Plan a graph under a budget',
        description:
          'Validates the graph and queues a solve. With `wait` (seconds, default 5) the reply is 200 with the Plan ' +
          'when it is done by then, else 202 with the job id and its links. An identical earlier request (same graph and ' +
          'options) is answered from the store. ' +
          'The budget may be "60%", 0.6, "12GB", "800MiB", bytes, {"fraction": 0.6} or {"bytes": 123456}.',
        body: PlanRequestSchema,
        querystring: PlanQuerySchema,
        response: {
          200: json('The Plan (status optimal, feasible, timeLimit, infeasible or error; see the README)', PlanSchema),
          202: json('Not done within wait: the job, its state and its links', JobAcceptedSchema),
          ...errorResponses(400, 401, 409, 410, 413, 415, 422, 429, 500, 503),
        },
      },
    },
    async (request, reply) => {
      const prepared = await codec.run({ kind: 'preparePlan', body: bodyBytes(request.body), settings });
      if (manager.closing) throw new MemplanError('MEMPLAN_ERR_SHUTTING_DOWN');
      const owner = request.owner;
      const cached = store.findPlanByHash(prepared.hash, owner);
      if (cached) {
        // An unreadable cached plan is marked so and left out of the cache: the request is solved again.
        const checked = await checkPlanText(app, cached.id, owner, cached.planText);
        if ('text' in checked) return sendJsonText(reply.header('x-memplan-cache', 'hit'), 200, checked.text);
      }
      const job =
        manager.findActive(prepared.hash, owner) ??
        manager.submit({
          owner,
          hash: prepared.hash,
          graphText: prepared.graphText,
          graphHash: prepared.graphHash,
          options: prepared.options,
          baseCost: prepared.baseCost,
        });
      await manager.waitFor(job.id, request.query.wait * 1000);
      const current = manager.get(job.id, owner);
      if (!current) throw new MemplanError('MEMPLAN_ERR_INTERNAL', { detail: `job ${job.id} vanished` });
      const { record } = current;
      if (record.state === 'done' && record.planId) {
        const plan = await readPlan(app, record.planId, owner);
        if (!plan) throw unreadable('plan', record.planId, 'the plan is missing');
        if ('error' in plan) throw plan.error;
        return sendJsonText(reply.header('x-memplan-cache', 'miss'), 200, plan.text);
      }
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
        response: { 200: json('The stored Plan', PlanSchema), ...errorResponses(400, 401, 404, 410) },
      },
    },
    async (request, reply) => {
      const plan = await readPlan(app, request.params.id, request.owner);
      if (!plan) throw new MemplanError('MEMPLAN_ERR_NOT_FOUND', { what: 'plan', id: request.params.id });
      if ('error' in plan) throw plan.error;
      return sendJsonText(reply, 200, plan.text);
    },
  );

  app.delete(
    '/plans/:id',
    {
      schema: {
        tags: ['plans'],
        summary:
          'Delete a stored plan and its finished job (this key only); a queued or running job is cancelled with DELETE /v1/jobs/{id}',
        params: IdParamsSchema,
        response: { 200: json('Deleted', PlanDeletedSchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      if (!store.deletePlan(request.params.id, request.owner)) {
        throw new MemplanError('MEMPLAN_ERR_NOT_FOUND', { what: 'plan', id: request.params.id });
      }
      return { id: request.params.id, deleted: true as const };
    },
  );

  app.get(
    '/plans/:id/memory.svg',
    {
      schema: {
        tags: ['plans'],
        summary: "The plan's device memory over the steps, with the budget line and recompute / swap marks",
        params: IdParamsSchema,
        response: {
          200: { description: 'An SVG image', content: { 'image/svg+xml': { schema: z.string() } } },
          ...errorResponses(400, 401, 404, 410),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const stored = store.getPlan(id, request.owner);
      if (!stored) throw new MemplanError('MEMPLAN_ERR_NOT_FOUND', { what: 'plan', id });
      const graphText = store.getGraph(stored.graphHash);
      const drawn =
        graphText === undefined
          ? { problem: 'its graph is missing' }
          : await codec.run({ kind: 'renderSvg', planText: stored.planText, graphText });
      if ('problem' in drawn) {
        store.markPlanUnreadable(id, request.owner, drawn.problem);
        throw unreadable('plan', id, drawn.problem);
      }
      return reply
        .code(200)
        .header('content-type', 'image/svg+xml')
        .serializer((payload: unknown) => String(payload))
        .send(drawn.text);
    },
  );
};
