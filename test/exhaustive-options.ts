// The exhaustive search the Checkmate formulation with node options (solver/milp/options.ts)
// is checked against, written here independently of it: every schedule of the class, stage
// by stage, by dynamic programming over what each stage keeps (values and encodings).
//
// The class: stage t computes node t for the first time, after recomputing any other
// nodes (ascending, each at most once, none that is already there), each with any of its
// implementations; before its computations it decodes values from encodings it kept and
// encodes values it kept; an encoding present in a stage counts from the stage's start
// to its end; a value is freed right after the last of its users computed in the stage
// (readers of its encodings included) unless the next stage keeps it; what the next
// stage does not keep is dropped at the stage's end; keep nodes are on the device at the end.
// Sets of values and of encodings are bit masks (at most 12 values and 8 encodings).
import type { IndexedGraph } from '../solver/graph/validate.js';
import { TupleHeap } from './helpers.js';

/** One encoding as the exhaustive searches see it; readers as a mask of nodes. */
export interface Form {
  node: number;
  bytes: number;
  encodeCost: number;
  decodeCost?: number;
  readers: number;
}

const bit = (index: number) => 1 << index;

/** Every encoding of a graph, in node and listing order. */
export function formsOf(graph: IndexedGraph): Form[] {
  const forms: Form[] = [];
  for (let node = 0; node < graph.size; node++)
    for (const encoding of graph.encodings[node])
      forms.push({
        node,
        bytes: encoding.bytes,
        encodeCost: encoding.encodeCost,
        decodeCost: encoding.decodeCost,
        readers: encoding.readers.reduce((mask, reader) => mask | bit(reader), 0),
      });
  return forms;
}

/** The members of a mask, ascending. */
function members(mask: number): number[] {
  const out: number[] = [];
  for (let index = 0; mask >> index; index++) if (mask & bit(index)) out.push(index);
  return out;
}

/** Every sub-mask of a mask (the empty one first). */
function subMasks(mask: number): number[] {
  const out = [0];
  for (let sub = mask; sub; sub = (sub - 1) & mask) out.push(sub);
  return out;
}

