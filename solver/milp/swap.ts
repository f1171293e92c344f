// The joint rematerialization + swapping MILP: Checkmate's stages (checkmate.ts, its
// variables and rows reused as built) plus swap decisions, per stage t and value i.
//
//   code name      meaning
//   R[t][i]        node i is computed in stage t (checkmate.ts)
//   S[t][i]        value i is on the device at the start of stage t (checkmate.ts)
//   FREE[t][i][k]  value i is freed right after node k is computed in stage t (checkmate.ts)
//   U[t][k]        device bytes right after node k is computed in stage t (checkmate.ts)
//   cap            budget minus residentBytes, in scaled bytes (checkmate.ts)
//   OUT[t][i]      i is swapped out during stage t (it is on the device at the stage's
//                  start), at most once over all stages (the host keeps it)
//   IN[t][i]       i is swapped in during stage t for the next stage: it is on the host,
//                  not on the device, counts in memory for the whole stage, and may be
//                  kept into t + 1
//   INJ[t][i]      i is swapped in at the start of stage t, just in time for the stage's
//                  computes that read it; the stage waits for the copy, so its copy time
//                  is paid in full; it also counts for the whole stage
//   H[t][i]        i is on the host at the start of stage t
//   P[t]           bytes swapped in during stage t (scaled)
//   W[t]           stall of stage t (scaled cost units)
//
// Constraint families, one function each, added in this order:
//   checkmate.ts's hooks  dep_t_k_j gains -INJ[t][j] (checkmateHooks); carry_t_i gains -IN[t][i]
//   hostRows        host_t_i: H[t][i] <= H[t-1][i] + OUT[t-1][i]
//   swapInRows      host_/noHost_: IN, INJ <= H; absent_t_i: IN + INJ + S + R <= 1
//   swapOutRows     outHere_t_i: OUT <= S; outHeld_t_i: OUT + sum_k FREE[t][i][k] <= 1
//                   (a value swapped out in a stage stays until the stage ends, when its
//                   copy is done); outOnce_i: sum_t OUT[t][i] <= 1
//   swapInMemoryRows  inBytes_t: P = sum of the bytes of IN and INJ; memIn_t_k:
//                   U + P + workspace(k) R <= cap
//   stallRows       stall_t: W >= copy time of OUT and IN - compute time of the stage
// The objective is compute + stall + just-in-time copies = sum over stages of
// jit_t + max(compute_t, copies_t) (copies_t: the stage's OUT and IN copies; jit_t: its
// INJ copies).
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
import { buildCheckmate, type CheckmateFormulation, type CheckmateOptions, type CheckmateVariant, freesByValue } from './checkmate.js';
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

/** Which copies can pay off within `slack` (see SwapOptions.slack). */
class CopyFilter {
  /** Cost of nodes 0..t, for each t. */
  private readonly prefixCost: number[] = [];

  constructor(
    private readonly graph: IndexedGraph,
    private readonly options: SwapOptions,
  ) {
    let sum = 0;
    for (const cost of graph.cost) {
      sum += cost;
      this.prefixCost.push(sum);
    }
  }

  /** Whether a copy of value i in stage t can pay off; `hidden`: it may overlap the stage's compute. */
  worth(t: number, i: number, hidden = true): boolean {
    if (this.options.slack === undefined) return true;
    return copyCost(this.graph, this.options.transfer, i) - (hidden ? this.prefixCost[t] : 0) < this.options.slack;
  }
}

/** One map per stage. */
function perStage(size: number): Map<number, number>[] {
  return Array.from({ length: size }, () => new Map());
}

