// Messages between the main thread and a pool worker.
import type { Graph } from '../../solver/graph/schema.js';
import type { PlanOptions } from '../../solver/plan.js';
import type { Plan } from '../../solver/plan-schema.js';
import type { ProgressEvent } from '../../solver/strategies/types.js';

/** A catalogued error as it crosses the thread boundary. */
export interface WireError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** A job to run (its graph as a Graph or as JSON text, parsed by the worker), or a cancel. */
export type ToWorker = { type: 'run'; jobId: string; graph: Graph | string; options: PlanOptions } | { type: 'cancel'; jobId: string };

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

export type ToMain =
  | { type: 'progress'; jobId: string; event: ProgressEvent }
  | { type: 'done'; jobId: string; plan: Plan }
  | { type: 'failed'; jobId: string; error: WireError; fatal?: boolean };
