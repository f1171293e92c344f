// The simulator's node options (../shared/DESIGN.md, "Node options") against hand-computed
// cases: compute with an alternative, encode, decode, free / swapOut / swapIn of an
// encoding, readers of an encoding, and a typed error for every new illegal step. Every
// expected number is worked out by hand in a comment next to it.
import { describe, expect, it } from 'vitest';
import { peakFloor } from '../solver/graph/analysis.js';
import type { Graph } from '../solver/graph/schema.js';
import { indexGraph, parseGraph } from '../solver/graph/validate.js';
import { simulate, type ReplayOk, type ReplayResult } from '../solver/schedule/simulate.js';
import type { Schedule, StepOp, Transfer } from '../solver/schedule/types.js';

/** Parses "compute r alt=fast, encode r mask, free r#mask, ..." into steps: "v#e" names an encoding, "alt=a" an alternative. */
function steps(text: string): Schedule {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [op, target, extra] = part.split(/\s+/);
      const [node, form] = target.split('#');
      const step: Schedule[number] = { op: op as StepOp, node };
      if (form !== undefined) step.encoding = form;
      if (extra?.startsWith('alt=')) step.alt = extra.slice(4);
      else if (extra !== undefined) step.encoding = extra;
      return step;
    });
}

function ok(result: ReplayResult): ReplayOk {
  if (!result.ok) throw new Error(`expected a legal replay, got step ${result.step}: ${result.error.message}`);
  return result;
}

function failure(result: ReplayResult, step: number, code: string, details: Record<string, unknown> = {}): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.step).toBe(step);
  expect(result.error.code).toBe(code);
  expect(result.error.details).toMatchObject({ step, ...details });
}

// r is a ReLU-like output with a faster alternative that needs workspace, a 1-byte mask
// that only g reads, and a compressed form that can be decoded; y has a leaner
// alternative; g is a keep node with a decodable half-size form.
const withOptions: Graph = {
  name: 'options',
  residentBytes: 100,
  nodes: [
    { id: 'x', kind: 'input', bytes: 10, cost: 1 },
    {
      id: 'r',
      inputs: ['x'],
      bytes: 40,
      cost: 2,
      alternatives: [{ name: 'fast', cost: 1, workspaceBytes: 50 }],
      encodings: [
        { name: 'mask', bytes: 5, encodeCost: 1, readers: ['g'] },
        { name: 'zip', bytes: 20, encodeCost: 3, decodeCost: 2 },
      ],
    },
    { id: 'y', inputs: ['r'], bytes: 30, cost: 4, workspaceBytes: 60, alternatives: [{ name: 'lean', cost: 6 }] },
    {
      id: 'g',
      kind: 'backward',
      inputs: ['y', 'r'],
      bytes: 40,
      cost: 5,
      keep: true,
      encodings: [{ name: 'half', bytes: 20, encodeCost: 1, decodeCost: 1 }],
    },
  ],
};
const G = indexGraph(withOptions);
const LINK: Transfer = { bandwidth: 10, latency: 1 };

