// The backend interface: what a formulation needs from a MILP/LP solver. HiGHS is the
// one implementation (highs-backend.ts); the interface keeps formulations solver-neutral.
import type { Model } from './model.js';
import type { StopReason } from './status.js';

/** An improving solution or a better bound, streamed while a solve runs. */
export interface SolveProgress {
  kind: 'incumbent' | 'bound';
  /** Seconds since the solve started. */
  elapsedSeconds: number;
  /** Objective of the best solution so far (offset included). */
  objective?: number;
  /** Best proven lower bound on the objective. */
  bound?: number;
  gap?: number;
  /** The incumbent's values (kind 'incumbent' only). */
  values?: Float64Array;
}

export interface SolveOptions {
  /** Wall-clock limit for the solver; the backend also enforces it from outside. */
  timeLimitSeconds: number;
  /** Stop once the relative gap is below this (MILP). */
  relativeGap?: number;
  /** Solve the LP relaxation: every integrality is dropped. */
  relaxation?: boolean;
  /** A starting solution (one value per variable), tried as the first incumbent. */
  start?: ArrayLike<number>;
  /**
   * False: the solver's sub-MIP heuristics (HiGHS's RINS, RENS and root reduced-cost
   * heuristic) are off, for a solve whose task is its bound while another one looks for
   * plans (default true).
   */
  heuristics?: boolean;
  /** Branchings a variable's pseudo-cost needs before it is trusted (HiGHS's mip_pscost_minreliable; default HIGHS_PSEUDOCOST_RELIABLE). */
  pseudoCostReliable?: number;
  /** Stop on request; the best solution so far is kept. */
  signal?: AbortSignal;
  onProgress?: (progress: SolveProgress) => void;
  /** Pass the model to the solver as CPLEX-LP text (lp-writer.ts) instead of arrays. */
  viaLpText?: boolean;
}

export interface SolveResult {
  /** Why the solve stopped (status.ts). */
  stop: StopReason;
  /** The solver's own status name. */
  solverStatus: string;
  /** True when `values` holds a feasible solution. */
  hasSolution: boolean;
  /** Proven optimal (within the gap asked for). */
  optimal: boolean;
  /** Objective of the returned solution (offset included). */
  objective?: number;
  /** Best proven lower bound on the objective (the LP optimum for a relaxation). */
  bound?: number;
  gap?: number;
  values?: Float64Array;
  /** Branch-and-bound nodes explored. */
  nodes: number;
  wallSeconds: number;
  /** The thread the solve ran on (never the main thread's id, 0). */
  threadId: number;
  /** Set when stop is 'error'. */
  error?: string;
  /** Set when the error was the solver's WebAssembly instance aborting (its heap exhausted): a solver failure, never a verdict. */
  aborted?: boolean;
}

/** A MILP/LP solver behind memplan's model. */
export interface MilpBackend {
  readonly name: string;
  readonly version: string;
  solve(model: Model, options: SolveOptions): Promise<SolveResult>;
}
