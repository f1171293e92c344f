// Validation of a Graph and its indexed form, the shape every strategy and the simulator
// work on. Nothing is half-accepted: the first problem found throws a MemplanError that
// names the node and the field.
import type { z } from 'zod';
import { MemplanError } from '../errors.js';
import {
  DEFAULT_MAX_NODES,
  MAX_ERROR_ID_CHARS,
  MAX_ERROR_LIST_ITEMS,
  MAX_NODE_BYTES,
  MAX_NODE_COST,
  MAX_RESIDENT_BYTES,
  MAX_TOTAL_COST,
} from '../limits.js';
import { GraphSchema, type Graph, type NodeKind } from './schema.js';

/** The default node limit; callers may lower or raise it (solver/limits.ts). */
export { DEFAULT_MAX_NODES };

/** A validated graph with dense integer indices (node order = execution order). */
export interface IndexedGraph {
  readonly graph: Graph;
  readonly size: number;
  readonly ids: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly kind: readonly NodeKind[];
  readonly bytes: readonly number[];
  readonly cost: readonly number[];
  readonly workspace: readonly number[];
  readonly recomputable: readonly boolean[];
  readonly keep: readonly boolean[];
  /** Distinct inputs of each node, ascending. */
  readonly inputs: readonly (readonly number[])[];
  /** Distinct users of each node, ascending. */
  readonly users: readonly (readonly number[])[];
  readonly residentBytes: number;
  /** Sum of cost over all nodes, each once: a lower bound of any makespan. */
  readonly baseCost: number;
  readonly edgeCount: number;
}

export interface ValidateOptions {
  maxNodes?: number;
}

const NUMBER_FIELDS = new Set(['bytes', 'cost', 'workspaceBytes', 'residentBytes']);

function nodeLabel(raw: unknown, position: number): string {
  const nodes = (raw as { nodes?: unknown })?.nodes;
  const node = Array.isArray(nodes) ? (nodes[position] as { id?: unknown } | undefined) : undefined;
  return typeof node?.id === 'string' ? node.id : `#${position}`;
}

function zodIssueToError(raw: unknown, issue: z.core.$ZodIssue): MemplanError {
  const path = issue.path;
  if (path[0] === 'nodes' && typeof path[1] === 'number' && typeof path[2] === 'string' && NUMBER_FIELDS.has(path[2])) {
    return new MemplanError('MEMPLAN_ERR_INVALID_NUMBER', {
      node: nodeLabel(raw, path[1]),
      field: path[2],
      detail: issue.message,
      index: path[1],
    });
  }
  if (path[0] === 'residentBytes') {
    return new MemplanError('MEMPLAN_ERR_INVALID_NUMBER', { node: '(graph)', field: 'residentBytes', detail: issue.message });
  }
  const where = path.length ? path.join('.') : '(root)';
  const params: Record<string, unknown> = { path: where, detail: issue.message };
  if (path[0] === 'nodes' && typeof path[1] === 'number') {
    params.node = nodeLabel(raw, path[1]);
    if (typeof path[2] === 'string') params.field = path[2];
    // The message names the node too, so a client sees the culprit without reading details.
    params.detail = `node "${params.node}": ${issue.message}`;
  }
  return new MemplanError('MEMPLAN_ERR_INVALID_GRAPH', params);
}

/**
 * Finds a cycle through `start` in the "input" relation, for the error message. Depth-first
 * with an explicit stack: a cycle through every node of a 20k-node graph must not overflow
 * the call stack.
 */
function findCycle(nodes: Graph['nodes'], start: string): string[] | null {
  const byId = new Map<string, Graph['nodes'][number]>();
  for (const node of nodes) if (!byId.has(node.id)) byId.set(node.id, node);
  const visited = new Set<string>([start]);
  // Each frame: a node on the current path and the position of its next input to explore.
  const path: { id: string; next: number }[] = [{ id: start, next: 0 }];
  while (path.length > 0) {
    const frame = path[path.length - 1];
    const inputs = byId.get(frame.id)?.inputs ?? [];
    if (frame.next >= inputs.length) {
      path.pop();
      continue;
    }
    const input = inputs[frame.next++];
    if (input === start) return [...path.map((entry) => entry.id), start];
    if (visited.has(input)) continue;
    visited.add(input);
    path.push({ id: input, next: 0 });
  }
  return null;
}

/** A list of ids for a message, cut after MAX_ERROR_LIST_ITEMS, each id cut after MAX_ERROR_ID_CHARS. */
function listForMessage(all: readonly string[], separator: string): string {
  const ids = all.map((id) => (id.length <= MAX_ERROR_ID_CHARS ? id : `${id.slice(0, MAX_ERROR_ID_CHARS)}...`));
  if (ids.length <= MAX_ERROR_LIST_ITEMS) return ids.join(separator);
  const head = ids.slice(0, MAX_ERROR_LIST_ITEMS - 1).join(separator);
  return `${head}${separator}... (${ids.length - MAX_ERROR_LIST_ITEMS} more)${separator}${ids[ids.length - 1]}`;
}

