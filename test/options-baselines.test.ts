// The baselines that use node options (gist, cdma) and the lowering they run on
// (solver/schedule/lower.ts): a hand-checked Gist schedule, compressed copies, and lowered
// plans that replay in the original graph exactly as in the lowered one (or hold a value
// once where the lowered plan holds it twice).
import { describe, expect, it } from 'vitest';
import { chain, namedFixtures, transformer } from '../fixtures/generators.js';
import { withOptions } from '../fixtures/options.js';
import type { Graph } from '../solver/graph/schema.js';
import { indexGraph } from '../solver/graph/validate.js';
import { plan } from '../solver/plan.js';
import { eligibleForms, lower, mapBack, preferredImplementations } from '../solver/schedule/lower.js';
import { noRematPeak, noRematSteps } from '../solver/schedule/no-remat.js';
import { simulateIndexed, toSchedule } from '../solver/schedule/simulate.js';
import { improveLoweredAgain, optionsPhase } from '../solver/strategies/options-phase.js';
import { PhasedRun } from '../solver/strategies/phases.js';
import type { StrategyContext } from '../solver/strategies/types.js';
import { checkPlan } from './helpers.js';

// x -> c (conv) -> r (relu, a 1/32 mask its backward user gr reads; a half-size form that
// decodes) -> loss; gr reads loss and r, gc reads gr and c.
const tiny: Graph = {
  nodes: [
    { id: 'x', kind: 'input', bytes: 100, cost: 0 },
    { id: 'c', op: 'conv', inputs: ['x'], bytes: 320, cost: 10 },
    {
      id: 'r',
      op: 'relu',
      inputs: ['c'],
      bytes: 320,
      cost: 2,
      encodings: [
        { name: 'half', bytes: 160, encodeCost: 1, decodeCost: 1 },
        { name: 'mask', bytes: 10, encodeCost: 1, readers: ['gr'] },
      ],
    },
    { id: 'loss', kind: 'loss', inputs: ['r'], bytes: 4, cost: 1 },
    { id: 'gr', kind: 'backward', inputs: ['loss', 'r'], bytes: 320, cost: 4 },
    { id: 'gc', kind: 'backward', inputs: ['gr', 'c'], bytes: 100, cost: 20 },
  ],
};

describe('gist', () => {
  it('encodes each eligible value after its last forward use and lets its readers read the form', async () => {
    const graph = indexGraph(tiny);
    // The mask needs no decode, so it is preferred to the smaller-saving half form.
    expect(eligibleForms(graph, { decodes: true })).toEqual(new Map([[2, 1]]));
    const result = await plan(graph, { budget: { fraction: 1 }, strategy: 'gist' });
    const { replay } = checkPlan(graph, result);
    expect(result.schedule).toEqual(
      toSchedule(graph, [
        { op: 'compute', node: 0 },
        { op: 'compute', node: 1 },
        { op: 'free', node: 0 },
        { op: 'compute', node: 2 },
        { op: 'compute', node: 3 },
        { op: 'encode', node: 2, encoding: 1 },
        { op: 'free', node: 2 },
        { op: 'compute', node: 4 },
        { op: 'free', node: 3 },
        { op: 'free', node: 2, encoding: 1 },
        { op: 'compute', node: 5 },
        { op: 'free', node: 1 },
        { op: 'free', node: 4 },
        { op: 'free', node: 5 },
      ]),
    );
    // checkpoint-all holds c, r and loss while gr computes: 320 + 320 + 4 + 320 = 964; gist
    // holds the mask instead of r there (320 + 4 + 10 + 320 = 654) and peaks where both
    // plans hold c and gr while gc computes: 320 + 320 + 100 = 740.
    expect(noRematPeak(graph)).toBe(964);
    expect(replay!.figures.peakBytes).toBe(740);
    // One encode more than the nodes' costs: 37 + 1.
    expect(replay!.figures.computeCost).toBe(38);
  });

  it('is checkpoint-all where no encoding is eligible', async () => {
    const graph = indexGraph(chain(3));
    const result = await plan(graph, { budget: { fraction: 1 }, strategy: 'gist' });
    expect(result.schedule).toEqual(toSchedule(graph, noRematSteps(graph)));
  });
});

