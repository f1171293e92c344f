// vDNN (Rhu et al., MICRO 2016): offload forward outputs to host memory after their last
// forward use and prefetch them one layer ahead of their backward use; never recompute.
// vdnn-all offloads every forward output (and the graph inputs), vdnn-conv only the
// outputs of convolution-like operators. The prefetch distance is swept (one layer
// ahead, then just in time) so the plan fits the budget when it can.
import type { IndexedGraph } from '../graph/validate.js';
import type { IndexedStep } from '../schedule/simulate.js';
import { Incumbent } from './incumbent.js';
import { idleWindows, scheduleEvictions, type EvictionChoice, type IdleWindow } from './swapping.js';
import type { Strategy, StrategyContext, StrategyOutcome } from './types.js';

const CONV_OP = /conv/i;

/** The answer of a swapping strategy asked to plan without a host link. */
export function transferMissing(name: string): StrategyOutcome {
  return { kind: 'infeasible', message: `${name} swaps to host memory and needs a transfer link (request field "transfer")` };
}

/** Idle windows of forward outputs (kind input or forward), optionally filtered. */
export function forwardWindows(graph: IndexedGraph, accept: (node: number) => boolean = () => true): IdleWindow[] {
  return idleWindows(graph).filter((window) => {
    const kind = graph.kind[window.value];
    // vDNN leaves keep nodes on the device, as its paper does.
    return (kind === 'forward' || kind === 'input') && !graph.keep[window.value] && accept(window.value);
  });
}

/** vDNN's schedules over a set of windows: swap each, prefetch one node before its reuse, then just in time. */
export function vdnnSchedules(graph: IndexedGraph, windows: IdleWindow[]): IndexedStep[][] {
  const byValue = new Map(windows.map((window) => [window.value, window]));
  return [1, 0].map((ahead) => {
    const choices = new Map<number, EvictionChoice>();
    for (const window of windows) choices.set(window.value, { mode: 'swap', freeAfter: window.dropAt, prefetchAt: window.reuse - ahead });
    return scheduleEvictions(graph, byValue, choices);
  });
}

/** Runs vDNN over a set of windows: swap each, prefetch `ahead` nodes before its reuse. */
function runVdnn(context: StrategyContext, windows: IdleWindow[], name: string): StrategyOutcome {
  if (!context.transfer) return transferMissing(name);
  const incumbent = new Incumbent(context, { ties: 'lower-peak', progress: false });
  for (const steps of vdnnSchedules(context.graph, windows)) {
    if (context.signal?.aborted) break;
    if (steps) incumbent.offer(steps, name);
    else incumbent.giveUp();
  }
  return incumbent.sweepOutcome(name);
}

/** vDNN offloading every forward output. */
export const vdnnAll: Strategy = {
  name: 'vdnn-all',
  description: 'vDNN: offload every forward output after its last forward use, prefetch one layer ahead of its backward use',
  options: ['transfer'],
  usesTransfer: true,
  run: (context) => runVdnn(context, forwardWindows(context.graph), 'vdnn-all'),
};

/** vDNN offloading convolution outputs only. */
export const vdnnConv: Strategy = {
  name: 'vdnn-conv',
  description: 'vDNN: offload only convolution outputs after their last forward use, prefetch one layer ahead',
  options: ['transfer'],
  usesTransfer: true,
  run(context) {
    const { graph } = context;
    const isConv = (node: number) => CONV_OP.test(graph.graph.nodes[node].op ?? '');
    return runVdnn(context, forwardWindows(graph, isConv), 'vdnn-conv');
  },
};
