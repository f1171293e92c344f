// Importers: a graph arrives either in the contract's own shape or as networkx node-link
// JSON in one of the two flavours of ../shared/benchmarks/checkmate-moccasin. Every
// import ends in parseGraph, so an imported graph is validated (and its errors worded)
// exactly like a graph posted to the service.
//
// Checkmate's training graphs (MLSys 2020), nodes {id, name, backward, cost_cpu,
// cost_ram}, links {source, target}:
// - id = String(id); op = the layer name; cost = cost_cpu; bytes = cost_ram;
// - kind: the node named "Loss" (any case), or else the first backward node, is "loss";
//   other backward nodes are "backward", the rest "forward";
// - the files give no parameter memory and no parameter gradients, so the imported graph
//   has no residentBytes and no keep nodes: its floor is the single-node floor only.
//
// Moccasin's random layered graphs (ICML 2023), nodes {name, duration, out_cost,
// param_cost}, links {"0": source, "1": target}:
// - id = String(name); cost = duration; bytes = out_cost; every node is "forward";
// - param_cost is parameter memory: it is summed into residentBytes (always on the
//   device), the conservative reading; input_cost and edge costs, when present, are not
//   modelled and are ignored.
//
// Order: the node list of a Graph is its execution order, so the importer emits a
// topological order that keeps a preferred order wherever it is legal: Checkmate's ids
// (documented as topological), Moccasin's graph.order when present, else the file order.
// When the preferred order breaks an edge, the ready node of smallest preferred rank goes
// next (a stable topological sort); a cycle is answered MEMPLAN_ERR_CYCLE.
import { MemplanError } from '../errors.js';
import type { Graph, GraphNode, NodeKind } from './schema.js';
import { DEFAULT_MAX_NODES } from '../limits.js';
import { parseGraph, type IndexedGraph, type ValidateOptions } from './validate.js';
import { MinHeap } from '../util/heap.js';

/** The shapes importGraph recognises. */
export type ImportFormat = 'memplan' | 'checkmate' | 'moccasin';

type RawObject = Record<string, unknown>;

function isObject(value: unknown): value is RawObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(detail: string): MemplanError {
  return new MemplanError('MEMPLAN_ERR_INVALID_IMPORT', { detail });
}

/** The links of a node-link document: networkx writes "links" (or "edges" since 3.4). */
function linksOf(raw: RawObject): unknown[] | undefined {
  if (Array.isArray(raw.links)) return raw.links;
  if (Array.isArray(raw.edges)) return raw.edges;
  return undefined;
}

/** Detects the format of a parsed JSON document; throws MEMPLAN_ERR_INVALID_IMPORT for unknown shapes. */
export function detectFormat(raw: unknown): ImportFormat {
  if (!isObject(raw) || !Array.isArray(raw.nodes)) {
    throw invalid('expected a memplan Graph ({"nodes": [...]}) or networkx node-link JSON ({"nodes": [...], "links": [...]})');
  }
  const links = linksOf(raw);
  if (links === undefined) return 'memplan';
  const first = raw.nodes.find(isObject);
  if (first === undefined) {
    if (raw.nodes.length === 0) throw new MemplanError('MEMPLAN_ERR_EMPTY_GRAPH');
    throw invalid('node-link nodes must be objects');
  }
  if ('cost_cpu' in first || 'cost_ram' in first) return 'checkmate';
  if ('duration' in first || 'out_cost' in first) return 'moccasin';
  throw invalid(
    `node-link nodes carry neither Checkmate fields (cost_cpu, cost_ram) nor Moccasin fields (duration, out_cost); the first has ${
      Object.keys(first).join(', ') || 'no fields'
    }`,
  );
}

/** A node-link node id as the contract's string id. */
function idOf(value: unknown, where: string): string {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw invalid(`${where} has no usable id (${JSON.stringify(value) ?? 'undefined'})`);
}

function numberField(node: RawObject, field: string, id: string): number {
  const value = node[field];
  if (typeof value !== 'number') {
    throw new MemplanError('MEMPLAN_ERR_INVALID_NUMBER', {
      node: id,
      field,
      detail: `expected a number, got ${JSON.stringify(value) ?? 'nothing'}`,
    });
  }
  return value;
}