describe('cdma', () => {
  it('swaps the compressed form of what it offloads, moving fewer bytes than vdnn-all', async () => {
    const graph = indexGraph(withOptions(namedFixtures()['chain-8'], { seed: 1, zipShare: 1, maskShare: 0 }));
    const options = { budget: { fraction: 1 }, transfer: 'pcie4' as const };
    const compressed = await plan(graph, { ...options, strategy: 'cdma' });
    const plain = await plan(graph, { ...options, strategy: 'vdnn-all' });
    checkPlan(graph, compressed, { bandwidth: 25_000, latency: 10 });
    expect(compressed.schedule.some((step) => step.op === 'swapOut' && step.encoding !== undefined)).toBe(true);
    expect(compressed.schedule.some((step) => step.op === 'decode')).toBe(true);
    expect(compressed.predicted!.transferBytes).toBeLessThan(plain.predicted!.transferBytes);
  });

  it('needs a link', async () => {
    const result = await plan(indexGraph(tiny), { budget: { fraction: 1 }, strategy: 'cdma' });
    expect(result.status).toBe('infeasible');
    expect(result.message).toMatch(/transfer/);
  });
});

describe('lowering', () => {
  it('maps lowered plans back to plans that replay alike (peak, compute cost, makespan)', async () => {
    for (const seed of [1, 2, 3]) {
      const graph = indexGraph(withOptions(namedFixtures()['chain-32'], { seed, zipShare: 0.4, alternativeShare: 0.5 }));
      const choice = { forms: eligibleForms(graph, { decodes: true }), alternatives: preferredImplementations(graph, 'cost') };
      const lowered = lower(graph, choice);
      expect(lowered.graph.hasOptions).toBe(false);
      expect(lowered.graph.size).toBeGreaterThan(graph.size);
      for (const fraction of [1, 0.6]) {
        const budget = Math.floor(fraction * noRematPeak(lowered.graph));
        const loweredPlan = await plan(lowered.graph, { budget: { bytes: budget }, strategy: 'chen-greedy' });
        if (!loweredPlan.predicted) continue;
        const steps = loweredStepsOf(lowered.graph, loweredPlan.schedule);
        const mapped = mapBack(graph, lowered, steps, choice);
        expect(mapped, `seed ${seed} at ${fraction}`).toBeDefined();
        const original = simulateIndexed(graph, mapped!);
        if (!original.ok) throw new Error(original.error.message);
        const { peakBytes, computeCost, makespan } = loweredPlan.predicted;
        expect({ peakBytes, computeCost, makespan }).toEqual({
          peakBytes: original.figures.peakBytes,
          computeCost: original.figures.computeCost,
          makespan: original.figures.makespan,
        });
      }
    }
  });
});

