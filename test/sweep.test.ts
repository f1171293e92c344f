// Sweeps (solver/sweep/): the Pareto points and the knee on hand-computed curves; sweeps
// on small fixtures whose every plan replays, with makespans that never increase with the
// budget and bounds that never decrease as it shrinks; carried bounds checked against an
// exhaustive search; auto's seeds; and the inverse questions, checked against exhaustive
// searches on tiny graphs.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { chain, diamond, randomLayered, unetLike, wideLastStep } from '../fixtures/generators.js';
import { isMemplanError } from '../solver/errors.js';
import { type IndexedGraph, indexGraph } from '../solver/graph/validate.js';
import { shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { plan, resolveTransfer } from '../solver/plan.js';
import type { Plan } from '../solver/plan-schema.js';
import { noRematPeak, noRematSteps } from '../solver/schedule/no-remat.js';
import { type IndexedStep, simulateIndexed } from '../solver/schedule/simulate.js';
import { auto } from '../solver/strategies/auto.js';
import { getStrategy } from '../solver/strategies/registry.js';
import type { Strategy } from '../solver/strategies/types.js';
import { FIRST_PASS_SHARE, REFINE_GROWTH, REFINE_LAST_GROWTH } from '../solver/limits.js';
import { BudgetAxis } from '../solver/sweep/axis.js';
import { kneeIndex, paretoIndices } from '../solver/sweep/front.js';
import { resolutionBytes } from '../solver/sweep/inverse.js';
import type { SweepOptions, SweepResult } from '../solver/sweep/schema.js';
import { neediest, sweep, sweepBudgets } from '../solver/sweep/sweep.js';
import { checkPlan, exhaustiveOptimum, minimumPeak } from './helpers.js';

afterAll(() => shutdownHighsWorkers());

// Strategies a test adds by name, for the sweep to look up beside the registry's.
const testStrategies = vi.hoisted(() => new Map<string, Strategy>());
vi.mock('../solver/strategies/registry.js', async (importOriginal) => {
  const registry = await importOriginal<typeof import('../solver/strategies/registry.js')>();
  return { ...registry, getStrategy: (name: string) => testStrategies.get(name) ?? registry.getStrategy(name) };
});

/** Runs a sweep and checks every plan of it with the simulator; returns the result and the plans by id. */
async function checkedSweep(graph: IndexedGraph, options: SweepOptions): Promise<{ result: SweepResult; plans: Plan[] }> {
  const { result, plans } = await sweep(graph, options);
  const transfer = resolveTransfer(options.transfer);
  for (const point of result.points) {
    if (point.planId === undefined) {
      expect(point.predicted, 'a point without a plan predicts nothing').toBeUndefined();
      expect(point.status).toBe('infeasible');
      continue;
    }
    const pointPlan = plans[Number(point.planId)];
    expect(pointPlan.budgetBytes).toBe(point.budgetBytes);
    checkPlan(graph, pointPlan, transfer);
    expect(point.predicted).toEqual(pointPlan.predicted);
    expect(point.bound).toEqual(pointPlan.bound);
  }
  for (const answer of [result.maxOverhead, result.smallestFeasible]) {
    if (answer?.planId !== undefined) checkPlan(graph, plans[Number(answer.planId)], transfer);
  }
  return { result, plans };
}

/** Asserts makespans never increase with the budget and bounds never decrease as it shrinks. */
function expectMonotone(result: SweepResult): void {
  const budgets = result.points.map((point) => point.budgetBytes);
  expect(budgets).toEqual([...budgets].sort((a, b) => a - b));
  expect(new Set(budgets).size).toBe(budgets.length);
  for (let index = 1; index < result.points.length; index++) {
    const smaller = result.points[index - 1];
    const larger = result.points[index];
    if (smaller.predicted) {
      expect(larger.predicted, `a plan at ${smaller.budgetBytes} fits ${larger.budgetBytes}`).toBeDefined();
      expect(larger.predicted!.makespan).toBeLessThanOrEqual(smaller.predicted.makespan);
      expect(smaller.bound!.makespan).toBeGreaterThanOrEqual(larger.bound!.makespan);
    }
  }
}

describe('Pareto points and the knee', () => {
  it('keeps the points strictly faster than every cheaper one', () => {
    const points = [
      { budgetBytes: 10 },
      { budgetBytes: 20, makespan: 10 },
      { budgetBytes: 30, makespan: 10 },
      { budgetBytes: 40, makespan: 8 },
      { budgetBytes: 50, makespan: 8 },
      { budgetBytes: 60, makespan: 7.5 },
    ];
    expect(paretoIndices(points)).toEqual([1, 3, 5]);
    expect(paretoIndices([{ budgetBytes: 1 }])).toEqual([]);
  });

  it('puts the knee where more memory buys less than the slope, 1 % of time per 10 % of budget by default', () => {
    // Fractions 0.4 .. 1.0 of a peak of 100 bytes; makespans over a baseCost of 100.
    const points = [
      { budgetBytes: 40, makespan: 130 },
      { budgetBytes: 50, makespan: 110 },
      { budgetBytes: 60, makespan: 104 },
      { budgetBytes: 80, makespan: 103 },
      { budgetBytes: 100, makespan: 102.5 },
    ];
    const scale = { baseCost: 100, noRematPeakBytes: 100 };
    const pareto = paretoIndices(points);
    // From 60 %: 1 % per 20 % (0.05) to 80 %, 1.5 % per 40 % (0.0375) to 100 %: both below 0.1.
    // From 50 %: 6 % per 10 % (0.6) to 60 %: above.
    expect(kneeIndex(points, pareto, scale, 0.1)).toBe(2);
    // A stricter slope of 0.02: from 60 % the step to 80 % (0.05) is above; from 80 % the step to 100 % (0.025) too.
    expect(kneeIndex(points, pareto, scale, 0.02)).toBe(4);
    // A slope exactly met is not "less than": from 50 % to 100 %, 25 % of time for 50 % of budget is 0.5.
    const pair = [
      { budgetBytes: 50, makespan: 125 },
      { budgetBytes: 100, makespan: 100 },
    ];
    expect(kneeIndex(pair, [0, 1], scale, 0.5)).toBe(1);
    expect(kneeIndex(pair, [0, 1], scale, 0.51)).toBe(0);
    expect(kneeIndex([{ budgetBytes: 10 }], [], scale, 0.1)).toBeUndefined();
  });
});

describe('sweep', () => {
  it('plans every budget from the floor to 100 %: every plan replays, makespans monotone, Pareto and knee from the points', async () => {
    const graph = indexGraph(unetLike(3));
    const { result } = await checkedSweep(graph, { budgets: { points: 6 }, timeLimitSeconds: 6 });
    expect(result.points).toHaveLength(6);
    expect(result.points[0].budgetBytes).toBe(result.floorBytes);
    expect(result.points[5].budgetBytes).toBe(result.noRematPeakBytes);
    expect(result.points[5].predicted!.overheadRatio).toBe(1);
    expect(result.points[5].status).toBe('optimal');
    expectMonotone(result);
    const curve = result.points.map((point) => ({ budgetBytes: point.budgetBytes, makespan: point.predicted?.makespan }));
    expect(result.pareto).toEqual(paretoIndices(curve));
    expect(result.knee).toBe(kneeIndex(curve, result.pareto, result, result.kneeSlope));
    for (const point of result.points) expect(point.fraction).toBeCloseTo(point.budgetBytes / result.noRematPeakBytes, 12);
  });

  it('takes a list of budgets in any form, sorted and without repeats; budgets below the floor are infeasible at once', async () => {
    const graph = indexGraph(chain(6));
    const { result } = await checkedSweep(graph, { budgets: ['100%', 0.5, '100%', { fraction: 0.2 }, 0.75], timeLimitSeconds: 10 });
    expect(result.points.map((point) => point.fraction)).toEqual([0.2, 0.5, 0.75, 1].map((fraction) => expect.closeTo(fraction, 2)));
    const below = result.points.filter((point) => point.budgetBytes < result.floorBytes);
    expect(below.length).toBeGreaterThan(0);
    for (const point of below) {
      expect(point.status).toBe('infeasible');
      expect(point.planId).toBeUndefined();
      expect(point.seconds).toBe(0);
    }
    expectMonotone(result);
  });

  it('with a host link, every plan replays with that link', async () => {
    const graph = indexGraph(diamond());
    const { result } = await checkedSweep(graph, { budgets: { points: 4 }, transfer: 'pcie4', timeLimitSeconds: 10 });
    expect(result.transfer).toEqual(resolveTransfer('pcie4'));
    expectMonotone(result);
  });

  it('carries bounds down correctly: every bound is at most the exhaustive optimum at its budget', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const graph = indexGraph(randomLayered({ seed, layers: 3, width: 2, backward: false, keep: true }));
      const { result } = await checkedSweep(graph, { budgets: { points: 8 }, timeLimitSeconds: 8 });
      expectMonotone(result);
      for (const point of result.points) {
        const optimum = exhaustiveOptimum(graph, point.budgetBytes);
        if (!point.predicted) continue;
        expect(point.bound!.makespan, `seed ${seed} at ${point.budgetBytes}`).toBeLessThanOrEqual(optimum * (1 + 1e-9));
        expect(point.predicted.makespan).toBeGreaterThanOrEqual(optimum * (1 - 1e-9));
      }
    }
  });

  it('a cancelled sweep ends at once with what it knows: the no-remat plan at 100 %', async () => {
    const graph = indexGraph(unetLike(3));
    const controller = new AbortController();
    controller.abort();
    const { result } = await sweep(graph, { budgets: { points: 5 }, timeLimitSeconds: 60 }, { signal: controller.signal });
    expect(result.points.every((point) => point.seconds === 0)).toBe(true);
    expect(result.points[4].predicted?.overheadRatio).toBe(1);
  });

  it('rejects bad options with a typed error naming the field', async () => {
    const graph = indexGraph(chain(3));
    const code = async (options: SweepOptions) => {
      try {
        await sweep(graph, options);
        return 'none';
      } catch (error) {
        expect(isMemplanError(error)).toBe(true);
        return `${(error as { code: string }).code} ${JSON.stringify((error as { details: unknown }).details)}`;
      }
    };
    expect(await code({ budgets: [] })).toMatch(/MEMPLAN_ERR_INVALID_REQUEST.*budgets/);
    expect(await code({ budgets: ['lots'] })).toMatch(/MEMPLAN_ERR_INVALID_BUDGET.*budgets\.0/);
    expect(await code({ budgets: { points: 1 } })).toMatch(/MEMPLAN_ERR_INVALID_REQUEST.*budgets\.points/);
    expect(await code({ budgets: { from: 'x' } })).toMatch(/MEMPLAN_ERR_INVALID_BUDGET.*budgets\.from/);
    expect(await code({ maxOverhead: '-5%' })).toMatch(/MEMPLAN_ERR_INVALID_REQUEST.*maxOverhead/);
    expect(await code({ strategy: 'nope' })).toMatch(/MEMPLAN_ERR_UNKNOWN_STRATEGY/);
  });

  it('spreads {from, to, points} evenly in bytes, from the floor by default', () => {
    const axis = { floorBytes: 100, noRematPeakBytes: 1000 };
    expect(sweepBudgets({ budgets: { from: 'floor', to: { fraction: 1 }, points: 4 } }, axis)).toEqual([100, 400, 700, 1000]);
    expect(sweepBudgets({ budgets: { from: { bytes: 500 }, to: { fraction: 0.3 }, points: 3 } }, axis)).toEqual([300, 400, 500]);
  });
});

