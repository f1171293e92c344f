// The Checkmate formulation's structure (which variables exist, scaling, workspace and
// residentBytes in the peak), schedule extraction and warm starts. The formulation
// against an exhaustive search is in milp-checkmate.test.ts (the solver project).
import { afterAll, describe, expect, it } from 'vitest';
import { chain, randomLayered, unetLike } from '../fixtures/generators.js';
import { indexGraph } from '../solver/graph/validate.js';
import { assignmentFromStages, buildCheckmate, stagesOf, valueReach } from '../solver/milp/checkmate.js';
import { runCheckmateMilp, warmStart } from '../solver/milp/checkmate-solve.js';
import { canonicalStages, scheduleFromStages, stagesFromSchedule } from '../solver/milp/extract.js';
import { shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { budgetsOf, exhaustiveOptimum, varied } from './exhaustive.js';

afterAll(async () => {
  await shutdownHighsWorkers();
});

describe('formulation structure', () => {
  it('creates variables only where they can be non-zero (tight) and keeps residentBytes out of the cap', () => {
    const graph = indexGraph(unetLike(3));
    const budget = Math.floor(0.8 * noRematPeak(graph));
    const tight = buildCheckmate(graph, { budgetBytes: budget, variant: 'tight' });
    const plain = buildCheckmate(graph, { budgetBytes: budget, variant: 'plain' });
    const forward = buildCheckmate(graph, { budgetBytes: budget, variant: 'tight', recompute: 'forward' });
    // On a training graph every value reaches the last gradient through recomputable
    // gradients, so liveness keeps every column; recomputing forward nodes only prunes.
    expect(tight.model.variableCount).toBeLessThanOrEqual(plain.model.variableCount);
    expect(forward.model.variableCount).toBeLessThan(tight.model.variableCount);
    // Without a backward pass, liveness alone prunes.
    const inference = indexGraph(randomLayered({ seed: 3, layers: 10, width: 3, backward: false }));
    const inferenceBudget = Math.floor(0.8 * noRematPeak(inference));
    expect(buildCheckmate(inference, { budgetBytes: inferenceBudget, variant: 'tight' }).model.variableCount).toBeLessThan(
      buildCheckmate(inference, { budgetBytes: inferenceBudget, variant: 'plain' }).model.variableCount,
    );
    expect(tight.cap * tight.byteScale).toBe(budget - graph.residentBytes);
    for (const form of [tight, forward]) {
      const reach = valueReach(graph, form.canRecompute);
      for (let t = 0; t < graph.size; t++) {
        for (let i = 0; i < t; i++) {
          if (form.S[t][i] >= 0) expect(t).toBeLessThanOrEqual(reach[i]);
          if (form.R[t][i] >= 0) {
            expect(t).toBeLessThanOrEqual(reach[i]);
            expect(form.canRecompute[i]).toBe(true);
          }
        }
      }
    }
    expect(forward.canRecompute.every((can, node) => !can || graph.kind[node] === 'forward')).toBe(true);
    // Inputs are never recomputed, in any variant.
    for (const form of [tight, plain, forward]) {
      expect(
        form.R.every((row) => row.every((variable, node) => variable < 0 || node === row.length - 1 || graph.recomputable[node])),
      ).toBe(true);
    }
  });

  it('scales large bytes and costs into a safe range', () => {
    const graph = indexGraph(chain(6, { bytes: (layer) => 3_000_000_000 + layer * 1_000_000, cost: (layer) => 250_000 + layer }));
    const budget = Math.floor(0.7 * noRematPeak(graph));
    const form = buildCheckmate(graph, { budgetBytes: budget, variant: 'tight' });
    expect(form.cap).toBeLessThanOrEqual(1e5);
    for (let row = 0; row < form.model.rowCount; row++) {
      for (const [, coefficient] of form.model.row(row).terms) expect(Math.abs(coefficient)).toBeLessThanOrEqual(1e5);
    }
    for (let variable = 0; variable < form.model.variableCount; variable++)
      expect(form.model.variable(variable).cost).toBeLessThanOrEqual(1e3);
  });

  it('workspace and residentBytes count in the peak', async () => {
    const base = varied(5);
    const nodes = base.nodes.map((node) => (node.id === 'f2' ? { ...node, workspaceBytes: 150 } : node));
    const graph = indexGraph({ ...base, residentBytes: 1000, nodes });
    let feasible = 0;
    for (const budget of budgetsOf(graph, [1, 0.97, 0.95, 0.9])) {
      const run = await runCheckmateMilp({ graph, budgetBytes: budget, variant: 'tight', timeLimitSeconds: 20, relativeGap: 0 });
      const expected = exhaustiveOptimum(graph, budget);
      if (expected === Infinity) {
        expect(run.solve.stop).toBe('infeasible');
        continue;
      }
      feasible++;
      expect(run.best!.computeCost).toBeCloseTo(expected, 6);
      expect(run.best!.peakBytes).toBeLessThanOrEqual(budget);
      expect(run.best!.peakBytes).toBeGreaterThan(graph.residentBytes + 150);
    }
    expect(feasible).toBeGreaterThan(1);
  });
});

describe('extraction and warm starts', () => {
  it('extracts stages into schedules that free after the last use and round-trip to the same stages', () => {
    const graph = indexGraph(varied(5));
    const stages = graph.ids.map((_, t) => (t === 9 ? [1, 2, 3, 9] : [t]));
    const steps = scheduleFromStages(graph, stages);
    const replay = simulateIndexed(graph, steps);
    expect(replay.ok).toBe(true);
    expect(stagesFromSchedule(graph, steps)).toEqual(stages);
    // The assignment of those stages reads back as the same stages.
    const form = buildCheckmate(graph, { budgetBytes: 1e9, variant: 'plain' });
    expect(stagesOf(form, assignmentFromStages(form, stages)!)).toEqual(stages);
    // Every free comes right after the value's last reader (or its own computation).
    steps.forEach((step, position) => {
      if (step.op !== 'free') return;
      const later = steps.slice(position + 1);
      const nextCompute = later.findIndex((other) => other.op === 'compute' && other.node === step.node);
      const window = nextCompute < 0 ? later : later.slice(0, nextCompute);
      expect(window.some((other) => other.op === 'compute' && graph.inputs[other.node].includes(step.node))).toBe(false);
    });
  });

  it('drops recomputations nobody reads', () => {
    const graph = indexGraph(varied(4));
    // Stage 9 (the last gradient) recomputes f3 from f2, but nothing reads f3 afterwards.
    const stages = graph.ids.map((_, t) => (t === 9 ? [3, 4, 9] : [t]));
    expect(graph.ids[9]).toBe('grad_f0');
    const steps = scheduleFromStages(graph, stages);
    const computes = steps.filter((step) => step.op === 'compute').length;
    expect(computes).toBe(graph.size);
  });

  it('turns a baseline plan into a feasible warm start with the same cost', async () => {
    const graph = indexGraph(unetLike(3));
    const budget = Math.floor(0.8 * noRematPeak(graph));
    const milp = await runCheckmateMilp({ graph, budgetBytes: budget, variant: 'tight', timeLimitSeconds: 20, relativeGap: 0 });
    for (const variant of ['tight', 'plain'] as const) {
      const form = buildCheckmate(graph, { budgetBytes: budget, variant });
      const warm = warmStart(form, milp.best!.steps, budget);
      expect(warm, variant).toBeDefined();
      expect(form.model.violation(warm!.values), variant).toBeLessThan(1e-7);
      expect(form.model.objectiveOf(warm!.values) * form.costScale, variant).toBeCloseTo(milp.best!.computeCost, 6);
    }
    const stages = canonicalStages(graph, milp.best!.steps);
    expect(stages).not.toBeNull();
  });
});
