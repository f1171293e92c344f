// The settings every process of a scaled-out deployment shares, read from the
// environment. A module of its own, without Redis's client, so the default deployment
// (no MEMPLAN_REDIS_URL) reads them without loading anything of the scaled-out one.

/** What every process of one deployment agrees on. */
export interface RedisSettings {
  /** redis://[user:password@]host:port[/db] */
  url: string;
  /** Prefix of every key (BullMQ's and memplan's); MEMPLAN_REDIS_PREFIX, default "memplan". */
  prefix: string;
  /** The BullMQ queue's name; MEMPLAN_QUEUE, default "jobs". */
  queue: string;
}

/** The settings from the environment, or undefined when MEMPLAN_REDIS_URL is not set. */
export function redisSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): RedisSettings | undefined {
  const url = env.MEMPLAN_REDIS_URL;
  if (!url) return undefined;
  return { url, prefix: env.MEMPLAN_REDIS_PREFIX || 'memplan', queue: env.MEMPLAN_QUEUE || 'jobs' };
}
