// Property tests (engine acceptance 2): on random valid DAGs of 1-200 nodes and random
// budgets, every baseline returns a plan that replays legally within its budget with
// predicted figures equal to the replay, or says it is infeasible; none throws.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { peakFloor } from '../solver/graph/analysis.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { NODE_KINDS, type Graph, type GraphNode } from '../solver/graph/schema.js';
import { indexGraph } from '../solver/graph/validate.js';
import { chain, randomLayered } from '../fixtures/generators.js';
import { plan } from '../solver/plan.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';
import { BASELINES } from '../solver/strategies/baselines.js';
import { dtrSchedule } from '../solver/strategies/dtr.js';
import { checkPlan } from './helpers.js';

interface NodeSpec {
  kind: (typeof NODE_KINDS)[number];
  /** Read the previous node (a chain-like spine). */
  spine: boolean;
  /** Extra inputs, as distances back (taken modulo the position). */
  skips: number[];
  bytes: number;
  cost: number;
  workspace: number | undefined;
  recomputable: boolean | undefined;
  keep: boolean | undefined;
}

const nodeSpec: fc.Arbitrary<NodeSpec> = fc.record({
  kind: fc.constantFrom(...NODE_KINDS, 'forward', 'forward', 'backward'),
  spine: fc.integer({ min: 0, max: 99 }).map((value) => value < 85),
  skips: fc.array(fc.nat({ max: 1000 }), { maxLength: 3 }),
  bytes: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 1e9 })),
  cost: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 100, noNaN: true }), fc.integer({ min: 1, max: 50 })),
  workspace: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined, freq: 3 }),
  recomputable: fc.option(fc.boolean(), { nil: undefined, freq: 1 }),
  keep: fc.option(fc.boolean(), { nil: undefined, freq: 1 }),
});

/** Builds a valid graph: node i reads only nodes listed before it. */
function buildGraph(specs: NodeSpec[], residentBytes: number, training: boolean): Graph {
  const nodes: GraphNode[] = specs.map((spec, position) => {
    const inputs = new Set<string>();
    if (position > 0 && spec.spine) inputs.add(`n${position - 1}`);
    if (position > 0) for (const skip of spec.skips) inputs.add(`n${position - 1 - (skip % position)}`);
    return {
      id: `n${position}`,
      kind: position === 0 ? 'input' : spec.kind,
      inputs: [...inputs],
      bytes: spec.bytes,
      cost: spec.cost,
      workspaceBytes: spec.workspace,
      recomputable: spec.recomputable,
      keep: spec.keep,
    };
  });
  if (training && nodes.length > 1) {
    // A backward pass mirroring the forward nodes in reverse: each gradient reads the
    // previous gradient and the value it differentiates, like a real training step.
    const forwardCount = nodes.length;
    let upstream = nodes[forwardCount - 1].id;
    for (let back = 0; back < forwardCount; back++) {
      const forward = nodes[forwardCount - 1 - back];
      const id = `g${back}`;
      nodes.push({ id, kind: 'backward', inputs: [...new Set([upstream, forward.id])], bytes: forward.bytes, cost: forward.cost * 2 });
      upstream = id;
    }
  }
  return { name: 'property', residentBytes, nodes };
}

const graphArb = fc
  .record({
    specs: fc.oneof(fc.array(nodeSpec, { minLength: 1, maxLength: 12 }), fc.array(nodeSpec, { minLength: 1, maxLength: 200, size: 'max' })),
    residentBytes: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 10_000 })),
    training: fc.boolean(),
  })
  .map(({ specs, residentBytes, training }) => buildGraph(specs.slice(0, training ? 100 : 200), residentBytes, training));

/** A budget: a fraction of the no-remat peak, or a byte count between the floor and it. */
const budgetArb = fc.oneof(
  fc.record({ fraction: fc.double({ min: 0.05, max: 1.2, noNaN: true }) }),
  fc.record({ between: fc.double({ min: 0, max: 1, noNaN: true }) }),
);

describe('random DAGs and budgets', () => {
  it('the generator builds valid graphs of 1-200 nodes', () => {
    const sizes: number[] = [];
    fc.assert(
      fc.property(graphArb, (graph) => {
        const indexed = indexGraph(graph);
        expect(indexed.size).toBeGreaterThanOrEqual(1);
        expect(indexed.size).toBeLessThanOrEqual(200);
        sizes.push(indexed.size);
      }),
      { numRuns: 200 },
    );
    // Both small and large graphs come out.
    expect(Math.min(...sizes)).toBeLessThanOrEqual(5);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(150);
  });

  it('every baseline returns a sound plan or says it is infeasible, and none throws', async () => {
    await fc.assert(
      fc.asyncProperty(graphArb, budgetArb, async (raw, budget) => {
        const graph = indexGraph(raw);
        const peak = noRematPeak(graph);
        const floor = peakFloor(graph);
        const request =
          'fraction' in budget ? { fraction: budget.fraction } : { bytes: Math.round(floor + budget.between * (peak - floor)) };
        for (const strategy of BASELINES) {
          const result = await plan(graph, { budget: request, strategy: strategy.name, timeLimitSeconds: 5 });
          checkPlan(graph, result);
          if (strategy.name === 'checkpoint-all' && result.budgetBytes >= peak) {
            // The no-remat schedule fits whenever the budget allows its peak.
            expect(result.status).toBe('optimal');
            expect(result.predicted!.makespan).toBe(graph.baseCost);
          }
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});

describe('long graphs', () => {
  it('DTR recomputes long evicted chains without overflowing the call stack', () => {
    // A 5000-layer chain at half the no-remat peak: with the local cost rule DTR evicts the
    // oldest values first, so recomputing one reaches back about 2500 layers, deeper than
    // a recursive implementation's call stack allows.
    const graph = indexGraph(chain(5000));
    const budget = Math.floor(0.5 * noRematPeak(graph));
    const steps = dtrSchedule(graph, budget - graph.residentBytes, { neighbourhood: false });
    expect(steps).not.toBeNull();
    const replay = simulateIndexed(graph, steps!);
    if (!replay.ok) throw new Error(replay.error.message);
    expect(replay.figures.peakBytes).toBeLessThanOrEqual(budget);
    expect(replay.figures.computeCost).toBeGreaterThan(graph.baseCost);
  }, 120_000);
});

describe('DTR that gives up', () => {
  it('still answers with the smallest peak it reached when both replays thrash', async () => {
    // Ten layers of four with dense skips: at 70 % DTR's replays grow past their step cap.
    const graph = indexGraph(randomLayered({ seed: 2, layers: 10, width: 4, edgeProbability: 0.5 }));
    const result = await plan(graph, { budget: { fraction: 0.7 }, strategy: 'dtr' });
    expect(result.status).toBe('infeasible');
    expect(result.message).toMatch(/thrashed/);
    expect(result.smallestPeakBytes).toBeGreaterThan(result.budgetBytes);
    expect(result.smallestPeakBytes).toBeLessThanOrEqual(noRematPeak(graph));
  });
});
