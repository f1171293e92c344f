// Node options in Checkmate's stages (../shared/DESIGN.md, "Node options"): operator
// alternatives and encodings (Gist, cDMA) as variables beside checkmate.ts's R and S.
//
//   code name      meaning
//   A[t][k][a]     node k is computed in stage t with its alternative a (R[t][k] with no A
//                  set: with its own cost and workspace); objective cost(a) - cost(k)
//   ES[t][i][e]    value i, on the device at the start of stage t (S), is encoded into i#e
//                  there; objective encodeCost
//   SE[t][i][e]    i#e is on the device at the start of stage t (kept from stage t - 1)
//   DS[t][i][e]    i is decoded from i#e (kept into the stage) at the start of stage t;
//                  objective decodeCost
//
// The class these variables describe, Checkmate's with options: a stage starts with its
// decodes, then its encodes, then its computations in index order; an encoding present in
// a stage (SE or ES) counts in memory for the whole stage and is dropped at its end unless
// kept (SE[t+1]); a decoded value counts from the stage's start like a kept one and is
// freed like one; a computation reads each input as the value (computed earlier in the
// stage, kept, or decoded) or as an encoding it is a reader of; a value is freed no
// earlier than after the last of its users computed in the stage. Without options nothing
// here adds a variable or a term, so a graph without options gets checkmate.ts's model
// unchanged.
//
// Constraint families, one function each (called by checkmate.ts after its own):
//   alternativeRows    alt_t_k: sum_a A[t][k][a] <= R[t][k]
//   encodeRows         enc_t_i_e: ES <= S[t][i]; encNew_t_i_e: ES + SE <= 1
//   decodeRows         dec_t_i_e: DS <= SE (+ the swap model's just-in-time copies);
//                      decAbsent_t_i: sum_e DS + S + R <= 1 (the value is not there)
//   encodingCarryRows  carryE_t_i_e: SE[t+1] <= SE[t] + ES[t] (+ the swap model's copies in)
// and terms for checkmate.ts's families: dependency rows gain DS of the input and the
// encodings the reader may read; carry and keep rows gain DS; the first memory row of a
// stage gains the bytes of SE, ES and DS; peak rows gain the alternatives' workspace;
// free rows count DS as presence.
//
// This module knows checkmate.ts's formulation only through StageVariables (no import of
// checkmate.ts, which calls it).
import type { IndexedGraph } from '../graph/validate.js';
import type { Model, Term } from './model.js';

/** The part of a stage formulation the option families read (checkmate.ts's CheckmateFormulation has it). */
export interface StageVariables {
  graph: IndexedGraph;
  variant: 'tight' | 'plain';
  model: Model;
  /** R[t][i] for i <= t; -1: absent. */
  R: Int32Array[];
  /** S[t][i] for i < t; -1: absent. */
  S: Int32Array[];
  canRecompute: boolean[];
  reach: number[];
  byteScale: number;
  costScale: number;
}

/** One encoding of one value: the node and the encoding's index in graph.encodings[node]. */
export interface EncodingRef {
  node: number;
  encoding: number;
  slot: number;
}

/** The option variables of a formulation, stage by stage. */
export interface OptionVariables {
  /** A[t] maps a node to its alternatives' variables (by alternative index). */
  A: Map<number, number[]>[];
  /** ES[t], SE[t] and DS[t] map an encoding's slot to its variable. */
  ES: Map<number, number>[];
  SE: Map<number, number>[];
  DS: Map<number, number>[];
  /** Every useful encoding (read by someone or decodable), by slot. */
  encodings: Map<number, EncodingRef>;
  /** The last stage an encoding may be present in. */
  reach: Map<number, number>;
}

/**
 * Extra terms hooks of the swap model: copies in of an encoding for the next stage
 * (carryE) and just in time for the stage (dec, the readers' dependency rows).
 */
export interface OptionHooks {
  encodingCarryTerms?: (form: StageVariables, options: OptionVariables, t: number, ref: EncodingRef) => Term[];
  decodeTerms?: (form: StageVariables, options: OptionVariables, t: number, ref: EncodingRef) => Term[];
}

/** The largest cost an option brings to the model (alternatives, encodes, decodes), for the cost scale. */
export function largestOptionCost(graph: IndexedGraph): number {
  let largest = 0;
  for (let node = 0; node < graph.size; node++) {
    for (const alternative of graph.alternatives[node]) largest = Math.max(largest, alternative.cost);
    for (const encoding of graph.encodings[node]) largest = Math.max(largest, encoding.encodeCost, encoding.decodeCost ?? 0);
  }
  return largest;
}