/** The cheapest compute cost (computes, encodes and decodes) of a schedule of the class within the budget; Infinity when none. */
export function exhaustiveOptionsOptimum(graph: IndexedGraph, budgetBytes: number): number {
  const size = graph.size;
  if (size > 12) throw new Error('exhaustive search with options: at most 12 nodes');
  const capacity = budgetBytes - graph.residentBytes;
  const forms = formsOf(graph);
  if (forms.length > 8) throw new Error('exhaustive search with options: at most 8 encodings');
  // The last stage a value can be read in: its users', or theirs when they may be recomputed later; keep nodes to the end.
  const reach = new Array<number>(size).fill(0);
  for (let node = size - 1; node >= 0; node--) {
    reach[node] = graph.keep[node] ? size - 1 : node;
    for (const user of graph.users[node]) reach[node] = Math.max(reach[node], graph.recomputable[user] ? reach[user] : user);
  }
  const formReach = forms.map((form) => {
    let last = -1;
    for (const reader of members(form.readers)) last = Math.max(last, graph.recomputable[reader] ? reach[reader] : reader);
    return form.decodeCost !== undefined ? Math.max(last, reach[form.node]) : last;
  });
  // readable[k][j]: the forms of input j that k reads.
  const readable = graph.inputs.map((inputs, k) =>
    inputs.map((input) => forms.reduce((mask, form, at) => (form.node === input && form.readers & bit(k) ? mask | bit(at) : mask), 0)),
  );
  let keepMask = 0;
  for (let node = 0; node < size; node++) if (graph.keep[node]) keepMask |= bit(node);
  // A layer: (values kept into the stage, encodings kept into it) -> the least cost so far.
  let layer = new Map<number, number>([[0, 0]]);
  const key = (kept: number, keptForms: number) => kept * 256 + keptForms;
  for (let t = 0; t < size; t++) {
    const next = new Map<number, number>();
    const last = t === size - 1;
    for (const [state, cost] of layer) {
      const kept = Math.floor(state / 256);
      const keptForms = state % 256;
      // Decodes: each absent value may be decoded from one of its kept decodable forms.
      let decodeChoices: { decoded: number; cost: number }[] = [{ decoded: 0, cost: 0 }];
      const byValue = new Map<number, number[]>();
      for (const at of members(keptForms)) {
        const form = forms[at];
        if (form.decodeCost !== undefined && !(kept & bit(form.node))) byValue.set(form.node, [...(byValue.get(form.node) ?? []), at]);
      }
      for (const [node, choices] of byValue)
        decodeChoices = decodeChoices.flatMap((chosen) => [
          chosen,
          ...choices.map((at) => ({ decoded: chosen.decoded | bit(node), cost: chosen.cost + forms[at].decodeCost! })),
        ]);
      let encodable = 0;
      forms.forEach((form, at) => {
        if (kept & bit(form.node) && !(keptForms & bit(at))) encodable |= bit(at);
      });
      for (const { decoded, cost: decodeCost } of decodeChoices) {
        let recomputable = 0;
        for (let node = 0; node < t; node++) if (graph.recomputable[node] && !((kept | decoded) & bit(node))) recomputable |= bit(node);
        for (const encodes of subMasks(encodable)) {
          const present = keptForms | encodes;
          let encodeCost = 0;
          for (const at of members(encodes)) encodeCost += forms[at].encodeCost;
          for (const recomputed of subMasks(recomputable)) {
            const computed = members(recomputed | bit(t));
            // Every input: computed earlier in the stage, kept, decoded, or a present form the node reads.
            let legal = true;
            for (const k of computed) {
              graph.inputs[k].forEach((input, at) => {
                const value = ((recomputed | bit(t)) & bit(input) && input < k) || (kept | decoded) & bit(input);
                if (!value && !(present & readable[k][at])) legal = false;
              });
              if (!legal) break;
            }
            if (!legal) continue;
            const there = kept | decoded | recomputed | bit(t);
            if (last && (there & keepMask) !== keepMask) continue;
            let keepable = 0;
            let formsKeepable = 0;
            if (!last) {
              for (const value of members(there)) if (reach[value] > t) keepable |= bit(value);
              for (const at of members(present)) if (formReach[at] > t) formsKeepable |= bit(at);
            }
            for (const implementations of implementationsOf(graph, computed)) {
              let stageCost = cost + decodeCost + encodeCost;
              computed.forEach((k, at) => {
                stageCost += implementations[at] < 0 ? graph.cost[k] : graph.alternatives[k][implementations[at]].cost;
              });
              for (const keptNext of subMasks(keepable)) {
                const stays = last ? keepMask : keptNext;
                const peak = stagePeak(graph, forms, kept | decoded, present, computed, implementations, stays);
                if (peak > capacity) continue;
                for (const formsNext of subMasks(formsKeepable)) {
                  const target = key(keptNext, formsNext);
                  const known = next.get(target);
                  if (known === undefined || stageCost < known) next.set(target, stageCost);
                }
              }
            }
          }
        }
      }
    }
    layer = next;
  }
  let best = Infinity;
  for (const cost of layer.values()) best = Math.min(best, cost);
  return best;
}

/** Every choice of implementation for the computed nodes: -1 for the node's own, else an alternative's index. */
function implementationsOf(graph: IndexedGraph, computed: readonly number[]): number[][] {
  let choices: number[][] = [[]];
  for (const k of computed) {
    const options = [-1, ...graph.alternatives[k].map((_, at) => at)];
    choices = choices.flatMap((chosen) => options.map((option) => [...chosen, option]));
  }
  return choices;
}

