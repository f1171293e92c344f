// With a host link, a recomputation can become a copy: the value is swapped out after the
// computation it was recomputed from and swapped in where it was recomputed. In step order
// the device holds exactly what it held before (the swapIn adds the value where the
// recomputation did), minus whatever was recomputed only to feed it, so the peak never
// grows; the compute stream saves the recomputation's cost and may wait for the copy. This
// local search tries each recomputation, dearest first, and keeps a conversion when the
// simulator's two-stream makespan drops within the budget; a kept swapIn is then moved a
// few computes earlier when that hides its copy and still fits. Every figure comes from
// the simulator.
import type { IndexedGraph } from '../graph/validate.js';
import { SWAP_CONVERT_EARLIER } from '../limits.js';
import { type IndexedStep, simulateIndexed } from '../schedule/simulate.js';
import type { Transfer } from '../schedule/types.js';

/** The converted plan and its replayed makespan and peak. */
export interface Converted {
  steps: IndexedStep[];
  makespan: number;
  peakBytes: number;
  converted: number;
}

/** Drops recomputations whose copy nothing reads before it is freed or recomputed (and that are not a keep node's last copy), with their frees. */
export function dropUnreadCopies(graph: IndexedGraph, steps: readonly IndexedStep[]): IndexedStep[] {
  let current = steps.slice();
  for (;;) {
    // For each compute step: is its copy read (by a compute or a swapOut) before it leaves the device?
    const open = new Int32Array(graph.size).fill(-1);
    const read = new Uint8Array(current.length);
    const first = new Uint8Array(graph.size);
    const isFirst = new Uint8Array(current.length);
    const lastCompute = new Int32Array(graph.size).fill(-1);
    current.forEach((step, at) => {
      if (step.op === 'compute') {
        for (const input of graph.inputs[step.node]) if (open[input] >= 0) read[open[input]] = 1;
        open[step.node] = at;
        lastCompute[step.node] = at;
        if (!first[step.node]) {
          first[step.node] = 1;
          isFirst[at] = 1;
        }
      } else if (step.op === 'swapOut') {
        if (open[step.node] >= 0) read[open[step.node]] = 1;
      } else if (step.op === 'free' || step.op === 'swapIn') {
        open[step.node] = -1;
      }
    });
    const dead = new Uint8Array(current.length);
    let any = false;
    current.forEach((step, at) => {
      if (step.op !== 'compute' || isFirst[at] || read[at]) return;
      if (graph.keep[step.node] && lastCompute[step.node] === at) return;
      dead[at] = 1;
      any = true;
    });
    if (!any) return current;
    // Each dead compute goes with the free that ends its copy.
    const next: IndexedStep[] = [];
    const dropping = new Uint8Array(graph.size);
    current.forEach((step, at) => {
      if (dead[at]) {
        dropping[step.node] = 1;
        return;
      }
      if (step.op === 'free' && dropping[step.node]) {
        dropping[step.node] = 0;
        return;
      }
      next.push(step);
    });
    current = next;
  }
}

/** Replaces the recomputation at `at` by a swapIn (returned too), with a swapOut after the computation its value comes from. */
function convert(steps: readonly IndexedStep[], at: number): { steps: IndexedStep[]; swapIn: IndexedStep } | null {
  const node = steps[at].node;
  // The latest computation (or swapIn) of the node before `at`, and whether it was swapped out since.
  let source = -1;
  let hosted = false;
  for (let index = at - 1; index >= 0; index--) {
    const step = steps[index];
    if (step.node !== node) continue;
    if (step.op === 'swapOut') hosted = true;
    if (step.op === 'compute' || step.op === 'swapIn') {
      source = index;
      break;
    }
  }
  if (source < 0) return null;
  const swapIn: IndexedStep = { op: 'swapIn', node };
  const out = steps.slice(0, at);
  out.push(swapIn);
  out.push(...steps.slice(at + 1));
  // A value already on the host (swapped out earlier, or swapped in from there) needs no new swapOut.
  if (!hosted && steps[source].op !== 'swapIn') out.splice(source + 1, 0, { op: 'swapOut', node });
  return { steps: out, swapIn };
}

/** Moves the swapIn at `at` earlier past up to `computes` compute steps (stopping at a step that touches its node). */
function moveEarlier(steps: readonly IndexedStep[], at: number, computes: number): IndexedStep[] | null {
  const node = steps[at].node;
  let target = at;
  let passed = 0;
  while (target > 0 && passed < computes) {
    const step = steps[target - 1];
    if (step.node === node) break;
    target--;
    if (step.op === 'compute') passed++;
  }
  if (target === at) return null;
  const out = steps.slice();
  const [swapIn] = out.splice(at, 1);
  out.splice(target, 0, swapIn);
  return out;
}

/**
 * Converts recomputations of a plan into swaps while the two-stream makespan drops and the
 * peak fits `budgetBytes` (see the file comment). The plan must replay legally with `transfer`.
 */
export function convertRecomputesToSwaps(
  graph: IndexedGraph,
  steps: readonly IndexedStep[],
  budgetBytes: number,
  transfer: Transfer,
  options: { deadline: number; signal?: AbortSignal },
): Converted | undefined {
  const replay = (candidate: readonly IndexedStep[]) => {
    const result = simulateIndexed(graph, candidate, { transfer });
    return result.ok && result.figures.peakBytes <= budgetBytes ? result.figures : undefined;
  };
  const start = replay(steps);
  if (!start) return undefined;
  // Steps are tracked by identity: conversions insert and drop steps around them.
  let best = { steps: steps.map((step) => ({ ...step })), makespan: start.makespan, peakBytes: start.peakBytes };
  let converted = 0;
  const stopped = () => options.signal?.aborted === true || Date.now() > options.deadline;
  const seen = new Uint8Array(graph.size);
  const recomputes: IndexedStep[] = [];
  for (const step of best.steps) {
    if (step.op !== 'compute') continue;
    if (seen[step.node]) recomputes.push(step);
    seen[step.node] = 1;
  }
  // Dearest first.
  recomputes.sort((a, b) => graph.cost[b.node] - graph.cost[a.node]);
  for (const recompute of recomputes) {
    if (stopped()) break;
    const at = best.steps.indexOf(recompute);
    if (at < 0) continue;
    const swapped = convert(best.steps, at);
    if (!swapped) continue;
    const cleaned = dropUnreadCopies(graph, swapped.steps);
    const figures = replay(cleaned);
    if (!figures || figures.makespan >= best.makespan) continue;
    let choice = { steps: cleaned, ...figures };
    // Earlier swapIns hide the copy under compute when the memory allows.
    for (const computes of SWAP_CONVERT_EARLIER) {
      const index = choice.steps.indexOf(swapped.swapIn);
      const moved = index >= 0 ? moveEarlier(choice.steps, index, computes) : null;
      const movedFigures = moved && replay(moved);
      if (moved && movedFigures && movedFigures.makespan < choice.makespan) choice = { steps: moved, ...movedFigures };
    }
    best = choice;
    converted++;
  }
  return {
    steps: best.steps.map((step) => ({ op: step.op, node: step.node })),
    makespan: best.makespan,
    peakBytes: best.peakBytes,
    converted,
  };
}
