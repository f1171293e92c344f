// Implementations chosen again once the order is fixed (solver/schedule/implementations.ts),
// on a five-node graph worked out by hand, and through auto's incumbent.
import { describe, expect, it } from 'vitest';
import type { Graph } from '../solver/graph/schema.js';
import { indexGraph } from '../solver/graph/validate.js';
import { fittingCosts, optionsRelaxation } from '../solver/bounds/relaxation.js';
import { fastestImplementations } from '../solver/schedule/implementations.js';
import { preferredImplementations } from '../solver/schedule/lower.js';
import { type IndexedStep, simulateIndexed } from '../solver/schedule/simulate.js';
import { Incumbent } from '../solver/strategies/incumbent.js';
import { plan } from '../solver/plan.js';

// x -> a -> b; c reads a; d reads b and c. Every value is 100 bytes. b's own implementation
// costs 10 with 300 bytes of workspace, its alternative 'lean' 30 with none.
const forked: Graph = {
  name: 'forked',
  nodes: [
    { id: 'x', kind: 'input', bytes: 100, cost: 0 },
    { id: 'a', inputs: ['x'], bytes: 100, cost: 10 },
    { id: 'b', inputs: ['a'], bytes: 100, cost: 10, workspaceBytes: 300, alternatives: [{ name: 'lean', cost: 30 }] },
    { id: 'c', inputs: ['a'], bytes: 100, cost: 10 },
    { id: 'd', inputs: ['b', 'c'], bytes: 100, cost: 10 },
  ],
};
const graph = indexGraph(forked);
const [x, a, b, c, d] = ['x', 'a', 'b', 'c', 'd'].map((id) => graph.index.get(id)!);

// b computed twice, both times lean: first beside a (200 bytes), then beside a and c (300).
const LEAN_TWICE: IndexedStep[] = [
  { op: 'compute', node: x },
  { op: 'compute', node: a },
  { op: 'free', node: x },
  { op: 'compute', node: b, alt: 0 },
  { op: 'free', node: b },
  { op: 'compute', node: c },
  { op: 'compute', node: b, alt: 0 },
  { op: 'free', node: a },
  { op: 'compute', node: d },
  { op: 'free', node: b },
  { op: 'free', node: c },
  { op: 'free', node: d },
];

describe('implementations chosen again', () => {
  it('takes the fast implementation where its workspace fits beside what the step holds, and keeps the lean one elsewhere', () => {
    const before = simulateIndexed(graph, LEAN_TWICE);
    if (!before.ok) throw new Error(before.error.message);
    // Peak 300 (a, c and b at the second b; b, c and d at d); cost 0 + 10 + 30 + 10 + 30 + 10.
    expect(before.figures).toMatchObject({ peakBytes: 300, computeCost: 90 });
    // At 500 bytes the first b fits with its workspace (a + b + 300), the second does not (600).
    const rechosen = fastestImplementations(graph, LEAN_TWICE, 500);
    expect(rechosen?.[3]).toEqual({ op: 'compute', node: b });
    expect(rechosen?.[6]).toEqual({ op: 'compute', node: b, alt: 0 });
    expect(rechosen?.filter((step, at) => step !== LEAN_TWICE[at])).toHaveLength(1);
    const after = simulateIndexed(graph, rechosen!);
    if (!after.ok) throw new Error(after.error.message);
    expect(after.figures).toMatchObject({ peakBytes: 500, computeCost: 70 });
    expect(after.figures.makespan).toBe(before.figures.makespan - 20);
    // A byte less and nothing changes; at 600 both take the fast one.
    expect(fastestImplementations(graph, LEAN_TWICE, 499)).toBeUndefined();
    expect(simulateIndexed(graph, fastestImplementations(graph, LEAN_TWICE, 600)!)).toMatchObject({
      figures: { peakBytes: 600, computeCost: 50 },
    });
  });

  it('takes the lean implementation where the fast one is over the budget, so that a plan fits', () => {
    const fast = LEAN_TWICE.map((step) => (step.node === b && step.op === 'compute' ? { op: step.op, node: b } : step));
    expect(simulateIndexed(graph, fast)).toMatchObject({ figures: { peakBytes: 600 } });
    const rechosen = fastestImplementations(graph, fast, 500)!;
    expect(simulateIndexed(graph, rechosen)).toMatchObject({ figures: { peakBytes: 500, computeCost: 70 } });
  });

  it("is what auto's incumbent keeps (rechoose): the plan offered, at the fastest implementations that fit", () => {
    const context = { graph, budgetBytes: 500, timeLimitSeconds: 10, relativeGap: 0, formulation: 'tight' as const, startedAt: Date.now() };
    // A baseline's incumbent keeps the implementations it was given.
    expect(new Incumbent(context).offer(LEAN_TWICE, 'lean twice').steps).toBe(LEAN_TWICE);
    const incumbent = new Incumbent(context, { rechoose: true });
    const candidate = incumbent.offer(LEAN_TWICE, 'lean twice');
    expect(candidate).toMatchObject({ fits: true, peakBytes: 500 });
    expect(incumbent.best?.steps[3]).toEqual({ op: 'compute', node: b });
    expect(incumbent.best?.makespan).toBe(candidate.makespan);
    const replay = simulateIndexed(graph, incumbent.best!.steps);
    expect(replay.ok && replay.figures.makespan).toBe(candidate.makespan);
    // Without alternatives nothing is chosen again.
    expect(
      fastestImplementations(indexGraph({ nodes: [{ id: 'x', kind: 'input', bytes: 1, cost: 0 }] }), [{ op: 'compute', node: 0 }], 1),
    ).toBeUndefined();
  });
});

