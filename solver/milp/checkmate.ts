// Checkmate's rematerialization MILP (Jain et al., MLSys 2020) in the paper's symbols.
//
//   code name          paper      meaning
//   R[t][i]            R_{t,i}    node i is computed in stage t (R[t][t] = 1: stage t is
//                                 the one that computes node t for the first time)
//   S[t][i]            S_{t,i}    value i is on the device at the start of stage t
//                                 (kept from stage t - 1)
//   FREE[t][i][k]      FREE_{t,i,k} value i is freed right after node k is computed in
//                                 stage t (k is i or one of its users)
//   U[t][k]            U_{t,k}    device bytes right after node k is computed in stage t,
//                                 before the frees that follow it
//   cap                M_budget   budget minus residentBytes (resident bytes never move)
//
// Stages advance the frontier: stage t computes node t for the first time and, before it,
// any recomputations in index order (each node at most once per stage). The objective is
// the total compute cost sum R[t][i] * cost(i); without swaps that is the makespan.
//
// Variants:
// - 'plain': the paper's form: every R (recomputable nodes) and S, and FREE linearised
//   two-sided (1 - FREE <= hazards, kappa (1 - FREE) >= hazards).
// - 'tight': only variables that can be non-zero (liveness: a value exists in stage t
//   only while some node that reads it can still run, `reach`), R + S <= 1, and
//   one-sided FREE rows summed per value (sum_k FREE <= 1 with S[t+1], <= R + S, and
//   before each later user), which keeps the integer solutions and gives a much tighter
//   LP (../shared/DESIGN.md, "Solver facts").
// Both are exact over Checkmate's class. Option window: only stages from..to are modelled,
// with what is kept into stage `from` and into stage `to + 1` fixed (S of those stages as
// fixed columns): the neighbourhood of a large-neighbourhood search around a plan whose
// other stages stay as they are (checkmate-lns.ts). Option recompute: 'forward' (forward nodes only)
// is the much smaller restriction DESIGN.md measured; it can miss plans (a random graph
// of the fixtures needs a backward recomputation to fit 80 %), so its bounds are not
// bounds of the class and auto uses it only to look for plans.
// Bytes and costs are divided by scales that put them in a numerically safe range.
//
// Node options: on a graph with alternatives or encodings, options.ts adds its variables
// (A, ES, SE, DS) and families after these, and terms to these families; the class
// becomes Checkmate's with options (see options.ts). A graph without options gets exactly
// the model above.
import type { IndexedGraph } from '../graph/validate.js';
import { MODEL_BYTE_RANGE, MODEL_COST_RANGE } from '../limits.js';
import { Model, type Term } from './model.js';
import {
  alternativeRows,
  createOptionVariables,
  decodeRows,
  decodesOf,
  encodeRows,
  encodingCarryRows,
  largestOptionCost,
  type OptionHooks,
  type OptionVariables,
  optionDependencyTerms,
  stageStartMemoryTerms,
  workspaceTerms,
} from './options.js';

export type CheckmateVariant = 'tight' | 'plain';

export interface CheckmateOptions {
  /** Device budget, residentBytes included. */
  budgetBytes: number;
  variant: CheckmateVariant;
  /**
   * Extra terms for the carry row of (t, i) (S[t+1][i] - R[t][i] - S[t][i] + extra <= 0):
   * the swap formulation adds -IN[t][i] so a value swapped in during stage t is kept into t + 1.
   */
  carryTerms?: (form: CheckmateFormulation, t: number, i: number) => Term[];
  /**
   * Extra terms for the dependency row of node k reading j in stage t
   * (R[t][k] - R[t][j] - S[t][j] + extra <= 0): the swap formulation adds -INJ[t][j],
   * a value swapped in at the start of the stage that reads it.
   */
  dependencyTerms?: (form: CheckmateFormulation, t: number, k: number, j: number) => Term[];
  /** Which nodes may be recomputed; default every recomputable node. */
  recompute?: RecomputeSet;
  /** Model only a window of stages, the rest fixed (see the file comment); default every stage. */
  window?: CheckmateWindow;
  /** Extra terms of the option families (the swap model's copies of encodings). */
  optionHooks?: OptionHooks;
}

/** A window of stages and the values kept across its two edges. */
export interface CheckmateWindow {
  /** First and last stage modelled. */
  from: number;
  to: number;
  /** Values on the device at the start of stage `from` (S[from], fixed at 1; the others 0). */
  keptBefore: readonly number[];
  /** Values on the device at the start of stage `to + 1` (S[to + 1], fixed at 1; the others 0). */
  keptAfter: readonly number[];
}

