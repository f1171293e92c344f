// GET /health, GET /metrics (Prometheus text) and GET /openapi.json. None touches a
// worker, so all answer while solves run. /health needs no key; /metrics needs one when
// API keys are on (MEMPLAN_METRICS_KEY, else any API key) unless MEMPLAN_METRICS_PUBLIC=1.
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { SOLVE_BUCKETS } from '../jobs/manager.js';
import { MemplanError } from '../../solver/errors.js';
import { sendError } from '../errors.js';
import { errorResponses, HealthSchema, JOB_STATES, json } from '../schemas/index.js';

/** Renders the service's metrics in the Prometheus text format. */
export function renderMetrics(app: FastifyInstance): string {
  const { manager, pool, store } = app.memplan;
  const stored = store.db.open ? store.countJobs() : {};
  const live = manager.liveCounts();
  const lines: string[] = [];
  lines.push('# HELP memplan_jobs Jobs by state (queued and running are live; the rest are stored).');
  lines.push('# TYPE memplan_jobs gauge');
  for (const state of JOB_STATES) {
    const count = state === 'queued' || state === 'running' ? (live[state] ?? 0) : (stored[state] ?? 0);
    lines.push(`memplan_jobs{state="${state}"} ${count}`);
  }
  lines.push('# HELP memplan_queue_length Jobs waiting for a worker.');
  lines.push('# TYPE memplan_queue_length gauge');
  lines.push(`memplan_queue_length ${manager.queued}`);
  lines.push('# HELP memplan_workers Worker threads started and busy.');
  lines.push('# TYPE memplan_workers gauge');
  lines.push(`memplan_workers{state="started"} ${pool.workers}`);
  lines.push(`memplan_workers{state="busy"} ${pool.busy}`);
  lines.push('# HELP memplan_worker_crashes_total Worker threads that stopped unexpectedly.');
  lines.push('# TYPE memplan_worker_crashes_total counter');
  lines.push(`memplan_worker_crashes_total ${pool.crashes}`);
  lines.push('# HELP memplan_solve_seconds Wall seconds from job start to its end.');
  lines.push('# TYPE memplan_solve_seconds histogram');
  const histogram = manager.solveSeconds;
  SOLVE_BUCKETS.forEach((bound, position) => {
    lines.push(`memplan_solve_seconds_bucket{le="${bound}"} ${histogram.buckets[position]}`);
  });
  lines.push(`memplan_solve_seconds_bucket{le="+Inf"} ${histogram.count}`);
  lines.push(`memplan_solve_seconds_sum ${histogram.sum}`);
  lines.push(`memplan_solve_seconds_count ${histogram.count}`);
  return `${lines.join('\n')}\n`;
}

/** /health, /metrics and the root redirect to the docs. */
export async function systemRoutes(app: FastifyInstance): Promise<void> {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get(
    '/health',
    { schema: { tags: ['system'], summary: 'Liveness and load', security: [], response: { 200: json('The server is up', HealthSchema) } } },
    async () => {
      const { manager, pool, startedAt } = app.memplan;
      return {
        status: manager.closing ? ('shutting-down' as const) : ('ok' as const),
        uptimeSeconds: (Date.now() - startedAt) / 1000,
        workers: pool.size,
        busyWorkers: pool.busy,
        queued: manager.queued,
      };
    },
  );
  typed.get(
    '/metrics',
    {
      schema: {
        tags: ['system'],
        summary: 'Prometheus metrics: jobs by state, solve seconds, queue (needs a key when API keys are on)',
        response: {
          200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } },
          ...errorResponses(401),
        },
      },
    },
    async (request, reply) => {
      if (!app.memplan.metricsAccess(request.headers)) return sendError(reply, new MemplanError('MEMPLAN_ERR_UNAUTHORIZED'));
      return reply
        .header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
        .serializer((payload: unknown) => String(payload))
        .send(renderMetrics(app));
    },
  );
  // The OpenAPI document, also served by Swagger UI at /docs/json.
  typed.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) =>
    reply
      .type('application/json; charset=utf-8')
      .serializer((payload: unknown) => JSON.stringify(payload))
      .send(app.swagger()),
  );
  typed.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/docs'));
}
