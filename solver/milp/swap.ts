// The joint rematerialization + swapping MILP: Checkmate's stages (checkmate.ts, reused
// as built: R, S, FREE, U and all their rows) plus, per stage t and value i,
//
//   code name      meaning
//   OUT[t][i]      i is swapped out during stage t (it is on the device at the stage's
//                  start: OUT <= S), at most once over all stages (the host keeps it)
//   IN[t][i]       i is swapped in during stage t for the next stage: it is on the host
//                  (IN <= H), not on the device (IN + S <= 1, IN + R <= 1), counts in
//                  memory for the whole stage, and may be kept into t + 1 (the carry row
//                  of checkmate.ts gains -IN through its carryTerms hook)
//   INJ[t][i]      i is swapped in at the start of stage t, just in time for the stage's
//                  computes that read it (the dependency rows of checkmate.ts gain -INJ
//                  through its dependencyTerms hook); the stage waits for the copy, so
//                  its copy time is paid in full; it also counts for the whole stage
//   H[t][i]        i is on the host at the start of stage t: H[t+1] <= H[t] + OUT[t]
//   P[t]           bytes swapped in during stage t (scaled): memory rows U + P <= cap
//   W[t]           stall of stage t: W >= copy time of the stage - compute time of the stage
//
// A value swapped out in stage t is never freed inside the stage (sum_k FREE + OUT <= 1):
// it stays on the device until the stage ends, when its copy is done. The objective is
// compute + stall + just-in-time copies = sum over stages of jit_t + max(compute_t, copies_t)
// (copies_t: the stage's OUT and IN copies; jit_t: its INJ copies).
//
// Why that bounds the simulator's makespan: extraction writes each stage as [INJ swapIns]
// [swapOuts] [IN swapIns] [computes, with frees after last uses] [frees of what the next
// stage does not keep]. By induction on stages, with T_t the sum of the stage times before
// t: the copies of stage t start by T_t (the copy stream, the values they move and every
// earlier free are done by then) and run back to back, the INJ ones ending by T_t + jit_t
// and all by T_t + jit_t + copies_t; the computes of stage t read only values that were on
// the device at T_t, swapped in by INJ, or computed in the stage, and the frees among them
// wait only for those computes and INJ copies (values copied out in the stage are freed
// at its end), so they end by T_t + jit_t + compute_t; the end-of-stage frees wait for
// both. Hence every step of stage t ends by T_{t+1} = T_t + jit_t + max(compute_t, copies_t).
import type { IndexedGraph } from '../graph/validate.js';
import type { IndexedStep } from '../schedule/simulate.js';
import type { Transfer } from '../schedule/types.js';
import { buildCheckmate, type CheckmateFormulation, type CheckmateVariant } from './checkmate.js';
import type { Term } from './model.js';

export interface SwapOptions {
  /** Device budget, residentBytes included. */
  budgetBytes: number;
  variant: CheckmateVariant;
  transfer: Transfer;
  /**
   * Drop every swap that alone would cost more than this much extra time (a known plan
   * is that much slower than baseCost): a copy of i in stage t stalls at least
   * copy(i) - (cost of nodes 0..t), and every plan computes each node once, so such a
   * swap cannot be part of a plan faster than the known one.
   */
  slack?: number;
}

/** The Checkmate formulation extended with swap decisions. */
export interface SwapFormulation {
  base: CheckmateFormulation;
  transfer: Transfer;
  /** OUT[t] maps value i to its variable. */
  OUT: Map<number, number>[];
  /** IN[t] maps value i to its variable. */
  IN: Map<number, number>[];
  /** INJ[t] maps value i to its variable. */
  INJ: Map<number, number>[];
  /** H[t] maps value i to its variable. */
  H: Map<number, number>[];
  /** P[t], bytes swapped in during stage t (scaled). */
  P: Int32Array;
  /** W[t], the stall of stage t (scaled cost units). */
  W: Int32Array;
}

/** Copy time of one swap of value i (cost units). */
function copyCost(graph: IndexedGraph, transfer: Transfer, value: number): number {
  return transfer.latency + graph.bytes[value] / transfer.bandwidth;
}

/**
 * Stages in which a value may be swapped in: it must have been swapped out in an earlier
 * stage (OUT needs S, so after the stage computing it) and be kept into the next stage.
 */
function mayEnter(form: CheckmateFormulation, t: number, i: number): boolean {
  if (form.graph.bytes[i] === 0 || t < i + 2 || t + 1 >= form.graph.size) return false;
  return form.S[t + 1][i] >= 0;
}

/** Whether a copy of value i in stage t can pay off within `slack` (see SwapOptions.slack); `hidden`: it may overlap compute. */
function worthCopying(
  graph: IndexedGraph,
  options: SwapOptions,
  prefixCost: readonly number[],
  t: number,
  i: number,
  hidden = true,
): boolean {
  if (options.slack === undefined) return true;
  return copyCost(graph, options.transfer, i) - (hidden ? prefixCost[t] : 0) < options.slack;
}