/**
 * 'all': every recomputable node (exact within Checkmate's class); 'forward': forward
 * nodes only, a restriction that prunes training graphs much harder but can miss plans
 * (and then its bounds are not bounds of the class).
 */
export type RecomputeSet = 'all' | 'forward';

/** A built formulation: the model plus the maps from (t, i) to variable indices (-1: absent, always 0). */
export interface CheckmateFormulation {
  graph: IndexedGraph;
  variant: CheckmateVariant;
  model: Model;
  /** R[t][i] for i <= t. */
  R: Int32Array[];
  /** S[t][i] for i < t. */
  S: Int32Array[];
  /** U[t][k] for k <= t (present where R[t][k] is). */
  U: Int32Array[];
  /** FREE[t] maps i * size + k to its variable. */
  FREE: Map<number, number>[];
  /** Nodes that may be recomputed. */
  canRecompute: boolean[];
  /** Last stage in which each value may be read or must be present. */
  reach: number[];
  byteScale: number;
  costScale: number;
  /** Budget minus residentBytes, in scaled bytes. */
  cap: number;
  /** The stages modelled: every stage, or a window's. */
  first: number;
  last: number;
  /** The option variables (options.ts), on a graph with node options. */
  options?: OptionVariables;
}

/** Which nodes the model may recompute. */
function recomputeSet(graph: IndexedGraph, recompute: RecomputeSet): boolean[] {
  return graph.recomputable.map((recomputable, node) => recomputable && (recompute === 'all' || graph.kind[node] === 'forward'));
}

/**
 * The last stage in which value i can be read or must be present: its own stage, the
 * stage of each user that cannot be recomputed, the reach of each user that can (it may
 * be recomputed up to there), and the last stage for keep nodes.
 */
export function valueReach(graph: IndexedGraph, canRecompute: readonly boolean[]): number[] {
  const last = graph.size - 1;
  const reach = new Array<number>(graph.size).fill(0);
  for (let node = last; node >= 0; node--) {
    let value = graph.keep[node] ? last : node;
    for (const user of graph.users[node]) value = Math.max(value, canRecompute[user] ? reach[user] : user);
    reach[node] = value;
  }
  return reach;
}

/**
 * The size of the formulation without building it: stage positions (R columns, the
 * frontier included) and FREE columns, and about as many nonzeros as it will have (measured: within 15 %).
 */
export function estimateCheckmateSize(
  graph: IndexedGraph,
  variant: CheckmateVariant,
  recompute: RecomputeSet = 'all',
): { positions: number; frees: number; nonzeros: number } {
  const canRecompute = recomputeSet(graph, recompute);
  const reach = variant === 'tight' ? valueReach(graph, canRecompute) : new Array<number>(graph.size).fill(graph.size - 1);
  let positions = 0;
  let frees = 0;
  for (let k = 0; k < graph.size; k++) {
    // Node k is a position of its own stage and of every later stage up to its reach.
    const stages = 1 + (canRecompute[k] ? Math.max(0, reach[k] - k) : 0);
    positions += stages;
    frees += stages * (graph.inputs[k].length + 1);
  }
  return { positions, frees, nonzeros: 11 * frees + 8 * positions };
}