describe('figures with node options', () => {
  it('baseCost sums the cheapest implementation of each node', () => {
    // x 1 + r min(2, fast 1) + y min(4, lean 6) + g 5 = 11 (the nodes' own costs sum to 12).
    expect(G.baseCost).toBe(11);
    expect(G.hasOptions).toBe(true);
  });

  it('compute with an alternative, encode, a reader of the encoding, and a free of the encoding', () => {
    const replay = ok(
      simulate(
        G,
        steps('compute x, compute r alt=fast, free x, compute y alt=lean, encode r#mask, free r, compute g, free y, free r#mask'),
        { timeline: true },
      ),
    );
    // compute x [0,1] holds 10; compute r with fast [1,2]: 10 + 40 + workspace 50 = 100;
    // free x at 2; compute y with lean (cost 6, no workspace) [2,8]: 40 + 30 = 70;
    // encode r mask [8,9]: 70 + 5 = 75; free r at 9 (the encode read it last); compute g
    // reads y and r's mask [9,14]: 35 + 40 = 75; frees leave g (40). A free's row shows
    // the bytes before it.
    expect(replay.figures).toEqual({
      peakBytes: 200,
      computeCost: 14,
      baseCost: 11,
      makespan: 14,
      overheadRatio: 14 / 11,
      transferBytes: 0,
    });
    const timeline = replay.timeline!;
    expect(timeline.map((row) => row.bytes)).toEqual([110, 200, 150, 170, 175, 175, 175, 175, 145]);
    expect(timeline[1]).toMatchObject({ op: 'compute', node: 'r', alt: 'fast', start: 1, end: 2 });
    expect(timeline[4]).toMatchObject({ op: 'encode', node: 'r', encoding: 'mask', start: 8, end: 9 });
    expect(timeline[5]).toMatchObject({ op: 'free', node: 'r', start: 9, end: 9 });
    expect(timeline[6]).toMatchObject({ op: 'compute', node: 'g', start: 9, end: 14 });
    expect(timeline[8]).toMatchObject({ op: 'free', node: 'r', encoding: 'mask', start: 14 });
    expect(replay.counts).toEqual([
      { computes: 1, swapOuts: 0, swapIns: 0, encodes: 0, decodes: 0 },
      { computes: 1, swapOuts: 0, swapIns: 0, encodes: 1, decodes: 0 },
      { computes: 1, swapOuts: 0, swapIns: 0, encodes: 0, decodes: 0 },
      { computes: 1, swapOuts: 0, swapIns: 0, encodes: 0, decodes: 0 },
    ]);
  });

  it('decode makes the value available again on the compute stream', () => {
    const replay = ok(
      simulate(
        G,
        steps('compute x, compute r, free x, encode r#zip, free r, decode r#zip, free r#zip, compute y, compute g, free y, free r'),
        { timeline: true },
      ),
    );
    // x [0,1]; r [1,3] 50; free x at 3; encode zip [3,6] 60; free r at 6 (20 left);
    // decode zip [6,8] 20 + 40 = 60; free zip at 8; y [8,12] 40 + 30 + workspace 60 = 130;
    // g [12,17] 70 + 40 = 110.
    expect(replay.figures).toEqual({
      peakBytes: 230,
      computeCost: 17,
      baseCost: 11,
      makespan: 17,
      overheadRatio: 17 / 11,
      transferBytes: 0,
    });
    expect(replay.timeline![5]).toMatchObject({ op: 'decode', node: 'r', encoding: 'zip', start: 6, end: 8, bytes: 160, bytesAfter: 160 });
    expect(replay.counts[1]).toEqual({ computes: 1, swapOuts: 0, swapIns: 0, encodes: 1, decodes: 1 });
  });

  it('a compressed swap moves the encoding over the link', () => {
    const replay = ok(
      simulate(
        G,
        steps(
          'compute x, compute r, free x, encode r#zip, free r, swapOut r#zip, free r#zip, swapIn r#zip, decode r#zip, free r#zip, ' +
            'compute y, compute g, free y, free r',
        ),
        { transfer: LINK, timeline: true },
      ),
    );
    // x [0,1]; r [1,3]; free x at 3; encode zip [3,6]; free r at 6; swapOut zip
    // [6, 6 + 1 + 20 / 10 = 9]; free zip at 9 (nothing left); swapIn zip [9,12] (20);
    // decode [12,14] (60); free zip at 14; y [14,18] 130; g [18,23] 110. 40 bytes crossed.
    expect(replay.figures).toEqual({
      peakBytes: 230,
      computeCost: 17,
      baseCost: 11,
      makespan: 23,
      overheadRatio: 23 / 11,
      transferBytes: 40,
    });
    const timeline = replay.timeline!;
    expect(timeline[5]).toMatchObject({ op: 'swapOut', encoding: 'zip', start: 6, end: 9 });
    expect(timeline[7]).toMatchObject({ op: 'swapIn', encoding: 'zip', start: 9, end: 12, bytes: 120 });
    expect(timeline[8]).toMatchObject({ op: 'decode', start: 12, end: 14 });
    expect(replay.counts[1]).toEqual({ computes: 1, swapOuts: 1, swapIns: 1, encodes: 1, decodes: 1 });
  });

  it('a reader reads the encoding when both forms are on the device, and the value can go earlier', () => {
    const replay = ok(simulate(G, steps('compute x, compute r, encode r#mask, compute y, compute g, free r'), { timeline: true }));
    // x [0,1]; r [1,3]; mask [3,4]; y reads r [4,8]; g reads y and the mask [8,13]; the last
    // read of the value r ended at 8, so its free happens at 8, not 13.
    expect(replay.timeline![5]).toMatchObject({ op: 'free', node: 'r', start: 8, end: 8 });
    expect(replay.figures.makespan).toBe(13);
  });

  it('a decode puts a keep node back, and the schedule may end with encodings on the device', () => {
    const replay = ok(
      simulate(G, steps('compute x, compute r, compute y, compute g, encode g#half, free g, free y, free r, free x, decode g#half')),
    );
    // ... g [8,13] peak 10 + 40 + 30 + 40 + workspace... y: 10 + 40 + 30 + 60 = 140.
    expect(replay.figures.peakBytes).toBe(240);
    // encode [13,14], decode [14,15]: 1 + 2 + 4 + 5 + 1 + 1.
    expect(replay.figures.computeCost).toBe(14);
    expect(replay.counts[3]).toEqual({ computes: 1, swapOuts: 0, swapIns: 0, encodes: 1, decodes: 1 });
  });

  it('a graph without options keeps its per-node counts and figures as before', () => {
    const plain = indexGraph({ nodes: [{ id: 'a', bytes: 1, cost: 2 }] });
    expect(plain.hasOptions).toBe(false);
    expect(ok(simulate(plain, steps('compute a'))).counts).toEqual([{ computes: 1, swapOuts: 0, swapIns: 0 }]);
  });
});

