// The one clock of a request: seconds elapsed since it started, seconds left of its time
// limit, and the named shares of that time (TIME_SHARES in solver/limits.ts).
import { TIME_SHARES } from '../limits.js';

/** The name of a time share of solver/limits.ts. */
export type TimeShare = keyof typeof TIME_SHARES;

/** Elapsed and remaining seconds of one time limit. */
export class Clock {
  /**
   * @param limitSeconds the time limit
   * @param startedAt Date.now() when the limit started
   * @param marginSeconds seconds that left() keeps back for work outside the solvers' own clocks
   */
  constructor(
    readonly limitSeconds: number,
    readonly startedAt: number = Date.now(),
    readonly marginSeconds = 0,
  ) {}

  /** The clock of a strategy's context: its request's time limit from the request's start. */
  static of(context: { timeLimitSeconds: number; startedAt: number }, marginSeconds = 0): Clock {
    return new Clock(context.timeLimitSeconds, context.startedAt, marginSeconds);
  }

  /** Seconds since the start. */
  elapsed(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  /** Seconds left of the limit, less the margin (negative once overrun). */
  left(): number {
    return this.limitSeconds - this.marginSeconds - this.elapsed();
  }

  /** A named share of the time limit. */
  ofLimit(share: TimeShare): number {
    return TIME_SHARES[share] * this.limitSeconds;
  }

  /** A named share of the seconds left. */
  ofLeft(share: TimeShare): number {
    return TIME_SHARES[share] * this.left();
  }

  /** The Date.now() value `seconds` from now. */
  static deadline(seconds: number): number {
    return Date.now() + seconds * 1000;
  }

  /** Seconds until a Date.now() deadline, never negative. */
  static secondsTo(deadline: number): number {
    return Math.max(0, (deadline - Date.now()) / 1000);
  }
}
