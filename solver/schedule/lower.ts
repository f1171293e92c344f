// Lowering: a graph with node options as a plain graph that any strategy can plan, and
// the way back. Chosen encodings become nodes of their own: an encode node v#e after v's
// last use by a node that is not a backward node, reading v, that the backward readers of
// e read instead of v; for a decodable form, also a decode node right before the first
// backward user that is not a reader, reading v#e, that the remaining backward users read
// instead of v. A chosen alternative replaces a node's own cost and workspace. A schedule
// of the lowered graph maps back step by step (compute of v#e: encode; compute of the
// decode node: decode; a free or a swap of either: the same step on the form it stands
// for). An encode node's replay equals its encode's (same memory, same stream, same
// inputs, and a reader reads the encoding when it is there). A decode node is the value
// itself in the original graph: while a lowered plan holds both, the image holds the
// value once (mapSteps). Swapping out a copy while the other is held can have no image:
// mapBack replays the image and returns undefined for such a plan.
import { fittingImplementations, implementationOf } from '../graph/analysis.js';
import type { Graph, GraphNode } from '../graph/schema.js';
import { type IndexedGraph, indexGraph } from '../graph/validate.js';
import { type IndexedStep, simulateIndexed } from './simulate.js';
import type { Transfer } from './types.js';

/** What a lowering keeps of the options: one encoding per value at most, one implementation per node. */
export interface LoweringChoice {
  /** The encoding of each value that becomes a node (index in graph.encodings[node]); absent: none. */
  forms: ReadonlyMap<number, number>;
  /** The implementation of each node: an alternative's index, or -1 (absent) for its own. */
  alternatives?: ReadonlyMap<number, number>;
}

/** What a node of the lowered graph stands for in the original. */
type Origin = { kind: 'value'; node: number } | { kind: 'encode' | 'decode'; node: number; encoding: number };

/** A lowered graph and the way back. */
export interface Lowered {
  graph: IndexedGraph;
  /** The original node, encode or decode each lowered node stands for. */
  origins: readonly Origin[];
}

/** The users of v that are not backward nodes, and the last of them (v itself when none). */
function splitPoint(graph: IndexedGraph, value: number): number {
  let split = value;
  for (const user of graph.users[value]) if (graph.kind[user] !== 'backward') split = Math.max(split, user);
  return split;
}

/**
 * Whether an encoding can stand in for a value after its last forward use: the value is
 * not a keep node, every backward user comes after that use, and each backward user
 * either reads the form or the form decodes (then `decodes`: some backward user needs
 * the value back).
 */
export function formFits(graph: IndexedGraph, value: number, encoding: number): { fits: boolean; decodes: boolean } {
  const form = graph.encodings[value][encoding];
  const split = splitPoint(graph, value);
  const backward = graph.users[value].filter((user) => user > split);
  if (graph.keep[value] || backward.length === 0 || form.bytes >= graph.bytes[value]) return { fits: false, decodes: false };
  const decodes = backward.some((user) => !form.readers.includes(user));
  return { fits: !decodes || form.decodeCost !== undefined, decodes };
}

/** The lowered graph of a choice (see the module comment). */
export function lower(graph: IndexedGraph, choice: LoweringChoice): Lowered {
  const taken = new Set(graph.ids);
  const uniqueId = (wanted: string) => {
    let id = wanted;
    for (let suffix = 2; taken.has(id); suffix++) id = `${wanted}~${suffix}`;
    taken.add(id);
    return id;
  };
  // Where each chosen form goes: its encode node after the split, its decode node before the first non-reader backward user.
  const encodesAfter = new Map<number, number[]>();
  const decodesBefore = new Map<number, number[]>();
  // For each (user, value): the lowered id the user reads instead of the value.
  const readsInstead = new Map<string, string>();
  const encodeId = new Map<number, string>();
  const decodeId = new Map<number, string>();
  for (const [value, encoding] of choice.forms) {
    const form = graph.encodings[value][encoding];
    if (!formFits(graph, value, encoding).fits) continue;
    const split = splitPoint(graph, value);
    encodesAfter.set(split, [...(encodesAfter.get(split) ?? []), value]);
    const encoded = uniqueId(`${graph.ids[value]}#${form.name}`);
    encodeId.set(value, encoded);
    const backward = graph.users[value].filter((user) => user > split);
    const rest = backward.filter((user) => !form.readers.includes(user));
    for (const user of backward) if (form.readers.includes(user)) readsInstead.set(`${user} ${value}`, encoded);
    if (rest.length) {
      const decoded = uniqueId(`${graph.ids[value]}@${form.name}`);
      decodeId.set(value, decoded);
      decodesBefore.set(rest[0], [...(decodesBefore.get(rest[0]) ?? []), value]);
      for (const user of rest) readsInstead.set(`${user} ${value}`, decoded);
    }
  }
  const nodes: GraphNode[] = [];
  const origins: Origin[] = [];
  for (let node = 0; node < graph.size; node++) {
    for (const value of decodesBefore.get(node) ?? []) {
      const encoding = choice.forms.get(value)!;
      const form = graph.encodings[value][encoding];
      nodes.push({
        id: decodeId.get(value)!,
        kind: graph.kind[value],
        inputs: [encodeId.get(value)!],
        bytes: graph.bytes[value],
        cost: form.decodeCost ?? 0,
        recomputable: true,
      });
      origins.push({ kind: 'decode', node: value, encoding });
    }
    const original = graph.graph.nodes[node];
    const implementation = implementationOf(graph, node, choice.alternatives?.get(node) ?? -1);
    nodes.push({
      id: original.id,
      kind: graph.kind[node],
      op: original.op,
      inputs: graph.inputs[node].map((input) => readsInstead.get(`${node} ${input}`) ?? graph.ids[input]),
      bytes: graph.bytes[node],
      cost: implementation.cost,
      workspaceBytes: implementation.workspace,
      recomputable: graph.recomputable[node],
      keep: graph.keep[node],
    });
    origins.push({ kind: 'value', node });
    for (const value of encodesAfter.get(node) ?? []) {
      const encoding = choice.forms.get(value)!;
      const form = graph.encodings[value][encoding];
      nodes.push({
        id: encodeId.get(value)!,
        kind: graph.kind[value],
        inputs: [graph.ids[value]],
        bytes: form.bytes,
        cost: form.encodeCost,
        recomputable: true,
      });
      origins.push({ kind: 'encode', node: value, encoding });
    }
  }
  const lowered: Graph = { name: graph.graph.name, residentBytes: graph.residentBytes, nodes };
  return { graph: indexGraph(lowered, { maxNodes: nodes.length }), origins };
}

