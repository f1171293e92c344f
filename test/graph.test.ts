// Graph validation (engine acceptance 4): every invalid JSON fixture gets its specific
// error code and names the culprit; valid fixtures index as the contract says.
import { describe, expect, it } from 'vitest';
import { invalidFixtureNames, jsonFixtures, loadFixture, validFixtureNames } from '../fixtures/index.js';
import { namedFixtures } from '../fixtures/generators.js';
import { isMemplanError, type MemplanError } from '../solver/errors.js';
import type { Graph } from '../solver/graph/schema.js';
import { indexGraph, parseGraph, type ValidateOptions } from '../solver/graph/validate.js';
import { DEFAULT_MAX_NODES } from '../solver/limits.js';

function rejection(raw: unknown, options?: ValidateOptions): MemplanError {
  try {
    parseGraph(raw, options);
  } catch (error) {
    if (isMemplanError(error)) return error;
    throw error;
  }
  throw new Error('expected the graph to be rejected');
}

// Each invalid fixture: the code, the details it must carry, and the validate options.
const EXPECTED: Record<string, { code: string; details: Record<string, unknown>; options?: ValidateOptions }> = {
  'bad-cycle': { code: 'MEMPLAN_ERR_CYCLE', details: { node: 'a', input: 'c', cycle: 'a -> c -> b -> a' } },
  'bad-self-loop': { code: 'MEMPLAN_ERR_CYCLE', details: { node: 'loop', input: 'loop' } },
  'bad-forward-reference': { code: 'MEMPLAN_ERR_FORWARD_REFERENCE', details: { node: 'early', input: 'late' } },
  'bad-duplicate-id': { code: 'MEMPLAN_ERR_DUPLICATE_ID', details: { node: 'twice', index: 3 } },
  'bad-unknown-input': { code: 'MEMPLAN_ERR_UNKNOWN_INPUT', details: { node: 'reader', input: 'ghost' } },
  'bad-negative-bytes': { code: 'MEMPLAN_ERR_INVALID_NUMBER', details: { node: 'shrunk', field: 'bytes' } },
  'bad-fractional-bytes': { code: 'MEMPLAN_ERR_INVALID_NUMBER', details: { node: 'half', field: 'bytes' } },
  'bad-negative-cost': { code: 'MEMPLAN_ERR_INVALID_NUMBER', details: { node: 'refund', field: 'cost' } },
  'bad-infinite-cost': { code: 'MEMPLAN_ERR_INVALID_NUMBER', details: { node: 'forever', field: 'cost' } },
  'bad-negative-workspace': { code: 'MEMPLAN_ERR_INVALID_NUMBER', details: { node: 'scratchy', field: 'workspaceBytes' } },
  'bad-negative-resident': { code: 'MEMPLAN_ERR_INVALID_NUMBER', details: { node: '(graph)', field: 'residentBytes' } },
  'bad-too-many-nodes': { code: 'MEMPLAN_ERR_TOO_MANY_NODES', details: { count: 5, limit: 4 }, options: { maxNodes: 4 } },
  'bad-malformed-kind': { code: 'MEMPLAN_ERR_INVALID_GRAPH', details: { node: 'sideways', field: 'kind', path: 'nodes.1.kind' } },
  'bad-malformed-inputs': { code: 'MEMPLAN_ERR_INVALID_GRAPH', details: { node: 'stringy', field: 'inputs', path: 'nodes.1.inputs' } },
  'bad-malformed-missing-id': { code: 'MEMPLAN_ERR_INVALID_GRAPH', details: { node: '#1', field: 'id', path: 'nodes.1.id' } },
  'bad-empty': { code: 'MEMPLAN_ERR_EMPTY_GRAPH', details: {} },
};

