// Compressed swaps (cDMA) in the swap MILP: copies of an encoding i#e over the host link,
// beside swap.ts's copies of values, on the stages and option variables of checkmate.ts
// and options.ts.
//
//   code name       meaning
//   SE, ES, DS      an encoding kept into, made at, or decoded at the start of a stage (options.ts)
//   OUTE[t][i#e]    i#e is swapped out during stage t; it was on the device at the stage's
//                   start (SE: made in an earlier stage), at most once over all stages
//   INE[t][i#e]     i#e is swapped in during stage t for the next stage: on the host, not on
//                   the device, counted in memory for the whole stage, kept into t + 1
//   INJE[t][i#e]    i#e is swapped in at the start of stage t, just in time for the stage's
//                   decodes and readers; the stage waits for it (its copy time is paid in
//                   full) and it counts for the whole stage
//   HE[t][i#e]      i#e is on the host at the start of stage t
//
// Constraint families, one function each, after swap.ts's own:
//   hooks of options.ts   carryE_t_i_e gains -INE - INJE (encodedOptionHooks); dec_t_i_e
//                         gains -INJE; readers' dependency rows gain -INJE (readerTerms)
//   encodedHostRows       hostE_t_i_e: HE[t] <= HE[t-1] + OUTE[t-1]
//   encodedSwapInRows     hostE_/noHostE_: INE, INJE <= HE; absentE_t_i_e: INE + INJE + SE + ES <= 1
//   encodedSwapOutRows    outHereE_t_i_e: OUTE <= SE; outOnceE_i_e: sum_t OUTE <= 1
// and terms for swap.ts's memory rows (the bytes of INE and INJE) and stall rows (the copy
// time of OUTE and INE). Encodings are dropped only at a stage's end, so a copy out never
// races a free. The timing argument of swap.ts holds unchanged: a stage's copies start by
// its start and read forms complete by then, and its decodes wait only for INJE copies.
import type { Transfer } from '../schedule/types.js';
import type { CheckmateFormulation } from './checkmate.js';
import type { Term } from './model.js';
import type { EncodingRef, OptionHooks, OptionVariables, StageVariables } from './options.js';

/** The encoded copies of a swap formulation, each map from an encoding's slot to its variable, per stage. */
export interface EncodedSwaps {
  OUTE: Map<number, number>[];
  INE: Map<number, number>[];
  INJE: Map<number, number>[];
  HE: Map<number, number>[];
}

/** Copy time of one swap of an encoding (cost units). */
export function encodedCopyCost(form: StageVariables, transfer: Transfer, ref: EncodingRef): number {
  return transfer.latency + form.graph.encodings[ref.node][ref.encoding].bytes / transfer.bandwidth;
}

/** Empty maps, one per stage. */
export function emptyEncodedSwaps(size: number): EncodedSwaps {
  const perStage = () => Array.from({ length: size }, () => new Map<number, number>());
  return { OUTE: perStage(), INE: perStage(), INJE: perStage(), HE: perStage() };
}

/**
 * The earliest stage an encoding can come back in: made at the start of stage node + 1
 * at the earliest (ES needs S), kept into node + 2 where it may be swapped out, on the
 * host from node + 3.
 */
function earliestEntry(ref: EncodingRef): number {
  return ref.node + 3;
}

/** The just-in-time copy variable of an encoding in stage t, made on first use (undefined where it cannot be). */
function justInTime(
  form: StageVariables,
  swaps: EncodedSwaps,
  transfer: Transfer,
  worth: (t: number, copyTime: number) => boolean,
  t: number,
  ref: EncodingRef,
): number | undefined {
  const time = encodedCopyCost(form, transfer, ref);
  if (t < earliestEntry(ref) || form.graph.encodings[ref.node][ref.encoding].bytes === 0 || !worth(t, time)) return undefined;
  let variable = swaps.INJE[t].get(ref.slot);
  if (variable === undefined) {
    variable = form.model.addBinary(`INJE_${t}_${ref.node}_${ref.encoding}`, time / form.costScale);
    swaps.INJE[t].set(ref.slot, variable);
  }
  return variable;
}

/**
 * The hooks into options.ts's rows: INE as the encodings' carry rows are built, INJE as
 * the decode rows are (and readerTerms for the readers' dependency rows).
 */
