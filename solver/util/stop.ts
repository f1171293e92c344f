// The stop signal of one solve, the one place that says "stop now". plan() makes one for
// every request and hands it to the strategy as context.signal. Its `aborted` is read
// synchronously and turns true when
// - another thread set one of its shared stop flags (the thread pool's task flag: a
//   cancel from the main thread reaches a busy synchronous loop without an event-loop turn),
// - a parent AbortSignal aborted (a caller in the same thread), or
// - the request's deadline passed (so every loop that checks it also keeps the time limit).
// It is an AbortSignal too: code that waits gets its 'abort' event (the deadline by a
// timer, the flags by a check every STOP_POLL_MS while this thread's event loop is free,
// the parent when it fires). HiGHS solves in other threads read the same flags directly
// (highs-backend.ts forwards `flags`).
//
// What a loop must do to be cancellable: check `signal?.aborted` (the context's, or the
// one passed down to it) at least every few milliseconds of work, and on true stop and
// return what it has (the best plan so far, or null for "gave up"). Nothing else is needed:
// no await, no timers.

/** Why a solve was asked to stop: a cancel (or any stop from outside) or its deadline. */
export type StopCause = 'cancel' | 'deadline';

/** Milliseconds between checks of the shared flags while nothing else reads them (an await). */
const STOP_POLL_MS = 20;

/** The values a thread-pool task's stop flag takes (index 0 of its Int32Array); 0 means "run on". */
export const STOP_FLAG_VALUES = { cancel: 1, deadline: 2, signal: 3 } as const;

export interface StopSignalOptions {
  /** Shared flags (index 0 nonzero: stop); STOP_FLAG_VALUES.deadline reads as the deadline. */
  flags?: readonly Int32Array[];
  /** A signal of the caller; its abort stops this one. */
  parent?: AbortSignal;
  /** Date.now() after which the solve stops. */
  deadline?: number;
}

/** A stop signal read synchronously; see the module comment. */
export class StopSignal extends EventTarget implements AbortSignal {
  readonly flags: readonly Int32Array[];
  readonly deadline: number | undefined;
  onabort: ((this: AbortSignal, event: Event) => unknown) | null = null;
  private cause: StopCause | undefined;
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private readonly parent: AbortSignal | undefined;
  private readonly onParentAbort = () => this.fire('cancel');

  constructor(options: StopSignalOptions = {}) {
    super();
    this.flags = options.flags ?? [];
    this.parent = options.parent;
    this.deadline = options.deadline;
    if (this.parent) {
      if (this.parent.aborted) this.cause = 'cancel';
      else this.parent.addEventListener('abort', this.onParentAbort, { once: true });
    }
    if (this.deadline !== undefined && !this.cause) {
      this.timer = setTimeout(() => this.fire('deadline'), Math.max(0, this.deadline - Date.now()));
      this.timer.unref?.();
    }
    if (this.flags.length > 0 && !this.cause) {
      // Reading `aborted` fires the event once a flag is set.
      this.poll = setInterval(() => this.aborted, STOP_POLL_MS);
      this.poll.unref?.();
    }
  }

  /** True once a flag is set, the parent aborted or the deadline passed. */
  get aborted(): boolean {
    if (this.cause) return true;
    for (const flag of this.flags) {
      const value = Atomics.load(flag, 0);
      if (value !== 0) {
        this.fire(value === STOP_FLAG_VALUES.deadline ? 'deadline' : 'cancel');
        return true;
      }
    }
    if (this.parent?.aborted) {
      this.fire('cancel');
      return true;
    }
    if (this.deadline !== undefined && Date.now() >= this.deadline) {
      this.fire('deadline');
      return true;
    }
    return false;
  }

  /** Why it stopped ('cancel' or 'deadline'), or undefined while it runs. */
  get reason(): StopCause | undefined {
    return this.aborted ? this.cause : undefined;
  }

  /** Throws the cause when stopped (AbortSignal's contract). */
  throwIfAborted(): void {
    if (this.aborted) throw new Error(`stopped: ${this.cause}`);
  }

  /** Clears the deadline timer and the parent listener (the solve is over). */
  dispose(): void {
    clearTimeout(this.timer);
    clearInterval(this.poll);
    this.parent?.removeEventListener('abort', this.onParentAbort);
  }

  private fire(cause: StopCause): void {
    if (this.cause) return;
    this.cause = cause;
    this.dispose();
    const event = new Event('abort');
    this.dispatchEvent(event);
    this.onabort?.call(this, event);
  }
}

/** The shared stop flags behind a signal, for solves in other threads to poll (none for a plain AbortSignal). */
export function stopFlagsOf(signal: AbortSignal | undefined): readonly Int32Array[] {
  return signal instanceof StopSignal ? signal.flags : [];
}

/** A part of a solve with a stop of its own: see childStop. */
export interface ChildStop {
  signal: StopSignal;
  /** Stops the part (the solve goes on). */
  stop: () => void;
  /** Detaches it from the parent; call once the part is done. */
  dispose: () => void;
}

/**
 * A stop for a part of a solve (a solver on another thread, a search beside it): it stops
 * with `parent`, whose shared flags it reads synchronously too, at `deadline`, or on its own stop().
 */
export function childStop(parent: AbortSignal | undefined, deadline?: number): ChildStop {
  const controller = new AbortController();
  const stop = () => controller.abort();
  parent?.addEventListener('abort', stop, { once: true });
  const signal = new StopSignal({ flags: stopFlagsOf(parent), parent: controller.signal, deadline });
  return {
    signal,
    stop,
    dispose: () => {
      parent?.removeEventListener('abort', stop);
      signal.dispose();
    },
  };
}

/** Why a signal stopped: 'deadline' for a StopSignal past its deadline, 'cancel' for any other abort, else undefined. */
export function stopCauseOf(signal: AbortSignal | undefined): StopCause | undefined {
  if (!signal?.aborted) return undefined;
  return signal instanceof StopSignal ? signal.reason : 'cancel';
}