/** Builds the Checkmate model for a graph and a budget. */
export function buildCheckmate(graph: IndexedGraph, options: CheckmateOptions): CheckmateFormulation {
  // The option families span every stage; a window (checkmate-lns.ts) fixes stages they would cross.
  if (options.window && graph.hasOptions) throw new Error('checkmate: a window of stages is not modelled on a graph with node options');
  const size = graph.size;
  const variant = options.variant;
  const tight = variant === 'tight';
  const canRecompute = recomputeSet(graph, options.recompute ?? 'all');
  const reach = tight ? valueReach(graph, canRecompute) : new Array<number>(size).fill(size - 1);
  const capBytes = Math.max(0, options.budgetBytes - graph.residentBytes);
  const byteScale = capBytes > MODEL_BYTE_RANGE ? capBytes / MODEL_BYTE_RANGE : 1;
  const maxCost = Math.max(0, ...graph.cost, graph.hasOptions ? largestOptionCost(graph) : 0);
  const costScale = maxCost > MODEL_COST_RANGE ? maxCost / MODEL_COST_RANGE : 1;
  const model = new Model();
  const formulation: CheckmateFormulation = {
    graph,
    variant,
    model,
    R: [],
    S: [],
    U: [],
    FREE: [],
    canRecompute,
    reach,
    byteScale,
    costScale,
    cap: capBytes / byteScale,
    first: options.window?.from ?? 0,
    last: options.window?.to ?? size - 1,
  };
  createVariables(formulation, options.window);
  if (graph.hasOptions) formulation.options = createOptionVariables(formulation);
  dependencyRows(formulation, options.dependencyTerms);
  carryRows(formulation, options.carryTerms);
  if (tight) oncePerStageRows(formulation);
  keepAtEndRows(formulation);
  memoryRows(formulation);
  if (tight) freeRowsTight(formulation);
  else freeRowsPlain(formulation);
  if (formulation.options) {
    alternativeRows(formulation, formulation.options);
    encodeRows(formulation, formulation.options);
    decodeRows(formulation, formulation.options, options.optionHooks);
    encodingCarryRows(formulation, formulation.options, options.optionHooks);
  }
  return formulation;
}

/** Nodes computed in stage t that read value i after position k (the frontier included). */
function laterUsers(form: CheckmateFormulation, t: number, i: number, k: number): number[] {
  return form.graph.users[i].filter((user) => user > k && user <= t && form.R[t][user] >= 0);
}

const positionCache = new WeakMap<CheckmateFormulation, number[][]>();

/** Positions of stage t at which a node may be computed, ascending. */
function positions(form: CheckmateFormulation, t: number): number[] {
  let cache = positionCache.get(form);
  if (!cache) {
    cache = [];
    positionCache.set(form, cache);
  }
  if (!cache[t]) {
    const out: number[] = [];
    for (let k = 0; k <= t; k++) if (form.R[t][k] >= 0) out.push(k);
    cache[t] = out;
  }
  return cache[t];
}

/** R, S, U and FREE: only those that can be non-zero (and, in a window, only its stages'). */
function createVariables(form: CheckmateFormulation, window?: CheckmateWindow): void {
  const { graph, model, canRecompute, reach, first, last } = form;
  const size = graph.size;
  const fixed = (t: number, kept: readonly number[] | undefined) => {
    const S = new Int32Array(t).fill(-1);
    for (const i of kept ?? []) S[i] = model.addVariable(`S_${t}_${i}`, { lb: 1, ub: 1, integer: true });
    return S;
  };
  for (let t = 0; t < size; t++) {
    const R = new Int32Array(t + 1).fill(-1);
    let S = new Int32Array(t).fill(-1);
    if (t >= first && t <= last) {
      if (window && t === first) S = fixed(t, window.keptBefore);
      for (let i = 0; i < t; i++) {
        if (t <= reach[i] && !(window && t === first)) S[i] = model.addBinary(`S_${t}_${i}`);
        if (canRecompute[i] && t <= reach[i]) R[i] = model.addBinary(`R_${t}_${i}`, graph.cost[i] / form.costScale);
      }
      // The frontier is always computed: a fixed column keeps every row uniform.
      R[t] = model.addVariable(`R_${t}_${t}`, { lb: 1, ub: 1, integer: true, cost: graph.cost[t] / form.costScale });
    } else if (window && t === last + 1) {
      S = fixed(t, window.keptAfter);
    }
    form.R.push(R);
    form.S.push(S);
  }
  for (let t = 0; t < size; t++) {
    const U = new Int32Array(t + 1).fill(-1);
    const FREE = new Map<number, number>();
    form.U.push(U);
    form.FREE.push(FREE);
    if (t < first || t > last) continue;
    const inputsOfFrontier = new Set(graph.inputs[t]);
    for (const k of positions(form, t)) {
      U[k] = model.addVariable(`U_${t}_${k}`, { lb: 0, ub: form.cap });
      // Frees after the frontier change nothing: the next stage starts from S.
      if (k === t) continue;
      for (const i of [...graph.inputs[k], k]) {
        // A value read by the frontier is never freed before it.
        if (k < t && inputsOfFrontier.has(i)) continue;
        // Keep nodes stay on the device at the end.
        if (t === size - 1 && graph.keep[i]) continue;
        const present = i === k || form.R[t][i] >= 0 || (i < t && form.S[t][i] >= 0);
        if (!present) continue;
        FREE.set(i * size + k, model.addBinary(`FREE_${t}_${i}_${k}`));
      }
    }
  }
}

