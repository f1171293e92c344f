// The one table from HiGHS model statuses to memplan's view: why the solve stopped and
// what solution it leaves. Everything else reads this table; nothing else interprets a
// HiGHS status code.

/** Why a solve stopped. */
export type StopReason = 'optimal' | 'infeasible' | 'unbounded' | 'timeLimit' | 'interrupted' | 'limit' | 'error';

/**
 * What solution a status leaves: 'optimal' (proven), 'incumbent' (a feasible one when
 * the solver found any: check the reported primal status), or 'none'.
 */
export type SolutionKind = 'optimal' | 'incumbent' | 'none';

export interface StatusMeaning {
  /** The HiGHS status name (highs.constants.modelStatus). */
  highs: string;
  stop: StopReason;
  solution: SolutionKind;
}

/** Every HiGHS model status (by code) and its meaning for memplan. */
export const HIGHS_STATUS: Readonly<Record<number, StatusMeaning>> = {
  0: { highs: 'notSet', stop: 'error', solution: 'none' },
  1: { highs: 'loadError', stop: 'error', solution: 'none' },
  2: { highs: 'modelError', stop: 'error', solution: 'none' },
  3: { highs: 'presolveError', stop: 'error', solution: 'none' },
  4: { highs: 'solveError', stop: 'error', solution: 'none' },
  5: { highs: 'postsolveError', stop: 'error', solution: 'none' },
  6: { highs: 'empty', stop: 'optimal', solution: 'optimal' },
  7: { highs: 'optimal', stop: 'optimal', solution: 'optimal' },
  8: { highs: 'infeasible', stop: 'infeasible', solution: 'none' },
  9: { highs: 'unboundedOrInfeasible', stop: 'infeasible', solution: 'none' },
  10: { highs: 'unbounded', stop: 'unbounded', solution: 'incumbent' },
  11: { highs: 'objectiveBound', stop: 'limit', solution: 'incumbent' },
  12: { highs: 'objectiveTarget', stop: 'limit', solution: 'incumbent' },
  13: { highs: 'timeLimit', stop: 'timeLimit', solution: 'incumbent' },
  14: { highs: 'iterationLimit', stop: 'limit', solution: 'incumbent' },
  15: { highs: 'unknown', stop: 'error', solution: 'incumbent' },
  16: { highs: 'solutionLimit', stop: 'limit', solution: 'incumbent' },
  17: { highs: 'interrupted', stop: 'interrupted', solution: 'incumbent' },
};

/** The meaning of a HiGHS model status code (unknown codes read as errors). */
export function statusMeaning(code: number): StatusMeaning {
  return HIGHS_STATUS[code] ?? { highs: `code ${code}`, stop: 'error', solution: 'none' };
}