/** Builds the swap model on top of Checkmate's. */
export function buildSwap(graph: IndexedGraph, options: SwapOptions): SwapFormulation {
  const size = graph.size;
  const prefixCost: number[] = [];
  graph.cost.reduce((sum, cost, node) => (prefixCost[node] = sum + cost), 0);
  const IN: Map<number, number>[] = Array.from({ length: size }, () => new Map());
  const INJ: Map<number, number>[] = Array.from({ length: size }, () => new Map());
  // The hooks create INJ[t][j] as the dependency rows are built (a stage's computes may read
  // it) and IN[t][i] as the carry rows are built (S[t+1] may come from either).
  const base = buildCheckmate(graph, {
    budgetBytes: options.budgetBytes,
    variant: options.variant,
    dependencyTerms: (form, t, _k, j): Term[] => {
      if (graph.bytes[j] === 0 || t < j + 2 || !worthCopying(graph, options, prefixCost, t, j, false)) return [];
      let variable = INJ[t].get(j);
      if (variable === undefined) {
        variable = form.model.addBinary(`INJ_${t}_${j}`, copyCost(graph, options.transfer, j) / form.costScale);
        INJ[t].set(j, variable);
      }
      return [[variable, -1]];
    },
    carryTerms: (form, t, i): Term[] => {
      const terms: Term[] = [];
      const jit = INJ[t].get(i);
      if (jit !== undefined) terms.push([jit, -1]);
      if (!mayEnter(form, t, i) || !worthCopying(graph, options, prefixCost, t, i)) return terms;
      const variable = form.model.addBinary(`IN_${t}_${i}`);
      IN[t].set(i, variable);
      terms.push([variable, -1]);
      return terms;
    },
  });
  const { model } = base;
  const transfer = options.transfer;
  const OUT: Map<number, number>[] = Array.from({ length: size }, () => new Map());
  const H: Map<number, number>[] = Array.from({ length: size }, () => new Map());
  const P = new Int32Array(size).fill(-1);
  const W = new Int32Array(size).fill(-1);
  const scaledBytes = (value: number) => graph.bytes[value] / base.byteScale;
  const scaledCopy = (value: number) => copyCost(graph, transfer, value) / base.costScale;

  // OUT only where the value is on the device at the stage's start and could come back.
  const lastEntry = new Int32Array(size).fill(-1);
  for (let t = 0; t < size; t++) for (const i of [...IN[t].keys(), ...INJ[t].keys()]) lastEntry[i] = Math.max(lastEntry[i], t);
  for (let t = 1; t < size; t++) {
    for (let i = 0; i < t; i++) {
      if (base.S[t][i] < 0 || lastEntry[i] <= t || !worthCopying(graph, options, prefixCost, t, i)) continue;
      OUT[t].set(i, model.addBinary(`OUT_${t}_${i}`));
    }
  }
  // Host residency: H[t][i] for the stages from the first possible OUT on.
  for (let i = 0; i < size; i++) {
    let previous = -1;
    let previousStage = -1;
    for (let t = i + 1; t <= lastEntry[i]; t++) {
      const out = t - 1 >= 0 ? OUT[t - 1].get(i) : undefined;
      if (previous < 0 && out === undefined) continue;
      const host = model.addVariable(`H_${t}_${i}`, { lb: 0, ub: 1 });
      H[t].set(i, host);
      const terms: Term[] = [[host, 1]];
      if (previous >= 0 && previousStage === t - 1) terms.push([previous, -1]);
      if (out !== undefined) terms.push([out, -1]);
      model.addRow(`host_${t}_${i}`, terms, -Infinity, 0);
      previous = host;
      previousStage = t;
    }
  }
  // A swap-in needs the host copy and a value absent from the device (not kept, not
  // computed in the stage, not swapped in twice).
  for (let t = 0; t < size; t++) {
    const entries = new Map<number, number[]>();
    for (const [i, variable] of [...IN[t], ...INJ[t]]) entries.set(i, [...(entries.get(i) ?? []), variable]);
    for (const [i, variables] of entries) {
      const host = H[t].get(i);
      for (const variable of variables) {
        const name = model.varNames[variable];
        // No earlier OUT is possible: the value can never be swapped in here.
        if (host === undefined) model.addRow(`noHost_${name}`, [[variable, 1]], -Infinity, 0);
        else
          model.addRow(
            `host_${name}`,
            [
              [variable, 1],
              [host, -1],
            ],
            -Infinity,
            0,
          );
      }
      const onDevice: Term[] = variables.map((variable): Term => [variable, 1]);
      if (i < t && base.S[t][i] >= 0) onDevice.push([base.S[t][i], 1]);
      if (base.R[t][i] >= 0) onDevice.push([base.R[t][i], 1]);
      if (onDevice.length > 1) model.addRow(`absent_${t}_${i}`, onDevice, -Infinity, 1);
    }
  }
  // Swapped out at most once; only from the device; never freed inside its stage.
  const freesOf: Map<number, number[]>[] = Array.from({ length: size }, () => new Map());
  for (let t = 0; t < size; t++) {
    for (const [key, variable] of base.FREE[t]) {
      const i = Math.floor(key / size);
      const list = freesOf[t].get(i) ?? [];
      list.push(variable);
      freesOf[t].set(i, list);
    }
  }
  for (let i = 0; i < size; i++) {
    const outs: Term[] = [];
    for (let t = 0; t < size; t++) {
      const out = OUT[t].get(i);
      if (out === undefined) continue;
      outs.push([out, 1]);
      model.addRow(
        `outHere_${t}_${i}`,
        [
          [out, 1],
          [base.S[t][i], -1],
        ],
        -Infinity,
        0,
      );
      const frees = freesOf[t].get(i) ?? [];
      if (frees.length) model.addRow(`outHeld_${t}_${i}`, [[out, 1], ...frees.map((free): Term => [free, 1])], -Infinity, 1);
    }
    if (outs.length > 1) model.addRow(`outOnce_${i}`, outs, -Infinity, 1);
  }
  // Memory: what is swapped in during a stage counts for the whole stage.
  for (let t = 0; t < size; t++) {
    if (IN[t].size === 0 && INJ[t].size === 0) continue;
    P[t] = model.addVariable(`P_${t}`, { lb: 0, ub: base.cap });
    const terms: Term[] = [[P[t], 1]];
    for (const [i, variable] of [...IN[t], ...INJ[t]]) terms.push([variable, -scaledBytes(i)]);
    model.addRow(`inBytes_${t}`, terms, 0, 0);
    base.R[t].forEach((compute, k) => {
      if (compute < 0) return;
      const row: Term[] = [
        [base.U[t][k], 1],
        [P[t], 1],
      ];
      if (graph.workspace[k] > 0) row.push([compute, graph.workspace[k] / base.byteScale]);
      model.addRow(`memIn_${t}_${k}`, row, -Infinity, base.cap);
    });
  }
  // Stall: copy time of the stage beyond its compute time.
  for (let t = 0; t < size; t++) {
    if (OUT[t].size === 0 && IN[t].size === 0) continue;
    W[t] = model.addVariable(`W_${t}`, { lb: 0, cost: 1 });
    const terms: Term[] = [[W[t], 1]];
    for (const [i, variable] of OUT[t]) terms.push([variable, -scaledCopy(i)]);
    for (const [i, variable] of IN[t]) terms.push([variable, -scaledCopy(i)]);
    base.R[t].forEach((compute, k) => {
      if (compute >= 0 && graph.cost[k] > 0) terms.push([compute, graph.cost[k] / base.costScale]);
    });
    model.addRow(`stall_${t}`, terms, 0, Infinity);
  }
  return { base, transfer, OUT, IN, INJ, H, P, W };
}

