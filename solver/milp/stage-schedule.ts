// Stage-wise extraction: the schedule of a solution of a stage formulation that decides
// more than R (the swap model's copies, node options' encodes, decodes and alternatives),
// honouring what S and SE keep into each stage. Each stage becomes:
//   [just-in-time swapIns (values, then encodings)] [decodes] [encodes]
//   [swapOuts (values, then encodings)] [swapIns for the next stage (values, then encodings)]
//   [computes in index order, each with its implementation, each value freed after its
//    last read in the stage unless the next stage keeps it, it was swapped out in the
//    stage, or it is a keep node at the end]
//   [frees of the values and encodings the next stage does not keep]
// checkmate.ts's plain remat plans go through extract.ts instead (free as early as the
// contract allows); the simulator replays either, and the model's U is never trusted.
import type { IndexedStep } from '../schedule/simulate.js';
import type { CheckmateFormulation } from './checkmate.js';

/** The swap decisions of a solution, each map from a value (or an encoding's slot) to its variable, per stage. */
export interface StageSwaps {
  OUT: Map<number, number>[];
  IN: Map<number, number>[];
  INJ: Map<number, number>[];
  /** The same for encodings, keyed by slot (absent without node options). */
  OUTE?: Map<number, number>[];
  INE?: Map<number, number>[];
  INJE?: Map<number, number>[];
}

/** Builds the schedule of a solution stage by stage (see the module comment). */
export function extractStageSchedule(base: CheckmateFormulation, values: ArrayLike<number>, swaps?: StageSwaps): IndexedStep[] {
  const graph = base.graph;
  const size = graph.size;
  const options = base.options;
  const on = (variable: number | undefined) => variable !== undefined && variable >= 0 && values[variable] > 0.5;
  const steps: IndexedStep[] = [];
  // Values at their node index, encodings at their slot.
  const onDevice = new Uint8Array(graph.formCount);
  const onHost = new Uint8Array(graph.formCount);
  const refOf = (slot: number) => options!.encodings.get(slot)!;
  const move = (op: 'swapIn' | 'swapOut' | 'free', slot: number) => {
    if (slot < size) steps.push({ op, node: slot });
    else steps.push({ op, node: refOf(slot).node, encoding: refOf(slot).encoding });
  };
  const free = (slot: number) => {
    move('free', slot);
    onDevice[slot] = 0;
  };
  const swapIn = (slot: number) => {
    if (onDevice[slot] || !onHost[slot]) return;
    move('swapIn', slot);
    onDevice[slot] = 1;
  };
  for (let t = 0; t < size; t++) {
    const keptNext = new Uint8Array(graph.formCount);
    if (t + 1 < size) {
      base.S[t + 1].forEach((variable, i) => {
        if (on(variable)) keptNext[i] = 1;
      });
      if (options) for (const [slot, variable] of options.SE[t + 1]) if (on(variable)) keptNext[slot] = 1;
    } else for (let i = 0; i < size; i++) if (graph.keep[i]) keptNext[i] = 1;
    if (swaps) {
      for (const [i, variable] of swaps.INJ[t]) if (on(variable)) swapIn(i);
      for (const [slot, variable] of swaps.INJE?.[t] ?? []) if (on(variable)) swapIn(slot);
    }
    if (options) {
      for (const [slot, variable] of options.DS[t]) {
        const { node, encoding } = refOf(slot);
        if (!on(variable) || !onDevice[slot] || onDevice[node]) continue;
        steps.push({ op: 'decode', node, encoding });
        onDevice[node] = 1;
      }
      for (const [slot, variable] of options.ES[t]) {
        const { node, encoding } = refOf(slot);
        if (!on(variable) || !onDevice[node] || onDevice[slot]) continue;
        steps.push({ op: 'encode', node, encoding });
        onDevice[slot] = 1;
      }
    }
    const swappedOut = new Uint8Array(graph.formCount);
    if (swaps) {
      for (const outs of [swaps.OUT[t], swaps.OUTE?.[t] ?? new Map<number, number>()]) {
        for (const [slot, variable] of outs) {
          if (!on(variable) || !onDevice[slot] || onHost[slot]) continue;
          move('swapOut', slot);
          onHost[slot] = 1;
          swappedOut[slot] = 1;
        }
      }
      for (const [i, variable] of swaps.IN[t]) if (on(variable)) swapIn(i);
      for (const [slot, variable] of swaps.INE?.[t] ?? []) if (on(variable)) swapIn(slot);
    }
    const computes: number[] = [];
    base.R[t].forEach((variable, k) => {
      if (on(variable)) computes.push(k);
    });
    // Last read of each value within the stage (its compute counts as a read).
    const lastRead = new Map<number, number>();
    for (const k of computes) {
      if (!onDevice[k]) lastRead.set(k, k);
      for (const input of graph.inputs[k]) lastRead.set(input, k);
    }
    const freeAt = new Map<number, number[]>();
    for (const [value, k] of lastRead) {
      if (keptNext[value] || swappedOut[value]) continue;
      const list = freeAt.get(k) ?? [];
      list.push(value);
      freeAt.set(k, list);
    }
    for (const k of computes) {
      // A value the stage also keeps from before (plain variant) is not computed again.
      if (!onDevice[k]) {
        const step: IndexedStep = { op: 'compute', node: k };
        const alternative = options?.A[t].get(k)?.findIndex((variable) => on(variable)) ?? -1;
        if (alternative >= 0) step.alt = alternative;
        steps.push(step);
        onDevice[k] = 1;
      }
      for (const value of (freeAt.get(k) ?? []).sort((a, b) => a - b)) if (onDevice[value]) free(value);
    }
    if (t + 1 < size) {
      for (let i = 0; i < size; i++) if (onDevice[i] && !keptNext[i]) free(i);
      for (let slot = size; slot < graph.formCount; slot++) if (onDevice[slot] && !keptNext[slot]) free(slot);
    }
  }
  return steps;
}