describe('the budget axis', () => {
  it('a plan found at a small budget serves every larger one, and a bound proven at a large budget every smaller one', async () => {
    const graph = indexGraph(unetLike(3));
    const axis = new BudgetAxis(graph, { strategy: auto, relativeGap: 1e-4, formulation: 'tight' });
    const small = Math.ceil(axis.noRematPeakBytes * 0.75);
    const large = Math.floor(axis.noRematPeakBytes * 0.95);
    const first = await axis.evaluate(small, 5);
    expect(first.found).toBeDefined();
    // Between them nothing was run: the plan of the small budget is the plan there.
    const between = Math.floor((small + large) / 2);
    const carried = axis.planAt(between);
    checkPlan(graph, carried);
    expect(carried.predicted!.makespan).toBe(first.found!.makespan);
    expect(carried.message).toMatch(/fits this budget too/);
    await axis.evaluate(large, 5);
    const bound = axis.boundAt(large);
    expect(axis.boundAt(between).makespan).toBeGreaterThanOrEqual(bound.makespan);
    expect(axis.boundAt(small).makespan).toBeGreaterThanOrEqual(axis.boundAt(between).makespan);
  });

  it('takes a proven floor from an infeasible answer: every budget below it is proven infeasible without a solve', async () => {
    // The hand-computed step of test/bounds-last-computation.test.ts: the least peak is 82 B,
    // the last-computation floor; the contract's floor is 78 B.
    const graph = indexGraph(wideLastStep());
    const axis = new BudgetAxis(graph, { strategy: auto, relativeGap: 1e-4, formulation: 'tight' });
    expect(axis.floorBytes).toBe(78);
    const evaluation = await axis.evaluate(79, 5);
    expect(evaluation.provenInfeasible).toBe(true);
    expect(axis.provenInfeasible(81)).toBe(true);
    expect(axis.provenInfeasible(82)).toBe(false);
    expect(axis.provenFloor()).toBe(82);
    expect(minimumPeak(graph)).toBe(82);
  });

  it('seeds the strategy with the plans that fit: the plan at a budget is never slower than one from a smaller budget', async () => {
    const graph = indexGraph(randomLayered({ seed: 7, layers: 6, width: 3 }));
    // dtr alone, which does not read seeds: the axis still carries the smaller budget's plan up.
    const axis = new BudgetAxis(graph, { strategy: getStrategy('dtr')!, relativeGap: 1e-4, formulation: 'tight' });
    const budgets = [0.55, 0.6, 0.65, 0.7].map((fraction) => Math.floor(fraction * axis.noRematPeakBytes));
    let previous = Infinity;
    for (const budget of budgets) {
      await axis.evaluate(budget, 1);
      const here = axis.planAt(budget);
      if (!here.predicted) continue;
      checkPlan(graph, here);
      expect(here.predicted.makespan).toBeLessThanOrEqual(previous);
      previous = here.predicted.makespan;
    }
  });
});

