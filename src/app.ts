// build(): the fastify application with its schemas, docs, store, worker pool and job
// manager. It never listens; src/server.ts does.
// Three deployments, chosen by the environment (or BuildOptions):
// - neither MEMPLAN_REDIS_URL nor MEMPLAN_DATABASE_URL (the default): jobs on this
//   process's worker threads (jobs/manager.ts), jobs and plans in SQLite; nothing else runs;
// - MEMPLAN_DATABASE_URL only: the same, with jobs and plans in PostgreSQL;
// - MEMPLAN_REDIS_URL: a stateless API process (jobs/distributed/jobs.ts): jobs go through
//   a BullMQ queue to `memplan worker` processes, in PostgreSQL (MEMPLAN_DATABASE_URL) or
//   the SQLite file of a data directory the processes share on one machine.
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { MemplanError } from '../solver/errors.js';
import {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_NODES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RETENTION_HOURS,
  DEFAULT_SERVICE_MAX_TIME_LIMIT_SECONDS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  DEFAULT_TIMEOUT_CHECK_INTERVAL_MS,
  MAX_ID_LENGTH,
  MAX_TIME_LIMIT_SECONDS,
  RETENTION_SWEEP_INTERVAL_MS,
} from '../solver/limits.js';
import { strategyNames } from '../solver/strategies/registry.js';
import { CodecPool } from './codec/pool.js';
import { RawBody } from './codec/raw-body.js';
import type { CodecSettings } from './codec/tasks.js';
import { catalogueMarkdown, clientError, sendError, toMemplanError } from './errors.js';
import { openapiComponents } from './openapi.js';
import { CODEC_BODY_SCHEMAS } from './schemas/index.js';
import { SweepRequestSchema } from './schemas/sweeps.js';
import { redisSettingsFromEnv } from './jobs/distributed/settings.js';
import type { Awaitable, Deleted, JobStore } from './jobs/job-store.js';
import { JobManager } from './jobs/manager.js';
import { WorkerPool } from './jobs/pool.js';
import type { JobService } from './jobs/service.js';
import { openStore } from './jobs/open-store.js';
import { Store } from './jobs/store.js';
import { jobRoutes } from './routes/jobs.js';
import { planRoutes } from './routes/plans.js';
import { sweepRoutes } from './routes/sweeps.js';
import { systemRoutes } from './routes/system.js';
import { toolRoutes } from './routes/tools.js';

export const API_VERSION = '0.1.0';