/**
 * The last stage each useful encoding may be present in: the last stage any of its
 * readers can run in (their reach when they may be recomputed), and, when it decodes, the
 * value's own reach.
 */
function encodingReach(form: StageVariables): Map<number, EncodingRef & { reach: number }> {
  const { graph, canRecompute, reach } = form;
  const useful = new Map<number, EncodingRef & { reach: number }>();
  for (let node = 0; node < graph.size; node++) {
    graph.encodings[node].forEach((encoding, index) => {
      let last = -1;
      for (const reader of encoding.readers) last = Math.max(last, canRecompute[reader] ? reach[reader] : reader);
      if (encoding.decodeCost !== undefined) last = Math.max(last, reach[node]);
      if (last > node) useful.set(encoding.slot, { node, encoding: index, slot: encoding.slot, reach: last });
    });
  }
  return useful;
}

/** Creates A, ES, SE and DS where they can be non-zero (see the module comment). */
export function createOptionVariables(form: StageVariables): OptionVariables {
  const { graph, model } = form;
  const size = graph.size;
  const perStage = () => Array.from({ length: size }, () => new Map<number, number>());
  const options: OptionVariables = {
    A: Array.from({ length: size }, () => new Map<number, number[]>()),
    ES: perStage(),
    SE: perStage(),
    DS: perStage(),
    encodings: new Map(),
    reach: new Map(),
  };
  for (let t = 0; t < size; t++) {
    form.R[t].forEach((compute, k) => {
      const alternatives = graph.alternatives[k];
      if (compute < 0 || alternatives.length === 0) return;
      options.A[t].set(
        k,
        alternatives.map((alternative, index) =>
          model.addBinary(`A_${t}_${k}_${index}`, (alternative.cost - graph.cost[k]) / form.costScale),
        ),
      );
    });
  }
  for (const [slot, ref] of encodingReach(form)) {
    const { node, encoding: index, reach } = ref;
    const encoding = graph.encodings[node][index];
    options.encodings.set(slot, { node, encoding: index, slot });
    options.reach.set(slot, reach);
    let made = false;
    for (let t = node + 1; t <= reach && t < size; t++) {
      // Kept into t: made (or kept) in an earlier stage.
      if (made) options.SE[t].set(slot, model.addBinary(`SE_${t}_${node}_${index}`));
      if (form.S[t][node] >= 0) {
        options.ES[t].set(slot, model.addBinary(`ES_${t}_${node}_${index}`, encoding.encodeCost / form.costScale));
        made = true;
        if (encoding.decodeCost !== undefined && options.SE[t].has(slot))
          options.DS[t].set(slot, model.addBinary(`DS_${t}_${node}_${index}`, encoding.decodeCost / form.costScale));
      }
    }
  }
  return options;
}

/** An alternative is used only where its node is computed, and at most one per computation. */
export function alternativeRows(form: StageVariables, options: OptionVariables): void {
  options.A.forEach((byNode, t) => {
    for (const [k, variables] of byNode)
      form.model.addRow(`alt_${t}_${k}`, [...variables.map((variable): Term => [variable, 1]), [form.R[t][k], -1]], -Infinity, 0);
  });
}

/** An encode at a stage's start needs the value kept into the stage and the form not already there. */
export function encodeRows(form: StageVariables, options: OptionVariables): void {
  options.ES.forEach((byForm, t) => {
    for (const [slot, variable] of byForm) {
      const { node, encoding } = options.encodings.get(slot)!;
      form.model.addRow(
        `enc_${t}_${node}_${encoding}`,
        [
          [variable, 1],
          [form.S[t][node], -1],
        ],
        -Infinity,
        0,
      );
      const kept = options.SE[t].get(slot);
      if (kept !== undefined)
        form.model.addRow(
          `encNew_${t}_${node}_${encoding}`,
          [
            [variable, 1],
            [kept, 1],
          ],
          -Infinity,
          1,
        );
    }
  });
}

/**
 * A decode needs the form on the device at the stage's start (kept, or a just-in-time
 * copy of the swap model) and the value absent: neither kept, nor decoded from another
 * form, nor computed in the stage.
 */