/** An intermediate node before ordering: contract fields plus its preferred rank. */
interface Pending {
  node: GraphNode;
  rank: number;
}

/** Reads the links into each target's input list; unknown endpoints and self-loops are errors. */
function attachLinks(pending: Map<string, Pending>, links: unknown[], sourceKey: string, targetKey: string): void {
  const inputs = new Map<string, Set<string>>();
  links.forEach((link, position) => {
    if (!isObject(link)) throw invalid(`link ${position} is not an object`);
    const source = idOf(link[sourceKey], `link ${position} ("${sourceKey}")`);
    const target = idOf(link[targetKey], `link ${position} ("${targetKey}")`);
    if (!pending.has(target)) throw invalid(`link ${position} targets "${target}", which is not a node`);
    if (!pending.has(source)) throw new MemplanError('MEMPLAN_ERR_UNKNOWN_INPUT', { node: target, input: source });
    if (source === target) throw new MemplanError('MEMPLAN_ERR_CYCLE', { node: target, input: source, cycle: `${target} -> ${target}` });
    let mine = inputs.get(target);
    if (!mine) {
      mine = new Set();
      inputs.set(target, mine);
    }
    mine.add(source);
  });
  for (const [target, sources] of inputs) pending.get(target)!.node.inputs = [...sources];
}

/**
 * Orders nodes topologically, keeping the preferred rank order wherever it is legal
 * (Kahn's algorithm taking the ready node of smallest rank); a cycle throws MEMPLAN_ERR_CYCLE.
 * Ranks must be distinct; every input must name one of the nodes.
 */
export function stableTopologicalOrder(nodes: readonly GraphNode[], rank: readonly number[]): GraphNode[] {
  const byRank = new Map<number, number>();
  rank.forEach((value, position) => {
    byRank.set(value, position);
  });
  const position = new Map(nodes.map((node, at) => [node.id, at]));
  const waiting = nodes.map((node) => new Set(node.inputs ?? []).size);
  const users: number[][] = nodes.map(() => []);
  nodes.forEach((node, at) => {
    for (const input of new Set(node.inputs ?? [])) users[position.get(input)!].push(at);
  });
  const ready = new MinHeap<number>((rank) => rank);
  nodes.forEach((_, at) => {
    if (waiting[at] === 0) ready.push(rank[at]);
  });
  const out: GraphNode[] = [];
  const placed = new Uint8Array(nodes.length);
  while (ready.size > 0) {
    const at = byRank.get(ready.pop())!;
    placed[at] = 1;
    out.push(nodes[at]);
    for (const user of users[at]) if (--waiting[user] === 0) ready.push(rank[user]);
  }
  if (out.length === nodes.length) return out;
  // Every unplaced node has an unplaced input, so walking inputs backwards from any of
  // them must revisit a node: that walk's tail is a cycle.
  let at = placed.indexOf(0);
  const seen = new Map<number, number>();
  const walk: number[] = [];
  while (!seen.has(at)) {
    seen.set(at, walk.length);
    walk.push(at);
    const next = (nodes[at].inputs ?? []).map((input) => position.get(input)!).find((input) => !placed[input]);
    at = next!;
  }
  const cycle = walk.slice(seen.get(at)!).reverse();
  const ids = [...cycle, cycle[0]].map((node) => nodes[node].id);
  throw new MemplanError('MEMPLAN_ERR_CYCLE', { node: ids[0], input: ids[ids.length - 2], cycle: ids.join(' -> ') });
}

function collectNodes(
  raw: RawObject,
  read: (node: RawObject, position: number) => { id: string; node: GraphNode; rank: number },
): Map<string, Pending> {
  const pending = new Map<string, Pending>();
  (raw.nodes as unknown[]).forEach((value, position) => {
    if (!isObject(value)) throw invalid(`node ${position} is not an object`);
    const { id, node, rank } = read(value, position);
    if (pending.has(id)) throw new MemplanError('MEMPLAN_ERR_DUPLICATE_ID', { node: id, index: position });
    pending.set(id, { node, rank });
  });
  if (pending.size === 0) throw new MemplanError('MEMPLAN_ERR_EMPTY_GRAPH');
  return pending;
}

function ordered(pending: Map<string, Pending>): GraphNode[] {
  const entries = [...pending.values()];
  return stableTopologicalOrder(
    entries.map((entry) => entry.node),
    entries.map((entry) => entry.rank),
  );
}