export interface BuildOptions {
  /** ':memory:' or a directory; default MEMPLAN_DATA_DIR or ./data. */
  dataDir?: string;
  /** Worker threads; default MEMPLAN_WORKERS or the machine's cores. */
  workers?: number;
  /** Threads that parse, validate and serialize big bodies; default MEMPLAN_CODEC_WORKERS or 1. */
  codecWorkers?: number;
  /** Jobs that may wait for a worker; default MEMPLAN_MAX_QUEUE or 64. */
  maxQueue?: number;
  /** Queued plus running jobs per API key; default MEMPLAN_MAX_JOBS_PER_KEY or 16. */
  maxJobsPerKey?: number;
  /** Cap on a request's timeLimitSeconds; default MEMPLAN_MAX_TIME_LIMIT or 600. */
  maxTimeLimitSeconds?: number;
  /** Request body limit in bytes; default MEMPLAN_BODY_LIMIT or 32 MiB. */
  bodyLimit?: number;
  /** Node limit of a graph; default MEMPLAN_MAX_NODES or the solver's default. */
  maxNodes?: number;
  /** API keys; default MEMPLAN_API_KEYS (comma-separated). None: no key needed. */
  apiKeys?: string[];
  /** The key /metrics asks for when API keys are on; default MEMPLAN_METRICS_KEY, else any API key. */
  metricsKey?: string;
  /** Serve /metrics without a key even when API keys are on; default MEMPLAN_METRICS_PUBLIC=1. */
  metricsPublic?: boolean;
  /** Hours after which finished jobs and plans are deleted, 0 to keep them; default MEMPLAN_RETENTION_HOURS or 720. */
  retentionHours?: number;
  /** Time to receive a whole request in ms; default MEMPLAN_REQUEST_TIMEOUT_MS or 30 s. */
  requestTimeoutMs?: number;
  /** Time to receive the headers in ms; default MEMPLAN_HEADERS_TIMEOUT_MS or 10 s (at most requestTimeoutMs). */
  headersTimeoutMs?: number;
  /** Idle time after which a socket is closed, in ms; default MEMPLAN_CONNECTION_TIMEOUT_MS or 120 s. */
  connectionTimeoutMs?: number;
  /** Keep-alive time between requests in ms; default MEMPLAN_KEEP_ALIVE_TIMEOUT_MS or 5 s. */
  keepAliveTimeoutMs?: number;
  /** Open connections accepted at once; default MEMPLAN_MAX_CONNECTIONS or 1024. */
  maxConnections?: number;
  /** How long shutdown lets running jobs finish; default 10 s. */
  shutdownGraceMs?: number;
  logger?: boolean;
  /** Redis of a scaled-out deployment; default MEMPLAN_REDIS_URL. '' keeps the jobs in this process. */
  redisUrl?: string;
  /** postgres:// URL of the store; default MEMPLAN_DATABASE_URL. '' keeps SQLite. */
  databaseUrl?: string;
  /** Internal knobs for the service's own tests; not part of the public API. */
  internal?: {
    testStrategies?: boolean;
    cancelGraceMs?: number;
    watchdogGraceSeconds?: number;
    /** How often the server checks request timeouts, in ms. */
    timeoutCheckIntervalMs?: number;
  };
}

/** The service's parts, reachable from routes and from server.ts. */
export interface MemplanContext {
  /** The jobs, as the routes use them. */
  jobs: JobService;
  /** The store of jobs, plans and graphs, as the routes use it. */
  jobStore: JobStore;
  /** Solver threads of this process (none in a scaled-out API process). */
  workerThreads: number;
  /** The SQLite store (throws when the store is PostgreSQL). */
  store: Store;
  /** This process's worker threads (throws in a scaled-out API process). */
  pool: WorkerPool;
  /** The in-process job manager (throws in a scaled-out API process). */
  manager: JobManager;
  codec: CodecPool;
  /** What codec tasks check requests against. */
  settings: CodecSettings;
  maxNodes: number;
  /** Strategy names the workers accept beyond the registry (internal test ones). */
  extraStrategies: string[];
  startedAt: number;
  /** Whether /metrics needs a key, and which owners may read it. */
  metricsAccess: (headers: Record<string, string | string[] | undefined>) => boolean;
  /** Deletes finished jobs and plans older than the retention; returns what went. */
  sweepRetention: (now?: number) => Awaitable<Deleted>;
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

/** A non-negative number from the environment (0 allowed: "off"). */
function envCount(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** The owner id of an API key: a hash, so keys never reach the store. */
export function ownerOf(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

/** The API key of a request, from x-api-key or Authorization: Bearer. */
export function apiKeyOf(headers: Record<string, string | string[] | undefined>): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header) return header;
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && /^Bearer\s+/i.test(authorization)) return authorization.replace(/^Bearer\s+/i, '').trim();
  return undefined;
}

