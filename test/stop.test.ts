// The stop of a solve (solver/util/stop.ts) and who honours it: the StopSignal itself, the
// long loops of the baselines and the scale search, plan()'s deadline on a huge graph,
// HiGHS through the shared flag (its thread kept, not terminated), and solver failures
// reported as failures with the phase that failed, never as "infeasible" (issue 12, items 5-7).
import { afterAll, describe, expect, it } from 'vitest';
import { chain } from '../fixtures/generators.js';
import { isMemplanError } from '../solver/errors.js';
import { parseGraph } from '../solver/graph/validate.js';
import { highsThreadStats, shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { finalizePlan, plan } from '../solver/plan.js';
import { greedySequence } from '../solver/scale/greedy.js';
import { noRematSteps } from '../solver/schedule/no-remat.js';
import { allCheckpoints, scheduleCheckpoints, schedulerBase } from '../solver/strategies/checkpointing.js';
import { dtrSchedule } from '../solver/strategies/dtr.js';
import { PhasedRun, runPhases, type Phase } from '../solver/strategies/phases.js';
import type { StrategyContext } from '../solver/strategies/types.js';
import { childStop, STOP_FLAG_VALUES, StopSignal, stopCauseOf } from '../solver/util/stop.js';
import { until } from './api-helpers.js';
import { checkPlan } from './helpers.js';

afterAll(async () => {
  await shutdownHighsWorkers();
});

function sharedFlag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

describe('StopSignal', () => {
  it('reads a shared flag synchronously and says why it stopped', () => {
    const flag = sharedFlag();
    const signal = new StopSignal({ flags: [flag] });
    let events = 0;
    signal.addEventListener('abort', () => events++);
    expect(signal.aborted).toBe(false);
    Atomics.store(flag, 0, STOP_FLAG_VALUES.cancel);
    // No event-loop turn between the store and the read: a busy loop sees it at its next check.
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('cancel');
    expect(events).toBe(1);
    expect(stopCauseOf(signal)).toBe('cancel');
    const late = new StopSignal({ flags: [Int32Array.from([STOP_FLAG_VALUES.deadline])] });
    expect(late.reason).toBe('deadline');
  });

  it('follows a parent AbortSignal, and fires at its deadline without being read', async () => {
    const parent = new AbortController();
    const child = new StopSignal({ parent: parent.signal });
    expect(child.aborted).toBe(false);
    parent.abort();
    expect(child.aborted).toBe(true);
    const timed = new StopSignal({ deadline: Date.now() + 30 });
    const fired = await new Promise<string | undefined>((resolve) => timed.addEventListener('abort', () => resolve(timed.reason)));
    expect(fired).toBe('deadline');
    // A flag set from elsewhere fires the event while this thread waits (an await on a solve).
    const flag = sharedFlag();
    const waiting = new StopSignal({ flags: [flag] });
    const seen = new Promise<void>((resolve) => waiting.addEventListener('abort', () => resolve()));
    Atomics.store(flag, 0, STOP_FLAG_VALUES.cancel);
    await seen;
    waiting.dispose();
  });
});

describe('childStop', () => {
  it("stops on its own without stopping the parent, with the parent, and reads the parent's flags", () => {
    const parent = new StopSignal({ flags: [sharedFlag()] });
    const own = childStop(parent);
    own.stop();
    expect(own.signal.aborted).toBe(true);
    expect(parent.aborted).toBe(false);
    own.dispose();
    const following = childStop(parent);
    expect(following.signal.flags).toBe(parent.flags);
    Atomics.store(parent.flags[0], 0, STOP_FLAG_VALUES.cancel);
    // Read synchronously, as a busy loop reads it, before any event-loop turn.
    expect(following.signal.aborted).toBe(true);
    following.dispose();
    const outer = new AbortController();
    const withParent = childStop(outer.signal);
    outer.abort();
    expect(withParent.signal.aborted).toBe(true);
    withParent.dispose();
  });
});

describe('long loops stop on the signal', () => {
  const graph = parseGraph(chain(400));
  const stopped = new StopSignal({ flags: [Int32Array.from([1])] });
  const base = schedulerBase(graph);

  it('the checkpoint scheduler, DTR and the greedy give up at once (null), and run to the end without a stop', () => {
    expect(scheduleCheckpoints(base, allCheckpoints(graph), { signal: stopped })).toBeNull();
    expect(dtrSchedule(graph, 1e12, { signal: stopped })).toBeNull();
    expect(greedySequence(graph, 1e12, { signal: stopped })).toBeNull();
    const running = new StopSignal();
    expect(scheduleCheckpoints(base, allCheckpoints(graph), { signal: running })).not.toBeNull();
    expect(dtrSchedule(graph, 1e12, { signal: running })).not.toBeNull();
    expect(greedySequence(graph, 1e12, { signal: running })).not.toBeNull();
  });

  it('the greedy gives up past its deadline (null), and runs to the end before it', () => {
    expect(greedySequence(graph, 1e12, { deadline: Date.now() - 1 })).toBeNull();
    expect(greedySequence(graph, 1e12, { deadline: Date.now() + 60_000 })?.fits).toBe(true);
  });
});

describe("plan() keeps the request's time limit on a huge graph", () => {
  it('auto on a 14k-node chain with a 1 s limit answers within seconds, with its best plan', async () => {
    // Before the deadline reached the baselines' sweeps, this took about a minute.
    const graph = parseGraph(chain(7000));
    const started = Date.now();
    const result = await plan(graph, { budget: { fraction: 0.5 }, strategy: 'auto', timeLimitSeconds: 1 });
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeLessThan(8);
    checkPlan(graph, result);
    expect(['timeLimit', 'infeasible']).toContain(result.status);
  });
});

describe('HiGHS honours the stop flag of its caller', () => {
  it('a cancelled MILP answers at once, and its HiGHS thread finishes on its own and stays for the next solve', async () => {
    // chain(25) at 40 %: the exact MILP runs for many seconds.
    const graph = parseGraph(chain(25));
    const flag = sharedFlag();
    const before = highsThreadStats();
    const cancelAt = setTimeout(() => Atomics.store(flag, 0, STOP_FLAG_VALUES.cancel), 1500);
    const started = Date.now();
    const result = await plan(
      graph,
      { budget: { fraction: 0.4 }, strategy: 'checkmate-milp', timeLimitSeconds: 60 },
      { stopFlags: [flag] },
    );
    clearTimeout(cancelAt);
    // Far below the solver's own 60 s limit (the answer comes from the stream at once).
    expect((Date.now() - started) / 1000).toBeLessThan(15);
    checkPlan(graph, result);
    // The HiGHS thread reads the same flag in its interrupt callback: it ends its solve and is
    // kept (a thread terminated after the grace would be gone from `threads`).
    await until(() => highsThreadStats().busy === 0, 20_000);
    const after = highsThreadStats();
    expect(after.crashes).toBe(before.crashes);
    expect(after.threads).toBeGreaterThanOrEqual(1);
    expect(after.spawned - before.spawned).toBeLessThanOrEqual(1);
  });
});

describe('solver failures are failures, with the phase that failed', () => {
  const graph = parseGraph(chain(6));
  const context = (): StrategyContext => ({
    graph,
    budgetBytes: 1e12,
    timeLimitSeconds: 10,
    relativeGap: 0,
    formulation: 'tight',
    startedAt: Date.now(),
  });
  const aborts: Phase = {
    name: 'checkmate-lp',
    summary: 'a solve whose WASM heap aborts',
    async run(run) {
      run.stopped('checkmate-lp', 'error', 'RuntimeError: Aborted()', true);
      return undefined;
    },
  };
  const offers: Phase = {
    name: 'baselines',
    summary: 'one plan',
    async run(run) {
      run.incumbent.offer(noRematSteps(graph), 'checkpoint-all');
      return undefined;
    },
  };

  it('auto keeps its best plan and lists the phase that failed', async () => {
    const outcome = await runPhases(new PhasedRun(context(), 0), [offers, aborts], 'auto');
    const result = finalizePlan(graph, outcome, { strategy: 'auto', budgetBytes: 1e12 });
    checkPlan(graph, result);
    expect(result.failures).toEqual([{ phase: 'checkmate-lp', code: 'MEMPLAN_ERR_SOLVER_ABORTED', detail: 'RuntimeError: Aborted()' }]);
    expect(result.message).toContain('checkmate-lp failed');
  });

  it('with no plan the failure is the answer (a typed error), never "infeasible"', async () => {
    const failed = await runPhases(new PhasedRun(context(), 0), [aborts], 'auto').catch((error: unknown) => error);
    expect(isMemplanError(failed) && failed.code).toBe('MEMPLAN_ERR_SOLVER_ABORTED');
    expect(isMemplanError(failed) && failed.details.phase).toBe("auto's checkmate-lp");
    // Any other solver error is MEMPLAN_ERR_SOLVER_FAILED.
    const other: Phase = {
      ...aborts,
      async run(run) {
        run.stopped('checkmate-lp', 'error', 'solveError');
        return undefined;
      },
    };
    const failedOther = await runPhases(new PhasedRun(context(), 0), [other], 'auto').catch((error: unknown) => error);
    expect(isMemplanError(failedOther) && failedOther.code).toBe('MEMPLAN_ERR_SOLVER_FAILED');
  });
});