/**
 * The schedule of the original graph a lowered schedule stands for (no replay; see mapBack).
 * A value and its decode node are one value in the original: while the lowered plan holds
 * both, the image holds it once (the second to arrive is no step, the first to leave is no
 * step), so its peak is no higher and its time no longer than the lowered plan's.
 */
export function mapSteps(lowered: Lowered, steps: readonly IndexedStep[], choice: LoweringChoice): IndexedStep[] {
  // Device copies held of each original value that has a decode node (the value node and the decode node).
  const copies = new Map<number, number>();
  for (const origin of lowered.origins) if (origin.kind === 'decode') copies.set(origin.node, 0);
  const mapped: IndexedStep[] = [];
  for (const step of steps) {
    const origin = lowered.origins[step.node];
    if (origin.kind === 'encode') {
      mapped.push(
        step.op === 'compute'
          ? { op: 'encode', node: origin.node, encoding: origin.encoding }
          : { op: step.op, node: origin.node, encoding: origin.encoding },
      );
      continue;
    }
    const held = copies.get(origin.node);
    if (held !== undefined) {
      const arrives = step.op === 'compute' || step.op === 'swapIn';
      if (arrives) copies.set(origin.node, held + 1);
      if (step.op === 'free') copies.set(origin.node, held - 1);
      // The other copy stands for this one: nothing happens in the original.
      if ((arrives && held > 0) || (step.op === 'free' && held > 1)) continue;
    }
    if (origin.kind === 'decode') {
      mapped.push(
        step.op === 'compute' ? { op: 'decode', node: origin.node, encoding: origin.encoding } : { op: step.op, node: origin.node },
      );
      continue;
    }
    const out: IndexedStep = { op: step.op, node: origin.node };
    const alternative = choice.alternatives?.get(origin.node) ?? -1;
    if (step.op === 'compute' && alternative >= 0) out.alt = alternative;
    mapped.push(out);
  }
  return mapped;
}

/** The original schedule of a lowered one when it replays legally in the original graph; undefined otherwise. */
export function mapBack(
  graph: IndexedGraph,
  lowered: Lowered,
  steps: readonly IndexedStep[],
  choice: LoweringChoice,
  transfer?: Transfer,
): IndexedStep[] | undefined {
  const mapped = mapSteps(lowered, steps, choice);
  return simulateIndexed(graph, mapped, { transfer }).ok ? mapped : undefined;
}

/**
 * Gist's choice: for each value, the smallest form that fits (formFits), one its backward
 * users all read first, else (with `decodes`) the smallest that decodes.
 */
export function eligibleForms(graph: IndexedGraph, options: { decodes: boolean }): Map<number, number> {
  const forms = new Map<number, number>();
  for (let value = 0; value < graph.size; value++) {
    let best = -1;
    let bestDecodes = true;
    graph.encodings[value].forEach((form, encoding) => {
      const { fits, decodes } = formFits(graph, value, encoding);
      if (!fits || (decodes && !options.decodes)) return;
      const better = best < 0 || (bestDecodes && !decodes) || (bestDecodes === decodes && form.bytes < graph.encodings[value][best].bytes);
      if (better) {
        best = encoding;
        bestDecodes = decodes;
      }
    });
    if (best >= 0) forms.set(value, best);
  }
  return forms;
}

/**
 * The implementation of each node with the least cost (or workspace), ties to the node's
 * own; only nodes whose choice is an alternative. With `budgetBytes`, by cost among the
 * implementations a plan within it can run (graph/analysis.ts fittingImplementations; the
 * leanest when none can): the fastest implementation whose workspace fits nowhere at a
 * budget only misleads a search there.
 */
export function preferredImplementations(graph: IndexedGraph, by: 'cost' | 'workspace', budgetBytes?: number): Map<number, number> {
  const chosen = new Map<number, number>();
  for (let node = 0; node < graph.size; node++) {
    if (graph.alternatives[node].length === 0) continue;
    let candidates = [-1, ...graph.alternatives[node].keys()];
    let order = by;
    if (budgetBytes !== undefined && by === 'cost') {
      const fitting = fittingImplementations(graph, node, budgetBytes);
      if (fitting.length > 0) candidates = fitting;
      else order = 'workspace';
    }
    const key = (implementation: number): [number, number] => {
      const { cost, workspace } = implementationOf(graph, node, implementation);
      return order === 'cost' ? [cost, workspace] : [workspace, cost];
    };
    let best = candidates[0];
    for (const implementation of candidates.slice(1)) {
      const [first, second] = key(implementation);
      const [bestFirst, bestSecond] = key(best);
      if (first < bestFirst || (first === bestFirst && second < bestSecond)) best = implementation;
    }
    if (best >= 0) chosen.set(node, best);
  }
  return chosen;
}
