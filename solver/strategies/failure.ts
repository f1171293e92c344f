// Solver failures as data: a solve that failed (its WebAssembly instance aborted, or HiGHS
// reported an error) is never read as a verdict. A strategy that still has a plan returns
// it and lists the failure (Plan.failures); one with no plan answers the failure's typed
// error. A WASM abort ("RuntimeError: Aborted()", usually the 2 GiB heap exhausted) has its
// own code, MEMPLAN_ERR_SOLVER_ABORTED.
import { MemplanError } from '../errors.js';
import type { PhaseFailure } from '../plan-schema.js';

/** True for a solver error text that is a WebAssembly abort. */
export function isAbortText(error: string | undefined): boolean {
  return error !== undefined && /Aborted\(|RuntimeError/.test(error);
}

/** The failure of a solve in `phase` (`aborted`: its WASM instance aborted; default: read from the text). */
export function phaseFailure(phase: string, error: string | undefined, aborted = isAbortText(error)): PhaseFailure {
  return { phase, code: aborted ? 'MEMPLAN_ERR_SOLVER_ABORTED' : 'MEMPLAN_ERR_SOLVER_FAILED', detail: error ?? 'solver error' };
}

/** The typed error a failure answers with when no plan was found. */
export function failureError(failure: PhaseFailure, strategy?: string): MemplanError {
  const phase = strategy && strategy !== failure.phase ? `${strategy}'s ${failure.phase}` : failure.phase;
  return new MemplanError(failure.code, { phase, detail: `${failure.phase}: ${failure.detail}` });
}