describe('lowering, a value held twice', () => {
  it('maps a plan that holds a value and its decode node at once to one that holds the value once', () => {
    const graph = indexGraph(tiny);
    const choice = { forms: new Map([[2, 0]]) };
    const lowered = lower(graph, choice);
    // x, c, r, loss, r#half (encode after loss), r@half (decode before gr), gr, gc.
    expect(lowered.graph.ids).toEqual(['x', 'c', 'r', 'loss', 'r#half', 'r@half', 'gr', 'gc']);
    const order: [string, number][] = [
      ['compute', 0],
      ['compute', 1],
      ['free', 0],
      ['compute', 2],
      ['compute', 3],
      ['compute', 4],
      // The decode node arrives while r is still held, and gr reads it; r leaves last.
      ['compute', 5],
      ['free', 4],
      ['compute', 6],
      ['free', 3],
      ['free', 5],
      ['free', 2],
      ['compute', 7],
      ['free', 1],
      ['free', 6],
      ['free', 7],
    ];
    const steps = order.map(([op, node]) => ({ op: op as 'compute' | 'free', node }));
    const twice = simulateIndexed(lowered.graph, steps);
    if (!twice.ok) throw new Error(twice.error.message);
    // While gr computes: c, r, loss, r@half and gr = 320 + 320 + 4 + 320 + 320.
    expect(twice.figures.peakBytes).toBe(1284);
    const mapped = mapBack(graph, lowered, steps, choice);
    expect(mapped).toEqual([
      { op: 'compute', node: 0 },
      { op: 'compute', node: 1 },
      { op: 'free', node: 0 },
      { op: 'compute', node: 2 },
      { op: 'compute', node: 3 },
      { op: 'encode', node: 2, encoding: 0 },
      { op: 'free', node: 2, encoding: 0 },
      { op: 'compute', node: 4 },
      { op: 'free', node: 3 },
      { op: 'free', node: 2 },
      { op: 'compute', node: 5 },
      { op: 'free', node: 1 },
      { op: 'free', node: 4 },
      { op: 'free', node: 5 },
    ]);
    const once = simulateIndexed(graph, mapped!);
    if (!once.ok) throw new Error(once.error.message);
    // r once: 964 while gr computes; no decode: 39 - 1.
    expect(once.figures.peakBytes).toBe(964);
    expect(once.figures.computeCost).toBe(twice.figures.computeCost - 1);
  });
});

/** Indexed steps of a lowered plan's schedule. */
function loweredStepsOf(graph: ReturnType<typeof indexGraph>, schedule: { op: string; node: string }[]) {
  return schedule.map((step) => ({ op: step.op as 'compute', node: graph.index.get(step.node)! }));
}

describe("the options phase's later rounds", () => {
  const contextOf = (raw: Graph, fraction: number): StrategyContext => {
    const graph = indexGraph(raw);
    return {
      graph,
      budgetBytes: Math.floor(fraction * noRematPeak(graph)),
      timeLimitSeconds: 30,
      relativeGap: 0,
      formulation: 'tight',
      startedAt: Date.now(),
    };
  };

  it('search each lowering again from its best plan: one offer per lowering, never a dearer plan, and the best replays within the budget', async () => {
    const context = contextOf(withOptions(transformer({ layers: 4 }), { seed: 7 }), 0.6);
    const run = new PhasedRun(context, 0);
    await optionsPhase.run(run, 2);
    const before = run.incumbent.best?.makespan;
    expect(before).toBeDefined();
    const offered: string[] = [];
    const offer = run.incumbent.offer.bind(run.incumbent);
    run.incumbent.offer = (steps, from) => {
      offered.push(from);
      return offer(steps, from);
    };
    await improveLoweredAgain(run, 4, 1);
    // Both lowerings (all forms at the fastest implementations, reader forms at the leanest).
    expect(offered.filter((from) => from === 'local-search on the lowered graph')).toHaveLength(2);
    const best = run.incumbent.best!;
    expect(best.makespan).toBeLessThanOrEqual(before!);
    const replay = simulateIndexed(context.graph, best.steps);
    if (!replay.ok) throw new Error(replay.error.message);
    expect(replay.figures.peakBytes).toBeLessThanOrEqual(context.budgetBytes);
    expect(replay.figures.makespan).toBeCloseTo(best.makespan, 6);
  });

  it('do nothing on a graph without options, or before the options phase ran', async () => {
    const plain = new PhasedRun(contextOf(transformer({ layers: 2 }), 0.6), 0);
    expect(await improveLoweredAgain(plain, 2, 1)).toBe(false);
    const early = new PhasedRun(contextOf(withOptions(transformer({ layers: 2 }), { seed: 7 }), 0.6), 0);
    expect(await improveLoweredAgain(early, 2, 1)).toBe(false);
    expect(early.incumbent.best).toBeNull();
  });
});