describe('hints', () => {
  it('the axis hands a strategy the plans that do not fit its budget as hints, the smallest peaks first, and those that fit as seeds', async () => {
    const graph = indexGraph(unetLike(3));
    const dtr = getStrategy('dtr')!;
    const seen: { budget: number; seeds: number[]; hints: number[] }[] = [];
    const peakOf = (steps: readonly IndexedStep[]) => {
      const replay = simulateIndexed(graph, steps);
      if (!replay.ok) throw new Error(replay.error.message);
      return replay.figures.peakBytes;
    };
    const recording = {
      ...dtr,
      name: 'recording',
      run: (context: Parameters<typeof dtr.run>[0]) => {
        seen.push({ budget: context.budgetBytes, seeds: (context.seeds ?? []).map(peakOf), hints: (context.hints ?? []).map(peakOf) });
        return dtr.run(context);
      },
    };
    const axis = new BudgetAxis(graph, { strategy: recording, relativeGap: 1e-4, formulation: 'tight' });
    const budgets = [0.9, 0.75, 0.6].map((fraction) => Math.floor(fraction * axis.noRematPeakBytes));
    for (const budget of budgets) await axis.evaluate(budget, 1);
    expect(seen.map((entry) => entry.budget)).toEqual(budgets);
    for (const { budget, seeds, hints } of seen) {
      for (const peak of seeds) expect(peak).toBeLessThanOrEqual(budget);
      for (const peak of hints) expect(peak).toBeGreaterThan(budget);
      expect(hints).toEqual([...hints].sort((a, b) => a - b));
    }
    // The no-remat plan is a hint below 100 %; the plans found at 90 % and 75 % are hints lower down.
    expect(seen[0].hints).toEqual([axis.noRematPeakBytes]);
    expect(seen[2].hints.length).toBeGreaterThan(1);
  });
});

