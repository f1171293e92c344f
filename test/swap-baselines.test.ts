// The swapping baselines (vdnn-all, vdnn-conv, capuchin) on every fixture, at several
// budgets and over three links (pcie4, a link so fast copies cost nothing, one so slow
// a copy costs more than the whole step): every plan replays legally within its budget
// with predicted == replayed, and the rules of each baseline show in its schedule.
import { describe, expect, it } from 'vitest';
import { chain, namedFixtures } from '../fixtures/generators.js';
import { peakFloor } from '../solver/graph/analysis.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import type { GraphNode } from '../solver/graph/schema.js';
import { indexGraph, type IndexedGraph } from '../solver/graph/validate.js';
import { plan, resolveTransfer, TRANSFER_PRESETS } from '../solver/plan.js';
import { getStrategy } from '../solver/strategies/registry.js';
import type { Transfer } from '../solver/schedule/types.js';
import { checkPlan } from './helpers.js';

const SWAPPERS = ['vdnn-all', 'vdnn-conv', 'capuchin'] as const;
const FAST: Transfer = { bandwidth: 1e12, latency: 0 };
const SLOW: Transfer = { bandwidth: 0.01, latency: 0 };
const LINKS: [string, Transfer][] = [
  ['pcie4', resolveTransfer('pcie4')!],
  ['fast', FAST],
  ['slow', SLOW],
];
const graphs = Object.entries(namedFixtures()).map(([name, graph]) => [name, indexGraph(graph)] as [string, IndexedGraph]);

describe.each(SWAPPERS.map((name) => [name]))('%s', (strategy) => {
  it('is registered as a strategy that needs the host link', () => {
    expect(getStrategy(strategy)?.usesTransfer).toBe(true);
  });

  it.each(graphs)('replays legally within budget on %s at every budget and link', async (_name, graph) => {
    for (const [, transfer] of LINKS) {
      for (const fraction of [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]) {
        const result = await plan(graph, { budget: { fraction }, strategy, transfer });
        const { replay } = checkPlan(graph, result, transfer);
        if (replay) expect(replay.figures.peakBytes).toBeLessThanOrEqual(result.budgetBytes);
        else expect(result.smallestPeakBytes ?? Infinity).toBeGreaterThan(result.budgetBytes);
      }
    }
  });

  it('answers infeasible, with a reason, without a host link', async () => {
    const graph = indexGraph(chain(4));
    const result = await plan(graph, { budget: { fraction: 1 }, strategy });
    expect(result.status).toBe('infeasible');
    expect(result.message).toMatch(/transfer/);
  });
});

describe('vdnn', () => {
  const graph = indexGraph(chain(8));

  it('vdnn-all swaps every forward output read by the backward pass, and never recomputes', async () => {
    const result = await plan(graph, { budget: { fraction: 1 }, strategy: 'vdnn-all', transfer: 'pcie4' });
    const { replay } = checkPlan(graph, result, resolveTransfer('pcie4'));
    expect(replay).toBeDefined();
    replay!.counts.forEach((count, node) => {
      expect(count.computes).toBe(1);
      const kind = graph.kind[node];
      // f0..f6 are read again after a gap (f7 is read by the loss and its gradient at once;
      // the input x has no reader in the backward pass).
      const offloaded = kind === 'forward' && node < 8;
      expect(count.swapOuts, graph.ids[node]).toBe(offloaded ? 1 : 0);
      expect(count.swapIns, graph.ids[node]).toBe(offloaded ? 1 : 0);
    });
  });

  it('vdnn-all prefetches one layer ahead: each swapIn comes right before the compute preceding the reuse', async () => {
    const result = await plan(graph, { budget: { fraction: 1 }, strategy: 'vdnn-all', transfer: 'pcie4' });
    const schedule = result.schedule;
    schedule.forEach((step, position) => {
      if (step.op !== 'swapIn') return;
      const nextCompute = schedule.slice(position).find((later) => later.op === 'compute')!;
      const value = graph.index.get(step.node)!;
      const reuse = graph.users[value].find((user) => user > graph.index.get('loss')!)!;
      expect(graph.index.get(nextCompute.node)).toBe(reuse - 1);
    });
  });

  it('vdnn-conv swaps only convolution outputs', async () => {
    const result = await plan(graph, { budget: { fraction: 1 }, strategy: 'vdnn-conv', transfer: 'pcie4' });
    const { replay } = checkPlan(graph, result, resolveTransfer('pcie4'));
    let swapped = 0;
    replay!.counts.forEach((count, node) => {
      if (count.swapOuts) {
        swapped++;
        expect(graph.graph.nodes[node].op).toMatch(/conv/);
      }
    });
    expect(swapped).toBe(4);
  });

  it('vdnn-all stalls on a slow link: copies do not hide, so the makespan exceeds baseCost', async () => {
    const result = await plan(graph, { budget: { fraction: 1 }, strategy: 'vdnn-all', transfer: SLOW });
    const { replay } = checkPlan(graph, result, SLOW);
    expect(replay!.figures.makespan).toBeGreaterThan(graph.baseCost * 10);
  });
});