export function encodedOptionHooks(swaps: EncodedSwaps, transfer: Transfer, worth: (t: number, copyTime: number) => boolean): OptionHooks {
  return {
    decodeTerms: (form, _options, t, ref): Term[] => {
      const variable = justInTime(form, swaps, transfer, worth, t, ref);
      return variable === undefined ? [] : [[variable, -1]];
    },
    encodingCarryTerms: (form, _options, t, ref): Term[] => {
      const terms: Term[] = [];
      const jit = swaps.INJE[t].get(ref.slot);
      if (jit !== undefined) terms.push([jit, -1]);
      const time = encodedCopyCost(form, transfer, ref);
      if (t < earliestEntry(ref) || form.graph.encodings[ref.node][ref.encoding].bytes === 0 || !worth(t, time)) return terms;
      const variable = form.model.addBinary(`INE_${t}_${ref.node}_${ref.encoding}`);
      swaps.INE[t].set(ref.slot, variable);
      terms.push([variable, -1]);
      return terms;
    },
  };
}

/** Terms of the dependency row of reader k reading j in stage t: just-in-time copies of the encodings of j that k reads. */
export function readerTerms(
  form: CheckmateFormulation,
  swaps: EncodedSwaps,
  transfer: Transfer,
  worth: (t: number, copyTime: number) => boolean,
  t: number,
  k: number,
  j: number,
): Term[] {
  const options = form.options;
  if (!options) return [];
  const terms: Term[] = [];
  for (const encoding of form.graph.encodings[j]) {
    const ref = options.encodings.get(encoding.slot);
    if (!ref || !encoding.readers.includes(k) || t > (options.reach.get(encoding.slot) ?? -1)) continue;
    const variable = justInTime(form, swaps, transfer, worth, t, ref);
    if (variable !== undefined) terms.push([variable, -1]);
  }
  return terms;
}

/** The last stage each encoding may come back in (INE or INJE), by slot. */
function lastEntries(swaps: EncodedSwaps): Map<number, number> {
  const lastEntry = new Map<number, number>();
  swaps.INE.forEach((_, t) => {
    for (const slot of [...swaps.INE[t].keys(), ...swaps.INJE[t].keys()]) lastEntry.set(slot, Math.max(lastEntry.get(slot) ?? -1, t));
  });
  return lastEntry;
}

/** OUTE only where the encoding is on the device at the stage's start and could come back later. */
export function encodedSwapOutVariables(
  form: CheckmateFormulation,
  options: OptionVariables,
  swaps: EncodedSwaps,
  transfer: Transfer,
  worth: (t: number, copyTime: number) => boolean,
): Map<number, number> {
  const lastEntry = lastEntries(swaps);
  options.SE.forEach((byForm, t) => {
    for (const slot of byForm.keys()) {
      const ref = options.encodings.get(slot)!;
      if ((lastEntry.get(slot) ?? -1) <= t || !worth(t, encodedCopyCost(form, transfer, ref))) continue;
      swaps.OUTE[t].set(slot, form.model.addBinary(`OUTE_${t}_${ref.node}_${ref.encoding}`));
    }
  });
  return lastEntry;
}

/** Host residency of encodings: what was swapped out before stays on the host. */
export function encodedHostRows(
  form: CheckmateFormulation,
  options: OptionVariables,
  swaps: EncodedSwaps,
  lastEntry: Map<number, number>,
): void {
  const size = form.graph.size;
  for (const [slot, ref] of options.encodings) {
    let previous = -1;
    for (let t = ref.node + 1; t <= (lastEntry.get(slot) ?? -1) && t < size; t++) {
      const out = swaps.OUTE[t - 1].get(slot);
      if (previous < 0 && out === undefined) continue;
      const host = form.model.addVariable(`HE_${t}_${ref.node}_${ref.encoding}`, { lb: 0, ub: 1 });
      swaps.HE[t].set(slot, host);
      const terms: Term[] = [[host, 1]];
      if (previous >= 0) terms.push([previous, -1]);
      if (out !== undefined) terms.push([out, -1]);
      form.model.addRow(`hostE_${t}_${ref.node}_${ref.encoding}`, terms, -Infinity, 0);
      previous = host;
    }
  }
}

