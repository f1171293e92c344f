// One pool of worker threads for all work that must leave the main thread: plan jobs
// (src/jobs/pool.ts), HiGHS solves (milp/highs-backend.ts) and benchmark cases
// (bench/lib.ts). A thread runs one task at a time; its worker answers with serveTasks()
// of thread-worker.mjs.
// - Progress streams back over the thread's port to the task's onProgress.
// - Stopping is cooperative first: a task gets a SharedArrayBuffer stop flag, which its
//   blocking loops and HiGHS's interrupt callbacks poll, and a cancel message, which
//   aborts an AbortSignal for code that yields. A stop request (the caller's signal, the
//   task's deadline, or stop()) sets both; a task that has not answered within the pool's
//   grace is ended by terminating its thread (a WASM solve blocks its thread).
// - A thread whose task failed fatally (its WASM instance aborted) or whose result says it
//   cannot serve again (its WASM heap grew past the retire limit) is replaced; a thread
//   that dies under a task counts as a crash and the task ends 'crashed'.
// Nothing here knows what a task does: payloads, results and progress are the callers'.
// piscina is not used: it terminates a thread on abort (no cooperative grace), cannot
// retire one thread after its result, and has no progress channel of its own.
import { type Transferable, Worker, type WorkerOptions } from 'node:worker_threads';

/** Why a task was asked to stop. */
export type StopReason = 'signal' | 'deadline' | 'cancel';

/** How a task ended. */
export type TaskEnd<Result, Failure> =
  | { kind: 'done'; result: Result }
  /** The task threw; fatal: its thread was unusable and has been replaced. */
  | { kind: 'failed'; error: Failure; fatal: boolean }
  /** The thread died under the task (an uncaught error, an exit, kill()). */
  | { kind: 'crashed'; error: string }
  /** Asked to stop, the task did not answer within the grace: its thread was terminated. */
  | { kind: 'stopped'; reason: StopReason | 'close' };

/** How a task ended, and the thread it ran on. */
export type TaskOutcome<Result, Failure> = TaskEnd<Result, Failure> & { threadId: number };

export interface ThreadPoolOptions<Result> {
  /** The worker module; it calls serveTasks(). */
  url: URL;
  workerData?: unknown;
  /** Other options of each Worker (execArgv, stdout, stderr). */
  workerOptions?: Omit<WorkerOptions, 'workerData'>;
  /** Tasks (and threads) at once at most; default unbounded. */
  maxThreads?: number;
  /** Idle threads kept for later tasks; the others end. Default maxThreads. */
  maxIdle?: number;
  /** Replace a thread that ends at once, so a warm pool stays at its size. */
  respawn?: boolean;
  /** Milliseconds a task asked to stop may take to answer before its thread is terminated. */
  graceMs: number;
  /** Whether a thread may serve again after this result (false retires it). */
  reusable?: (result: Result) => boolean;
}

export interface RunOptions<Progress> {
  onProgress?: (progress: Progress) => void;
  /** Stop the task (cooperatively first) when this aborts. */
  signal?: AbortSignal;
  /** Stop the task (cooperatively first) after this many milliseconds. */
  deadlineMs?: number;
  transferList?: readonly Transferable[];
}

type WorkerMessage =
  | { type: 'progress'; id: number; progress: unknown }
  | { type: 'done'; id: number; result: unknown }
  | { type: 'failed'; id: number; error: unknown; fatal: boolean };

interface Thread {
  worker: Worker;
  task?: TaskHandle<unknown, unknown>;
  lastError?: string;
  /** Set when the pool ends the thread itself: its exit is not a crash. */
  retiring?: boolean;
}

let nextTaskId = 1;

/** A running task: its outcome, and the means to stop it. */
export class TaskHandle<Result, Failure> {
  readonly id = nextTaskId++;
  readonly outcome: Promise<TaskOutcome<Result, Failure>>;
  /** Why a stop was first requested, if one was. */
  stopReason: StopReason | undefined;
  /** The stop flag the worker polls (index 0 becomes 1). */
  readonly stopFlag = new Int32Array(new SharedArrayBuffer(4));
  /** Internal to ThreadPool: resolves the outcome. */
  settle!: (outcome: TaskOutcome<Result, Failure>) => void;
  /** Internal to ThreadPool: the deadline and grace timers, cleared when the task ends. */
  timers: NodeJS.Timeout[] = [];
  /** Internal to ThreadPool: removes the abort listener from the caller's signal. */
  detach: () => void = () => {};

  constructor(
    private readonly pool: ThreadPool<Result, unknown, Failure>,
    readonly thread: Thread,
    readonly onProgress: ((progress: unknown) => void) | undefined,
  ) {
    this.outcome = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  /** Asks the task to stop: sets its flag and sends the cancel message; terminates its thread after the grace. */
  stop(reason: StopReason = 'cancel'): void {
    if (this.thread.task !== this || this.stopReason) return;
    this.stopReason = reason;
    Atomics.store(this.stopFlag, 0, 1);
    this.thread.worker.postMessage({ type: 'cancel', id: this.id });
    const grace = this.pool.graceMs;
    if (grace <= 0) this.pool.end(this.thread, { kind: 'stopped', reason });
    else this.timers.push(setTimeout(() => this.pool.end(this.thread, { kind: 'stopped', reason }), grace));
  }

  /** Terminates the task's thread at once, as a crash would (tests, operators). */
  kill(): void {
    if (this.thread.task !== this) return;
    this.thread.lastError = 'the worker thread was killed';
    void this.thread.worker.terminate();
  }
}

/** Worker threads for tasks; see the module comment. */
export class ThreadPool<Result, Progress = never, Failure = string> {
  readonly graceMs: number;
  private readonly maxThreads: number;
  private readonly maxIdle: number;
  private readonly all = new Set<Thread>();
  private closed = false;
  /** Called whenever a thread is free for a task again (a task ended, a thread was replaced). */
  onIdle: () => void = () => {};
  /** Threads that died under a task or while idle. */
  crashes = 0;

