// A job's events across processes. The worker running a job appends each event to the
// job's Redis stream (kept for late subscribers, capped and expiring) and publishes it
// with its stream id on the job's channel. An API process streaming the job subscribes to
// the channel first, then replays the stream, and delivers each event once, in stream
// order (ids only grow). Progress events carry the time they were made (`at`, ms since
// the epoch); the job's end is an "end" event, after which the API reads the result from
// the store.
import type { Redis } from 'ioredis';
import { JOB_REDIS_TTL_SECONDS, MAX_JOB_EVENTS } from '../../../solver/limits.js';
import type { JobEvent } from '../lifecycle.js';
import type { RedisKeys } from './redis.js';

/** One entry of a job's event stream. */
export type StreamEntry = { type: 'progress'; data: Extract<JobEvent, { event: 'progress' }>['data'] } | { type: 'end' };

/** What a channel message carries: the entry and its stream id. */
interface ChannelMessage {
  id: string;
  entry: StreamEntry;
}

/** Orders two stream ids ("ms-seq"): negative, zero or positive. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(Number);
  const [bMs, bSeq] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

/** Appends an event to the job's stream and publishes it (worker side). */
export async function publishEntry(redis: Redis, keys: RedisKeys, jobId: string, entry: StreamEntry): Promise<void> {
  const stream = keys.events(jobId);
  const text = JSON.stringify(entry);
  const id = (await redis.xadd(stream, 'MAXLEN', '~', String(MAX_JOB_EVENTS), '*', 'e', text)) ?? '0-0';
  await redis
    .multi()
    .expire(stream, JOB_REDIS_TTL_SECONDS)
    .publish(keys.channel(jobId), JSON.stringify({ id, entry } satisfies ChannelMessage))
    .exec();
}

/** The job's past events, in order. */
export async function readEntries(redis: Redis, keys: RedisKeys, jobId: string): Promise<{ id: string; entry: StreamEntry }[]> {
  const rows = await redis.xrange(keys.events(jobId), '-', '+');
  const entries: { id: string; entry: StreamEntry }[] = [];
  for (const [id, fields] of rows) {
    const at = fields.indexOf('e');
    if (at < 0) continue;
    try {
      entries.push({ id, entry: JSON.parse(fields[at + 1]) as StreamEntry });
    } catch {
      // An entry that is not ours is skipped.
    }
  }
  return entries;
}

/**
 * An API process's one subscriber connection, shared by every stream and wait: a channel
 * is subscribed while someone listens to it. Messages come with their stream ids.
 */
export class EventHub {
  private readonly listeners = new Map<string, Set<(id: string, entry: StreamEntry) => void>>();

  constructor(
    private readonly subscriber: Redis,
    private readonly keys: RedisKeys,
  ) {
    subscriber.on('message', (channel: string, text: string) => {
      const listeners = this.listeners.get(channel);
      if (!listeners) return;
      let message: ChannelMessage;
      try {
        message = JSON.parse(text) as ChannelMessage;
      } catch {
        return;
      }
      for (const listener of [...listeners]) listener(message.id, message.entry);
    });
  }

  /** Listens to a job's events; resolves once subscribed (rejects when Redis cannot be reached) with the means to stop. */
  async listen(jobId: string, listener: (id: string, entry: StreamEntry) => void): Promise<() => void> {
    const channel = this.keys.channel(jobId);
    let listeners = this.listeners.get(channel);
    const first = !listeners;
    if (!listeners) {
      listeners = new Set();
      this.listeners.set(channel, listeners);
    }
    listeners.add(listener);
    const stop = () => {
      const current = this.listeners.get(channel);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) {
        this.listeners.delete(channel);
        void this.subscriber.unsubscribe(channel).catch(() => {});
      }
    };
    if (first) {
      try {
        await this.subscriber.subscribe(channel);
      } catch (error) {
        stop();
        throw error;
      }
    }
    return stop;
  }
}
