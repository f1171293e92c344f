// The Checkmate formulation against an exhaustive search written here, independently of
// it: Dijkstra on compute cost over (frontier, device set) states of every legal schedule
// whose first computations follow node order (the contract's frontier rule), with any
// recomputation and free in between. Also: the tight and plain variants agree, extraction
// and warm starts are consistent, and every plan replays within its budget.
import { afterAll, describe, expect, it } from 'vitest';
import { chain, diamond, randomLayered, unetLike } from '../fixtures/generators.js';
import { peakFloor } from '../solver/graph/analysis.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import type { Graph } from '../solver/graph/schema.js';
import { indexGraph, type IndexedGraph } from '../solver/graph/validate.js';
import { assignmentFromStages, buildCheckmate, stagesOf, valueReach } from '../solver/milp/checkmate.js';
import { runCheckmateLp, runCheckmateMilp, warmStart } from '../solver/milp/checkmate-solve.js';
import { canonicalStages, scheduleFromStages, stagesFromSchedule } from '../solver/milp/extract.js';
import { shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { TupleHeap } from './helpers.js';

afterAll(async () => {
  await shutdownHighsWorkers();
});

/** The cheapest compute cost of any legal schedule within the budget (Infinity when none), by exhaustive search. */
function exhaustiveOptimum(graph: IndexedGraph, budgetBytes: number): number {
  const size = graph.size;
  if (size > 24) throw new Error('exhaustive search: at most 24 nodes');
  const capacity = budgetBytes - graph.residentBytes;
  let keepMask = 0;
  for (let node = 0; node < size; node++) if (graph.keep[node]) keepMask |= 1 << node;
  const needs = graph.inputs.map((inputs) => inputs.reduce((mask, input) => mask | (1 << input), 0));
  const states = 2 ** size;
  const best = new Map<number, number>();
  const heap = new TupleHeap<[number, number]>();
  const push = (cost: number, key: number) => heap.push([cost, key]);
  const pop = () => heap.pop();
  const reach = (cost: number, frontier: number, device: number) => {
    const key = frontier * states + device;
    const known = best.get(key);
    if (known !== undefined && known <= cost) return;
    best.set(key, cost);
    push(cost, key);
  };
  reach(0, 0, 0);
  while (heap.size) {
    const [cost, key] = pop();
    if (best.get(key)! < cost) continue;
    const frontier = Math.floor(key / states);
    const device = key % states;
    if (frontier === size && (device & keepMask) === keepMask) return cost;
    let live = 0;
    for (let node = 0; node < size; node++) if (device & (1 << node)) live += graph.bytes[node];
    for (let node = 0; node < size && node <= frontier; node++) {
      const bit = 1 << node;
      if (device & bit) {
        reach(cost, frontier, device & ~bit);
        continue;
      }
      if (node === size) break;
      if (node < frontier && !graph.recomputable[node]) continue;
      if ((device & needs[node]) !== needs[node]) continue;
      if (live + graph.bytes[node] + graph.workspace[node] > capacity) continue;
      reach(cost + graph.cost[node], node === frontier ? frontier + 1 : frontier, device | bit);
    }
  }
  return Infinity;
}

/** Budgets worth checking: fractions of the no-remat peak at or above the floor, distinct. */
function budgetsOf(graph: IndexedGraph, fractions: readonly number[]): number[] {
  const peak = noRematPeak(graph);
  const floor = peakFloor(graph);
  return [...new Set(fractions.map((fraction) => Math.max(floor, Math.floor(fraction * peak))))];
}

const varied = (layers: number): Graph =>
  chain(layers, { bytes: (layer) => 60 + ((layer * 53) % 90), cost: (layer) => 3 + ((layer * 7) % 13) });

interface Case {
  name: string;
  graph: IndexedGraph;
  fractions: number[];
}

const SMALL: Case[] = [
  { name: 'chain(2)', graph: indexGraph(varied(2)), fractions: [1, 0.8, 0.6] },
  { name: 'chain(4)', graph: indexGraph(varied(4)), fractions: [1, 0.8, 0.7, 0.6] },
  { name: 'chain(6)', graph: indexGraph(varied(6)), fractions: [0.8, 0.7, 0.6, 0.5] },
  { name: 'chain(8)', graph: indexGraph(varied(8)), fractions: [0.8, 0.65, 0.5] },
  { name: 'uniform chain(8)', graph: indexGraph(chain(8)), fractions: [0.8, 0.6] },
  { name: 'diamond', graph: indexGraph(diamond()), fractions: [1, 0.9] },
  { name: 'unet-like(2)', graph: indexGraph(unetLike(2, 128)), fractions: [0.9, 0.8, 0.7] },
];

describe('checkmate MILP against exhaustive search', () => {
  for (const { name, graph, fractions } of SMALL) {
    it(`finds the exhaustive optimum on ${name}`, async () => {
      let feasibleCases = 0;
      for (const budget of budgetsOf(graph, fractions)) {
        const expected = exhaustiveOptimum(graph, budget);
        const run = await runCheckmateMilp({ graph, budgetBytes: budget, variant: 'tight', timeLimitSeconds: 20, relativeGap: 0 });
        if (expected === Infinity) {
          expect(run.best, `${name} at ${budget}: no plan exists`).toBeUndefined();
          expect(run.solve.stop, `${name} at ${budget}`).toBe('infeasible');
          continue;
        }
        feasibleCases++;
        expect(run.solve.stop, `${name} at ${budget}`).toBe('optimal');
        expect(run.best, `${name} at ${budget}`).toBeDefined();
        expect(run.best!.computeCost, `${name} at ${budget}`).toBeCloseTo(expected, 6);
        expect(run.bound!, `${name} at ${budget}: bound`).toBeLessThanOrEqual(expected + 1e-6);
        const replay = simulateIndexed(graph, run.best!.steps);
        expect(replay.ok).toBe(true);
        if (replay.ok) {
          expect(replay.figures.peakBytes).toBeLessThanOrEqual(budget);
          expect(replay.figures.computeCost).toBe(run.best!.computeCost);
        }
      }
      expect(feasibleCases, `${name}: some budget has a plan`).toBeGreaterThan(0);
    });
  }
});

describe('tight and plain variants', () => {
  const cases: Case[] = [
    { name: 'chain(4)', graph: indexGraph(varied(4)), fractions: [0.8, 0.7] },
    { name: 'chain(6)', graph: indexGraph(varied(6)), fractions: [0.7] },
    { name: 'diamond', graph: indexGraph(diamond()), fractions: [1] },
    { name: 'unet-like(2)', graph: indexGraph(unetLike(2, 128)), fractions: [0.8] },
    { name: 'random-layered(1)', graph: indexGraph(randomLayered({ seed: 1 })), fractions: [1, 0.9] },
  ];
  for (const { name, graph, fractions } of cases) {
    it(`reach the same optimum on ${name}`, async () => {
      for (const budget of budgetsOf(graph, fractions)) {
        const tight = await runCheckmateMilp({ graph, budgetBytes: budget, variant: 'tight', timeLimitSeconds: 20, relativeGap: 0 });
        const plain = await runCheckmateMilp({ graph, budgetBytes: budget, variant: 'plain', timeLimitSeconds: 20, relativeGap: 0 });
        const label = `${name} at ${budget}`;
        expect(plain.formulation.model.variableCount, label).toBeGreaterThanOrEqual(tight.formulation.model.variableCount);
        if (tight.solve.stop === 'infeasible') {
          expect(plain.solve.stop, label).toBe('infeasible');
          continue;
        }
        expect(tight.solve.stop, label).toBe('optimal');
        expect(plain.solve.stop, label).toBe('optimal');
        expect(plain.best!.computeCost, label).toBeCloseTo(tight.best!.computeCost, 6);
        // The tight LP is at least as strong as the plain one.
        const tightLp = await runCheckmateLp({
          graph,
          budgetBytes: budget,
          variant: 'tight',
          timeLimitSeconds: 10,
          formulation: tight.formulation,
        });
        const plainLp = await runCheckmateLp({
          graph,
          budgetBytes: budget,
          variant: 'plain',
          timeLimitSeconds: 10,
          formulation: plain.formulation,
        });
        expect(tightLp.bound!, label).toBeGreaterThanOrEqual(plainLp.bound! - 1e-6);
        expect(tightLp.bound!, label).toBeLessThanOrEqual(tight.best!.computeCost + 1e-6);
      }
    });
  }
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
