// Repeated blocks: the layers of a transformer or the units of a ResNet stage appear in a
// captured graph as the same run of operators, again and again, in the execution order.
// Each forward node gets a signature: its operator, its bytes, its workspace and how it is
// wired (each input as its distance back in the forward order when that is short, or as
// the kind of a far node: a parameter table, the input, an earlier layer). Costs are left
// out: captured timings of the same operator differ a little from layer to layer. The
// period P is the shift that makes the most consecutive signatures equal to the ones P
// earlier; the run it covers is cut into blocks of P forward nodes, and the backward nodes
// that read a block's values join it, so block k's j-th node corresponds to block 0's j-th.
import { BLOCK_MAX_DISTANCE, BLOCK_MAX_PERIOD, BLOCK_MIN_REPEATS } from '../limits.js';
import type { IndexedGraph } from './validate.js';

/** Repeated blocks of a graph and the correspondence between them. */
export interface BlockStructure {
  /** Forward nodes per block. */
  period: number;
  /** Each block's forward nodes, in order; blocks[k][j] corresponds to blocks[0][j]. */
  blocks: number[][];
  /** Each block's backward nodes (those reading its forward values), in order. */
  backward: number[][];
}

/** A forward node's signature (see the file comment), as text. */
function signature(graph: IndexedGraph, position: Int32Array, node: number): string {
  const at = position[node];
  const wiring = graph.inputs[node].map((input) => {
    const distance = position[input] >= 0 ? at - position[input] : -1;
    return distance > 0 && distance <= BLOCK_MAX_DISTANCE ? `-${distance}` : `far:${graph.kind[input]}`;
  });
  return `${graph.graph.nodes[node].op ?? ''}|${graph.bytes[node]}|${graph.workspace[node]}|${wiring.join(',')}`;
}

/** Finds the repeated blocks of a graph, or null when no run repeats BLOCK_MIN_REPEATS times. */
export function detectBlocks(graph: IndexedGraph): BlockStructure | null {
  const forward: number[] = [];
  for (let node = 0; node < graph.size; node++) if (graph.kind[node] === 'forward') forward.push(node);
  const count = forward.length;
  const position = new Int32Array(graph.size).fill(-1);
  forward.forEach((node, at) => {
    position[node] = at;
  });
  const ids = new Map<string, number>();
  const code = forward.map((node) => {
    const text = signature(graph, position, node);
    let id = ids.get(text);
    if (id === undefined) {
      id = ids.size;
      ids.set(text, id);
    }
    return id;
  });
  // The period with the longest run of signatures equal to the ones a period earlier.
  let best = { period: 0, start: 0, length: 0 };
  for (let period = 1; period * BLOCK_MIN_REPEATS <= count && period <= BLOCK_MAX_PERIOD; period++) {
    let run = 0;
    for (let at = period; at < count; at++) {
      run = code[at] === code[at - period] ? run + 1 : 0;
      // A run of r matches covers r + period nodes: (r + period) / period blocks.
      if (run > best.length || (run === best.length && period < best.period)) best = { period, start: at - run + 1 - period, length: run };
    }
  }
  const { period, start, length } = best;
  const repeats = Math.floor((length + period) / period);
  if (period === 0 || repeats < BLOCK_MIN_REPEATS) return null;
  const blocks: number[][] = [];
  for (let block = 0; block < repeats; block++) blocks.push(forward.slice(start + block * period, start + (block + 1) * period));
  // Backward nodes join the block whose values they read (the latest such block).
  const blockOf = new Int32Array(graph.size).fill(-1);
  blocks.forEach((nodes, block) => {
    for (const node of nodes) blockOf[node] = block;
  });
  const backward: number[][] = blocks.map(() => []);
  for (let node = 0; node < graph.size; node++) {
    if (graph.kind[node] !== 'backward') continue;
    let block = -1;
    for (const input of graph.inputs[node]) block = Math.max(block, blockOf[input]);
    if (block >= 0) backward[block].push(node);
  }
  return { period, blocks, backward };
}
