// The job state machine's rules, shared by the in-process manager (manager.ts) and the
// `memplan worker` processes (distributed/worker-process.ts), so a job ends the same way wherever
// it ran: how a progress report folds into the job's progress (only improvements are
// forwarded; a sweep's every point), and how a job ends (settleJob): which plan (or which
// sweep result and plans) is stored under which id and hash, the final record, and the
// last event of its stream. Pure functions; the callers write the store and send the events.
import { isMemplanError, MemplanError, type ErrorCode } from '../../solver/errors.js';
import { assertFinite } from '../../solver/finite.js';
import type { Plan } from '../../solver/plan-schema.js';
import type { ProgressEvent } from '../../solver/strategies/types.js';
import type { SweepResult } from '../../solver/sweep/schema.js';
import type { JobState } from '../schemas/index.js';
import type { JobKind, JobRecord, PlanWrite, SweepWrite } from './job-store.js';
import { type PlanText, statusOfPlanText, type SweepAnswer, type WireError } from './protocol.js';

/** One event of a job's stream, as SSE sends it ("plan" and "sweep" as their JSON text). */
export type JobEvent =
  | { event: 'progress'; data: ProgressEvent & { gap?: number; at?: number } }
  | { event: 'plan'; data?: Plan; text: string }
  | { event: 'sweep'; data?: SweepResult; text: string }
  | { event: 'error'; data: WireError }
  | { event: 'cancelled'; data: WireError };

/** A worker's answer as settleJob takes it: a plan (its text) for a plan job, a SweepAnswer for a sweep. */
export function workerAnswer(kind: JobKind | undefined, answer: Plan | PlanText): { plan?: Plan | PlanText; sweep?: SweepAnswer } {
  return kind === 'sweep' ? { sweep: answer as unknown as SweepAnswer } : { plan: answer };
}

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
 * A sweep's progress: every point solved is forwarded (its plans at different budgets are
 * not one incumbent); `points` holds the points reported so far, to count distinct ones.
 */
function foldSweepProgress(
  record: JobRecord,
  event: Partial<ProgressEvent> & Pick<ProgressEvent, 'kind'>,
  points: Set<number>,
): Extract<JobEvent, { event: 'progress' }> | undefined {
  if (event.kind !== 'point') return undefined;
  const progress = record.progress ?? { elapsedSeconds: 0 };
  if (event.elapsedSeconds !== undefined) progress.elapsedSeconds = event.elapsedSeconds;
  if (event.point !== undefined) {
    points.add(event.point);
    progress.pointsDone = points.size;
  }
  if (event.points !== undefined) progress.points = event.points;
  if (event.message) progress.message = event.message;
  record.progress = progress;
  return { event: 'progress', data: { ...(event as ProgressEvent), elapsedSeconds: progress.elapsedSeconds } };
}

/**
 * Folds a progress report into the record's progress (incumbent, bound, gap, message,
 * elapsed); returns the event to forward when it improved the incumbent or the bound. A
 * sweep's reports fold into points done (`points`: the job's points reported so far).
 */
export function foldProgress(
  record: JobRecord,
  rawEvent: ProgressEvent,
  points: Set<number> = new Set(),
): Extract<JobEvent, { event: 'progress' }> | undefined {
  const event = finiteOnly(rawEvent);
  if (record.kind === 'sweep') return foldSweepProgress(record, event, points);
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

/** How a job ended: the final record, the plan (or sweep) to store with it, and the last event of its stream. */
export interface Settled {
  record: JobRecord;
  plan?: PlanWrite;
  sweep?: SweepWrite;
  event: JobEvent;
}

/**
 * A finished sweep's result and plans to store: each plan under the id `<job id>-<n>` (the
 * points and answers name them so), never served from the plan cache; a figure that is
 * not finite, or a plan in an unknown form, throws (the job fails instead).
 */
function sweepWrite(record: JobRecord, answer: SweepAnswer, graph: { graphHash: string; graphText: string }, now: number) {
  const rename = (local?: string) => (local === undefined ? undefined : `${record.id}-${local}`);
  const swept = answer.sweep;
  const result: SweepResult = assertFinite('sweep', {
    ...swept,
    points: swept.points.map((point) => ({ ...point, planId: rename(point.planId) })),
    maxOverhead: swept.maxOverhead && { ...swept.maxOverhead, planId: rename(swept.maxOverhead.planId) },
    smallestFeasible: swept.smallestFeasible && { ...swept.smallestFeasible, planId: rename(swept.smallestFeasible.planId) },
  });
  const plans = answer.planTexts.map((text, index): PlanWrite => {
    const id = rename(String(index))!;
    if (statusOfPlanText(text) === undefined)
      throw new MemplanError('MEMPLAN_ERR_INTERNAL', { detail: 'the worker sent a plan in an unknown form' });
    // Text from the worker: checked there (sweep() returns only finite figures). A point's
    // plan answers its own budget within the sweep's time: its hash keeps it out of the cache.
    return {
      id,
      owner: record.owner,
      hash: `sweep:${id}`,
      planText: `{"id":${JSON.stringify(id)},${text.slice(1)}`,
      ...graph,
      createdAt: now,
    };
  });
  const resultText = JSON.stringify(result);
  return { result, write: { id: record.id, owner: record.owner, resultText, createdAt: now, plans } satisfies SweepWrite };
}

/**
 * Ends a sweep job: done with its result and plans stored, or failed (or cancelled) with
 * its error. A cancelled sweep keeps nothing: its points were not all given their time.
 */
function settleSweep(
  record: JobRecord,
  state: JobState,
  result: { sweep?: SweepAnswer; error?: WireError },
  graph: { graphHash: string; graphText: string },
  now: number,
): Settled {
  let error = result.error;
  if (state === 'done' && result.sweep) {
    try {
      const { result: swept, write } = sweepWrite(record, result.sweep, { graphHash: graph.graphHash, graphText: graph.graphText }, now);
      record.state = 'done';
      record.planId = undefined;
      record.error = undefined;
      return { record, sweep: write, event: { event: 'sweep', data: swept, text: write.resultText } };
    } catch (problem) {
      if (!isMemplanError(problem)) throw problem;
      error = problem.toJSON();
    }
  }
  if (state === 'cancelled') error = wire('MEMPLAN_ERR_CANCELLED');
  record.state = state === 'done' ? 'failed' : state;
  record.planId = undefined;
  record.error = error ?? wire('MEMPLAN_ERR_INTERNAL', { detail: 'no result' });
  return { record, event: { event: record.state === 'cancelled' ? 'cancelled' : 'error', data: record.error } };
}

/**
 * Ends a job: `state` is what happened (done, failed, cancelled) and `result` what the
 * worker answered (a plan as the worker's JSON text, a Plan, a sweep's SweepAnswer, or an
 * error). A plan with a non-finite figure fails the job. A cancelled job keeps a plan
 * within the budget, marked Plan.cancelled, never served from the cache; a plan the
 * strategy got wrong (status error) is kept for inspection, never served from the cache
 * either. A sweep ends as settleSweep says.
 */
export function settleJob(
  current: JobRecord,
  state: JobState,
  result: { plan?: Plan | string; sweep?: SweepAnswer; error?: WireError },
  graph: { graphHash: string; graphText: string },
  now = Date.now(),
): Settled {
  const record: JobRecord = { ...current, finishedAt: now };
  if (record.startedAt !== undefined && record.progress) {
    record.progress = { ...record.progress, elapsedSeconds: (now - record.startedAt) / 1000 };
  }
  if (record.kind === 'sweep') return settleSweep(record, state, result, graph, now);
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