/** The largest device bytes of a stage (residentBytes excluded), replayed by hand from its decisions. */
function stagePeak(
  graph: IndexedGraph,
  forms: readonly Form[],
  startValues: number,
  present: number,
  computed: readonly number[],
  implementations: readonly number[],
  stays: number,
): number {
  let current = 0;
  for (const value of members(startValues)) current += graph.bytes[value];
  for (const at of members(present)) current += forms[at].bytes;
  let peak = current;
  // The last user of each value among the stage's computations; a computed value with none is freed after itself.
  const lastUser = new Map<number, number>();
  for (const k of computed) {
    if (!lastUser.has(k)) lastUser.set(k, k);
    for (const input of graph.inputs[k]) lastUser.set(input, k);
  }
  let onDevice = startValues;
  computed.forEach((k, at) => {
    const choice = implementations[at];
    const workspace = choice < 0 ? graph.workspace[k] : graph.alternatives[k][choice].workspace;
    peak = Math.max(peak, current + graph.bytes[k] + workspace);
    current += graph.bytes[k];
    onDevice |= bit(k);
    // An input read only as an encoding is not there to free.
    for (const [value, user] of lastUser) {
      if (user !== k || stays & bit(value) || !(onDevice & bit(value))) continue;
      current -= graph.bytes[value];
      onDevice &= ~bit(value);
    }
  });
  return peak;
}

/**
 * The exact smallest peak of any legal remat schedule of a tiny graph with node options
 * (residentBytes included), written from the contract's step rules: from any state (the
 * values and encodings on the device, the nodes computed so far) a step frees a form,
 * computes an absent node with any implementation (every input there as the value or as
 * a form the node reads), encodes a present value, or decodes a form back into its absent
 * value; a bottleneck shortest path to every node computed with the keep nodes there.
 * Devices of at most 20 forms and 10 nodes.
 */
export function minimumPeakWithOptions(graph: IndexedGraph): number {
  const size = graph.size;
  const slots = graph.formCount;
  if (slots > 20 || size > 10) throw new Error('minimumPeakWithOptions is exhaustive: at most 20 forms and 10 nodes');
  const slotBytes = new Array<number>(slots).fill(0);
  for (let node = 0; node < size; node++) {
    slotBytes[node] = graph.bytes[node];
    for (const form of graph.encodings[node]) {
      slotBytes[form.slot] = form.bytes;
    }
  }
  const all = 2 ** size - 1;
  let keepMask = 0;
  for (let node = 0; node < size; node++) if (graph.keep[node]) keepMask |= bit(node);
  const key = (device: number, computed: number) => device + computed * 2 ** slots;
  const best = new Map<number, number>();
  const heap = new TupleHeap<[number, number, number]>();
  const relax = (peak: number, device: number, computed: number) => {
    const at = key(device, computed);
    const known = best.get(at);
    if (known !== undefined && known <= peak) return;
    best.set(at, peak);
    heap.push([peak, device, computed]);
  };
  // Whether a compute of `user` can read `input` on this device: the value, or a form it is a reader of.
  const readable = (device: number, input: number, user: number) =>
    (device & bit(input)) !== 0 || graph.encodings[input].some((form) => device & bit(form.slot) && form.readers.includes(user));
  relax(0, 0, 0);
  while (heap.size) {
    const [peak, device, computed] = heap.pop();
    if (best.get(key(device, computed))! < peak) continue;
    if (computed === all && (device & keepMask) === keepMask) return graph.residentBytes + peak;
    let live = 0;
    for (let slot = 0; slot < slots; slot++) if (device & bit(slot)) live += slotBytes[slot];
    for (let slot = 0; slot < slots; slot++) if (device & bit(slot)) relax(peak, device & ~bit(slot), computed);
    for (let node = 0; node < size; node++) {
      const here = (device & bit(node)) !== 0;
      if (!here && (!(computed & bit(node)) || graph.recomputable[node])) {
        if (graph.inputs[node].every((input) => readable(device, input, node))) {
          const workspaces = [graph.workspace[node], ...graph.alternatives[node].map((alternative) => alternative.workspace)];
          relax(Math.max(peak, live + graph.bytes[node] + Math.min(...workspaces)), device | bit(node), computed | bit(node));
        }
      }
      for (const form of graph.encodings[node]) {
        const held = (device & bit(form.slot)) !== 0;
        if (here && !held) relax(Math.max(peak, live + form.bytes), device | bit(form.slot), computed);
        if (!here && held && form.decodeCost !== undefined) relax(Math.max(peak, live + graph.bytes[node]), device | bit(node), computed);
      }
    }
  }
  throw new Error('no legal schedule exists');
}