export function decodeRows(form: StageVariables, options: OptionVariables, hooks: OptionHooks = {}): void {
  options.DS.forEach((byForm, t) => {
    const byValue = new Map<number, number[]>();
    for (const [slot, variable] of byForm) {
      const ref = options.encodings.get(slot)!;
      const terms: Term[] = [
        [variable, 1],
        [options.SE[t].get(slot)!, -1],
      ];
      if (hooks.decodeTerms) terms.push(...hooks.decodeTerms(form, options, t, ref));
      form.model.addRow(`dec_${t}_${ref.node}_${ref.encoding}`, terms, -Infinity, 0);
      byValue.set(ref.node, [...(byValue.get(ref.node) ?? []), variable]);
    }
    for (const [node, variables] of byValue) {
      const terms: Term[] = variables.map((variable): Term => [variable, 1]);
      if (form.S[t][node] >= 0) terms.push([form.S[t][node], 1]);
      if (form.R[t][node] >= 0) terms.push([form.R[t][node], 1]);
      form.model.addRow(`decAbsent_${t}_${node}`, terms, -Infinity, 1);
    }
  });
}

/** An encoding kept into stage t + 1 was on the device in stage t (kept or made there), or came in by a copy. */
export function encodingCarryRows(form: StageVariables, options: OptionVariables, hooks: OptionHooks = {}): void {
  for (let t = 0; t + 1 < form.graph.size; t++) {
    for (const [slot, next] of options.SE[t + 1]) {
      const ref = options.encodings.get(slot)!;
      const terms: Term[] = [[next, 1]];
      const kept = options.SE[t].get(slot);
      if (kept !== undefined) terms.push([kept, -1]);
      const made = options.ES[t].get(slot);
      if (made !== undefined) terms.push([made, -1]);
      if (hooks.encodingCarryTerms) terms.push(...hooks.encodingCarryTerms(form, options, t, ref));
      form.model.addRow(`carryE_${t}_${ref.node}_${ref.encoding}`, terms, -Infinity, 0);
    }
  }
}

/** The decode variables of value i in stage t. */
export function decodesOf(form: StageVariables, options: OptionVariables | undefined, t: number, i: number): number[] {
  if (!options) return [];
  const out: number[] = [];
  for (const encoding of form.graph.encodings[i]) {
    const variable = options.DS[t].get(encoding.slot);
    if (variable !== undefined) out.push(variable);
  }
  return out;
}

/**
 * Terms of the dependency row of node k reading j in stage t beyond R and S (each -1): j
 * decoded at the stage's start, or an encoding of j that k reads, kept into the stage or made there.
 */
export function optionDependencyTerms(form: StageVariables, options: OptionVariables | undefined, t: number, k: number, j: number): Term[] {
  if (!options) return [];
  const terms: Term[] = decodesOf(form, options, t, j).map((variable): Term => [variable, -1]);
  for (const encoding of form.graph.encodings[j]) {
    if (!encoding.readers.includes(k)) continue;
    const kept = options.SE[t].get(encoding.slot);
    if (kept !== undefined) terms.push([kept, -1]);
    const made = options.ES[t].get(encoding.slot);
    if (made !== undefined) terms.push([made, -1]);
  }
  return terms;
}

/** Terms of the first memory row of stage t beyond S (each -bytes): encodings present in the stage and decoded values. */
export function stageStartMemoryTerms(form: StageVariables, options: OptionVariables | undefined, t: number): Term[] {
  if (!options) return [];
  const { graph } = form;
  const terms: Term[] = [];
  for (const byForm of [options.SE[t], options.ES[t]]) {
    for (const [slot, variable] of byForm) {
      const { node, encoding } = options.encodings.get(slot)!;
      const bytes = graph.encodings[node][encoding].bytes;
      if (bytes > 0) terms.push([variable, -bytes / form.byteScale]);
    }
  }
  for (const [slot, variable] of options.DS[t]) {
    const { node } = options.encodings.get(slot)!;
    if (graph.bytes[node] > 0) terms.push([variable, -graph.bytes[node] / form.byteScale]);
  }
  return terms;
}

/**
 * The workspace of computing k in stage t, as terms: R times its own workspace plus each
 * alternative's difference (undefined when no implementation of k has any workspace).
 */
export function workspaceTerms(form: StageVariables, options: OptionVariables | undefined, t: number, k: number): Term[] | undefined {
  const { graph } = form;
  const own = graph.workspace[k];
  const alternatives = options?.A[t].get(k) ?? [];
  const anyWorkspace = own > 0 || graph.alternatives[k].some((alternative) => alternative.workspace > 0);
  if (!anyWorkspace) return undefined;
  const terms: Term[] = [[form.R[t][k], own / form.byteScale]];
  alternatives.forEach((variable, index) => {
    const difference = graph.alternatives[k][index].workspace - own;
    if (difference !== 0) terms.push([variable, difference / form.byteScale]);
  });
  return terms;
}