describe('guides', () => {
  it('the axis hands a strategy the recomputed set an outcome reported at the nearest budget (the larger on a tie), none before one is known', async () => {
    const graph = indexGraph(unetLike(3));
    const dtr = getStrategy('dtr')!;
    const seen: { budget: number; guide: readonly number[] | undefined }[] = [];
    const reporting: Strategy = {
      ...dtr,
      name: 'reporting',
      run: async (context) => {
        seen.push({ budget: context.budgetBytes, guide: context.guide });
        const outcome = await dtr.run(context);
        // Each budget reports a set of its own: its index among the calls.
        return { ...outcome, guide: [seen.length - 1] };
      },
    };
    const axis = new BudgetAxis(graph, { strategy: reporting, relativeGap: 1e-4, formulation: 'tight' });
    const peak = axis.noRematPeakBytes;
    // 90 % (none known), 60 % (nearest: 90 %, call 0), 70 % (60 % is nearer than 90 %: call 1),
    // 80 % (equally near 70 % and 90 %: the larger, call 0).
    // Even budgets, so that the one between 70 % and 90 % is a whole number of bytes.
    const budgets = [0.9, 0.6, 0.7].map((fraction) => 2 * Math.round((fraction * peak) / 2));
    budgets.push((budgets[0] + budgets[2]) / 2);
    for (const budget of budgets) await axis.evaluate(budget, 1);
    expect(seen.map((entry) => entry.budget)).toEqual(budgets);
    expect(seen.map((entry) => entry.guide)).toEqual([undefined, [0], [1], [0]]);
  });

  it('the axis tells a strategy how many times it solved the budget before', async () => {
    const graph = indexGraph(unetLike(3));
    const dtr = getStrategy('dtr')!;
    const attempts: (number | undefined)[] = [];
    const counting: Strategy = {
      ...dtr,
      name: 'counting',
      run: (context) => {
        attempts.push(context.attempt);
        return dtr.run(context);
      },
    };
    // A relative gap of -1 never closes a budget, so each evaluation runs the strategy.
    const axis = new BudgetAxis(graph, { strategy: counting, relativeGap: -1, formulation: 'tight' });
    const [high, low] = [0.9, 0.7].map((fraction) => Math.round(fraction * axis.noRematPeakBytes));
    for (const budget of [high, low, high, high, low]) await axis.evaluate(budget, 1);
    expect(attempts).toEqual([0, 0, 1, 2, 1]);
  });
});