/** A node computed in stage t needs each input computed earlier in the stage or kept into it. */
function dependencyRows(form: CheckmateFormulation, extra?: CheckmateOptions['dependencyTerms']): void {
  const { graph, model } = form;
  for (let t = form.first; t <= form.last; t++) {
    for (const k of positions(form, t)) {
      for (const j of graph.inputs[k]) {
        const terms: Term[] = [[form.R[t][k], 1]];
        if (form.R[t][j] >= 0) terms.push([form.R[t][j], -1]);
        if (form.S[t][j] >= 0) terms.push([form.S[t][j], -1]);
        if (form.options) terms.push(...optionDependencyTerms(form, form.options, t, k, j));
        if (extra) terms.push(...extra(form, t, k, j));
        model.addRow(`dep_${t}_${k}_${j}`, terms, -Infinity, 0);
      }
    }
  }
}

/** A value kept into stage t + 1 was on the device in stage t (kept or computed). */
function carryRows(form: CheckmateFormulation, extra?: CheckmateOptions['carryTerms']): void {
  const { graph, model } = form;
  for (let t = form.first; t <= form.last && t + 1 < graph.size; t++) {
    for (let i = 0; i <= t; i++) {
      const next = form.S[t + 1][i];
      if (next < 0) continue;
      const terms: Term[] = [[next, 1]];
      if (form.R[t][i] >= 0) terms.push([form.R[t][i], -1]);
      if (i < t && form.S[t][i] >= 0) terms.push([form.S[t][i], -1]);
      for (const decode of decodesOf(form, form.options, t, i)) terms.push([decode, -1]);
      if (extra) terms.push(...extra(form, t, i));
      model.addRow(`carry_${t}_${i}`, terms, -Infinity, 0);
    }
  }
}

/** A value already on the device is never computed again in the same stage (tight). */
function oncePerStageRows(form: CheckmateFormulation): void {
  const { model } = form;
  for (let t = form.first; t <= form.last; t++) {
    for (let i = 0; i < t; i++) {
      if (form.R[t][i] >= 0 && form.S[t][i] >= 0)
        model.addRow(
          `once_${t}_${i}`,
          [
            [form.R[t][i], 1],
            [form.S[t][i], 1],
          ],
          -Infinity,
          1,
        );
    }
  }
}

/** Every keep node is on the device in the last stage (and FREE never frees it there). */
function keepAtEndRows(form: CheckmateFormulation): void {
  const { graph, model } = form;
  const last = graph.size - 1;
  // A window that ends before the last stage leaves this to the fixed stages after it.
  if (form.last !== last) return;
  for (let i = 0; i < last; i++) {
    if (!graph.keep[i]) continue;
    const terms: Term[] = [];
    if (form.R[last][i] >= 0) terms.push([form.R[last][i], 1]);
    if (form.S[last][i] >= 0) terms.push([form.S[last][i], 1]);
    for (const decode of decodesOf(form, form.options, last, i)) terms.push([decode, 1]);
    model.addRow(`keep_${i}`, terms, 1, Infinity);
  }
}

/**
 * U: bytes after each compute, stage by stage: the values kept into the stage plus what
 * was computed minus what was freed. The peak of a compute (U plus the node's
 * workspace) stays within the budget; resident bytes are outside `cap`.
 */
function memoryRows(form: CheckmateFormulation): void {
  const { graph, model } = form;
  const size = graph.size;
  const scaled = (bytes: number) => bytes / form.byteScale;
  for (let t = form.first; t <= form.last; t++) {
    let previous = -1;
    for (const k of positions(form, t)) {
      const terms: Term[] = [
        [form.U[t][k], 1],
        [form.R[t][k], -scaled(graph.bytes[k])],
      ];
      if (previous < 0) {
        for (let i = 0; i < t; i++) if (form.S[t][i] >= 0 && graph.bytes[i] > 0) terms.push([form.S[t][i], -scaled(graph.bytes[i])]);
        terms.push(...stageStartMemoryTerms(form, form.options, t));
      } else {
        terms.push([form.U[t][previous], -1]);
        for (const i of [...graph.inputs[previous], previous]) {
          const free = form.FREE[t].get(i * size + previous);
          if (free !== undefined && graph.bytes[i] > 0) terms.push([free, scaled(graph.bytes[i])]);
        }
      }
      model.addRow(`mem_${t}_${k}`, terms, 0, 0);
      const workspace = workspaceTerms(form, form.options, t, k);
      if (workspace) model.addRow(`peak_${t}_${k}`, [[form.U[t][k], 1], ...workspace], -Infinity, form.cap);
      previous = k;
    }
  }
}

