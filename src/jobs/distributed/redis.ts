// Redis for the scaled-out service: the names of memplan's own keys and channels beside
// BullMQ's, and connections. An API process uses connections that fail at once while
// Redis is away (no offline queue, short timeouts), so a request is answered 503 instead
// of hanging; a worker process uses BullMQ's kind, which waits for Redis to come back.
import { Redis, type RedisOptions } from 'ioredis';
import { MemplanError } from '../../../solver/errors.js';
import { REDIS_COMMAND_TIMEOUT_MS } from '../../../solver/limits.js';
import type { RedisSettings } from './settings.js';

export type { RedisSettings } from './settings.js';

/** memplan's own keys and channels, beside BullMQ's under the same prefix. */
export function redisKeys(settings: RedisSettings) {
  const base = `${settings.prefix}:mp`;
  return {
    /** The job id of an active job of (owner, request hash): one solve for identical requests. */
    active: (owner: string, hash: string) => `${base}:active:${owner}:${hash}`,
    /** Set when a job was cancelled: a worker that starts it later ends it at once. */
    cancelled: (id: string) => `${base}:cancelled:${id}`,
    /** A job's events (a stream), replayed to late subscribers. */
    events: (id: string) => `${base}:events:${id}`,
    /** A job's events as they happen (pub/sub). */
    channel: (id: string) => `${base}:job:${id}`,
    /** Cancel requests for every worker (pub/sub; the message is the job id). */
    cancels: `${base}:cancels`,
    /** The worker processes that sent a heartbeat (a set) and each one's heartbeat. */
    workers: `${base}:workers`,
    worker: (name: string) => `${base}:worker:${name}`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;

/** Options of an API process's connections: no offline queue, short timeouts, reconnect forever. */
export function apiConnectionOptions(): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: REDIS_COMMAND_TIMEOUT_MS,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(1000, 50 * attempt),
    lazyConnect: false,
  };
}

/** Options of a worker process's connections (BullMQ's workers need maxRetriesPerRequest null). */
export function workerConnectionOptions(): RedisOptions {
  return { maxRetriesPerRequest: null, retryStrategy: (attempt) => Math.min(2000, 100 * attempt) };
}

/** A new connection; errors are reported through `onError` (ioredis reconnects by itself). */
export function connect(url: string, options: RedisOptions, onError: (error: Error) => void = () => {}): Redis {
  const redis = new Redis(url, options);
  redis.on('error', onError);
  return redis;
}

/** Runs a Redis operation of an API request: a failure or a wait past the timeout is MEMPLAN_ERR_QUEUE_UNAVAILABLE. */
export async function queueCall<T>(what: string, operation: () => Promise<T>, timeoutMs = REDIS_COMMAND_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([operation(), timeout]);
  } catch (error) {
    if (error instanceof MemplanError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new MemplanError('MEMPLAN_ERR_QUEUE_UNAVAILABLE', { detail: `${what}: ${detail}` });
  } finally {
    clearTimeout(timer);
  }
}
