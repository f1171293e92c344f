// What crosses the thread boundary between the job manager and a plan() worker.
import type { Graph } from '../../solver/graph/schema.js';
import type { PlanOptions } from '../../solver/plan.js';

/** A catalogued error as it crosses the thread boundary. */
export interface WireError {
  code: string;
  message: string;
  details: Record<string, unknown>;
}

/** One job: the graph and the request's options. */
export interface JobPayload {
  graph: Graph;
  options: PlanOptions;
}
