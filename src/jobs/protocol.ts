// What crosses the thread boundary between the job manager and a plan() (or sweep) worker.
import type { Graph } from '../../solver/graph/schema.js';
import type { PlanOptions } from '../../solver/plan.js';
import type { Plan } from '../../solver/plan-schema.js';
import type { SweepOptions, SweepResult } from '../../solver/sweep/schema.js';
import type { JobKind } from './job-store.js';

/** A catalogued error as it crosses the thread boundary. */
export interface WireError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/**
 * One job: the request's options and its graph, as a Graph or as its JSON text (the job
 * manager sends text; the worker parses it).
 */
export interface JobPayload {
  graph: Graph | string;
  options: PlanOptions;
  /** What to compute (default a plan); each kind has its handler in worker.ts. */
  kind?: JobKind;
  /** A sweep's options (kind 'sweep', POST /v1/sweeps); `options` is then unused. */
  sweep?: SweepOptions;
}

/**
 * A plan as the worker sends it: JSON text with "status" as its first key (see planText).
 * A string crosses the thread boundary at the cost of a copy, where a Plan object with a
 * 50k-step schedule costs the event loop about 100 ms of structured-clone decoding. Typed
 * as Plan where the pool passes it through unchanged (src/jobs/pool.ts).
 */
export type PlanText = string;

/** The text of a plan for the main thread: "status" first, so it is read without parsing. */
export function planText(plan: Plan): PlanText {
  const { status, ...rest } = plan;
  return JSON.stringify({ status, ...rest });
}

/** The status of a plan text made by planText. */
export function statusOfPlanText(text: PlanText): string | undefined {
  return /^\{"status":"(\w+)"/.exec(text)?.[1];
}

/**
 * A sweep as the worker sends it: the result (small: one row per budget) as an object, and
 * each plan as its text (planText) in planId order, so the large schedules cross the thread
 * boundary as strings.
 */
export interface SweepAnswer {
  sweep: SweepResult;
  planTexts: PlanText[];
}