/** Builds the swap model on top of Checkmate's, one constraint family after the other (see the module comment). */
export function buildSwap(graph: IndexedGraph, options: SwapOptions): SwapFormulation {
  const size = graph.size;
  const copies = new CopyFilter(graph, options);
  const IN = perStage(size);
  const INJ = perStage(size);
  const base = buildCheckmate(graph, {
    budgetBytes: options.budgetBytes,
    variant: options.variant,
    ...checkmateHooks(options, copies, IN, INJ),
  });
  const form: SwapFormulation = {
    base,
    transfer: options.transfer,
    OUT: perStage(size),
    IN,
    INJ,
    H: perStage(size),
    P: new Int32Array(size).fill(-1),
    W: new Int32Array(size).fill(-1),
  };
  const lastEntry = lastEntries(form);
  swapOutVariables(form, copies, lastEntry);
  hostRows(form, lastEntry);
  swapInRows(form);
  swapOutRows(form);
  swapInMemoryRows(form);
  stallRows(form);
  return form;
}

/**
 * The hooks into checkmate.ts's rows: they create INJ[t][j] as the dependency rows are
 * built (a stage's computes may read it) and IN[t][i] as the carry rows are built
 * (S[t+1] may come from either).
 */
function checkmateHooks(
  options: SwapOptions,
  copies: CopyFilter,
  IN: Map<number, number>[],
  INJ: Map<number, number>[],
): Pick<CheckmateOptions, 'dependencyTerms' | 'carryTerms'> {
  return {
    dependencyTerms: (base, t, _k, j): Term[] => {
      if (base.graph.bytes[j] === 0 || t < j + 2 || !copies.worth(t, j, false)) return [];
      let variable = INJ[t].get(j);
      if (variable === undefined) {
        variable = base.model.addBinary(`INJ_${t}_${j}`, copyCost(base.graph, options.transfer, j) / base.costScale);
        INJ[t].set(j, variable);
      }
      return [[variable, -1]];
    },
    carryTerms: (base, t, i): Term[] => {
      const terms: Term[] = [];
      const jit = INJ[t].get(i);
      if (jit !== undefined) terms.push([jit, -1]);
      if (!mayEnter(base, t, i) || !copies.worth(t, i)) return terms;
      const variable = base.model.addBinary(`IN_${t}_${i}`);
      IN[t].set(i, variable);
      terms.push([variable, -1]);
      return terms;
    },
  };
}

/** The last stage in which each value may be swapped in (IN or INJ), or -1. */
function lastEntries(form: SwapFormulation): Int32Array {
  const size = form.base.graph.size;
  const lastEntry = new Int32Array(size).fill(-1);
  for (let t = 0; t < size; t++) for (const i of [...form.IN[t].keys(), ...form.INJ[t].keys()]) lastEntry[i] = Math.max(lastEntry[i], t);
  return lastEntry;
}

/** OUT only where the value is on the device at the stage's start and could come back later. */
function swapOutVariables(form: SwapFormulation, copies: CopyFilter, lastEntry: Int32Array): void {
  const { base } = form;
  for (let t = 1; t < base.graph.size; t++) {
    for (let i = 0; i < t; i++) {
      if (base.S[t][i] < 0 || lastEntry[i] <= t || !copies.worth(t, i)) continue;
      form.OUT[t].set(i, base.model.addBinary(`OUT_${t}_${i}`));
    }
  }
}

/** Host residency: H[t][i] for the stages from the first possible OUT on; the host holds what was swapped out before. */
function hostRows(form: SwapFormulation, lastEntry: Int32Array): void {
  const { model, graph } = form.base;
  for (let i = 0; i < graph.size; i++) {
    let previous = -1;
    let previousStage = -1;
    for (let t = i + 1; t <= lastEntry[i]; t++) {
      const out = t - 1 >= 0 ? form.OUT[t - 1].get(i) : undefined;
      if (previous < 0 && out === undefined) continue;
      const host = model.addVariable(`H_${t}_${i}`, { lb: 0, ub: 1 });
      form.H[t].set(i, host);
      const terms: Term[] = [[host, 1]];
      if (previous >= 0 && previousStage === t - 1) terms.push([previous, -1]);
      if (out !== undefined) terms.push([out, -1]);
      model.addRow(`host_${t}_${i}`, terms, -Infinity, 0);
      previous = host;
      previousStage = t;
    }
  }
}

/**
 * A swap-in needs the host copy and a value absent from the device (not kept, not
 * computed in the stage, not swapped in twice).
 */
