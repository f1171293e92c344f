// Ancestor and descendant sets of a graph as bitsets, and what every legal remat-only
// schedule needs after the first computation of a node v, whatever its order: every
// descendant of v is computed after it, so a node that is not a descendant of v and is a
// keep node or has a user descending from v is read (or held) after v's first
// computation. The bounds of this folder are built on it; their proofs are in closure.ts.
import type { IndexedGraph } from '../graph/validate.js';

/** Ancestor and descendant bitsets, one row of `words` 32-bit words per node. */
export class Ancestry {
  readonly words: number;
  private readonly ancestors: Uint32Array;
  private readonly descendants: Uint32Array;

  constructor(readonly graph: IndexedGraph) {
    const size = graph.size;
    const words = (size + 31) >>> 5;
    this.words = words;
    this.ancestors = new Uint32Array(size * words);
    this.descendants = new Uint32Array(size * words);
    // Nodes are listed in a topological order: inputs come first, users later.
    for (let node = 0; node < size; node++) {
      const row = node * words;
      for (const input of graph.inputs[node]) {
        const from = input * words;
        for (let word = 0; word < words; word++) this.ancestors[row + word] |= this.ancestors[from + word];
        this.ancestors[row + (input >>> 5)] |= 1 << (input & 31);
      }
    }
    for (let node = size - 1; node >= 0; node--) {
      const row = node * words;
      for (const user of graph.users[node]) {
        const from = user * words;
        for (let word = 0; word < words; word++) this.descendants[row + word] |= this.descendants[from + word];
        this.descendants[row + (user >>> 5)] |= 1 << (user & 31);
      }
    }
  }

  /** True when `member` is an ancestor of `node`. */
  isAncestor(member: number, node: number): boolean {
    return (this.ancestors[node * this.words + (member >>> 5)] & (1 << (member & 31))) !== 0;
  }

  /** True when `member` is a descendant of `node`. */
  isDescendant(member: number, node: number): boolean {
    return (this.descendants[node * this.words + (member >>> 5)] & (1 << (member & 31))) !== 0;
  }

  /** The ancestors of `node`, ascending. */
  ancestorsOf(node: number): number[] {
    const out: number[] = [];
    const row = node * this.words;
    for (let word = 0; word < this.words; word++) {
      let bits = this.ancestors[row + word];
      while (bits) {
        const low = bits & -bits;
        out.push((word << 5) + (31 - Math.clz32(low)));
        bits ^= low;
      }
    }
    return out;
  }

  /** Number of ancestors of `node`. */
  ancestorCount(node: number): number {
    let count = 0;
    const row = node * this.words;
    for (let word = 0; word < this.words; word++) {
      let bits = this.ancestors[row + word];
      while (bits) {
        bits &= bits - 1;
        count++;
      }
    }
    return count;
  }

  /** True when `member` is a keep node or has a user that descends from `node`. */
  neededAfter(member: number, node: number): boolean {
    if (this.graph.keep[member]) return true;
    for (const user of this.graph.users[member]) if (this.isDescendant(user, node)) return true;
    return false;
  }
}

/** The node v's first computation: what is on the device whatever the schedule, and what is needed after it. */
export interface FirstComputation {
  /** The node v. */
  node: number;
  /** Device bytes present in every schedule: residentBytes, v with its workspace, and v's inputs. */
  forced: number;
  /**
   * The nodes with bytes > 0 other than v and its inputs that are not descendants of v and
   * are needed after v's first computation in every schedule: keep nodes, and nodes with
   * a user that descends from v. Ascending.
   */
  needed: number[];
}

/** Device bytes while a node computes, in every schedule: residentBytes, the node with its workspace, and its inputs. */
export function forcedBytes(graph: IndexedGraph, node: number): number {
  let forced = graph.residentBytes + graph.bytes[node] + graph.workspace[node];
  for (const input of new Set(graph.inputs[node])) forced += graph.bytes[input];
  return forced;
}

/** The first-computation picture of node v. */
export function firstComputation(ancestry: Ancestry, node: number): FirstComputation {
  const graph = ancestry.graph;
  const forced = forcedBytes(graph, node);
  const inputs = new Set(graph.inputs[node]);
  const needed: number[] = [];
  for (let member = 0; member < graph.size; member++) {
    if (member === node || inputs.has(member) || graph.bytes[member] === 0 || ancestry.isDescendant(member, node)) continue;
    if (ancestry.neededAfter(member, node)) needed.push(member);
  }
  return { node, forced, needed };
}
