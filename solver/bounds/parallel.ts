// The closure bound in a worker thread (bound-task.ts), so that it runs beside the search
// on the main thread. The threads come from a pool that keeps one idle thread for the next
// bound (starting a thread with its TypeScript loader and modules takes about 0.6 s, a
// plan's or a sweep point's bound each time otherwise). When the thread cannot start (no
// TypeScript loader in this runtime) or dies, the bound runs here instead, on the event
// loop, interleaved with whatever awaits.
import type { IndexedGraph } from '../graph/validate.js';
import { BOUND_WORKER_GRACE_SECONDS, MAX_IDLE_BOUND_WORKERS } from '../limits.js';
import { type TaskHandle, ThreadPool } from '../util/thread-pool.js';
import type { BoundProgress, BoundRequest } from './bound-task.js';
import type { ClosureBound } from './closure-milp.js';
import { closureBoundOf } from './relaxation.js';

let pool: ThreadPool<ClosureBound | undefined> | undefined;

/** This thread's bound threads: one kept idle for the next bound. */
function boundPool(): ThreadPool<ClosureBound | undefined> {
  pool ??= new ThreadPool<ClosureBound | undefined>({
    url: new URL('./bound-worker.mjs', import.meta.url),
    workerOptions: { execArgv: [] },
    maxIdle: MAX_IDLE_BOUND_WORKERS,
    graceMs: BOUND_WORKER_GRACE_SECONDS * 1000,
  });
  return pool;
}

/** Terminates the idle bound threads (tests, shutdown). */
export async function shutdownBoundWorkers(): Promise<void> {
  await pool?.closeIdle();
}

/** The bound threads of this thread's pool: started so far and alive (tests). */
export function boundThreadStats(): { spawned: number; threads: number } {
  return { spawned: pool?.spawned ?? 0, threads: pool?.threads ?? 0 };
}

/** A closure bound being computed: its result, and a way to ask it to stop early (the result then holds its best dual bound). */
export interface PendingBound {
  result: Promise<ClosureBound | undefined>;
  stop(): void;
  /** Set once the result is in, so a caller can look without waiting. */
  settled?: { value: ClosureBound | undefined };
  /**
   * Set when the plain closure bound is in while the bound goes on with intervals
   * (closure-milp.ts): valid, and its recomputed set guides a search before the result.
   */
  plain?: ClosureBound;
  /** Resolves when `plain` is set (never, on a bound without intervals). */
  plainReady?: Promise<void>;
  /** Set by the caller once it has taken `plain`. */
  plainTaken?: boolean;
  /**
   * The recomputed set of the bound's latest separation round before the plain rows are met
   * (its guide while the bound goes on; each set differs from the one before), and how many
   * such sets came so far.
   */
  guide?: readonly number[];
  guides: number;
  /** Resolves when the next guide after the `guides`-th comes in (never, once none will). */
  nextGuide(): Promise<void>;
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
  options: { timeLimitSeconds: number; signal?: AbortSignal; splitCount?: number; splitSets?: readonly (readonly number[])[] },
): PendingBound {
  let task: TaskHandle<ClosureBound | undefined, string>;
  let plain: ClosureBound | undefined;
  let markPlain = () => {};
  const plainReady = new Promise<void>((resolve) => (markPlain = resolve));
  // A promise per guide to come, resolved when it does.
  let guideCame = () => {};
  let nextGuide = new Promise<void>((resolve) => (guideCame = resolve));
  try {
    task = boundPool().run(
      {
        graph: graph.graph,
        budgetBytes,
        timeLimitSeconds: options.timeLimitSeconds,
        maxNodes: Math.max(graph.size, 1),
        splitCount: options.splitCount ?? 0,
        splitSets: options.splitSets,
      } satisfies BoundRequest,
      {
        signal: options.signal,
        onProgress: (progress) => {
          const message = progress as BoundProgress;
          if (message.kind === 'guide') {
            // Messages come after this function returned: `pending` is set.
            pending.guide = message.recompute;
            pending.guides++;
            const wake = guideCame;
            nextGuide = new Promise<void>((resolve) => (guideCame = resolve));
            wake();
            return;
          }
          plain = message.bound;
          markPlain();
        },
      },
    );
  } catch {
    return tracked(inline(graph, budgetBytes, options));
  }
  const result = task.outcome.then((outcome) => {
    if (outcome.kind === 'done') return outcome.result;
    // A thread that could not load or died under the bound: the bound runs here. A bound
    // that failed or was stopped without answering has none.
    if (outcome.kind === 'crashed' && !task.stopReason && !options.signal?.aborted) return inline(graph, budgetBytes, options).result;
    return undefined;
  });
  const pending: PendingBound = tracked({
    result,
    stop: () => task.stop('cancel'),
    thread: 'worker',
    plainReady,
    guides: 0,
    nextGuide: () => nextGuide,
  });
  void plainReady.then(() => {
    pending.plain = plain;
  });
  return pending;
}

/** The same bound on this thread. */
function inline(
  graph: IndexedGraph,
  budgetBytes: number,
  options: { timeLimitSeconds: number; signal?: AbortSignal; splitSets?: readonly (readonly number[])[] },
): PendingBound {
  const controller = new AbortController();
  options.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  // Of several split sets, the first (this thread's time is the search's).
  const splitFractions = options.splitSets?.[0];
  const splits = splitFractions ? { splitFractions, resolve: true, capIntervals: false } : {};
  return {
    result: closureBoundOf(graph, budgetBytes, { timeLimitSeconds: options.timeLimitSeconds, signal: controller.signal, ...splits }),
    stop: () => controller.abort(),
    thread: 'inline',
    // On this thread the search waits for the result itself: no guides along the way.
    guides: 0,
    nextGuide: () => new Promise<void>(() => undefined),
  };
}
