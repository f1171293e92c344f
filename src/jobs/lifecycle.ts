// The job state machine's rules, shared by the in-process manager (manager.ts) and the
// `memplan worker` processes (distributed/worker.ts), so a job ends the same way wherever
// it ran: how a progress report folds into the job's progress (only improvements are
// forwarded), and how a job ends (settleJob): which plan is stored under which hash, the
// final record, and the last event of its stream. Pure functions; the callers write the
// store and send the events.
import { isMemplanError, MemplanError, type ErrorCode } from '../../solver/errors.js';
import { assertFinite } from '../../solver/finite.js';
import type { Plan } from '../../solver/plan-schema.js';
import type { ProgressEvent } from '../../solver/strategies/types.js';
import type { JobState } from '../schemas/index.js';
import type { JobRecord, PlanWrite } from './job-store.js';
import { statusOfPlanText, type WireError } from './protocol.js';

/** One event of a job's stream, as SSE sends it. */
export type JobEvent =
  | { event: 'progress'; data: ProgressEvent & { gap?: number; at?: number } }
  | { event: 'plan'; data?: Plan; text: string }
  | { event: 'error'; data: WireError }
  | { event: 'cancelled'; data: WireError };

const TERMINAL: ReadonlySet<JobState> = new Set(['done', 'failed', 'cancelled']);

/** Plan statuses a cancelled job keeps: those with a schedule within the budget. */
const PLANS_KEPT_ON_CANCEL: ReadonlySet<string> = new Set(['optimal', 'feasible', 'timeLimit']);

/** Whether a job state is final. */
export function isTerminal(state: JobState): boolean {
  return TERMINAL.has(state);
}

/** A catalogued error as it travels (threads, Redis, the store). */
export function wire(code: ErrorCode, params: Record<string, unknown> = {}): WireError {
  return new MemplanError(code, params).toJSON();
}

/** The event with every non-finite number left out (it would not survive JSON). */
function finiteOnly(event: ProgressEvent): Partial<ProgressEvent> & Pick<ProgressEvent, 'kind'> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) if (typeof value !== 'number' || Number.isFinite(value)) kept[key] = value;
  return kept as Partial<ProgressEvent> & Pick<ProgressEvent, 'kind'>;
}

/**
 * Folds a progress report into the record's progress (incumbent, bound, gap, message,
 * elapsed); returns the event to forward when it improved the incumbent or the bound.
 */
export function foldProgress(record: JobRecord, rawEvent: ProgressEvent): Extract<JobEvent, { event: 'progress' }> | undefined {
  const event = finiteOnly(rawEvent);
  const progress = record.progress ?? { elapsedSeconds: 0 };
  if (event.elapsedSeconds !== undefined) progress.elapsedSeconds = event.elapsedSeconds;
  let improved = false;
  if (
    event.kind === 'incumbent' &&
    event.makespan !== undefined &&
    (progress.incumbent === undefined || event.makespan < progress.incumbent)
  ) {
    progress.incumbent = event.makespan;
    progress.peakBytes = event.peakBytes;
    if (event.strategy) progress.strategy = event.strategy;
    improved = true;
  }
  if (event.bound !== undefined && (progress.bound === undefined || event.bound > progress.bound)) {
    progress.bound = event.bound;
    improved = true;
  }
  if (event.kind === 'phase' && event.message) progress.message = event.message;
  if (progress.incumbent !== undefined && progress.bound !== undefined && progress.incumbent > 0) {
    progress.gap = Math.max(0, (progress.incumbent - progress.bound) / progress.incumbent);
  }
  record.progress = progress;
  if (!improved) return undefined;
  return {
    event: 'progress',
    data: {
      ...(event as ProgressEvent),
      elapsedSeconds: progress.elapsedSeconds,
      makespan: progress.incumbent,
      bound: progress.bound,
      gap: progress.gap,
    },
  };
}

/** How a job ended: the final record, the plan to store with it, and the last event of its stream. */
export interface Settled {
  record: JobRecord;
  plan?: PlanWrite;
  event: JobEvent;
}

/**
 * Ends a job: `state` is what happened (done, failed, cancelled) and `result` what the
 * worker answered (a plan as the worker's JSON text, a Plan, or an error). A plan with a
 * non-finite figure fails the job. A cancelled job keeps a plan within the budget, marked
 * Plan.cancelled, never served from the cache; a plan the strategy got wrong (status
 * error) is kept for inspection, never served from the cache either.
 */
export function settleJob(
  current: JobRecord,
  state: JobState,
  result: { plan?: Plan | string; error?: WireError },
  graph: { graphHash: string; graphText: string },
  now = Date.now(),
): Settled {
  const record: JobRecord = { ...current, finishedAt: now };
  if (record.startedAt !== undefined && record.progress) {
    record.progress = { ...record.progress, elapsedSeconds: (now - record.startedAt) / 1000 };
  }
  let plan: Plan | undefined;
  let planText: string | undefined;
  let error = result.error;
  const cancelled = state === 'cancelled';
  const status = typeof result.plan === 'string' ? statusOfPlanText(result.plan) : result.plan?.status;
  const keep = result.plan !== undefined && (!cancelled || PLANS_KEPT_ON_CANCEL.has(status ?? ''));
  const head = `{"id":${JSON.stringify(record.id)},${cancelled ? '"cancelled":true,' : ''}`;
  if (typeof result.plan === 'string' && keep) {
    // Text from a worker: already checked there (plan() never returns a non-finite figure).
    if (status === undefined) error = wire('MEMPLAN_ERR_INTERNAL', { detail: 'the worker sent a plan in an unknown form' });
    else planText = `${head}${result.plan.slice(1)}`;
  } else if (result.plan && typeof result.plan !== 'string' && keep) {
    try {
      plan = assertFinite('plan', { ...result.plan, id: record.id, ...(cancelled ? { cancelled: true as const } : {}) });
      planText = JSON.stringify(plan);
    } catch (problem) {
      if (!isMemplanError(problem)) throw problem;
      error = problem.toJSON();
    }
  }
  if (cancelled) error = wire('MEMPLAN_ERR_CANCELLED', planText === undefined ? {} : { planId: record.id });
  if (planText !== undefined) {
    record.state = state;
    record.planId = record.id;
    record.error = cancelled ? error : undefined;
    const hash = status === 'error' ? `error:${record.hash}` : cancelled ? `cancelled:${record.hash}` : record.hash;
    const write: PlanWrite = {
      id: record.id,
      owner: record.owner,
      hash,
      planText,
      graphHash: graph.graphHash,
      graphText: graph.graphText,
      createdAt: now,
    };
    const event: JobEvent = cancelled ? { event: 'cancelled', data: record.error! } : { event: 'plan', data: plan, text: planText };
    return { record, plan: write, event };
  }
  record.state = state === 'done' ? 'failed' : state;
  record.planId = undefined;
  record.error = error ?? wire('MEMPLAN_ERR_INTERNAL', { detail: 'no result' });
  return { record, event: { event: record.state === 'cancelled' ? 'cancelled' : 'error', data: record.error } };
}