function swapInRows(form: SwapFormulation): void {
  const { base } = form;
  const { model } = base;
  for (let t = 0; t < base.graph.size; t++) {
    const entries = new Map<number, number[]>();
    for (const [i, variable] of [...form.IN[t], ...form.INJ[t]]) entries.set(i, [...(entries.get(i) ?? []), variable]);
    for (const [i, variables] of entries) {
      const host = form.H[t].get(i);
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
}

/** Swapped out at most once; only from the device; never freed inside its stage. */
function swapOutRows(form: SwapFormulation): void {
  const { base } = form;
  const { model } = base;
  const size = base.graph.size;
  const frees = Array.from({ length: size }, (_, t) => freesByValue(base, t));
  for (let i = 0; i < size; i++) {
    const outs: Term[] = [];
    for (let t = 0; t < size; t++) {
      const out = form.OUT[t].get(i);
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
      const freed = frees[t].get(i) ?? [];
      if (freed.length) model.addRow(`outHeld_${t}_${i}`, [[out, 1], ...freed.map(([, free]): Term => [free, 1])], -Infinity, 1);
    }
    if (outs.length > 1) model.addRow(`outOnce_${i}`, outs, -Infinity, 1);
  }
}

/** Memory: what is swapped in during a stage counts for the whole stage. */
function swapInMemoryRows(form: SwapFormulation): void {
  const { base } = form;
  const { model, graph } = base;
  for (let t = 0; t < graph.size; t++) {
    if (form.IN[t].size === 0 && form.INJ[t].size === 0) continue;
    const bytesIn = model.addVariable(`P_${t}`, { lb: 0, ub: base.cap });
    form.P[t] = bytesIn;
    const terms: Term[] = [[bytesIn, 1]];
    for (const [i, variable] of [...form.IN[t], ...form.INJ[t]]) terms.push([variable, -graph.bytes[i] / base.byteScale]);
    model.addRow(`inBytes_${t}`, terms, 0, 0);
    base.R[t].forEach((compute, k) => {
      if (compute < 0) return;
      const row: Term[] = [
        [base.U[t][k], 1],
        [bytesIn, 1],
      ];
      if (graph.workspace[k] > 0) row.push([compute, graph.workspace[k] / base.byteScale]);
      model.addRow(`memIn_${t}_${k}`, row, -Infinity, base.cap);
    });
  }
}

/** Stall: copy time of the stage beyond its compute time. */
function stallRows(form: SwapFormulation): void {
  const { base, transfer } = form;
  const { model, graph } = base;
  const scaledCopy = (value: number) => copyCost(graph, transfer, value) / base.costScale;
  for (let t = 0; t < graph.size; t++) {
    if (form.OUT[t].size === 0 && form.IN[t].size === 0) continue;
    const stall = model.addVariable(`W_${t}`, { lb: 0, cost: 1 });
    form.W[t] = stall;
    const terms: Term[] = [[stall, 1]];
    for (const [i, variable] of form.OUT[t]) terms.push([variable, -scaledCopy(i)]);
    for (const [i, variable] of form.IN[t]) terms.push([variable, -scaledCopy(i)]);
    base.R[t].forEach((compute, k) => {
      if (compute >= 0 && graph.cost[k] > 0) terms.push([compute, graph.cost[k] / base.costScale]);
    });
    model.addRow(`stall_${t}`, terms, 0, Infinity);
  }
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
    if (t + 1 < size) {
      base.S[t + 1].forEach((variable, i) => {
        if (on(variable)) keptNext[i] = 1;
      });
    } else for (let i = 0; i < size; i++) if (graph.keep[i]) keptNext[i] = 1;
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
        steps.push({ op: 'compute', node: k });
        onDevice[k] = 1;
      }
      for (const value of (freeAt.get(k) ?? []).sort((a, b) => a - b)) if (onDevice[value]) free(value);
    }
    if (t + 1 < size) for (let i = 0; i < size; i++) if (onDevice[i] && !keptNext[i]) free(i);
  }
  return steps;
}