describe('fitting costs (the options relaxation at a budget)', () => {
  it("charge a node its cheapest implementation that fits beside its inputs and output: b's fast one needs 500 bytes", () => {
    // b holds a (100) and its output (100) while it computes: 200 + 300 of workspace.
    expect(fittingCosts(graph, 500)).toEqual(new Map());
    expect(fittingCosts(graph, 499)).toEqual(new Map([[b, 30]]));
    expect(optionsRelaxation(graph, 500)).toBe(optionsRelaxation(graph));
    // baseCost 40 (b at 10) becomes 60 below 500 bytes: every plan there runs b lean.
    expect(optionsRelaxation(graph).baseCost).toBe(40);
    expect(optionsRelaxation(graph, 499).baseCost).toBe(60);
    // The fast lowering at a budget takes the implementations that can run there.
    expect(preferredImplementations(graph, 'cost')).toEqual(new Map());
    expect(preferredImplementations(graph, 'cost', 500)).toEqual(new Map());
    expect(preferredImplementations(graph, 'cost', 499)).toEqual(new Map([[b, 0]]));
    const lean = simulateIndexed(graph, LEAN_TWICE);
    expect(lean.ok && lean.figures.makespan).toBeGreaterThanOrEqual(60);
  });
});

describe('the fitting-cost bound', () => {
  it("is auto's bound with a host link below the fast implementation's 500 bytes: 60, which the plan meets", async () => {
    for (const transfer of ['pcie4' as const, undefined]) {
      const result = await plan(graph, { budget: { bytes: 499 }, strategy: 'auto', timeLimitSeconds: 2, transfer });
      expect(result.bound?.makespan).toBeGreaterThanOrEqual(60);
      expect(result.predicted!.makespan).toBeGreaterThanOrEqual(result.bound!.makespan);
      if (transfer) expect(result.bound?.source).toBe('fitting-cost');
    }
    // At 500 bytes b's fast implementation fits: baseCost (40) is the bound again, and the plan runs it.
    const roomy = await plan(graph, { budget: { bytes: 500 }, strategy: 'auto', timeLimitSeconds: 2, transfer: 'pcie4' });
    expect(roomy.bound).toMatchObject({ makespan: 40, source: 'baseCost' });
    expect(roomy.predicted!.makespan).toBe(40);
  });
});