/**
 * A strategy registered as `name` that spends its whole limit (as a solver that never closes)
 * and then plans by DTR; each call's budget and limit go to `calls`.
 */
function spendingStrategy(name: string, calls: { budget: number; limit: number }[]): Strategy {
  const dtr = getStrategy('dtr')!;
  const spending: Strategy = {
    ...dtr,
    name,
    run: async (context) => {
      calls.push({ budget: context.budgetBytes, limit: context.timeLimitSeconds });
      await new Promise((resolve) => setTimeout(resolve, 0.97 * context.timeLimitSeconds * 1000));
      return dtr.run(context);
    },
  };
  testStrategies.set(name, spending);
  return spending;
}

describe('the time left over', () => {
  it('goes to the open point with the largest gap when, shared out, it is too little for every point', async () => {
    // A strategy that spends its whole limit, so no point is proven and each first-pass share
    // is a third of the time: the time left (two fifths), shared between the two points, is
    // less than REFINE_GROWTH times what either had, but more than REFINE_LAST_GROWTH times.
    const graph = indexGraph(unetLike(3));
    const calls: { budget: number; limit: number }[] = [];
    const spending = spendingStrategy('spending', calls);
    const { result } = await checkedSweep(graph, { budgets: ['80%', '90%'], strategy: spending.name, timeLimitSeconds: 8 });
    expect(calls.map((call) => call.budget)).toEqual([result.points[1].budgetBytes, result.points[0].budgetBytes, expect.any(Number)]);
    const last = calls[2];
    const worst = result.points.reduce((a, b) => (b.bound!.gap > a.bound!.gap ? b : a));
    expect(last.budget).toBe(worst.budgetBytes);
    const first = calls.find((call) => call.budget === last.budget)!;
    expect(last.limit).toBeGreaterThanOrEqual(REFINE_LAST_GROWTH * first.limit);
    expect(last.limit).toBeLessThan(REFINE_GROWTH * first.limit);
    expect(result.points.every((point) => point.status !== 'optimal')).toBe(true);
  });
});