describe('capuchin', () => {
  const graph = indexGraph(chain(32));
  const peak = noRematPeak(graph);

  it('with a free link, fits 40 % of the no-remat peak at no extra time by swapping only', async () => {
    const result = await plan(graph, { budget: { fraction: 0.4 }, strategy: 'capuchin', transfer: FAST });
    const { replay } = checkPlan(graph, result, FAST);
    expect(replay!.figures.makespan).toBe(graph.baseCost);
    expect(replay!.figures.peakBytes).toBeLessThanOrEqual(0.4 * peak);
    expect(replay!.counts.every((count) => count.computes === 1)).toBe(true);
    expect(replay!.counts.some((count) => count.swapOuts > 0)).toBe(true);
  });

  it('with a slow link, recomputes instead of swapping', async () => {
    const result = await plan(graph, { budget: { fraction: 0.6 }, strategy: 'capuchin', transfer: SLOW });
    const { replay } = checkPlan(graph, result, SLOW);
    expect(replay!.counts.every((count) => count.swapOuts === 0)).toBe(true);
    expect(replay!.counts.some((count) => count.computes > 1)).toBe(true);
  });

  it('is never slower than vdnn-all where both fit (the all-swap candidate is in its sweep)', async () => {
    for (const [, transfer] of LINKS) {
      for (const fraction of [1, 0.8, 0.6]) {
        const vdnn = await plan(graph, { budget: { fraction }, strategy: 'vdnn-all', transfer });
        const ours = await plan(graph, { budget: { fraction }, strategy: 'capuchin', transfer });
        if (vdnn.predicted) expect(ours.predicted?.makespan ?? Infinity).toBeLessThanOrEqual(vdnn.predicted.makespan + 1e-9);
      }
    }
  });
});

describe('transfer presets', () => {
  it('are ordered by bandwidth and give a 1 MiB copy a plausible time in microseconds', () => {
    const names = ['pcie3', 'pcie4', 'pcie5', 'nvlink-c2c'] as const;
    const times = names.map((name) => TRANSFER_PRESETS[name].latency + 2 ** 20 / TRANSFER_PRESETS[name].bandwidth);
    for (let at = 1; at < names.length; at++) expect(times[at]).toBeLessThan(times[at - 1]);
    // PCIe 3 x16 moves 1 MiB in roughly 80-100 us; NVLink-C2C in a few us.
    expect(times[0]).toBeGreaterThan(60);
    expect(times[0]).toBeLessThan(120);
    expect(times[3]).toBeLessThan(10);
  });
});

describe('keep nodes offloaded to the end', () => {
  // An MLP-like step whose weight gradients (keep nodes, 60 bytes each) outweigh its
  // activations: after the backward pass of the last layers, their gradients sit beside
  // the large first-layer backward. Remat cannot move them; a swap to the end can.
  const layers = 4;
  const nodes: GraphNode[] = [{ id: 'x', kind: 'input', bytes: 40, cost: 0 }];
  for (let layer = 0; layer < layers; layer++)
    nodes.push({ id: `f${layer}`, inputs: [layer ? `f${layer - 1}` : 'x'], bytes: 40, cost: 10 });
  nodes.push({ id: 'loss', kind: 'loss', inputs: [`f${layers - 1}`], bytes: 4, cost: 1, keep: true });
  let upstream = 'loss';
  for (let layer = layers - 1; layer >= 0; layer--) {
    const input = layer ? `f${layer - 1}` : 'x';
    nodes.push({ id: `dw${layer}`, kind: 'backward', inputs: [upstream, input], bytes: 60, cost: 10, keep: true });
    if (layer > 0) {
      nodes.push({ id: `g${layer}`, kind: 'backward', inputs: [upstream, `f${layer}`], bytes: 40, cost: 10 });
      upstream = `g${layer}`;
    }
  }
  const graph = indexGraph({ name: 'mlp-keep', nodes });
  const floor = peakFloor(graph);
  const budget = { bytes: Math.ceil(floor * 1.05) };

  it('remat alone cannot fit the budget, capuchin with a link can, and the gradients come back at the end', async () => {
    expect(budget.bytes).toBeLessThan(noRematPeak(graph));
    const remat = await plan(graph, { budget, strategy: 'dtr' });
    expect(remat.status).toBe('infeasible');
    const result = await plan(graph, { budget, strategy: 'capuchin', transfer: FAST });
    const { replay } = checkPlan(graph, result, FAST);
    expect(replay, result.message).toBeDefined();
    expect(replay!.figures.peakBytes).toBeLessThanOrEqual(budget.bytes);
    const steps = result.schedule;
    const lastCompute = steps.map((step) => step.op).lastIndexOf('compute');
    const offloaded = steps.filter((step) => step.op === 'swapOut' && graph.keep[graph.index.get(step.node)!]).map((step) => step.node);
    expect(offloaded.length).toBeGreaterThan(0);
    for (const node of offloaded) {
      const back = steps.findIndex((step) => step.op === 'swapIn' && step.node === node);
      expect(back).toBeGreaterThan(lastCompute);
      // A keep node is never recomputed: it leaves the device only to the host.
      expect(steps.filter((step) => step.op === 'compute' && step.node === node)).toHaveLength(1);
    }
  });
});
