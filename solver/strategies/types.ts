// The interface every strategy (baseline or optimizer) implements. A strategy proposes
// a schedule; plan() replays it in the simulator and builds the Plan, so no strategy can
// report a figure of its own.
import type { IndexedGraph } from '../graph/validate.js';
import type { PhaseFailure, ProvenBound, SmallestBudget, SolverInfo } from '../plan-schema.js';
import type { IndexedStep } from '../schedule/simulate.js';
import type { Transfer } from '../schedule/types.js';

/** An improving plan or bound, reported while a strategy runs; 'point': a sweep finished one budget. */
export interface ProgressEvent {
  kind: 'incumbent' | 'bound' | 'phase' | 'point';
  elapsedSeconds: number;
  /** Replayed makespan of the best plan so far. */
  makespan?: number;
  peakBytes?: number;
  /** Best proven lower bound on the makespan so far. */
  bound?: number;
  gap?: number;
  strategy?: string;
  message?: string;
  /** A sweep's point events: which point (from 0), of how many, at which budget. */
  point?: number;
  points?: number;
  budgetBytes?: number;
}

export interface StrategyContext {
  graph: IndexedGraph;
  /** Device budget, residentBytes included. */
  budgetBytes: number;
  /** The host link; swap strategies need it, others ignore it. */
  transfer?: Transfer;
  timeLimitSeconds: number;
  relativeGap: number;
  /** Formulation variant for MILP strategies. */
  formulation: 'tight' | 'plain';
  /**
   * Stop now: plan() passes a StopSignal (util/stop.ts) whose `aborted` turns true on a
   * cancel (read synchronously, from another thread too) or at the request's deadline.
   * Every long loop checks `signal?.aborted` and returns what it has.
   */
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** Wall-clock start (Date.now()) of the whole request. */
  startedAt: number;
  /**
   * Schedules the caller already has that replay legally (a sweep's plans at smaller
   * budgets): auto offers them to its incumbent before anything else; others ignore them.
   */
  seeds?: readonly IndexedStep[][];
  /**
   * Schedules of larger budgets that need not fit this one (a sweep's plans above this
   * budget): auto's scale search runs its greedy in their orders; others ignore them.
   */
  hints?: readonly IndexedStep[][];
  /**
   * A recomputed set the caller learned at a nearby budget (a sweep's: the LP relaxation's
   * at the nearest budget where one was solved): a search of auto's right after its scale
   * search evicts it first; others ignore it.
   */
  guide?: readonly number[];
  /**
   * How many times the caller solved this budget before (a sweep's later rounds at a
   * budget): auto's searches draw from other seeds than the earlier solves' (which started
   * from the same plans and would retrace them); others ignore it.
   */
  attempt?: number;
  /**
   * True where the solve's time is a share of a larger run's (a sweep's point): auto's final
   * search stops at its first round that finds nothing cheaper, and the run hands the time
   * left to its other budgets.
   */
  sharesTime?: boolean;
}

/** What a strategy found: a schedule to replay, or the smallest peak it could reach. */
export type StrategyOutcome =
  | {
      kind: 'schedule';
      steps: IndexedStep[];
      /** optimal only when the strategy proved it; default feasible. */
      status?: 'optimal' | 'feasible' | 'timeLimit';
      /** A proven lower bound on the makespan within the budget. */
      bound?: ProvenBound;
      solver?: SolverInfo;
      message?: string;
      /** Parts whose solver failed while the strategy went on with the others (auto's phases). */
      failures?: PhaseFailure[];
      /** The LP relaxation's recomputed set, when the strategy solved it (auto): a sweep hands it to nearby budgets. */
      guide?: number[];
    }
  | {
      kind: 'infeasible';
      /** The smallest peak the strategy reached (residentBytes included), if any. */
      smallestPeakBytes?: number;
      /** True when the strategy proved no plan exists, not only that it found none. */
      proven?: boolean;
      /** A bracket for the smallest feasible budget (auto). */
      smallestBudget?: SmallestBudget;
      bound?: ProvenBound;
      solver?: SolverInfo;
      message: string;
      failures?: PhaseFailure[];
      guide?: number[];
    };

export interface Strategy {
  name: string;
  description: string;
  /** Request options the strategy reads, for GET /v1/strategies. */
  options: string[];
  /** Emits swap steps; needs `transfer`. */
  usesTransfer?: boolean;
  run(context: StrategyContext): StrategyOutcome | Promise<StrategyOutcome>;
}