describe("a refine round's points", () => {
  // Five open points at budgets 10..50 (index = budget / 10 - 1), each solved before with 4 s.
  const gaps = new Map([
    [10, Infinity],
    [20, 0.28],
    [30, 0.06],
    [40, 0.001],
    [50, 0.02],
  ]);
  const open = [...gaps.keys()].map((budget) => ({ budget, index: budget / 10 - 1, weight: budget === 10 ? 3 : 1 }));
  const pick = (seconds: number, limit = 4) =>
    neediest(
      open,
      seconds,
      () => limit,
      (budget) => gaps.get(budget)!,
    ).map((entry) => entry.budget);

  it('are the most of the neediest that each get REFINE_GROWTH times their time, in increasing budget', () => {
    // Each share must be REFINE_GROWTH x 4 s, and the frontier takes three: just under seven
    // shares serve the frontier and the three largest gaps (50's 0.02 before 40's 0.001),
    // just under six the frontier and two; seven every point.
    const share = REFINE_GROWTH * 4;
    expect(pick(7 * share - 0.5)).toEqual([10, 20, 30, 50]);
    expect(pick(6 * share - 0.5)).toEqual([10, 20, 30]);
    expect(pick(7 * share)).toEqual([10, 20, 30, 40, 50]);
  });

  it('are the neediest alone with REFINE_LAST_GROWTH times its time, and none below that', () => {
    expect(pick(REFINE_LAST_GROWTH * 4)).toEqual([10]);
    expect(pick(REFINE_LAST_GROWTH * 4 - 0.01)).toEqual([]);
    // Never under MIN_REFINE_SECONDS, whatever the point had.
    expect(pick(0.9, 0)).toEqual([]);
  });
});

describe('the smallest budget alone', () => {
  it('gets all the time at once when every larger budget is closed', async () => {
    // 100 % is closed without a solve (the no-remat plan meets baseCost); at 60 % a strategy
    // that spends its whole limit never closes. With the first pass's share
    // it would have FIRST_PASS_SHARE of the time, and the rest would be too little to solve it again.
    const graph = indexGraph(unetLike(3));
    const calls: { budget: number; limit: number }[] = [];
    const spending = spendingStrategy('spending-alone', calls);
    const lowest = Math.round(0.6 * noRematPeak(graph));
    const timeLimitSeconds = 6;
    const { result } = await checkedSweep(graph, { budgets: [lowest, '100%'], strategy: spending.name, timeLimitSeconds });
    expect(result.points[1].status).toBe('optimal');
    expect(result.points[0].status).not.toBe('optimal');
    // One solve, with nearly the whole limit (less the sweep's margin).
    expect(calls).toEqual([{ budget: lowest, limit: expect.any(Number) }]);
    expect(calls[0].limit).toBeGreaterThan((FIRST_PASS_SHARE + 0.3) * timeLimitSeconds);
  });
});

