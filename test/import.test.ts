// The importer: contract Graph JSON passes through parseGraph unchanged; networkx
// node-link JSON in Checkmate's and Moccasin's flavours becomes a valid Graph in a
// topological order; unknown shapes and broken documents get the catalogue's errors.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMemplanError, type ErrorCode } from '../solver/errors.js';
import { detectFormat, importGraph, stableTopologicalOrder, toGraph } from '../solver/graph/import.js';
import { parseGraph, type IndexedGraph } from '../solver/graph/validate.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { plan } from '../solver/plan.js';
import { chain, diamond } from '../fixtures/generators.js';
import { invalidFixtureNames, loadFixture } from '../fixtures/index.js';
import { checkPlan } from './helpers.js';

/** The catalogue code a call throws, or undefined when it does not throw. */
function codeOf(call: () => unknown): { code?: ErrorCode; details?: Record<string, unknown> } {
  try {
    call();
    return {};
  } catch (error) {
    if (!isMemplanError(error)) throw error;
    return { code: error.code, details: error.details };
  }
}

/** Every input of every node is listed earlier: the node list is an execution order. */
function expectTopological(graph: IndexedGraph): void {
  graph.inputs.forEach((inputs, node) => {
    for (const input of inputs) expect(input).toBeLessThan(node);
  });
}

function inputsById(graph: IndexedGraph): Record<string, string[]> {
  return Object.fromEntries(graph.ids.map((id, node) => [id, graph.inputs[node].map((input) => graph.ids[input]).sort()]));
}

// A Checkmate-style training graph, three layers, nodes deliberately out of id order.
const checkmateSample = {
  directed: true,
  multigraph: false,
  graph: { name: 'tiny (MLSys)_8_train' },
  nodes: [
    { name: 'dense', backward: false, cost_cpu: 30, cost_ram: 400, id: 1 },
    { name: 'conv', backward: false, cost_cpu: 50, cost_ram: 800, id: 0 },
    { name: 'Loss', backward: true, cost_cpu: 1, cost_ram: 4, id: 2 },
    { name: 'dense_backward', backward: true, cost_cpu: 60, cost_ram: 400, id: 3 },
    { name: 'conv_backward', backward: true, cost_cpu: 100, cost_ram: 800, id: 4 },
  ],
  links: [
    { source: 0, target: 1 },
    { source: 1, target: 2 },
    { source: 2, target: 3 },
    { source: 1, target: 3 },
    { source: 0, target: 3 },
    { source: 3, target: 4 },
    { source: 0, target: 4 },
  ],
};

// A Moccasin-style random layered graph: source 0, sink 1, graph.order not the file order.
const moccasinSample = {
  directed: true,
  multigraph: false,
  graph: { name: 'random_layered_n5', source_node: 0, target_node: 1, order: [0, 3, 2, 4, 1] },
  nodes: [
    { out_cost: 10, param_cost: 0, duration: 0, name: 0 },
    { out_cost: 20, param_cost: 5, duration: 7, name: 1 },
    { out_cost: 30, param_cost: 0, duration: 3, name: 2 },
    { out_cost: 40, param_cost: 2, duration: 4, name: 3 },
    { out_cost: 50, param_cost: 0, duration: 5, name: 4 },
  ],
  links: [
    { '0': 0, '1': 2 },
    { '0': 0, '1': 3 },
    { '0': 3, '1': 4 },
    { '0': 2, '1': 4 },
    { '0': 4, '1': 1 },
    { '0': 2, '1': 1 },
  ],
};

