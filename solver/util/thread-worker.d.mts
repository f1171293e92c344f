// Types of thread-worker.mjs, the worker side of thread-pool.ts.

/** What a task sees besides its payload. */
export interface TaskContext<Progress> {
  /** The task's stop flag (index 0 becomes 1 on a stop request): poll it in blocking loops. */
  readonly stopFlag: Int32Array;
  /** Aborted when the pool asks the task to stop (the cancel message), for code that yields. */
  readonly signal: AbortSignal;
  /** True once a stop was requested. */
  stopRequested(): boolean;
  /** Streams a progress report to the task's caller. */
  progress(progress: Progress, transfer?: Transferable[]): void;
}

export interface ServeOptions<Result, Failure> {
  /** True for an error that leaves the thread unusable: the pool replaces it (default isWasmAbort). */
  isFatal?: (error: unknown) => boolean;
  /** What the caller gets for a failed task (default "name: message"). */
  describeError?: (error: unknown, fatal: boolean) => Failure;
  /** Buffers of the result to transfer instead of copying. */
  transferOf?: (result: Result) => Transferable[];
}

/** True for an error that leaves this thread's WebAssembly instance unusable (a heap abort). */
export function isWasmAbort(error: unknown): boolean;

/** Serves the pool's tasks on this worker thread with `handler`. */
export function serveTasks<Payload, Result, Progress = never, Failure = string>(
  handler: (payload: Payload, context: TaskContext<Progress>) => Result | Promise<Result>,
  options?: ServeOptions<Result, Failure>,
): void;