describe('invalid JSON fixtures', () => {
  it('every bad-* fixture has an expectation and every expectation a fixture', () => {
    expect(invalidFixtureNames()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s is rejected with its specific code naming the culprit', (name, expected) => {
    const error = rejection(loadFixture(name), expected.options);
    expect(error.code).toBe(expected.code);
    expect(error.status).toBe(400);
    expect(error.details).toMatchObject(expected.details);
    const node = expected.details.node;
    if (typeof node === 'string') {
      // The message names the culprit too, so a client sees it without reading details.
      if (!node.startsWith('#')) expect(error.message).toContain(node);
    }
    expect(error.toJSON()).toEqual({ code: expected.code, message: error.message, details: error.details });
  });

  it('the too-many-nodes fixture is valid under the default limit', () => {
    expect(DEFAULT_MAX_NODES).toBe(20_000);
    expect(parseGraph(loadFixture('bad-too-many-nodes')).size).toBe(5);
    // The limit is inclusive: exactly maxNodes nodes are accepted.
    expect(parseGraph(loadFixture('bad-too-many-nodes'), { maxNodes: 5 }).size).toBe(5);
  });

  it('indexGraph (typed library callers) applies the same checks', () => {
    const typed = loadFixture('bad-negative-cost') as Graph;
    expect(() => indexGraph(typed)).toThrow(
      expect.objectContaining({ code: 'MEMPLAN_ERR_INVALID_NUMBER', details: expect.objectContaining({ node: 'refund' }) }),
    );
    const nan: Graph = { nodes: [{ id: 'nan', bytes: 1, cost: Number.NaN }] };
    expect(() => indexGraph(nan)).toThrow(
      expect.objectContaining({ code: 'MEMPLAN_ERR_INVALID_NUMBER', details: expect.objectContaining({ node: 'nan', field: 'cost' }) }),
    );
    const cycle = loadFixture('bad-cycle') as Graph;
    expect(() => indexGraph(cycle)).toThrow(expect.objectContaining({ code: 'MEMPLAN_ERR_CYCLE' }));
    expect(() => indexGraph(loadFixture('bad-too-many-nodes') as Graph, { maxNodes: 2 })).toThrow(
      expect.objectContaining({ code: 'MEMPLAN_ERR_TOO_MANY_NODES' }),
    );
  });

  it('rejects a body that is not a graph at all', () => {
    expect(rejection(null).code).toBe('MEMPLAN_ERR_INVALID_GRAPH');
    expect(rejection({ nodes: 'x' }).code).toBe('MEMPLAN_ERR_INVALID_GRAPH');
    expect(rejection({ nodes: [42] }).details).toMatchObject({ node: '#0', path: 'nodes.0' });
    expect(rejection({ nodes: [{ id: 'v', bytes: '3', cost: 1 }] }).details).toMatchObject({ node: 'v', field: 'bytes' });
  });
});

describe('valid fixtures', () => {
  it('every valid JSON fixture parses, and its name matches the file', () => {
    for (const name of validFixtureNames()) {
      const graph = parseGraph(loadFixture(name));
      expect(graph.graph.name).toBe(name);
    }
    expect(Object.keys(jsonFixtures()).length).toBeGreaterThanOrEqual(3);
  });

  it('indexes defaults, flags and duplicate inputs as the contract says', () => {
    const graph = parseGraph(loadFixture('skip-views'));
    const at = (id: string) => graph.index.get(id)!;
    // Kind defaults to forward; recomputable defaults to kind != input.
    expect(graph.kind[at('a')]).toBe('forward');
    expect(graph.recomputable[at('x')]).toBe(false);
    expect(graph.recomputable[at('a')]).toBe(true);
    expect(graph.recomputable[at('noise')]).toBe(false);
    expect(graph.keep[at('out')]).toBe(true);
    expect(graph.keep[at('side')]).toBe(false);
    // c lists view twice: one distinct input, one edge.
    expect(graph.inputs[at('c')]).toEqual([at('view')]);
    expect(graph.users[at('view')]).toEqual([at('c')]);
    // Users are distinct and ascending: a is read by view and d.
    expect(graph.users[at('a')]).toEqual([at('view'), at('d')]);
    expect(graph.users[at('x')]).toEqual([at('a'), at('noise'), at('out')]);
    // Edges: a<-x, view<-a, c<-view, d<-a,c, noise<-x, e<-d,noise, side<-c, out<-e,x = 11.
    expect(graph.edgeCount).toBe(11);
    // baseCost: 0 + 10 + 0 + 5 + 8 + 1 + 6 + 2 + 1 = 33.
    expect(graph.baseCost).toBe(33);
    expect(graph.workspace[at('a')]).toBe(40);
    expect(graph.residentBytes).toBe(0);
  });

  it('every generated fixture validates through the JSON path too', () => {
    for (const [name, graph] of Object.entries(namedFixtures())) {
      const parsed = parseGraph(JSON.parse(JSON.stringify(graph)));
      expect(parsed.size, name).toBe(graph.nodes.length);
    }
  });
});