/** The objective of the model in cost units (compute + stall). */
export function swapObjectiveToCost(form: SwapFormulation, objective: number): number {
  return objective * form.base.costScale;
}

/**
 * The schedule of a solution, stage by stage: just-in-time swapIns, swapOuts, swapIns for
 * the next stage, the stage's computes in
 * index order with each value freed after its last read in the stage (unless the next
 * stage keeps it, it was swapped out in the stage, or it is a keep node at the end),
 * then frees of whatever the next stage does not keep.
 */
export function extractSwapSchedule(form: SwapFormulation, values: ArrayLike<number>): IndexedStep[] {
  const { base } = form;
  const graph = base.graph;
  const size = graph.size;
  const on = (variable: number | undefined) => variable !== undefined && variable >= 0 && values[variable] > 0.5;
  const steps: IndexedStep[] = [];
  const onDevice = new Uint8Array(size);
  const onHost = new Uint8Array(size);
  const free = (value: number) => {
    steps.push({ op: 'free', node: value });
    onDevice[value] = 0;
  };
  for (let t = 0; t < size; t++) {
    const keptNext = new Uint8Array(size);
    if (t + 1 < size) base.S[t + 1].forEach((variable, i) => on(variable) && (keptNext[i] = 1));
    else for (let i = 0; i < size; i++) if (graph.keep[i]) keptNext[i] = 1;
    for (const [i, variable] of form.INJ[t]) {
      if (!on(variable) || onDevice[i] || !onHost[i]) continue;
      steps.push({ op: 'swapIn', node: i });
      onDevice[i] = 1;
    }
    const swappedOut = new Uint8Array(size);
    for (const [i, variable] of form.OUT[t]) {
      if (!on(variable) || !onDevice[i] || onHost[i]) continue;
      steps.push({ op: 'swapOut', node: i });
      onHost[i] = 1;
      swappedOut[i] = 1;
    }
    for (const [i, variable] of form.IN[t]) {
      if (!on(variable) || onDevice[i] || !onHost[i]) continue;
      steps.push({ op: 'swapIn', node: i });
      onDevice[i] = 1;
    }
    const computes: number[] = [];
    base.R[t].forEach((variable, k) => on(variable) && computes.push(k));
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
        steps.push({ op: 'compute', node: k });
        onDevice[k] = 1;
      }
      for (const value of (freeAt.get(k) ?? []).sort((a, b) => a - b)) if (onDevice[value]) free(value);
    }
    if (t + 1 < size) for (let i = 0; i < size; i++) if (onDevice[i] && !keptNext[i]) free(i);
  }
  return steps;
}