describe('format detection', () => {
  it('tells the three formats apart', () => {
    expect(detectFormat(chain(3))).toBe('memplan');
    expect(detectFormat(checkmateSample)).toBe('checkmate');
    expect(detectFormat(moccasinSample)).toBe('moccasin');
    // networkx >= 3.4 may write "edges" instead of "links".
    const { links, ...rest } = moccasinSample;
    expect(detectFormat({ ...rest, edges: links })).toBe('moccasin');
  });

  it('answers MEMPLAN_ERR_INVALID_IMPORT for unknown shapes', () => {
    for (const raw of [null, 42, 'graph', [], {}, { nodes: 'x' }, { vertices: [] }]) {
      expect(codeOf(() => importGraph(raw)).code, JSON.stringify(raw)).toBe('MEMPLAN_ERR_INVALID_IMPORT');
    }
    const unknownNodes = { nodes: [{ id: 0, weight: 3 }], links: [] };
    expect(codeOf(() => importGraph(unknownNodes)).code).toBe('MEMPLAN_ERR_INVALID_IMPORT');
    expect(codeOf(() => importGraph({ nodes: [7], links: [] })).code).toBe('MEMPLAN_ERR_INVALID_IMPORT');
  });
});

describe('contract Graph JSON', () => {
  it('passes through parseGraph unchanged', () => {
    for (const raw of [chain(5), diamond()]) {
      const imported = importGraph(raw);
      const parsed = parseGraph(raw);
      expect(imported.graph).toEqual(parsed.graph);
      expect(imported.ids).toEqual(parsed.ids);
      expect(imported.inputs).toEqual(parsed.inputs);
    }
  });

  it('gives every invalid fixture the same error as parseGraph', () => {
    const names = invalidFixtureNames();
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const raw = loadFixture(name);
      // The too-many-nodes fixture is invalid only under a small limit.
      const options = name === 'bad-too-many-nodes' ? { maxNodes: 4 } : {};
      const expected = codeOf(() => parseGraph(raw, options));
      expect(expected.code, name).toBeDefined();
      expect(
        codeOf(() => importGraph(raw, options)),
        name,
      ).toEqual(expected);
    }
  });
});

describe('Checkmate training graphs', () => {
  it('orders by id, maps fields and marks the loss and backward nodes', () => {
    const graph = importGraph(checkmateSample);
    expect(graph.graph.name).toBe('tiny (MLSys)_8_train');
    expect(graph.ids).toEqual(['0', '1', '2', '3', '4']);
    expect(graph.graph.nodes.map((node) => node.op)).toEqual(['conv', 'dense', 'Loss', 'dense_backward', 'conv_backward']);
    expect(graph.kind).toEqual(['forward', 'forward', 'loss', 'backward', 'backward']);
    expect(graph.bytes).toEqual([800, 400, 4, 400, 800]);
    expect(graph.cost).toEqual([50, 30, 1, 60, 100]);
    expect(inputsById(graph)).toEqual({ '0': [], '1': ['0'], '2': ['1'], '3': ['0', '1', '2'], '4': ['0', '3'] });
    // No parameter memory or gradients are given: nothing resident, nothing kept.
    expect(graph.residentBytes).toBe(0);
    expect(graph.keep.every((keep) => !keep)).toBe(true);
    expect(graph.recomputable.every(Boolean)).toBe(true);
  });

  it('takes the first backward node as the loss when none is named Loss', () => {
    const renamed = {
      ...checkmateSample,
      nodes: checkmateSample.nodes.map((node) => (node.name === 'Loss' ? { ...node, name: 'objective' } : node)),
    };
    const graph = importGraph(renamed);
    expect(graph.kind[graph.index.get('2')!]).toBe('loss');
    expect(graph.kind.filter((kind) => kind === 'loss')).toHaveLength(1);
  });

  it('rejects a cycle, naming a node on it', () => {
    const cyclic = { ...checkmateSample, links: [...checkmateSample.links, { source: 4, target: 1 }] };
    const { code, details } = codeOf(() => importGraph(cyclic));
    expect(code).toBe('MEMPLAN_ERR_CYCLE');
    expect(['1', '2', '3', '4']).toContain(details!.node);
    expect(String(details!.cycle)).toMatch(/->/);
  });

  it('names the node and the source field of a missing number; parseGraph checks ranges', () => {
    const missing = {
      ...checkmateSample,
      nodes: checkmateSample.nodes.map((node) => (node.id === 3 ? { ...node, cost_cpu: undefined } : node)),
    };
    expect(codeOf(() => importGraph(missing)).details).toMatchObject({ node: '3', field: 'cost_cpu' });
    const negative = { ...checkmateSample, nodes: checkmateSample.nodes.map((node) => (node.id === 1 ? { ...node, cost_ram: -5 } : node)) };
    const { code, details } = codeOf(() => importGraph(negative));
    expect(code).toBe('MEMPLAN_ERR_INVALID_NUMBER');
    expect(details).toMatchObject({ node: '1', field: 'bytes' });
  });
});