/** The variables whose sum says value i is on the device in stage t (computed, kept or decoded), each with coefficient 1. */
function presence(form: CheckmateFormulation, t: number, i: number): Term[] {
  const terms: Term[] = [];
  if (form.R[t][i] >= 0) terms.push([form.R[t][i], 1]);
  if (i < t && form.S[t][i] >= 0) terms.push([form.S[t][i], 1]);
  for (const decode of decodesOf(form, form.options, t, i)) terms.push([decode, 1]);
  return terms;
}

/** FREE variables of stage t grouped by value: i -> [k, variable] ascending in k. */
export function freesByValue(form: CheckmateFormulation, t: number): Map<number, [number, number][]> {
  const size = form.graph.size;
  const byValue = new Map<number, [number, number][]>();
  for (const [key, variable] of form.FREE[t]) {
    const i = Math.floor(key / size);
    const k = key % size;
    const list = byValue.get(i) ?? [];
    list.push([k, variable]);
    byValue.set(i, list);
  }
  for (const list of byValue.values()) list.sort((a, b) => a[0] - b[0]);
  return new Map([...byValue.entries()].sort((a, b) => a[0] - b[0]));
}

/**
 * The paper's FREE: FREE[t][i][k] = R[t][k] (1 - S[t+1][i]) prod over later users j of
 * (1 - R[t][j]), linearised exactly with the hazard count.
 */
function freeRowsPlain(form: CheckmateFormulation): void {
  const { graph, model } = form;
  for (let t = form.first; t <= form.last; t++) {
    for (const [i, frees] of freesByValue(form, t)) {
      for (const [k, free] of frees) {
        const hazards: Term[] = [[form.R[t][k], -1]];
        let constant = 1;
        const next = t + 1 < graph.size ? form.S[t + 1][i] : -1;
        if (next >= 0) hazards.push([next, 1]);
        for (const user of laterUsers(form, t, i, k)) hazards.push([form.R[t][user], 1]);
        // A reader of an encoding of i may run while i is absent: absence (1 - present) is a hazard too.
        if (k !== i && graph.encodings[i].some((encoding) => encoding.readers.includes(k))) {
          constant++;
          for (const [variable] of presence(form, t, i)) hazards.push([variable, -1]);
        }
        const kappa = hazards.length;
        // 1 - FREE <= hazards (constant 1 from 1 - R): FREE + hazardTerms >= 0.
        model.addRow(`freeLo_${t}_${i}_${k}`, [[free, 1], ...hazards], 1 - constant, Infinity);
        // kappa (1 - FREE) >= hazards: kappa FREE + hazardTerms <= kappa - 1.
        model.addRow(`freeHi_${t}_${i}_${k}`, [[free, kappa], ...hazards], -Infinity, kappa - constant);
      }
    }
  }
}

/**
 * One-sided FREE rows, summed per value (tight): a value is freed at most once per stage
 * and only when it is there, never when it is kept into the next stage, never before a
 * later user computed in the stage, and only right after a node that is computed.
 */
function freeRowsTight(form: CheckmateFormulation): void {
  const { graph, model } = form;
  for (let t = form.first; t <= form.last; t++) {
    for (const [i, frees] of freesByValue(form, t)) {
      for (const [k, free] of frees)
        if (k !== t)
          model.addRow(
            `freeR_${t}_${i}_${k}`,
            [
              [free, 1],
              [form.R[t][k], -1],
            ],
            -Infinity,
            0,
          );
      const sum: Term[] = frees.map(([, free]) => [free, 1]);
      const next = t + 1 < graph.size ? form.S[t + 1][i] : -1;
      model.addRow(`freeS_${t}_${i}`, next >= 0 ? [...sum, [next, 1]] : sum, -Infinity, 1);
      const present: Term[] = presence(form, t, i).map(([variable]): Term => [variable, -1]);
      model.addRow(`freeHere_${t}_${i}`, [...sum, ...present], -Infinity, 0);
      for (const user of graph.users[i]) {
        if (user > t || form.R[t][user] < 0 || user === t) continue;
        const before: Term[] = frees.filter(([k]) => k < user).map(([, free]) => [free, 1]);
        if (before.length) model.addRow(`freeU_${t}_${i}_${user}`, [...before, [form.R[t][user], 1]], -Infinity, 1);
      }
    }
  }
}