describe("auto's seeds", () => {
  it('auto starts from the seeds: its plan is never slower than a seed that fits; a seed that does not replay is left out', async () => {
    const graph = indexGraph(unetLike(3));
    const budget = { fraction: 0.8 };
    const seedPlan = await plan(graph, { budget, strategy: 'dtr' });
    expect(seedPlan.predicted).toBeDefined();
    const seed = seedPlan.schedule.map((step) => ({ op: step.op, node: graph.index.get(step.node)! }));
    const illegal = [{ op: 'free' as const, node: 0 }];
    const seeded = await plan(graph, { budget, strategy: 'auto', timeLimitSeconds: 0.3 }, { seeds: [illegal, seed] });
    checkPlan(graph, seeded);
    expect(seeded.predicted!.makespan).toBeLessThanOrEqual(seedPlan.predicted!.makespan);
    // The no-remat plan as a seed at 100 %: optimal at once.
    const full = await plan(graph, { budget: '100%', strategy: 'auto' }, { seeds: [noRematSteps(graph)] });
    expect(full.status).toBe('optimal');
    expect(simulateIndexed(graph, noRematSteps(graph)).ok).toBe(true);
  });
});

describe('inverse questions', () => {
  it('the smallest budget within an overhead cap: a plan at B within the cap, and a true statement about B minus 1 %', async () => {
    for (const [graph, cap] of [
      [indexGraph(chain(3)), 0.1],
      [indexGraph(randomLayered({ seed: 3, layers: 3, width: 2, backward: false, keep: true })), 0.05],
      [indexGraph(randomLayered({ seed: 5, layers: 3, width: 2, backward: false })), 0.2],
    ] as const) {
      const { result, plans } = await checkedSweep(graph, { budgets: [], maxOverhead: cap, timeLimitSeconds: 10 });
      const answer = result.maxOverhead!;
      const answerPlan = plans[Number(answer.planId)];
      expect(answerPlan.budgetBytes).toBe(answer.budgetBytes);
      expect(answer.predicted.peakBytes).toBe(answer.budgetBytes);
      expect(answer.predicted.overheadRatio).toBeLessThanOrEqual(1 + cap);
      const target =
        answer.budgetBytes - resolutionBytes(new BudgetAxis(graph, { strategy: auto, relativeGap: 1e-4, formulation: 'tight' }));
      expect(answer.below.budgetBytes).toBe(target);
      const truth = exhaustiveOptimum(graph, target) / graph.baseCost;
      if (answer.below.proven) {
        // A proof is never wrong: no remat plan within the cap exists there.
        expect(truth, answer.below.statement).toBeGreaterThan(1 + cap);
        if (answer.below.reason === 'bound') expect(answer.below.boundOverheadRatio!).toBeGreaterThan(1 + cap);
        if (answer.below.reason === 'below-floor') expect(target).toBeLessThan(result.floorBytes);
      } else {
        expect(answer.below.reason).toBe('none-found');
        expect(answer.below.statement).toMatch(/none is proven impossible/);
      }
    }
  });

  it('the smallest feasible budget brackets the exhaustive minimum peak', async () => {
    for (const raw of [chain(3), randomLayered({ seed: 2, layers: 3, width: 2, backward: false, keep: true }), diamond()]) {
      const graph = indexGraph(raw);
      const { result } = await checkedSweep(graph, { budgets: [], smallestFeasible: true, timeLimitSeconds: 10 });
      const answer = result.smallestFeasible!;
      const minimum = minimumPeak(graph);
      expect(answer.provenFloorBytes).toBeLessThanOrEqual(minimum);
      expect(answer.foundBytes).toBeGreaterThanOrEqual(minimum);
      expect(answer.predicted.peakBytes).toBe(answer.foundBytes);
      if (answer.tight) expect(answer.foundBytes).toBe(minimum);
    }
  });
});
