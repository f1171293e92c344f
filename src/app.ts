// build(): the fastify application with its schemas, docs, store, worker pool and job
// manager. It never listens; src/server.ts does.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { MemplanError } from '../solver/errors.js';
import { DEFAULT_MAX_NODES } from '../solver/limits.js';
import { catalogueMarkdown, sendError, toMemplanError } from './errors.js';
import { JobManager } from './jobs/manager.js';
import { WorkerPool } from './jobs/pool.js';
import { Store } from './jobs/store.js';
import { jobRoutes } from './routes/jobs.js';
import { planRoutes } from './routes/plans.js';
import { systemRoutes } from './routes/system.js';
import { toolRoutes } from './routes/tools.js';

export const API_VERSION = '0.1.0';

export interface BuildOptions {
  /** ':memory:' or a directory; default MEMPLAN_DATA_DIR or ./data. */
  dataDir?: string;
  /** Worker threads; default MEMPLAN_WORKERS or the machine's cores. */
  workers?: number;
  /** Jobs that may wait for a worker; default MEMPLAN_MAX_QUEUE or 64. */
  maxQueue?: number;
  /** Request body limit in bytes; default MEMPLAN_BODY_LIMIT or 32 MiB. */
  bodyLimit?: number;
  /** Node limit of a graph; default MEMPLAN_MAX_NODES or the solver's default. */
  maxNodes?: number;
  /** API keys; default MEMPLAN_API_KEYS (comma-separated). None: no key needed. */
  apiKeys?: string[];
  /** How long shutdown lets running jobs finish; default 10 s. */
  shutdownGraceMs?: number;
  logger?: boolean;
  /** Internal knobs for the service's own tests; not part of the public API. */
  internal?: { testStrategies?: boolean; cancelGraceMs?: number; watchdogGraceSeconds?: number };
}

/** The service's parts, reachable from routes and from server.ts. */
export interface MemplanContext {
  store: Store;
  pool: WorkerPool;
  manager: JobManager;
  maxNodes: number;
  /** Strategy names the workers accept beyond the registry (internal test ones). */
  extraStrategies: string[];
  startedAt: number;
  /** Stops taking jobs, finishes or fails running ones, closes the store. */
  shutdown: () => Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    memplan: MemplanContext;
  }
  interface FastifyRequest {
    /** The API key's owner id ('' when keys are off). */
    owner: string;
  }
}

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** The owner id of an API key: a hash, so keys never reach the store. */
export function ownerOf(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

function apiKeyOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && /^Bearer\s+/i.test(authorization)) return authorization.replace(/^Bearer\s+/i, '').trim();
  return undefined;
}

/** Builds the application; see BuildOptions. Call close() to stop its workers and store. */
export async function build(options: BuildOptions = {}): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? envNumber('MEMPLAN_BODY_LIMIT') ?? 32 * 1024 * 1024;
  const maxNodes = options.maxNodes ?? envNumber('MEMPLAN_MAX_NODES') ?? DEFAULT_MAX_NODES;
  const keys = (options.apiKeys ?? (process.env.MEMPLAN_API_KEYS ?? '').split(',')).map((key) => key.trim()).filter((key) => key !== '');
  const owners = new Set(keys.map(ownerOf));
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    // Graph ids are plain strings; never let JSON keys touch prototypes.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    forceCloseConnections: 'idle',
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON only: a text body would otherwise reach validation as a string.
  app.removeContentTypeParser('text/plain');

  const store = new Store(options.dataDir ?? process.env.MEMPLAN_DATA_DIR ?? './data');
  store.failInterrupted();
  const pool = new WorkerPool({
    size: options.workers ?? envNumber('MEMPLAN_WORKERS') ?? availableParallelism(),
    testStrategies: options.internal?.testStrategies,
    cancelGraceMs: options.internal?.cancelGraceMs,
  });
  const manager = new JobManager(store, pool, {
    maxQueue: options.maxQueue ?? envNumber('MEMPLAN_MAX_QUEUE'),
    watchdogGraceSeconds: options.internal?.watchdogGraceSeconds,
  });
  let shutdownPromise: Promise<void> | undefined;
  const shutdown = () => {
    shutdownPromise ??= manager.shutdown(options.shutdownGraceMs ?? 10_000).finally(() => store.close());
    return shutdownPromise;
  };
  app.decorate('memplan', {
    store,
    pool,
    manager,
    maxNodes,
    extraStrategies: options.internal?.testStrategies ? ['test:slow', 'test:spin', 'test:abort', 'test:throw'] : [],
    startedAt: Date.now(),
    shutdown,
  });
  app.decorateRequest('owner', '');
  app.addHook('onClose', async () => {
    await shutdown();
  });

  app.setErrorHandler((error, request, reply) => {
    const mapped = toMemplanError(error, request, maxNodes);
    if (mapped.status >= 500) request.log.error({ err: error }, mapped.message);
    return sendError(reply, mapped);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new MemplanError('MEMPLAN_ERR_NOT_FOUND', { what: 'route', id: `${request.method} ${request.url.split('?')[0]}` })),
  );

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'memplan',
        version: API_VERSION,
        description: [
          'Memory planning for training steps: POST a computation graph and a device budget, get a schedule',
          '(keep, free and recompute, swap) with predicted peak, predicted time and a certified lower bound.',
          '',
          'Errors are `{code, message, details}` with `details` naming the culprit. The catalogue:',
          '',
          catalogueMarkdown(),
        ].join('\n'),
      },
      components: {
        securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
      },
      // Keys are optional: a server started without MEMPLAN_API_KEYS needs none.
      security: [{}, { apiKey: [] }],
      tags: [
        { name: 'plans', description: 'Plan a graph under a budget' },
        { name: 'jobs', description: 'Follow and cancel solves' },
        { name: 'tools', description: 'Analyze graphs, replay schedules, list strategies' },
        { name: 'system', description: 'Health and metrics' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    uiConfig: { tryItOutEnabled: false, deepLinking: true, displayRequestDuration: true },
  });

  await app.register(
    async (v1) => {
      v1.addHook('onRequest', async (request, reply) => {
        if (owners.size === 0) return;
        const key = apiKeyOf(request.headers);
        const owner = key === undefined ? undefined : ownerOf(key);
        if (owner === undefined || !owners.has(owner)) return sendError(reply, new MemplanError('MEMPLAN_ERR_UNAUTHORIZED'));
        request.owner = owner;
      });
      const typed = v1.withTypeProvider<ZodTypeProvider>();
      await typed.register(planRoutes);
      await typed.register(jobRoutes);
      await typed.register(toolRoutes);
    },
    { prefix: '/v1' },
  );
  await app.register(systemRoutes);
  return app;
}