/** Builds the application; see BuildOptions. Call close() to stop its workers and store. */
export async function build(options: BuildOptions = {}): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? envNumber('MEMPLAN_BODY_LIMIT') ?? DEFAULT_BODY_LIMIT_BYTES;
  const maxNodes = options.maxNodes ?? envNumber('MEMPLAN_MAX_NODES') ?? DEFAULT_MAX_NODES;
  const keys = (options.apiKeys ?? (process.env.MEMPLAN_API_KEYS ?? '').split(',')).map((key) => key.trim()).filter((key) => key !== '');
  const owners = new Set(keys.map(ownerOf));
  const requestTimeout = options.requestTimeoutMs ?? envNumber('MEMPLAN_REQUEST_TIMEOUT_MS') ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headersTimeout = Math.min(
    requestTimeout,
    options.headersTimeoutMs ?? envNumber('MEMPLAN_HEADERS_TIMEOUT_MS') ?? DEFAULT_HEADERS_TIMEOUT_MS,
  );
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit,
    // Graph ids are plain strings; never let JSON keys touch prototypes.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    forceCloseConnections: 'idle',
    // Slow bodies and idle sockets are closed (see the README's settings).
    requestTimeout,
    connectionTimeout: options.connectionTimeoutMs ?? envNumber('MEMPLAN_CONNECTION_TIMEOUT_MS') ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? envNumber('MEMPLAN_KEEP_ALIVE_TIMEOUT_MS') ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    http: {
      headersTimeout,
      requestTimeout,
      connectionsCheckingInterval: options.internal?.timeoutCheckIntervalMs ?? DEFAULT_TIMEOUT_CHECK_INTERVAL_MS,
    },
    // The router and IdParamsSchema agree on the longest id.
    routerOptions: { maxParamLength: MAX_ID_LENGTH },
    frameworkErrors: (error, request, reply) => sendError(reply, toMemplanError(error, request, maxNodes)),
    clientErrorHandler: clientError(requestTimeout),
  });
  app.server.maxConnections = options.maxConnections ?? envNumber('MEMPLAN_MAX_CONNECTIONS') ?? DEFAULT_MAX_CONNECTIONS;
  app.setValidatorCompiler((route) =>
    // Bodies of the codec routes are validated on a codec thread (src/codec/tasks.ts).
    route.httpPart === 'body' && (CODEC_BODY_SCHEMAS.has(route.schema) || route.schema === SweepRequestSchema)
      ? (data: unknown) => ({ value: data })
      : validatorCompiler(route as Parameters<typeof validatorCompiler>[0]),
  );
  app.setSerializerCompiler(serializerCompiler);
  // JSON only, kept as bytes: the codec routes parse it off the event loop. A text body
  // would otherwise reach validation as a string.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, new RawBody(body as Buffer)));

  const dataDir = options.dataDir ?? process.env.MEMPLAN_DATA_DIR ?? './data';
  const redis = redisSettingsFromEnv(
    options.redisUrl === undefined ? process.env : { ...process.env, MEMPLAN_REDIS_URL: options.redisUrl },
  );
  const databaseUrl = options.databaseUrl ?? process.env.MEMPLAN_DATABASE_URL ?? '';
  const limits = {
    maxQueue: options.maxQueue ?? envCount('MEMPLAN_MAX_QUEUE'),
    maxJobsPerOwner: options.maxJobsPerKey ?? envNumber('MEMPLAN_MAX_JOBS_PER_KEY'),
  };
  // The default deployment is built exactly as it always was: SQLite, threads, the manager.
  const jobStore: JobStore = databaseUrl === '' && !redis ? new Store(dataDir) : await openStore({ databaseUrl, dataDir });
  let local: { pool: WorkerPool; manager: JobManager } | undefined;
  let jobs: JobService;
  if (redis) {
    const { DistributedJobs } = await import('./jobs/distributed/jobs.js');
    jobs = new DistributedJobs(redis, jobStore, {
      ...limits,
      attempts: envNumber('MEMPLAN_JOB_ATTEMPTS'),
      onRedisError: (error) => app.log.warn(`redis: ${error.message}`),
    });
  } else {
    await jobStore.failInterrupted();
    const pool = new WorkerPool({
      size: options.workers ?? envNumber('MEMPLAN_WORKERS') ?? availableParallelism(),
      testStrategies: options.internal?.testStrategies,
      cancelGraceMs: options.internal?.cancelGraceMs,
    });
    const manager = new JobManager(jobStore, pool, {
      ...limits,
      watchdogGraceSeconds: options.internal?.watchdogGraceSeconds,
      onWriteError: (error) => app.log.error({ err: error }, 'a job store write failed'),
    });
    local = { pool, manager };
    jobs = manager;
  }
  const codec = new CodecPool({ size: options.codecWorkers ?? envNumber('MEMPLAN_CODEC_WORKERS') });
  const extraStrategies = options.internal?.testStrategies ? ['test:slow', 'test:spin', 'test:overrun', 'test:abort', 'test:throw'] : [];
  const settings: CodecSettings = {
    maxNodes,
    maxTimeLimitSeconds: Math.min(
      MAX_TIME_LIMIT_SECONDS,
      options.maxTimeLimitSeconds ?? envNumber('MEMPLAN_MAX_TIME_LIMIT') ?? DEFAULT_SERVICE_MAX_TIME_LIMIT_SECONDS,
    ),
    strategies: [...strategyNames(), ...extraStrategies],
  };
  const retentionHours = options.retentionHours ?? envCount('MEMPLAN_RETENTION_HOURS') ?? DEFAULT_RETENTION_HOURS;
  let storeOpen = true;
  const sweepRetention = (now = Date.now()) =>
    retentionHours > 0 ? jobStore.deleteOlderThan(now - retentionHours * 3600 * 1000) : { jobs: 0, plans: 0, graphs: 0 };
  // A sweep that fails (the database away) is retried at the next interval.
  const sweepQuietly = () => {
    if (!storeOpen) return;
    void Promise.resolve()
      .then(() => sweepRetention())
      .catch((error: unknown) => app.log.warn(`retention sweep: ${(error as Error).message}`));
  };
  if (jobStore instanceof Store) sweepRetention();
  else sweepQuietly();
  const sweeper = setInterval(sweepQuietly, RETENTION_SWEEP_INTERVAL_MS);
  sweeper.unref();
  const metricsPublic = options.metricsPublic ?? process.env.MEMPLAN_METRICS_PUBLIC === '1';
  const metricsKey = options.metricsKey ?? (process.env.MEMPLAN_METRICS_KEY || undefined);
  const metricsAccess = (headers: Record<string, string | string[] | undefined>) => {
    if (owners.size === 0 || metricsPublic) return true;
    const key = apiKeyOf(headers);
    if (key === undefined) return false;
    return metricsKey !== undefined ? ownerOf(key) === ownerOf(metricsKey) : owners.has(ownerOf(key));
  };
  let shutdownPromise: Promise<void> | undefined;
  const shutdown = () => {
    shutdownPromise ??= jobs
      .shutdown(options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS)
      .then(() => codec.close())
      .finally(async () => {
        clearInterval(sweeper);
        storeOpen = false;
        await jobStore.close();
      });
    return shutdownPromise;
  };
  /** A part of the default deployment; reading it in another deployment is a bug of the caller. */
  const only = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`app.memplan.${what} is not part of this deployment (see src/app.ts)`);
    return value;
  };
  const context = {
    jobs,
    jobStore,
    workerThreads: local?.pool.size ?? 0,
    get store() {
      return only(jobStore instanceof Store ? jobStore : undefined, 'store');
    },
    get pool() {
      return only(local?.pool, 'pool');
    },
    get manager() {
      return only(local?.manager, 'manager');
    },
    codec,
    settings,
    maxNodes,
    extraStrategies,
    startedAt: Date.now(),
    metricsAccess,
    sweepRetention,
    shutdown,
  } satisfies MemplanContext;
  app.decorate('memplan', context);
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
        { name: 'sweeps', description: 'Plan a graph along a budget axis: Pareto points, knee, inverse questions' },
        { name: 'jobs', description: 'Follow and cancel solves' },
        { name: 'tools', description: 'Analyze graphs, replay schedules, list strategies' },
        { name: 'system', description: 'Health and metrics' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: openapiComponents,
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
      await typed.register(sweepRoutes);
      await typed.register(jobRoutes);
      await typed.register(toolRoutes);
    },
    { prefix: '/v1' },
  );
  await app.register(systemRoutes);
  return app;
}
