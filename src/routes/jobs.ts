// GET /v1/jobs, GET /v1/jobs/{id}, GET /v1/jobs/{id}/events (SSE), DELETE /v1/jobs/{id}.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { MemplanError } from '../../solver/errors.js';
import type { JobEvent } from '../jobs/manager.js';
import { errorResponses, IdParamsSchema, JobListQuerySchema, JobListSchema, JobSchema } from '../schemas/index.js';
import { jobView } from './views.js';

const HEARTBEAT_MS = 15_000;

function sseFrame(event: JobEvent): string {
  return `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** Job state, events and cancellation. */
export const jobRoutes: FastifyPluginAsyncZod = async (app) => {
  const { manager, store } = app.memplan;

  app.get(
    '/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: "This key's latest jobs, newest first",
        querystring: JobListQuerySchema,
        response: { 200: JobListSchema, ...errorResponses(400, 401) },
      },
    },
    async (request) => {
      const records = store.listJobs(request.owner, request.query.limit, request.query.state);
      // Live jobs carry fresher progress than the store.
      return { jobs: records.map((record) => jobView(manager.get(record.id, request.owner)?.record ?? record)) };
    },
  );

  app.get(
    '/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'A job: state, progress (incumbent, bound, gap, elapsed), the Plan when done',
        params: IdParamsSchema,
        response: { 200: JobSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const found = manager.get(request.params.id, request.owner);
      if (!found) throw new MemplanError('MEMPLAN_ERR_NOT_FOUND', { what: 'job', id: request.params.id });
      return jobView(found.record, found.plan);
    },
  );

  app.get(
    '/jobs/:id/events',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Server-Sent Events: one `progress` per improving plan or bound, then `plan` (or `error` / `cancelled`)',
        params: IdParamsSchema,
        produces: ['text/event-stream'],
        response: {
          200: { description: 'An event stream', content: { 'text/event-stream': { schema: z.string() } } },
          ...errorResponses(400, 401, 404),
        },
      },
    },
    async (request, reply) => {
      const owner = request.owner;
      const found = manager.get(request.params.id, owner);
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
      const heartbeat = setInterval(() => raw.write(': ping\n\n'), HEARTBEAT_MS);
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
        raw.write(sseFrame(event));
        if (event.event !== 'progress') setImmediate(end);
      };
      unsubscribe = manager.subscribe(request.params.id, owner, listener);
      if (unsubscribe) return;
      // Not live: the job is final; answer from the store.
      const { record, plan } = manager.get(request.params.id, owner) ?? found;
      if (record.state === 'done' && plan) listener({ event: 'plan', data: plan });
      else if (record.state === 'cancelled' && record.error) listener({ event: 'cancelled', data: record.error });
      else
        listener({
          event: 'error',
          data: record.error ?? new MemplanError('MEMPLAN_ERR_INTERNAL', { detail: 'the job has no result' }).toJSON(),
        });
    },
  );

  app.delete(
    '/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Cancel a job; the solve stops within a second. A finished job is returned as it is',
        params: IdParamsSchema,
        response: { 200: JobSchema, ...errorResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const record = manager.cancel(request.params.id, request.owner);
      if (!record) throw new MemplanError('MEMPLAN_ERR_NOT_FOUND', { what: 'job', id: request.params.id });
      return jobView(record);
    },
  );
};
