// POST /v1/sweeps, GET /v1/sweeps/{id}, GET /v1/sweeps/{id}/pareto.svg. A sweep is a job
// like a plan: progress over GET /v1/jobs/{id}/events, cancel with DELETE /v1/jobs/{id};
// each point's plan is a stored plan (GET /v1/plans/{planId}). The body is parsed and
// validated on a codec thread; results are served as their checked stored text. Sweeps
// run wherever plans do: on this process's threads, or on `memplan worker` processes.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { type ErrorCode, MemplanError } from '../../solver/errors.js';
import { findNonFinite } from '../../solver/finite.js';
import { type SweepResult, SweepResultSchema } from '../../solver/sweep/schema.js';
import { bodyBytes } from '../codec/raw-body.js';
import { sendError } from '../errors.js';
import { type JobRecord, unreadable as unreadableRecord } from '../jobs/job-store.js';
import { paretoSvg } from '../pareto-svg.js';
import { errorResponses, IdParamsSchema, JobAcceptedSchema, JobSchema, json } from '../schemas/index.js';
import { SweepQuerySchema, SweepRequestSchema } from '../schemas/sweeps.js';
import { jobLinks, jobView, sendJsonText } from './views.js';

/** A stored sweep result, checked before it is served; a result that cannot be read answers 410. */
async function readSweep(app: FastifyInstance, id: string, owner: string): Promise<{ text: string; result: SweepResult }> {
  const text = await app.memplan.jobStore.getSweep(id, owner);
  const unreadable = (detail: string) => unreadableRecord('sweep', id, detail);
  if (text === undefined) throw unreadable('the result is missing');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw unreadable('the result is not JSON');
  }
  const parsed = SweepResultSchema.safeParse(value);
  if (!parsed.success) throw unreadable(`the result does not match the SweepResult schema at ${parsed.error.issues[0].path.join('.')}`);
  const nonFinite = findNonFinite(parsed.data);
  if (nonFinite) throw unreadable(`the result's ${nonFinite.field} is not finite`);
  return { text, result: parsed.data };
}

/** A failed or cancelled sweep job answers its error. */
function sendJobError(reply: FastifyReply, record: JobRecord): FastifyReply {
  const error = record.error ?? { code: 'MEMPLAN_ERR_INTERNAL', message: 'failed', details: {} };
  return sendError(reply, new MemplanError(error.code as ErrorCode, error.details));
}

/** Sweep submission, results and the Pareto picture. */
export const sweepRoutes: FastifyPluginAsyncZod = async (app) => {
  const { jobs, codec, settings } = app.memplan;

  /** This owner's sweep job, or 404. */
  const sweepJob = async (id: string, owner: string): Promise<JobRecord> => {
    const found = await jobs.get(id, owner);
    if (found?.record.kind !== 'sweep') throw new MemplanError('MEMPLAN_ERR_NOT_FOUND', { what: 'sweep', id });
    return found.record;
  };

  app.post(
    '/sweeps',
    {
      schema: {
        tags: ['sweeps'],
        summary: 'Plan a graph at many budgets in one job, and answer the inverse questions',
        description:
          'Validates the graph and queues a sweep: one plan per budget (a list, or {from, to, points}), solved in increasing budget, ' +
          'each seeded with the plans of the smaller budgets; makespans never increase with the budget and bounds never decrease as it ' +
          'shrinks. The result marks the Pareto points and the knee. With maxOverhead it also answers the smallest budget whose plan ' +
          'stays within that overhead; with smallestFeasible, the smallest feasible budget, bracketed. timeLimitSeconds is for the whole ' +
          'sweep. With `wait` (seconds, default 5) the reply is 200 with the result when done by then, else 202 with the job: follow ' +
          'it with GET /v1/sweeps/{id} or GET /v1/jobs/{id}/events, cancel it with DELETE /v1/jobs/{id}.',
        body: SweepRequestSchema,
        querystring: SweepQuerySchema,
        response: {
          200: json('The result: points, Pareto indices, knee and the answers asked for', SweepResultSchema),
          202: json('Not done within wait: the job, its state and its links', JobAcceptedSchema),
          ...errorResponses(400, 401, 409, 410, 413, 415, 422, 429, 500, 503),
        },
      },
    },
    async (request, reply) => {
      const prepared = await codec.run({ kind: 'prepareSweep', body: bodyBytes(request.body), settings });
      if (jobs.closing) throw new MemplanError('MEMPLAN_ERR_SHUTTING_DOWN');
      const owner = request.owner;
      const job =
        (await jobs.findActive(prepared.hash, owner)) ??
        (await jobs.submit({
          owner,
          hash: prepared.hash,
          graphText: prepared.graphText,
          graphHash: prepared.graphHash,
          options: { budget: '100%', strategy: prepared.options.strategy },
          baseCost: prepared.baseCost,
          kind: 'sweep',
          sweep: prepared.options,
        }));
      await jobs.waitFor(job.id, request.query.wait * 1000, owner);
      const record = await sweepJob(job.id, owner);
      if (record.state === 'done') return sendJsonText(reply, 200, (await readSweep(app, record.id, owner)).text);
      if (record.state === 'failed' || record.state === 'cancelled') return sendJobError(reply, record);
      return reply
        .code(202)
        .header('location', `/v1/sweeps/${record.id}`)
        .send({ jobId: record.id, state: record.state, links: jobLinks(record) });
    },
  );

  app.get(
    '/sweeps/:id',
    {
      schema: {
        tags: ['sweeps'],
        summary: "A sweep's result when it is done (200), or its job while it is queued or running (202)",
        params: IdParamsSchema,
        response: {
          200: json('The result', SweepResultSchema),
          202: json('The job, with its progress (points done)', JobSchema),
          ...errorResponses(400, 401, 404, 409, 410, 500, 503),
        },
      },
    },
    async (request, reply) => {
      const record = await sweepJob(request.params.id, request.owner);
      if (record.state === 'done') return sendJsonText(reply, 200, (await readSweep(app, record.id, request.owner)).text);
      if (record.state === 'failed' || record.state === 'cancelled') return sendJobError(reply, record);
      return reply.code(202).send(jobView(record));
    },
  );

  app.get(
    '/sweeps/:id/pareto.svg',
    {
      schema: {
        tags: ['sweeps'],
        summary: 'The Pareto plot: makespan / baseCost against budget, the bound as a band, floor, no-remat peak and knee marked',
        params: IdParamsSchema,
        response: {
          200: { description: 'An SVG image', content: { 'image/svg+xml': { schema: z.string() } } },
          202: json('Not done yet: the job', JobSchema),
          ...errorResponses(400, 401, 404, 409, 410, 500, 503),
        },
      },
    },
    async (request, reply) => {
      const record = await sweepJob(request.params.id, request.owner);
      if (record.state === 'failed' || record.state === 'cancelled') return sendJobError(reply, record);
      if (record.state !== 'done') return reply.code(202).send(jobView(record));
      const { result } = await readSweep(app, record.id, request.owner);
      return reply
        .code(200)
        .header('content-type', 'image/svg+xml')
        .serializer((payload: unknown) => String(payload))
        .send(paretoSvg(result, `memplan sweep ${record.id}`));
    },
  );
};
