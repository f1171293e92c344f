// The one worker-thread pool (solver/util/thread-pool.ts) with a test worker
// (test/workers/pool-worker.mjs): results and progress, cooperative and forced stops,
// replacement of threads that failed fatally, retired or crashed, and capacity.
import { afterEach, describe, expect, it } from 'vitest';
import { ThreadPool, type ThreadPoolOptions } from '../solver/util/thread-pool.js';

const WORKER = new URL('./workers/pool-worker.mjs', import.meta.url);
const pools: ThreadPool<unknown, unknown>[] = [];

function pool(options: Partial<ThreadPoolOptions<unknown>> = {}): ThreadPool<unknown, unknown> {
  const created = new ThreadPool<unknown, unknown>({ url: WORKER, graceMs: 200, ...options });
  pools.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((created) => created.close()));
});

describe('ThreadPool', () => {
  it('runs a task off the main thread and reuses its thread', async () => {
    const threads = pool();
    const first = await threads.run({ kind: 'echo', value: 42 }).outcome;
    expect(first).toMatchObject({ kind: 'done', result: { echo: 42 } });
    expect(first.threadId).toBeGreaterThan(0);
    const second = await threads.run({ kind: 'echo', value: 7 }).outcome;
    expect(second.threadId).toBe(first.threadId);
    expect(threads.threads).toBe(1);
    expect(threads.busy).toBe(0);
  });

  it('streams progress in order', async () => {
    const seen: unknown[] = [];
    const outcome = await pool().run({ kind: 'progress', count: 5 }, { onProgress: (step) => seen.push(step) }).outcome;
    expect(outcome).toMatchObject({ kind: 'done', result: 'reported' });
    expect(seen).toEqual([0, 1, 2, 3, 4]);
  });

  it('stops a task cooperatively: through the cancel message, or the flag a blocking loop polls', async () => {
    const threads = pool({ graceMs: 5000 });
    const cooperative = threads.run({ kind: 'cooperative' });
    setTimeout(() => cooperative.stop(), 50);
    expect(await cooperative.outcome).toMatchObject({ kind: 'done', result: 'cooperated' });
    expect(cooperative.stopReason).toBe('cancel');
    const controller = new AbortController();
    const polling = threads.run({ kind: 'poll' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    expect(await polling.outcome).toMatchObject({ kind: 'done', result: 'polled' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(polling.stopReason).toBe('signal');
    // Both answered: the thread serves on.
    expect(threads.threads).toBe(1);
  });

  it('terminates a task that does not answer within the grace, and replaces its thread', async () => {
    const threads = pool({ graceMs: 100 });
    const first = await threads.run({ kind: 'echo', value: 1 }).outcome;
    const spinning = threads.run({ kind: 'spin' }, { deadlineMs: 100 });
    const started = Date.now();
    const outcome = await spinning.outcome;
    expect(outcome).toMatchObject({ kind: 'stopped', reason: 'deadline' });
    expect(Date.now() - started).toBeLessThan(1500);
    expect(threads.busy).toBe(0);
    const next = await threads.run({ kind: 'echo', value: 2 }).outcome;
    expect(next).toMatchObject({ kind: 'done', result: { echo: 2 } });
    expect(next.threadId).not.toBe(first.threadId);
    expect(threads.crashes).toBe(0);
  });

  it('replaces a thread whose task failed fatally or whose result retires it; keeps it after an ordinary failure', async () => {
    const threads = pool({
      reusable: (result) => (result as { heap?: number }).heap === undefined || (result as { heap: number }).heap < 100,
    });
    const start = await threads.run({ kind: 'echo', value: 0 }).outcome;
    const thrown = await threads.run({ kind: 'throw' }).outcome;
    expect(thrown).toMatchObject({ kind: 'failed', fatal: false, error: 'TypeError: a bug' });
    expect(thrown.threadId).toBe(start.threadId);
    const aborted = await threads.run({ kind: 'abort' }).outcome;
    expect(aborted).toMatchObject({ kind: 'failed', fatal: true });
    expect(String((aborted as { error: unknown }).error)).toContain('Aborted()');
    const afterAbort = await threads.run({ kind: 'heap', heap: 500 }).outcome;
    expect(afterAbort.threadId).not.toBe(start.threadId);
    const afterRetire = await threads.run({ kind: 'echo', value: 3 }).outcome;
    expect(afterRetire.threadId).not.toBe(afterAbort.threadId);
    expect(threads.crashes).toBe(0);
  });

  it('reports a thread that dies under a task as a crash, and a killed one too', async () => {
    const threads = pool();
    const exited = await threads.run({ kind: 'exit' }).outcome;
    expect(exited).toMatchObject({ kind: 'crashed', error: 'the thread exited with code 3' });
    const killed = threads.run({ kind: 'spin' });
    setTimeout(() => killed.kill(), 50);
    expect(await killed.outcome).toMatchObject({ kind: 'crashed', error: 'the worker thread was killed' });
    expect(threads.crashes).toBe(2);
    expect(await threads.run({ kind: 'echo', value: 4 }).outcome).toMatchObject({ kind: 'done' });
  });

  it('runs at most maxThreads tasks, keeps at most maxIdle threads, and a respawning pool keeps its size', async () => {
    const one = pool({ maxThreads: 1 });
    const busy = one.run({ kind: 'cooperative' });
    expect(one.hasCapacity()).toBe(false);
    expect(() => one.run({ kind: 'echo', value: 0 })).toThrow(/no free thread/);
    busy.stop();
    await busy.outcome;
    expect(one.hasCapacity()).toBe(true);

    const lean = pool({ maxIdle: 1 });
    await Promise.all([lean.run({ kind: 'echo', value: 1 }).outcome, lean.run({ kind: 'echo', value: 2 }).outcome]);
    expect(lean.threads).toBe(1);

    const warm = pool({ maxThreads: 2, respawn: true });
    warm.warm();
    expect(warm.threads).toBe(2);
    await warm.run({ kind: 'exit' }).outcome;
    expect(warm.threads).toBe(2);
  });

  it('ends running tasks on close', async () => {
    const threads = pool();
    const running = threads.run({ kind: 'spin' });
    await threads.close();
    expect(await running.outcome).toMatchObject({ kind: 'stopped', reason: 'close' });
    expect(threads.threads).toBe(0);
    expect(threads.hasCapacity()).toBe(false);
  });
});