describe('illegal steps with node options', () => {
  it('rejects reading an encoding from a node that is not among its readers', () => {
    // y reads r, but only g reads the mask.
    failure(simulate(G, steps('compute x, compute r, encode r#mask, free r, compute y')), 4, 'MEMPLAN_ERR_STEP_NOT_A_READER', {
      node: 'y',
      input: 'r',
      encoding: 'mask',
    });
  });

  it('rejects decoding a form that has no decodeCost', () => {
    failure(simulate(G, steps('compute x, compute r, encode r#mask, free r, decode r#mask')), 4, 'MEMPLAN_ERR_STEP_NOT_DECODABLE', {
      node: 'r',
      encoding: 'mask',
    });
  });

  it('rejects encoding a value that is not on the device', () => {
    failure(simulate(G, steps('compute x, encode r#mask')), 1, 'MEMPLAN_ERR_STEP_NOT_RESIDENT', { node: 'r', op: 'encode' });
    failure(simulate(G, steps('compute x, compute r, free r, encode r#zip')), 3, 'MEMPLAN_ERR_STEP_NOT_RESIDENT', { node: 'r' });
  });

  it('rejects encoding twice and decoding a value already on the device', () => {
    failure(simulate(G, steps('compute x, compute r, encode r#mask, encode r#mask')), 3, 'MEMPLAN_ERR_STEP_ENCODING_PRESENT', {
      node: 'r',
      encoding: 'mask',
      place: 'device',
    });
    failure(simulate(G, steps('compute x, compute r, encode r#zip, decode r#zip')), 3, 'MEMPLAN_ERR_STEP_ALREADY_RESIDENT', {
      node: 'r',
      op: 'decode',
    });
  });

  it('rejects decoding, freeing and swapping an encoding that is not there', () => {
    failure(simulate(G, steps('compute x, compute r, decode r#zip')), 2, 'MEMPLAN_ERR_STEP_ENCODING_ABSENT', {
      encoding: 'zip',
      place: 'device',
    });
    failure(simulate(G, steps('compute x, compute r, free r#zip')), 2, 'MEMPLAN_ERR_STEP_ENCODING_ABSENT', { op: 'free' });
    failure(simulate(G, steps('compute x, compute r, swapOut r#zip'), { transfer: LINK }), 2, 'MEMPLAN_ERR_STEP_ENCODING_ABSENT', {
      op: 'swapOut',
      place: 'device',
    });
    failure(simulate(G, steps('compute x, compute r, swapIn r#zip'), { transfer: LINK }), 2, 'MEMPLAN_ERR_STEP_ENCODING_ABSENT', {
      op: 'swapIn',
      place: 'host',
    });
  });

  it('rejects swapping an encoding out twice or in while it is on the device', () => {
    const twice = steps('compute x, compute r, encode r#zip, swapOut r#zip, swapOut r#zip');
    failure(simulate(G, twice, { transfer: LINK }), 4, 'MEMPLAN_ERR_STEP_ENCODING_PRESENT', { place: 'host' });
    const back = steps('compute x, compute r, encode r#zip, swapOut r#zip, swapIn r#zip');
    failure(simulate(G, back, { transfer: LINK }), 4, 'MEMPLAN_ERR_STEP_ENCODING_PRESENT', { place: 'device' });
    // A compressed swap, like any swap, needs the link.
    failure(simulate(G, steps('compute x, compute r, encode r#zip, swapOut r#zip')), 3, 'MEMPLAN_ERR_TRANSFER_REQUIRED');
  });

  it('rejects unknown alternatives and encodings, and fields on the wrong steps', () => {
    failure(simulate(G, steps('compute x, compute r alt=turbo')), 1, 'MEMPLAN_ERR_STEP_UNKNOWN_OPTION', {
      node: 'r',
      field: 'alt',
      name: 'turbo',
    });
    failure(simulate(G, steps('compute x, compute r, encode r#gzip')), 2, 'MEMPLAN_ERR_STEP_UNKNOWN_OPTION', {
      field: 'encoding',
      name: 'gzip',
    });
    failure(
      simulate(G, [
        { op: 'compute', node: 'x' },
        { op: 'free', node: 'x', alt: 'fast' },
      ]),
      1,
      'MEMPLAN_ERR_STEP_INVALID_FIELD',
    );
    failure(
      simulate(G, [
        { op: 'compute', node: 'x' },
        { op: 'compute', node: 'r', encoding: 'zip' },
      ]),
      1,
      'MEMPLAN_ERR_STEP_INVALID_FIELD',
    );
    failure(simulate(G, steps('compute x, compute r, encode r')), 2, 'MEMPLAN_ERR_STEP_INVALID_FIELD', { op: 'encode' });
    // "default" names the node's own implementation.
    const own = ok(simulate(G, [{ op: 'compute', node: 'x', alt: 'default' }, ...steps('compute r, compute y, compute g')]));
    expect(own.figures.computeCost).toBe(12);
  });

  it('a keep node held only as an encoding does not satisfy the end rule; a decode is not a computation', () => {
    failure(simulate(G, steps('compute x, compute r, compute y, compute g, encode g#half, free g')), 6, 'MEMPLAN_ERR_SCHEDULE_INCOMPLETE', {
      node: 'g',
    });
    // An input cannot be recomputed, but it can be decoded.
    const inputForms = indexGraph({
      nodes: [
        { id: 'x', kind: 'input', bytes: 10, cost: 1, encodings: [{ name: 'z', bytes: 2, encodeCost: 1, decodeCost: 1 }] },
        { id: 'a', inputs: ['x'], bytes: 5, cost: 1 },
      ],
    });
    ok(simulate(inputForms, steps('compute x, encode x#z, free x, decode x#z, compute a')));
    failure(simulate(inputForms, steps('compute x, free x, compute x')), 2, 'MEMPLAN_ERR_STEP_NOT_RECOMPUTABLE');
  });
});

