// The formulations' structure with node options (solver/milp/options.ts, swap-encoded.ts):
// a graph without options gets exactly the model it got before options existed (its LP
// text, hashed here as printed by the code before the change), and a graph with options
// gets the option variables where the class allows them. Solving against exhaustive
// search is in milp-options.test.ts (solver project).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chain, diamond, randomLayered, unetLike } from '../fixtures/generators.js';
import type { Graph } from '../solver/graph/schema.js';
import { indexGraph } from '../solver/graph/validate.js';
import { buildCheckmate } from '../solver/milp/checkmate.js';
import { writeLp } from '../solver/milp/lp-writer.js';
import { buildSwap } from '../solver/milp/swap.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);
const PCIE4 = { bandwidth: 25000, latency: 10 };

/**
 * sha256 prefixes of the LP text of each model at 70 % of the no-remat peak, printed by
 * the formulations before node options were added (commit 9b53bab).
 */
const BEFORE: Record<string, Record<string, string>> = {
  diamond: {
    tight: '9bd31dc68088a78f',
    'tight swap': '7eb6457c594b154f',
    plain: '23c8af9a1d5b5a24',
    'plain swap': '1d000064c239f91a',
    forward: 'ecb4af91582c2e4a',
  },
  'chain-8': {
    tight: '61d93d5ac0b21757',
    'tight swap': '798d9286b5b76d5e',
    plain: 'b3a3dea3258e7dce',
    'plain swap': '4471cd3748a12830',
    forward: '79d33f7275f948a0',
  },
  'unet-like': {
    tight: '8538aaf5648e81df',
    'tight swap': '035fc040771c9ba4',
    plain: 'c2018139e97ad39c',
    'plain swap': 'a295ad12ababc39f',
    forward: '7ca9ef94d763fb4b',
  },
  'random-layered-7': {
    tight: '6b9b3dd9a29dd43b',
    'tight swap': '0151cf1c6aa87593',
    plain: '49e33157ba269244',
    'plain swap': '97500810a797c4c6',
    forward: '60a18f3d4721b39b',
  },
};

const GRAPHS: Record<string, Graph> = {
  diamond: diamond(),
  'chain-8': chain(8, { bytes: (layer) => 100 + ((layer * 37) % 60), cost: (layer) => 5 + ((layer * 13) % 11) }),
  'unet-like': unetLike(3),
  'random-layered-7': randomLayered({ seed: 7, layers: 8, width: 4, keep: true }),
};

describe('a graph without options', () => {
  for (const [name, raw] of Object.entries(GRAPHS)) {
    it(`gets the same LP text as before options on ${name}`, () => {
      const graph = indexGraph(raw);
      expect(graph.hasOptions).toBe(false);
      const budgetBytes = Math.floor(0.7 * noRematPeak(graph));
      const printed: Record<string, string> = {};
      for (const variant of ['tight', 'plain'] as const) {
        printed[variant] = hash(writeLp(buildCheckmate(graph, { budgetBytes, variant }).model));
        printed[`${variant} swap`] = hash(writeLp(buildSwap(graph, { budgetBytes, variant, transfer: PCIE4 }).base.model));
      }
      printed.forward = hash(writeLp(buildCheckmate(graph, { budgetBytes, variant: 'tight', recompute: 'forward' }).model));
      expect(printed).toEqual(BEFORE[name]);
      expect(buildCheckmate(graph, { budgetBytes, variant: 'tight' }).options).toBeUndefined();
    });
  }
});

describe('a graph with options', () => {
  // x -> r -> y -> loss, gy, gr (reads the mask of r), gx; r has a mask and a compressed form, y an alternative.
  const raw: Graph = {
    nodes: [
      { id: 'x', kind: 'input', bytes: 10, cost: 0 },
      {
        id: 'r',
        op: 'relu',
        inputs: ['x'],
        bytes: 40,
        cost: 2,
        encodings: [
          { name: 'mask', bytes: 2, encodeCost: 1, readers: ['gr'] },
          { name: 'zip', bytes: 20, encodeCost: 1, decodeCost: 1 },
        ],
      },
      { id: 'y', inputs: ['r'], bytes: 30, cost: 4, workspaceBytes: 30, alternatives: [{ name: 'lean', cost: 6 }] },
      { id: 'loss', kind: 'loss', inputs: ['y'], bytes: 1, cost: 1 },
      { id: 'gy', kind: 'backward', inputs: ['loss', 'y'], bytes: 30, cost: 8 },
      { id: 'gr', kind: 'backward', inputs: ['gy', 'r'], bytes: 40, cost: 4 },
      { id: 'gx', kind: 'backward', inputs: ['gr', 'x'], bytes: 10, cost: 4 },
    ],
  };
  const graph = indexGraph(raw);
  const names = (prefix: string, model: { varNames: string[] }) => model.varNames.filter((name) => name.startsWith(prefix)).sort();

  it('has A where y may be computed, ES where r is kept, SE after that, DS only for the decodable form', () => {
    const form = buildCheckmate(graph, { budgetBytes: 1000, variant: 'tight' });
    // y (node 2) may be computed in its own stage and recomputed up to the last stage (its
    // users loss and gy, and through them gr and gx, can all be recomputed).
    expect(names('A_', form.model)).toEqual(['A_2_2_0', 'A_3_2_0', 'A_4_2_0', 'A_5_2_0', 'A_6_2_0']);
    // r (node 1) may be kept into stages 2..6; either form may be made there, and kept from 3 on.
    const both = (prefix: string, stages: number[]) => stages.flatMap((t) => [`${prefix}_${t}_1_0`, `${prefix}_${t}_1_1`]);
    expect(names('ES_', form.model)).toEqual(both('ES', [2, 3, 4, 5, 6]));
    expect(names('SE_', form.model)).toEqual(both('SE', [3, 4, 5, 6]));
    // The mask cannot be decoded.
    expect(names('DS_', form.model)).toEqual(['DS_3_1_1', 'DS_4_1_1', 'DS_5_1_1', 'DS_6_1_1']);
    // Objective: the alternative's extra cost, encode and decode costs.
    const cost = (name: string) => form.model.variable(form.model.varNames.indexOf(name)).cost * form.costScale;
    expect(cost('A_2_2_0')).toBe(2);
    expect(cost('ES_2_1_0')).toBe(1);
    expect(cost('DS_3_1_1')).toBe(1);
  });

  it('adds encoded copies to the swap model only where the form can have left the device', () => {
    const form = buildSwap(graph, { budgetBytes: 1000, variant: 'tight', transfer: PCIE4 });
    expect(form.encoded).toBeDefined();
    // Made at stage 2 at the earliest, kept into 3 where it may go out, back from stage 4 on.
    expect(names('OUTE_', form.base.model).every((name) => Number(name.split('_')[1]) >= 3)).toBe(true);
    expect(names('INE_', form.base.model).every((name) => Number(name.split('_')[1]) >= 4)).toBe(true);
    expect(names('INJE_', form.base.model).length).toBeGreaterThan(0);
  });
});