/** A copy in of an encoding needs its host copy and the form absent from the device (not kept, not made in the stage, not copied twice). */
export function encodedSwapInRows(form: CheckmateFormulation, options: OptionVariables, swaps: EncodedSwaps): void {
  const { model } = form;
  swaps.INE.forEach((_, t) => {
    const entries = new Map<number, number[]>();
    for (const [slot, variable] of [...swaps.INE[t], ...swaps.INJE[t]]) entries.set(slot, [...(entries.get(slot) ?? []), variable]);
    for (const [slot, variables] of entries) {
      const ref = options.encodings.get(slot)!;
      const host = swaps.HE[t].get(slot);
      for (const variable of variables) {
        const name = model.varNames[variable];
        if (host === undefined) model.addRow(`noHostE_${name}`, [[variable, 1]], -Infinity, 0);
        else
          model.addRow(
            `hostE_${name}`,
            [
              [variable, 1],
              [host, -1],
            ],
            -Infinity,
            0,
          );
      }
      const onDevice: Term[] = variables.map((variable): Term => [variable, 1]);
      const kept = options.SE[t].get(slot);
      if (kept !== undefined) onDevice.push([kept, 1]);
      const made = options.ES[t].get(slot);
      if (made !== undefined) onDevice.push([made, 1]);
      if (onDevice.length > 1) model.addRow(`absentE_${t}_${ref.node}_${ref.encoding}`, onDevice, -Infinity, 1);
    }
  });
}

/** An encoding is swapped out only from the device, and at most once. */
export function encodedSwapOutRows(form: CheckmateFormulation, options: OptionVariables, swaps: EncodedSwaps): void {
  const outs = new Map<number, Term[]>();
  swaps.OUTE.forEach((byForm, t) => {
    for (const [slot, variable] of byForm) {
      const ref = options.encodings.get(slot)!;
      form.model.addRow(
        `outHereE_${t}_${ref.node}_${ref.encoding}`,
        [
          [variable, 1],
          [options.SE[t].get(slot)!, -1],
        ],
        -Infinity,
        0,
      );
      outs.set(slot, [...(outs.get(slot) ?? []), [variable, 1]]);
    }
  });
  for (const [slot, terms] of outs) {
    const ref = options.encodings.get(slot)!;
    if (terms.length > 1) form.model.addRow(`outOnceE_${ref.node}_${ref.encoding}`, terms, -Infinity, 1);
  }
}

/** The bytes copied in during stage t (INE and INJE), as terms of swap.ts's inBytes row (each -bytes, scaled). */
export function encodedInBytesTerms(form: CheckmateFormulation, swaps: EncodedSwaps, t: number): Term[] {
  const options = form.options;
  if (!options) return [];
  const terms: Term[] = [];
  for (const [slot, variable] of [...swaps.INE[t], ...swaps.INJE[t]]) {
    const ref = options.encodings.get(slot)!;
    terms.push([variable, -form.graph.encodings[ref.node][ref.encoding].bytes / form.byteScale]);
  }
  return terms;
}

/** The copy time of stage t's OUTE and INE, as terms of swap.ts's stall row (each -time, scaled). */
export function encodedCopyTerms(form: CheckmateFormulation, swaps: EncodedSwaps, transfer: Transfer, t: number): Term[] {
  const options = form.options;
  if (!options) return [];
  const terms: Term[] = [];
  for (const [slot, variable] of [...swaps.OUTE[t], ...swaps.INE[t]])
    terms.push([variable, -encodedCopyCost(form, transfer, options.encodings.get(slot)!) / form.costScale]);
  return terms;
}

/** The compute-stream time of stage t beyond R's own costs: alternatives, encodes and decodes (scaled, each +time). */
export function optionComputeTerms(form: CheckmateFormulation, t: number): Term[] {
  const options = form.options;
  if (!options) return [];
  const { model } = form;
  const terms: Term[] = [];
  for (const variables of options.A[t].values()) for (const variable of variables) terms.push([variable, model.variable(variable).cost]);
  for (const variable of [...options.ES[t].values(), ...options.DS[t].values()]) terms.push([variable, model.variable(variable).cost]);
  return terms.filter(([, coefficient]) => coefficient !== 0);
}
