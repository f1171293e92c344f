// GET /v1/jobs, GET /v1/jobs/{id}, GET /v1/jobs/{id}/events (SSE), DELETE /v1/jobs/{id}.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { MemplanError } from '../../solver/errors.js';
import { SSE_HEARTBEAT_MS } from '../../solver/limits.js';
import { type JobRecord, unreadable } from '../jobs/job-store.js';
import type { JobEvent } from '../jobs/lifecycle.js';
import { errorResponses, IdParamsSchema, JobListQuerySchema, JobListSchema, JobSchema, json } from '../schemas/index.js';
import { failedView, jobJson, jobView, readPlan, sendJsonText } from './views.js';

function sseFrame(event: string, dataJson: string): string {
  return `event: ${event}\ndata: ${dataJson}\n\n`;
}

/** Job state, events and cancellation. */
export const jobRoutes: FastifyPluginAsyncZod = async (app) => {
  const { jobs, jobStore: store } = app.memplan;

  /**
   * A finished job's plan text (a cancelled job's too, when it kept its best plan), or the
   * job turned failed when its stored plan cannot be read.
   */
  const withPlan = async (record: JobRecord, owner: string) => {
    const view = jobView(record);
    if ((record.state !== 'done' && record.state !== 'cancelled') || !record.planId) return { view };
    const plan = await readPlan(app, record.planId, owner);
    if (plan && 'text' in plan) return { view, planText: plan.text };
    if (record.state === 'cancelled') return { view };
    const error =
      plan?.error ?? new MemplanError('MEMPLAN_ERR_STORED_RECORD_INVALID', { what: 'plan', id: record.planId, detail: 'missing' });
    return { view: failedView(view, error), error };
  };

  app.get(
    '/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: "This key's latest jobs, newest first",
        querystring: JobListQuerySchema,
        response: { 200: json('The jobs, without their plans', JobListSchema), ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const records = await store.listJobs(request.owner, request.query.limit, request.query.state);
      // Live jobs carry fresher progress than the store (in this process; the store is fresh enough otherwise).
      const live = jobs.mode === 'local' ? await Promise.all(records.map((record) => jobs.get(record.id, request.owner))) : [];
      return { jobs: records.map((record, position) => jobView(live[position]?.record ?? record)) };
    },
  );

  app.get(
    '/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'A job: state, progress (incumbent, bound, gap, elapsed), the Plan when done',
        params: IdParamsSchema,
        response: { 200: json('The job', JobSchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const found = await jobs.get(request.params.id, request.owner);
      if (!found) throw new MemplanError('MEMPLAN_ERR_NOT_FOUND', { what: 'job', id: request.params.id });
      const { view, planText } = await withPlan(found.record, request.owner);
      return sendJsonText(reply, 200, jobJson(view, planText));
    },
  );

  app.get(
    '/jobs/:id/events',
    {
      schema: {
        tags: ['jobs'],
        summary:
          'Server-Sent Events: one "progress" event per improving plan or bound (a sweep: per budget done), then "plan" ' +
          '(a sweep: "sweep") or "error" or "cancelled"',
        params: IdParamsSchema,
        response: {
          200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } },
          ...errorResponses(400, 401, 404),
        },
      },
    },
    async (request, reply) => {
      const owner = request.owner;
      const found = await jobs.get(request.params.id, owner);
      if (!found) throw new MemplanError('MEMPLAN_ERR_NOT_FOUND', { what: 'job', id: request.params.id });
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write('retry: 2000\n\n');
      let ended = false;
      let unsubscribe: (() => void) | undefined;
      const heartbeat = setInterval(() => raw.write(': ping\n\n'), SSE_HEARTBEAT_MS);
      heartbeat.unref();
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        unsubscribe?.();
        raw.end();
      };
      request.raw.on('close', end);
      const listener = (event: JobEvent) => {
        if (ended) return;
        raw.write(sseFrame(event.event, event.event === 'plan' || event.event === 'sweep' ? event.text : JSON.stringify(event.data)));
        if (event.event !== 'progress') setImmediate(end);
      };
      unsubscribe = await jobs.subscribe(request.params.id, owner, listener);
      if (unsubscribe) {
        // The stream may have ended (or the client left) while the subscription was made.
        if (ended) unsubscribe();
        return;
      }
      // Not live: the job is final; answer from the store (its plan checked first).
      const { record } = (await jobs.get(request.params.id, owner)) ?? found;
      if (record.kind === 'sweep' && record.state === 'done') {
        // The result as stored; GET /v1/sweeps/{id} checks it against its schema before serving it.
        const text = await store.getSweep(record.id, owner);
        if (ended) return;
        raw.write(
          text === undefined
            ? sseFrame('error', JSON.stringify(unreadable('sweep', record.id, 'the result is missing').toJSON()))
            : sseFrame('sweep', text),
        );
        setImmediate(end);
        return;
      }
      const { planText, error } = await withPlan(record, owner);
      if (ended) return;
      // A cancelled job ends its stream with "cancelled" (its kept plan is named in the error's details).
      if (record.state === 'cancelled' && record.error && !error) raw.write(sseFrame('cancelled', JSON.stringify(record.error)));
      else if (planText !== undefined) raw.write(sseFrame('plan', planText));
      else {
        const reported =
          error?.toJSON() ?? record.error ?? new MemplanError('MEMPLAN_ERR_INTERNAL', { detail: 'the job has no result' }).toJSON();
        raw.write(sseFrame('error', JSON.stringify(reported)));
      }
      setImmediate(end);
    },
  );

  app.delete(
    '/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary:
          'Cancel a job: a queued one leaves the queue, a running one stops within about 250 ms and keeps the best plan it had ' +
          '(state cancelled, with that plan and its gap). A finished job is returned as it is',
        params: IdParamsSchema,
        response: { 200: json('The job after the cancel', JobSchema), ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const record = await jobs.cancel(request.params.id, request.owner);
      if (!record) throw new MemplanError('MEMPLAN_ERR_NOT_FOUND', { what: 'job', id: request.params.id });
      const { view, planText } = await withPlan({ ...record }, request.owner);
      return sendJsonText(reply, 200, jobJson(view, planText));
    },
  );
};
