// The scale search on a second thread (search-task.ts), beside auto's final search on the
// main thread: the WASM solvers and the search are single-threaded, and once the closure
// bound's thread is done the machine's second core idles. The threads come from a pool that
// keeps one idle thread for the next search (a thread starts in about 0.6 s). When no
// thread can start, there is no second search: the main thread's goes on alone.
import type { IndexedGraph } from '../graph/validate.js';
import { MAX_IDLE_SEARCH_WORKERS, SEARCH_WORKER_GRACE_SECONDS } from '../limits.js';
import type { IndexedStep } from '../schedule/simulate.js';
import { ThreadPool } from '../util/thread-pool.js';
import type { SearchAnswer } from './search-task.js';

let pool: ThreadPool<SearchAnswer | null> | undefined;

/** This thread's search threads: one kept idle for the next search. */
function searchPool(): ThreadPool<SearchAnswer | null> {
  pool ??= new ThreadPool<SearchAnswer | null>({
    url: new URL('./search-worker.mjs', import.meta.url),
    workerOptions: { execArgv: [] },
    maxIdle: MAX_IDLE_SEARCH_WORKERS,
    graceMs: SEARCH_WORKER_GRACE_SECONDS * 1000,
  });
  return pool;
}

/** Terminates the idle search threads (tests, shutdown). */
export async function shutdownSearchWorkers(): Promise<void> {
  await pool?.closeIdle();
}

/** A search running on the second thread: its best plan (undefined when it found none or failed), and a way to stop it early. */
export interface PendingSearch {
  result: Promise<SearchAnswer | undefined>;
  /** Asks the search to stop; it then answers with the best plan it has. */
  stop(): void;
}

/** Options of a second search. */
export interface SecondSearchOptions {
  seconds: number;
  starts: readonly (readonly IndexedStep[])[];
  round: number;
  prefer?: ReadonlySet<number>;
  climb: boolean;
  signal?: AbortSignal;
}

/** Starts the scale search of `graph` at `budgetBytes` on a second thread, or returns undefined when no thread can start. */
export function startSecondSearch(graph: IndexedGraph, budgetBytes: number, options: SecondSearchOptions): PendingSearch | undefined {
  try {
    const task = searchPool().run(
      {
        graph: graph.graph,
        budgetBytes,
        seconds: options.seconds,
        starts: options.starts.map((steps) => [...steps]),
        round: options.round,
        prefer: options.prefer ? [...options.prefer] : undefined,
        climb: options.climb,
        maxNodes: Math.max(graph.size, 1),
      },
      { signal: options.signal },
    );
    const result = task.outcome.then((outcome) => (outcome.kind === 'done' && outcome.result ? outcome.result : undefined));
    return { result, stop: () => task.stop('cancel') };
  } catch {
    return undefined;
  }
}