  constructor(private readonly options: ThreadPoolOptions<Result>) {
    this.graceMs = options.graceMs;
    this.maxThreads = options.maxThreads ?? Infinity;
    this.maxIdle = options.maxIdle ?? this.maxThreads;
  }

  /** Threads started. */
  get threads(): number {
    return this.all.size;
  }

  /** Threads running a task. */
  get busy(): number {
    let count = 0;
    for (const thread of this.all) if (thread.task) count++;
    return count;
  }

  /** True when a task can start now. */
  hasCapacity(): boolean {
    return !this.closed && this.busy < this.maxThreads;
  }

  /** Starts threads up to `count` (default maxThreads) now instead of on first use. */
  warm(count = this.maxThreads): void {
    while (!this.closed && this.all.size < count && Number.isFinite(count)) this.spawn();
  }

  /** Starts a task on a free thread; throws when there is none (check hasCapacity first). */
  run(payload: unknown, options: RunOptions<Progress> = {}): TaskHandle<Result, Failure> {
    if (!this.hasCapacity()) throw new Error('the thread pool has no free thread');
    const thread = [...this.all].find((candidate) => !candidate.task && !candidate.retiring) ?? this.spawn();
    const task = new TaskHandle<Result, Failure>(
      this as ThreadPool<Result, unknown, Failure>,
      thread,
      options.onProgress as ((progress: unknown) => void) | undefined,
    );
    thread.task = task as TaskHandle<unknown, unknown>;
    thread.worker.ref();
    thread.worker.postMessage(
      { type: 'task', id: task.id, payload, stopFlag: task.stopFlag.buffer },
      options.transferList ? [...options.transferList] : [],
    );
    if (options.deadlineMs !== undefined) task.timers.push(setTimeout(() => task.stop('deadline'), options.deadlineMs));
    const signal = options.signal;
    if (signal) {
      const onAbort = () => task.stop('signal');
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        task.detach = () => signal.removeEventListener('abort', onAbort);
      }
    }
    return task;
  }

  /** Ends the idle threads (the pool stays usable: later tasks start new ones). */
  async closeIdle(): Promise<void> {
    const idle = [...this.all].filter((thread) => !thread.task);
    await Promise.all(idle.map((thread) => this.retire(thread)));
  }

  /** Ends every thread; running tasks end 'stopped' (reason 'close'). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.all].map((thread) => {
        if (thread.task) this.settle(thread, { kind: 'stopped', reason: 'close' });
        return this.retire(thread);
      }),
    );
  }

  /** Ends a thread's task with `outcome` and terminates the thread (the task did not answer). */
  end(thread: Thread, outcome: TaskEnd<Result, Failure>): void {
    if (!thread.task) return;
    this.settle(thread, outcome);
    void this.retire(thread);
    this.replaced();
  }

  private spawn(): Thread {
    const worker = new Worker(this.options.url, { ...this.options.workerOptions, workerData: this.options.workerData });
    const thread: Thread = { worker };
    this.all.add(thread);
    worker.on('message', (message: WorkerMessage) => this.receive(thread, message));
    worker.on('error', (error) => {
      thread.lastError = `${error.name}: ${error.message}`;
    });
    worker.on('exit', (code) => this.exited(thread, code));
    worker.unref();
    return thread;
  }

  private receive(thread: Thread, message: WorkerMessage): void {
    const task = thread.task;
    if (!task || message.id !== task.id) return;
    if (message.type === 'progress') {
      task.onProgress?.(message.progress);
      return;
    }
    if (message.type === 'done') {
      const result = message.result as Result;
      this.settle(thread, { kind: 'done', result });
      this.release(thread, this.options.reusable?.(result) ?? true);
    } else {
      this.settle(thread, { kind: 'failed', error: message.error as Failure, fatal: message.fatal });
      this.release(thread, !message.fatal);
    }
  }

  /** Resolves the thread's task (once) and frees the thread. */
  private settle(thread: Thread, outcome: TaskEnd<Result, Failure>): void {
    const task = thread.task as TaskHandle<Result, Failure> | undefined;
    if (!task) return;
    thread.task = undefined;
    for (const timer of task.timers) clearTimeout(timer);
    task.detach();
    task.settle({ ...outcome, threadId: thread.worker.threadId });
  }

  /** Keeps a thread whose task answered for the next task, or retires it. */
  private release(thread: Thread, reusable: boolean): void {
    const idle = [...this.all].filter((other) => !other.task && !other.retiring).length;
    if (!reusable || this.closed || idle > this.maxIdle) {
      void this.retire(thread);
      this.replaced();
      return;
    }
    // An idle thread must not keep the process alive; a busy one does.
    thread.worker.unref();
    queueMicrotask(() => this.onIdle());
  }

  private retire(thread: Thread): Promise<number> {
    thread.retiring = true;
    this.all.delete(thread);
    return thread.worker.terminate();
  }

  /** After a thread ended: a replacement when the pool keeps its size, and a free slot to report. */
  private replaced(): void {
    if (this.closed) return;
    if (this.options.respawn && this.all.size < this.maxThreads) this.spawn();
    queueMicrotask(() => this.onIdle());
  }

  private exited(thread: Thread, code: number): void {
    if (thread.retiring) return;
    this.all.delete(thread);
    this.crashes++;
    if (thread.task) this.settle(thread, { kind: 'crashed', error: thread.lastError ?? `the thread exited with code ${code}` });
    this.replaced();
  }
}