/** The stages of a solution: the nodes computed in each stage, ascending. */
export function stagesOf(form: CheckmateFormulation, values: ArrayLike<number>): number[][] {
  return form.R.map((row) => {
    const nodes: number[] = [];
    row.forEach((variable, node) => {
      if (variable >= 0 && values[variable] > 0.5) nodes.push(node);
    });
    return nodes;
  });
}

/** Total compute cost of an objective value of the model. */
export function objectiveToCost(form: CheckmateFormulation, objective: number): number {
  return objective * form.costScale;
}

/**
 * What a plan given by its stages keeps into each stage (its S): kept[t][i] = 1 when value
 * i is on the device at the start of stage t because stage t reads it without computing
 * it, keeps it for the next stage, or it must be there at the end (kept[size] holds the
 * keep nodes).
 */
export function keptFromStages(graph: IndexedGraph, stages: readonly (readonly number[])[]): Uint8Array[] {
  const size = graph.size;
  const computed: Uint8Array[] = stages.map((nodes) => {
    const mark = new Uint8Array(size);
    for (const node of nodes) mark[node] = 1;
    return mark;
  });
  const kept: Uint8Array[] = Array.from({ length: size + 1 }, () => new Uint8Array(size));
  for (let node = 0; node < size; node++) if (graph.keep[node]) kept[size][node] = 1;
  for (let t = size - 1; t >= 0; t--) {
    for (let i = 0; i < t; i++) {
      if (computed[t][i]) continue;
      let needed = kept[t + 1][i] === 1;
      if (!needed) for (const user of graph.users[i]) if (user <= t && computed[t][user]) needed = true;
      if (needed) kept[t][i] = 1;
    }
  }
  return kept;
}

/**
 * A full assignment of the model for a plan given by its stages (the warm start): S is
 * what each stage reads from before it, FREE frees each value after its last use in the
 * stage, U follows. In a window only its stages' variables are set. Returns null when
 * the stages use a variable the model lacks.
 */
export function assignmentFromStages(form: CheckmateFormulation, stages: readonly (readonly number[])[]): Float64Array | null {
  const { graph, model, first, last } = form;
  const size = graph.size;
  const values = new Float64Array(model.variableCount);
  const computed: Uint8Array[] = stages.map((nodes) => {
    const mark = new Uint8Array(size);
    for (const node of nodes) mark[node] = 1;
    return mark;
  });
  for (let t = first; t <= last; t++) {
    if (!computed[t][t]) return null;
    for (const node of stages[t]) {
      const variable = form.R[t][node];
      if (variable === undefined || variable < 0) return null;
      values[variable] = 1;
    }
  }
  const kept = keptFromStages(graph, stages);
  for (let t = first; t <= Math.min(last + 1, size - 1); t++) {
    for (let i = 0; i < t; i++) {
      const variable = form.S[t][i];
      if (kept[t][i] && variable < 0) return null;
      // A fixed edge of a window must agree with the plan.
      if (!kept[t][i] && variable >= 0 && model.variable(variable).lb === 1) return null;
      if (variable >= 0) values[variable] = kept[t][i];
    }
  }
  for (let t = first; t <= last; t++) {
    let bytes = 0;
    for (let i = 0; i < t; i++) if (kept[t][i]) bytes += graph.bytes[i];
    let previous = -1;
    for (const k of positions(form, t)) {
      if (previous >= 0) {
        for (const i of [...graph.inputs[previous], previous]) {
          const free = form.FREE[t].get(i * size + previous);
          if (free !== undefined && values[free] === 1) bytes -= graph.bytes[i];
        }
      }
      if (computed[t][k]) {
        bytes += graph.bytes[k];
        // Free each value present at its last use in this stage unless it is kept on.
        for (const i of [...graph.inputs[k], k]) {
          if (kept[t + 1][i] || (t === size - 1 && graph.keep[i])) continue;
          const laterUse = graph.users[i].some((user) => user > k && user <= t && computed[t][user]);
          if (laterUse) continue;
          const free = form.FREE[t].get(i * size + k);
          if (free !== undefined) values[free] = 1;
        }
      }
      values[form.U[t][k]] = bytes / form.byteScale;
      previous = k;
    }
  }
  return values;
}