describe('validation of node options', () => {
  const base = (r: Record<string, unknown>) => ({
    nodes: [
      { id: 'x', kind: 'input', bytes: 10, cost: 1 },
      { id: 'r', inputs: ['x'], bytes: 40, cost: 2, ...r },
      { id: 'g', inputs: ['r'], bytes: 1, cost: 1 },
    ],
  });
  const rejects = (raw: unknown, code: string, details: Record<string, unknown>) => {
    try {
      parseGraph(raw);
    } catch (error) {
      expect((error as { code: string }).code).toBe(code);
      expect((error as { details: Record<string, unknown> }).details).toMatchObject(details);
      return;
    }
    throw new Error('accepted');
  };

  it('names the node and field of a bad reader, a duplicate or reserved name, and a bad number', () => {
    rejects(base({ encodings: [{ name: 'm', bytes: 1, encodeCost: 0, readers: ['x'] }] }), 'MEMPLAN_ERR_INVALID_OPTION', {
      node: 'r',
      field: 'encodings[0].readers[0]',
    });
    rejects(base({ encodings: [{ name: 'm', bytes: 1, encodeCost: 0, readers: ['g', 'ghost'] }] }), 'MEMPLAN_ERR_INVALID_OPTION', {
      node: 'r',
      field: 'encodings[0].readers[1]',
    });
    rejects(
      base({
        encodings: [
          { name: 'm', bytes: 1, encodeCost: 0 },
          { name: 'm', bytes: 2, encodeCost: 0 },
        ],
      }),
      'MEMPLAN_ERR_INVALID_OPTION',
      { node: 'r', field: 'encodings[1].name' },
    );
    rejects(base({ alternatives: [{ name: 'default', cost: 1 }] }), 'MEMPLAN_ERR_INVALID_OPTION', {
      node: 'r',
      field: 'alternatives[0].name',
    });
    rejects(base({ encodings: [{ name: 'm', bytes: 1, encodeCost: -1 }] }), 'MEMPLAN_ERR_INVALID_NUMBER', {
      node: 'r',
      field: 'encodings[0].encodeCost',
    });
    rejects(base({ alternatives: [{ name: 'a', cost: 1, workspaceBytes: 0.5 }] }), 'MEMPLAN_ERR_INVALID_NUMBER', {
      node: 'r',
      field: 'alternatives[0].workspaceBytes',
    });
    // Library callers skip the schema; indexGraph checks the numbers itself.
    expect(() => indexGraph(base({ alternatives: [{ name: 'a', cost: Number.POSITIVE_INFINITY }] }) as Graph)).toThrow(
      expect.objectContaining({ code: 'MEMPLAN_ERR_INVALID_NUMBER', details: expect.objectContaining({ field: 'alternatives[0].cost' }) }),
    );
  });
});

describe('the floor with node options', () => {
  it('takes the smallest workspace, the smallest form a node reads, and a decode of a keep node', () => {
    // Computing x needs 10; r 40 + min workspace 0 + x 10 = 50; y 30 + lean's 0 + r 40 = 70
    // (y reads no encoding); g 40 + y 30 + r's mask 5 = 75. The keep node g: 40, plus the
    // cheaper of its compute (y 30 + mask 5) and a decode beside its half form (20): 60.
    expect(peakFloor(G)).toBe(100 + 75);
    const plain = indexGraph({ ...withOptions, nodes: withOptions.nodes.map(({ alternatives, encodings, ...node }) => node) });
    // Without options: y 30 + 60 + 40 = 130; g 40 + 30 + 40 = 110; keep 40 + 70 = 110.
    expect(peakFloor(plain)).toBe(100 + 130);
  });
});
