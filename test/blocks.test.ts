// Repeated-block detection (solver/graph/blocks.ts) on a generated transformer and on a
// captured GPT-2-style step: every layer is found, and block k's j-th node corresponds to
// block 0's j-th (same operator, bytes and wiring).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { chain, transformer } from '../fixtures/generators.js';
import { detectBlocks } from '../solver/graph/blocks.js';
import { indexGraph } from '../solver/graph/validate.js';

describe('detectBlocks', () => {
  it.each([3, 6, 12])('finds the %i layers of a generated transformer', (layers) => {
    const graph = indexGraph(transformer({ layers }));
    const structure = detectBlocks(graph)!;
    expect(structure).not.toBeNull();
    expect(structure.blocks).toHaveLength(layers);
    // A layer's 17 forward nodes, from its first norm's statistics to its residual add.
    expect(structure.period).toBe(17);
    structure.blocks.forEach((block, layer) => {
      expect(block.map((node) => graph.ids[node].split('.')[0])).toEqual(new Array(17).fill(`l${layer}`));
      block.forEach((node, position) => {
        const first = structure.blocks[0][position];
        expect(graph.graph.nodes[node].op).toBe(graph.graph.nodes[first].op);
        expect(graph.bytes[node]).toBe(graph.bytes[first]);
        expect(graph.inputs[node].length).toBe(graph.inputs[first].length);
      });
      // The backward nodes that read the layer's saved values join its block (the last block
      // also takes the final norm's gradient, which reads the last layer's output).
      expect(structure.backward[layer].length).toBeGreaterThan(5);
      const foreign = structure.backward[layer].filter((node) => !graph.ids[node].startsWith(`g.l${layer}.`));
      expect(foreign.map((node) => graph.ids[node])).toEqual(layer === layers - 1 ? ['g.final.w', 'g.final'] : []);
    });
  });

  it('finds the 12 layers of a captured GPT-2-style step', () => {
    const raw = JSON.parse(gunzipSync(readFileSync(new URL('../bench/graphs/gpt2-12.json.gz', import.meta.url))).toString('utf8'));
    const structure = detectBlocks(indexGraph(raw))!;
    expect(structure.blocks).toHaveLength(12);
  });

  it('finds nothing in a graph without repeats', () => {
    // Every layer of this chain has its own size.
    expect(detectBlocks(indexGraph(chain(8, { bytes: (layer) => 100 + layer })))).toBeNull();
  });
});