describe('Moccasin random layered graphs', () => {
  it('follows graph.order, maps fields and sums param_cost into residentBytes', () => {
    const graph = importGraph(moccasinSample);
    expect(graph.graph.name).toBe('random_layered_n5');
    expect(graph.ids).toEqual(['0', '3', '2', '4', '1']);
    expect(graph.bytes).toEqual([10, 40, 30, 50, 20]);
    expect(graph.cost).toEqual([0, 4, 3, 5, 7]);
    expect(graph.kind.every((kind) => kind === 'forward')).toBe(true);
    expect(graph.residentBytes).toBe(7);
    expect(inputsById(graph)).toEqual({ '0': [], '1': ['2', '4'], '2': ['0'], '3': ['0'], '4': ['2', '3'] });
    // residentBytes counts in every peak: the no-remat peak includes it.
    const withoutParams = importGraph({ ...moccasinSample, nodes: moccasinSample.nodes.map((node) => ({ ...node, param_cost: 0 })) });
    expect(noRematPeak(graph)).toBe(noRematPeak(withoutParams) + 7);
  });

  it('sorts topologically by file position when graph.order is absent', () => {
    const { order: _order, ...meta } = moccasinSample.graph;
    const graph = importGraph({ ...moccasinSample, graph: meta });
    // File order 0,1,2,3,4 with 1 last (it needs 2 and 4), the rest kept in file order.
    expect(graph.ids).toEqual(['0', '2', '3', '4', '1']);
    expectTopological(graph);
  });

  it('repairs a graph.order that breaks an edge with the nearest legal order', () => {
    const graph = importGraph({ ...moccasinSample, graph: { ...moccasinSample.graph, order: [0, 4, 3, 2, 1] } });
    expect(graph.ids).toEqual(['0', '3', '2', '4', '1']);
    expectTopological(graph);
  });

  it('rejects bad links and ids with the catalogue errors', () => {
    const withLink = (link: Record<string, number>) => ({ ...moccasinSample, links: [...moccasinSample.links, link] });
    expect(codeOf(() => importGraph(withLink({ '0': 9, '1': 4 })))).toMatchObject({
      code: 'MEMPLAN_ERR_UNKNOWN_INPUT',
      details: { node: '4', input: '9' },
    });
    expect(codeOf(() => importGraph(withLink({ '0': 4, '1': 9 }))).code).toBe('MEMPLAN_ERR_INVALID_IMPORT');
    expect(codeOf(() => importGraph(withLink({ '0': 3, '1': 3 })))).toMatchObject({ code: 'MEMPLAN_ERR_CYCLE', details: { node: '3' } });
    expect(codeOf(() => importGraph(withLink({ '0': 1, '1': 3 })))).toMatchObject({ code: 'MEMPLAN_ERR_CYCLE' });
    const duplicate = { ...moccasinSample, nodes: [...moccasinSample.nodes, { out_cost: 1, param_cost: 0, duration: 1, name: 2 }] };
    expect(codeOf(() => importGraph(duplicate))).toMatchObject({ code: 'MEMPLAN_ERR_DUPLICATE_ID', details: { node: '2' } });
    expect(codeOf(() => importGraph({ ...moccasinSample, nodes: [], links: [] })).code).toBe('MEMPLAN_ERR_EMPTY_GRAPH');
    expect(codeOf(() => importGraph(moccasinSample, { maxNodes: 4 })).code).toBe('MEMPLAN_ERR_TOO_MANY_NODES');
    const badOrder = { ...moccasinSample, graph: { ...moccasinSample.graph, order: [0, 3, 2, 4, 77] } };
    expect(codeOf(() => importGraph(badOrder)).code).toBe('MEMPLAN_ERR_INVALID_IMPORT');
  });
});