function graphName(raw: RawObject): string | undefined {
  const meta = raw.graph;
  if (isObject(meta) && typeof meta.name === 'string') return meta.name;
  return undefined;
}

/** Converts a Checkmate training graph (node-link) to the contract's Graph (not yet validated). */
export function fromCheckmate(raw: RawObject): Graph {
  const nodes = raw.nodes as unknown[];
  const pending = collectNodes(raw, (node, position) => {
    const id = idOf(node.id, `node ${position}`);
    const numeric = typeof node.id === 'number' ? node.id : Number(node.id);
    return {
      id,
      rank: Number.isFinite(numeric) ? numeric : nodes.length + position,
      node: {
        id,
        ...(typeof node.name === 'string' ? { op: node.name } : {}),
        kind: node.backward === true ? 'backward' : 'forward',
        bytes: numberField(node, 'cost_ram', id),
        cost: numberField(node, 'cost_cpu', id),
      },
    };
  });
  // Ranks must be distinct for the heap; ties (equal ids are duplicates, so only
  // non-numeric ids could tie) are broken by file position.
  const ranks = [...pending.values()].map((entry) => entry.rank);
  if (new Set(ranks).size !== ranks.length) {
    [...pending.values()].forEach((entry, position) => {
      entry.rank = position;
    });
  }
  attachLinks(pending, linksOf(raw)!, 'source', 'target');
  const order = ordered(pending);
  const loss = order.find((node) => /^loss$/i.test(node.op ?? '')) ?? order.find((node) => node.kind === 'backward');
  if (loss) loss.kind = 'loss' satisfies NodeKind;
  const name = graphName(raw);
  return { ...(name !== undefined ? { name } : {}), nodes: order };
}

/** Converts a Moccasin random layered graph (node-link) to the contract's Graph (not yet validated). */
export function fromMoccasin(raw: RawObject): Graph {
  let residentBytes = 0;
  const pending = collectNodes(raw, (node, position) => {
    const id = idOf(node.name ?? node.id, `node ${position}`);
    if (node.param_cost !== undefined) residentBytes += numberField(node, 'param_cost', id);
    return { id, rank: position, node: { id, bytes: numberField(node, 'out_cost', id), cost: numberField(node, 'duration', id) } };
  });
  const meta = raw.graph;
  const order = isObject(meta) && Array.isArray(meta.order) ? meta.order : undefined;
  if (order) {
    // graph.order ranks the nodes it lists; any it leaves out follow in file order.
    const size = pending.size;
    const entries = [...pending.values()];
    entries.forEach((entry, position) => {
      entry.rank = size + position;
    });
    order.forEach((value, position) => {
      const entry = pending.get(idOf(value, `graph.order[${position}]`));
      if (!entry) throw invalid(`graph.order[${position}] names "${String(value)}", which is not a node`);
      if (entry.rank < size) throw invalid(`graph.order lists "${String(value)}" twice`);
      entry.rank = position;
    });
  }
  attachLinks(pending, linksOf(raw)!, '0', '1');
  const name = graphName(raw);
  return { ...(name !== undefined ? { name } : {}), ...(residentBytes > 0 ? { residentBytes } : {}), nodes: ordered(pending) };
}

/** Converts any recognised document to the contract's Graph without validating it. */
export function toGraph(raw: unknown): { format: ImportFormat; graph: unknown } {
  const format = detectFormat(raw);
  if (format === 'memplan') return { format, graph: raw };
  return { format, graph: format === 'checkmate' ? fromCheckmate(raw as RawObject) : fromMoccasin(raw as RawObject) };
}

/** Imports a contract Graph or node-link JSON and validates it with parseGraph. */
export function importGraph(raw: unknown, options: ValidateOptions = {}): IndexedGraph {
  // Refuse an oversized document before converting it, as parseGraph would after.
  const nodes = isObject(raw) ? raw.nodes : undefined;
  const limit = options.maxNodes ?? DEFAULT_MAX_NODES;
  if (Array.isArray(nodes) && nodes.length > limit) throw new MemplanError('MEMPLAN_ERR_TOO_MANY_NODES', { count: nodes.length, limit });
  return parseGraph(toGraph(raw).graph, options);
}
