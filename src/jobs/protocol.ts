// Messages between the main thread and a pool worker.
import type { Graph } from '../../solver/graph/schema.js';
import type { PlanOptions } from '../../solver/plan.js';
import type { Plan } from '../../solver/plan-schema.js';
import type { ProgressEvent } from '../../solver/strategies/types.js';
import type { SweepOptions } from '../../solver/sweep/schema.js';
import type { SweepOutcome } from '../../solver/sweep/sweep.js';

/** A catalogued error as it crosses the thread boundary. */
export interface WireError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

export type ToWorker =
  | { type: 'run'; jobId: string; graph: Graph; options: PlanOptions }
  | { type: 'sweep'; jobId: string; graph: Graph; options: SweepOptions }
  | { type: 'cancel'; jobId: string };

export type ToMain =
  | { type: 'progress'; jobId: string; event: ProgressEvent }
  | { type: 'done'; jobId: string; plan: Plan }
  | { type: 'sweepDone'; jobId: string; outcome: SweepOutcome }
  | { type: 'failed'; jobId: string; error: WireError; fatal?: boolean };