describe('stableTopologicalOrder', () => {
  it('keeps a legal preferred order and repairs an illegal one', () => {
    const nodes = [
      { id: 'a', bytes: 1, cost: 1 },
      { id: 'b', inputs: ['a'], bytes: 1, cost: 1 },
      { id: 'c', inputs: ['a'], bytes: 1, cost: 1 },
      { id: 'd', inputs: ['b', 'c'], bytes: 1, cost: 1 },
    ];
    expect(stableTopologicalOrder(nodes, [0, 2, 1, 3]).map((node) => node.id)).toEqual(['a', 'c', 'b', 'd']);
    expect(stableTopologicalOrder(nodes, [3, 0, 1, 2]).map((node) => node.id)).toEqual(['a', 'b', 'c', 'd']);
  });
});

// The public benchmark graphs, as ../shared/benchmarks/README.md lists them.
const BENCHMARK_DIR =
  process.env.MEMPLAN_BENCHMARKS ??
  resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'benchmarks', 'checkmate-moccasin');
const README_COUNTS: Record<string, { nodes: number; edges?: number }> = {
  vgg16_b256_train: { nodes: 45, edges: 87 },
  vgg19_b256_train: { nodes: 51, edges: 99 },
  vgg_unet_b32_train: { nodes: 71, edges: 148 },
  fcn_8_vgg_b32_train: { nodes: 73, edges: 149 },
  segnet_b32_train: { nodes: 77, edges: 151 },
  mobilenet_b512_train: { nodes: 185, edges: 367 },
  resnet50_b256_train: { nodes: 353, edges: 751 },
  // The README gives no table for these: n nodes by their name; edges are checked against the file's links.
  random_layered_n100: { nodes: 100 },
  random_layered_n250: { nodes: 250 },
  random_layered_n500: { nodes: 500 },
  random_layered_n1000: { nodes: 1000 },
};

describe.skipIf(!existsSync(BENCHMARK_DIR))(`every graph of ${BENCHMARK_DIR}`, () => {
  it('imports with the README counts, in a topological order, and plans at 100 %', async () => {
    const files = readdirSync(BENCHMARK_DIR).filter((file) => file.endsWith('.json'));
    expect(files.map((file) => file.slice(0, -5)).sort()).toEqual(Object.keys(README_COUNTS).sort());
    for (const file of files) {
      const raw = JSON.parse(readFileSync(join(BENCHMARK_DIR, file), 'utf8'));
      const expected = README_COUNTS[file.slice(0, -5)];
      const graph = importGraph(raw);
      expect(graph.size, file).toBe(expected.nodes);
      expect(graph.edgeCount, file).toBe(expected.edges ?? raw.links.length);
      expectTopological(graph);
      const format = toGraph(raw).format;
      if (format === 'checkmate') {
        // One loss, and one backward node per forward layer.
        expect(
          graph.kind.filter((kind) => kind === 'loss'),
          file,
        ).toHaveLength(1);
        expect(graph.kind.filter((kind) => kind === 'backward').length, file).toBe(graph.kind.filter((kind) => kind === 'forward').length);
      } else {
        expect(format, file).toBe('moccasin');
        // graph.order is topological in these files, so it is kept exactly.
        expect(graph.ids, file).toEqual(raw.graph.order.map(String));
      }
      const result = await plan(graph, { budget: { fraction: 1 }, strategy: 'checkpoint-all' });
      const { replay } = checkPlan(graph, result);
      expect(replay!.figures.peakBytes, file).toBe(noRematPeak(graph));
    }
  });
});
