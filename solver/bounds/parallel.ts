// The closure bound in a worker thread (bound-task.ts), so that it runs beside the search
// on the main thread. When the worker cannot start (no TypeScript loader in this runtime),
// the bound runs here instead, on the event loop, interleaved with whatever awaits.
import { Worker } from 'node:worker_threads';
import type { IndexedGraph } from '../graph/validate.js';
import { BOUND_WORKER_GRACE_SECONDS } from '../limits.js';
import type { ClosureBound } from './closure-milp.js';
import { closureBoundOf } from './relaxation.js';

/** A closure bound being computed: its result, and a way to ask it to stop early (the result then holds its best dual bound). */
export interface PendingBound {
  result: Promise<ClosureBound | undefined>;
  stop(): void;
  /** Set once the result is in, so a caller can look without waiting. */
  settled?: { value: ClosureBound | undefined };
  /** Where it runs: its own thread, or this one when the worker could not start. */
  thread: 'worker' | 'inline';
}

/** Marks the pending bound settled when its result arrives. */
function tracked(pending: PendingBound): PendingBound {
  void pending.result.then((value) => {
    pending.settled = { value };
  });
  return pending;
}

/** Starts the closure bound of `graph` at `budgetBytes` in a worker thread; see the file comment. */
export function startClosureBound(
  graph: IndexedGraph,
  budgetBytes: number,
  options: { timeLimitSeconds: number; signal?: AbortSignal },
): PendingBound {
  let worker: Worker;
  try {
    worker = new Worker(new URL('./bound-worker.mjs', import.meta.url), { execArgv: [] });
  } catch {
    return tracked(inline(graph, budgetBytes, options));
  }
  worker.unref();
  let settled = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    if (settled) return;
    worker.postMessage({ type: 'stop' });
    killTimer ??= setTimeout(() => void worker.terminate(), BOUND_WORKER_GRACE_SECONDS * 1000);
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  const result = new Promise<ClosureBound | undefined>((resolve) => {
    const finish = (value: ClosureBound | undefined) => {
      if (settled) return;
      settled = true;
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', stop);
      void worker.terminate();
      resolve(value);
    };
    worker.on('message', (message: { type: 'done'; result?: ClosureBound } | { type: 'error'; message: string }) =>
      finish(message.type === 'done' ? message.result : undefined),
    );
    // A worker that cannot load (no TypeScript loader here) falls back to this thread.
    let answered = false;
    worker.once('message', () => {
      answered = true;
    });
    worker.on('error', () => {
      if (answered || settled) return finish(undefined);
      settled = true;
      resolve(inline(graph, budgetBytes, options).result);
    });
    worker.on('exit', () => finish(undefined));
  });
  worker.postMessage({
    type: 'closure',
    graph: graph.graph,
    budgetBytes,
    timeLimitSeconds: options.timeLimitSeconds,
    maxNodes: Math.max(graph.size, 1),
  });
  const pending: PendingBound = { result, stop, thread: 'worker' };
  return tracked(pending);
}

/** The same bound on this thread. */
function inline(graph: IndexedGraph, budgetBytes: number, options: { timeLimitSeconds: number; signal?: AbortSignal }): PendingBound {
  const controller = new AbortController();
  options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  return {
    result: closureBoundOf(graph, budgetBytes, { timeLimitSeconds: options.timeLimitSeconds, signal: controller.signal }),
    stop: () => controller.abort(),
    thread: 'inline',
  };
}
