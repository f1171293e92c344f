// The benchmark case worker: plans one case at a time for CaseRunner (bench/lib.ts) on a
// thread of the thread pool, so a case that runs away can be stopped by its time-out.
import type { IndexedGraph } from '../solver/graph/validate.js';
import { serveTasks } from '../solver/util/thread-worker.mjs';
import { type CaseResult, type PlanCase, runCaseHere } from './lib.js';

/** Graphs already loaded by this thread, by path. */
const cache = new Map<string, IndexedGraph>();

serveTasks<PlanCase, CaseResult>(async (planCase) => {
  const result = await runCaseHere(planCase, cache);
  // Schedules can be long and the suites only need figures: the plan goes back without them.
  if (result.plan) result.plan = { ...result.plan, schedule: [], nodes: [] };
  return result;
});