/** Parses and validates a graph; throws a MemplanError naming the culprit. */
export function parseGraph(raw: unknown, options: ValidateOptions = {}): IndexedGraph {
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  const rawNodes = (raw as { nodes?: unknown })?.nodes;
  if (Array.isArray(rawNodes) && rawNodes.length > maxNodes) {
    throw new MemplanError('MEMPLAN_ERR_TOO_MANY_NODES', { count: rawNodes.length, limit: maxNodes });
  }
  const parsed = GraphSchema.safeParse(raw);
  if (!parsed.success) throw zodIssueToError(raw, parsed.error.issues[0]);
  return indexGraph(parsed.data, options);
}

/** Validates an already typed graph (library callers) and indexes it. */
export function indexGraph(graph: Graph, options: ValidateOptions = {}): IndexedGraph {
  const maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
  const nodes = graph.nodes;
  if (nodes.length === 0) throw new MemplanError('MEMPLAN_ERR_EMPTY_GRAPH');
  if (nodes.length > maxNodes) throw new MemplanError('MEMPLAN_ERR_TOO_MANY_NODES', { count: nodes.length, limit: maxNodes });
  const residentBytes = graph.residentBytes ?? 0;
  if (!Number.isSafeInteger(residentBytes) || residentBytes < 0 || residentBytes > MAX_RESIDENT_BYTES) {
    throw new MemplanError('MEMPLAN_ERR_INVALID_NUMBER', {
      node: '(graph)',
      field: 'residentBytes',
      detail: 'must be an integer >= 0 and below 2^53',
    });
  }
  const index = new Map<string, number>();
  nodes.forEach((node, position) => {
    if (index.has(node.id)) throw new MemplanError('MEMPLAN_ERR_DUPLICATE_ID', { node: node.id, index: position });
    index.set(node.id, position);
  });
  const allIds = new Set(index.keys());
  const inputs: number[][] = [];
  const users: number[][] = nodes.map(() => []);
  let edgeCount = 0;
  nodes.forEach((node, position) => {
    checkNumbers(node, position);
    const mine = new Set<number>();
    for (const input of node.inputs ?? []) {
      if (!allIds.has(input)) throw new MemplanError('MEMPLAN_ERR_UNKNOWN_INPUT', { node: node.id, input });
      const at = index.get(input)!;
      if (at >= position) {
        const cycle = findCycle(nodes, node.id);
        if (cycle) {
          throw new MemplanError('MEMPLAN_ERR_CYCLE', {
            node: node.id,
            input,
            cycle: listForMessage(cycle, ' -> '),
            length: cycle.length - 1,
          });
        }
        throw new MemplanError('MEMPLAN_ERR_FORWARD_REFERENCE', { node: node.id, input });
      }
      mine.add(at);
    }
    const sorted = [...mine].sort((a, b) => a - b);
    for (const at of sorted) users[at].push(position);
    edgeCount += sorted.length;
    inputs.push(sorted);
  });
  const kind = nodes.map((node) => node.kind ?? 'forward');
  const cost = nodes.map((node) => node.cost);
  let baseCost = 0;
  for (const value of cost) baseCost += value;
  if (baseCost > MAX_TOTAL_COST) {
    throw new MemplanError('MEMPLAN_ERR_INVALID_NUMBER', {
      node: '(graph)',
      field: 'cost',
      detail: `the costs of the nodes sum to ${baseCost}, above the limit ${MAX_TOTAL_COST}`,
    });
  }
  return {
    graph,
    size: nodes.length,
    ids: nodes.map((node) => node.id),
    index,
    kind,
    bytes: nodes.map((node) => node.bytes),
    cost,
    workspace: nodes.map((node) => node.workspaceBytes ?? 0),
    recomputable: nodes.map((node, position) => node.recomputable ?? kind[position] !== 'input'),
    keep: nodes.map((node) => node.keep ?? false),
    inputs,
    users,
    residentBytes,
    baseCost,
    edgeCount,
  };
}

function checkNumbers(node: Graph['nodes'][number], position: number): void {
  const bad = (field: string, detail: string) =>
    new MemplanError('MEMPLAN_ERR_INVALID_NUMBER', { node: node.id, field, detail, index: position });
  if (!Number.isSafeInteger(node.bytes) || node.bytes < 0 || node.bytes > MAX_NODE_BYTES) {
    throw bad('bytes', 'must be an integer >= 0 and at most 2^50');
  }
  if (!Number.isFinite(node.cost) || node.cost < 0 || node.cost > MAX_NODE_COST) throw bad('cost', 'must be a number in [0, 1e15]');
  const workspace = node.workspaceBytes ?? 0;
  if (!Number.isSafeInteger(workspace) || workspace < 0 || workspace > MAX_NODE_BYTES) {
    throw bad('workspaceBytes', 'must be an integer >= 0 and at most 2^50');
  }
}
