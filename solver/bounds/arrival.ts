// The last-arrival floor: a lower bound on the peak of every legal remat-only schedule (no
// host link, any order) from the nodes that must be on the device together.
//
// Claim. Let T be a set of nodes that some schedule holds on the device all at once, at a
// moment tau, and let x be the node of T whose last computation before tau is the latest.
// At that computation of x, every other node of T is on the device already (each arrived
// earlier and stays until tau, or it would arrive again later than x), and so is every
// input of x. So the device holds T and the inputs of x, plus x's workspace, and the set
// (T without x) plus the inputs of x is held all at once just before. Without a host link
// a node arrives only by being computed, so this goes on until nothing is left.
//
// So G(T), the least peak of any schedule that holds T all at once, is at least the least,
// over the orders in which T's nodes are taken apart this way, of the largest step along
// it: a bottleneck path from T to the empty set, where taking x out of a set T costs
// bytes(T and the inputs of x) + workspace(x) and leads to (T without x) + inputs(x).
// Every node is computed at least once, so the floor is the largest G({v}). Why it bites:
// the contract's floor looks one step back (v and its inputs); on Moccasin's random
// layered graph of 100 nodes, looking back until the sources raises it from 43.2 % to
// 54.1 % of the no-remat peak, where the smallest peak found was 59.6 %.
//
// The bound is tight where every node is recomputable and none is kept: reversed, a path
// from {v} is a schedule that makes v from nothing at that peak, and one such schedule per
// node not made yet, each after the last, is legal and peaks at the largest G({v}). The
// search returns that schedule where it found every path (the bracket's top).
//
// Search. Dijkstra on the bottleneck from {v}, stopped at the first empty set, at a cap of
// sets, or at the deadline: the largest bottleneck taken from the queue is then still a
// lower bound of G({v}). First briefly from the nodes with the largest one-step need; only
// where that raises the floor, from every node with room, and then, for the schedule,
// without a cap until the deadline from each node no path computes yet. Taking out an x
// whose inputs are all in T, at no more than the path's bottleneck so far, leads to a
// subset at no extra cost, and G never grows when a set shrinks; such moves are made at
// once and not branched on. A set already known to empty within the floor proven so far
// ends the search from any start that reaches it within that floor.
import type { IndexedGraph } from '../graph/validate.js';
import {
  ARRIVAL_FLOOR_FIRST_STARTS,
  ARRIVAL_FLOOR_FIRST_STATES,
  ARRIVAL_FLOOR_FULL_MAX_NODES,
  ARRIVAL_FLOOR_MAX_STATES,
} from '../limits.js';
import { MinHeap } from '../util/heap.js';
import type { RematFloor } from './closure.js';

/** Options: a floor already proven, the deadline, and the cap of states per start. */
export interface ArrivalFloorOptions {
  /** A floor proven already (residentBytes included): only starts that can beat it are searched. */
  above?: number;
  /** Date.now() after which no start is searched further. */
  deadline?: number;
  /** Sets taken from the queue per start (ARRIVAL_FLOOR_MAX_STATES by default). */
  maxStates?: number;
  /** Search from every node even where the first round does not raise the floor (for the schedule). */
  full?: boolean;
}

/**
 * A state of the search: a set of nodes (ascending) held at once, its bytes, the bottleneck
 * of the path to it, and the nodes taken out on the way from its parent, in order.
 */
interface State {
  nodes: number[];
  bytes: number;
  value: number;
  parent: State | undefined;
  removed: number[];
}

/** A move not made yet: taking `node` out of `parent`, at a bottleneck of `value`. */
interface Move {
  parent: State;
  node: number;
  value: number;
}

const keyOf = (nodes: readonly number[]): string => String.fromCharCode(...nodes);

/** The search's working memory for one graph: membership marks and the sets known to empty within the floor. */
class ArrivalSearch {
  private readonly mark: Uint8Array;
  /** Sets known to empty at or below the floor proven so far, with the nodes taken out on the way. */
  private readonly low = new Map<string, number[]>();

  constructor(private readonly graph: IndexedGraph) {
    this.mark = new Uint8Array(graph.size);
  }

  /** The set {start}, before any move. */
  private first(start: number): State {
    const bytes = this.graph.bytes[start];
    return { nodes: [start], bytes, value: bytes, parent: undefined, removed: [] };
  }

  /** Each move out of `state`, with its bottleneck. */
  private moves(state: State): Move[] {
    const { graph, mark } = this;
    const moves: Move[] = [];
    for (const node of state.nodes) mark[node] = 1;
    for (const node of state.nodes) {
      let extra = 0;
      for (const input of graph.inputs[node]) if (!mark[input]) extra += graph.bytes[input];
      const value = Math.max(state.value, state.bytes + extra + graph.workspace[node]);
      moves.push({ parent: state, node, value });
    }
    for (const node of state.nodes) mark[node] = 0;
    return moves;
  }

  /**
   * The set a move leads to, after every free move (a node whose inputs are all held, at a
   * workspace within the bottleneck): such a move shrinks the set at no extra cost.
   */
  private make(move: Move): State {
    const { graph, mark } = this;
    const { parent, node, value } = move;
    const removed = [node];
    const nodes: number[] = [];
    let bytes = parent.bytes - graph.bytes[node];
    for (const other of parent.nodes) if (other !== node) mark[other] = 1;
    for (const other of parent.nodes) if (other !== node) nodes.push(other);
    for (const input of graph.inputs[node])
      if (!mark[input]) {
        mark[input] = 1;
        nodes.push(input);
        bytes += graph.bytes[input];
      }
    let changed = true;
    while (changed) {
      changed = false;
      for (const other of nodes) {
        if (!mark[other] || bytes + graph.workspace[other] > value) continue;
        if (graph.inputs[other].every((input) => mark[input])) {
          mark[other] = 0;
          bytes -= graph.bytes[other];
          removed.push(other);
          changed = true;
        }
      }
    }
    const kept = nodes.filter((other) => mark[other]).sort((a, b) => a - b);
    for (const other of kept) mark[other] = 0;
    return { nodes: kept, bytes, value, parent, removed };
  }

  /** The nodes taken out from the start to `state`, then `after`; with `remember`, every set on the way as emptying within the floor. */
  private pathTo(state: State, after: readonly number[], remember: boolean): number[] {
    const steps: State[] = [];
    for (let on: State | undefined = state; on; on = on.parent) steps.unshift(on);
    const path = steps.flatMap((step) => step.removed).concat(after);
    if (remember) {
      let done = 0;
      for (const step of steps) {
        done += step.removed.length;
        const key = keyOf(step.nodes);
        if (!this.low.has(key)) this.low.set(key, path.slice(done));
      }
    }
    return path;
  }

  /**
   * A lower bound of G({start}) (residentBytes excluded), by Dijkstra on the bottleneck, and
   * the nodes taken out on a path from {start} to the empty set that bounds it, in order,
   * when it found one: the bound is then exact, or at most `floor` when the path joins one
   * found before within `floor` (the caller needs no more).
   */
  bound(start: number, floor: number, maxStates: number, deadline: number): { value: number; path?: number[] } {
    const heap = new MinHeap<Move>((move) => move.value);
    const seen = new Set<string>();
    let state = this.first(start);
    let value = state.value;
    let taken = 0;
    for (;;) {
      const key = keyOf(state.nodes);
      const joined = value <= floor ? this.low.get(key) : undefined;
      if (state.nodes.length === 0 || joined) return { value, path: this.pathTo(state, joined ?? [], value <= floor) };
      if (!seen.has(key)) {
        seen.add(key);
        if (++taken > maxStates || (taken % 256 === 0 && Date.now() > deadline)) return { value };
        for (const move of this.moves(state)) heap.push(move);
      }
      if (heap.size === 0) return { value };
      const move = heap.pop();
      value = Math.max(value, move.value);
      state = this.make(move);
    }
  }
}

/** The last-arrival floor, and a schedule that reaches it where the search found a path from every node. */
export interface ArrivalFloor extends RematFloor {
  /**
   * When every start's search found its path: each node not computed yet made from nothing
   * along its path, one node after another (a compute sequence, scale/sequence.ts). Its peak
   * is at most `bytes` where every node is recomputable and none is kept (a keep node's last
   * copy stays to the end, and a node computed only once from its computation to its last
   * read); the caller profiles it.
   */
  sequence?: number[];
}

/**
 * The last-arrival floor (see the file comment), residentBytes included: `above` and witness
 * -1 when no start beats it. Graphs with node options need a relaxation first
 * (bounds/relaxation.ts): this reads only bytes, workspaces and inputs.
 */
export function arrivalFloor(graph: IndexedGraph, options: ArrivalFloorOptions = {}): ArrivalFloor {
  const deadline = options.deadline ?? Infinity;
  let best = Math.max(0, (options.above ?? 0) - graph.residentBytes);
  let witness = -1;
  const need = (node: number) =>
    graph.bytes[node] + graph.workspace[node] + graph.inputs[node].reduce((sum, input) => sum + graph.bytes[input], 0);
  const starts = Array.from({ length: graph.size }, (_, node) => node).sort((a, b) => need(b) - need(a));
  const search = new ArrivalSearch(graph);
  const paths: (number[] | undefined)[] = [];
  // First Dijkstra briefly from the nodes that need the most at their own computation: where
  // the floor rises at all, it rises there (the witness was the first or third of them on
  // Moccasin's and Checkmate's graphs). Where it does not (captured training graphs, whose
  // sets grow wide), the search ends there.
  // A round: Dijkstra from each start without a path yet, raising the floor where it can.
  const round = (from: readonly number[], maxStates: number) => {
    for (const start of from) {
      if (Date.now() > deadline) break;
      if (paths[start]) continue;
      const { value, path } = search.bound(start, best, maxStates, deadline);
      paths[start] = path;
      if (value > best) {
        best = value;
        witness = start;
      }
    }
  };
  round(starts.slice(0, ARRIVAL_FLOOR_FIRST_STARTS), Math.min(ARRIVAL_FLOOR_FIRST_STATES, options.maxStates ?? Infinity));
  const rose = () =>
    witness >= 0 ? { bytes: best + graph.residentBytes, witness } : { bytes: options.above ?? graph.residentBytes, witness: -1 };
  if ((witness < 0 || graph.size > ARRIVAL_FLOOR_FULL_MAX_NODES) && options.maxStates === undefined && !options.full) return rose();
  // Where it rose on a graph of at most ARRIVAL_FLOOR_FULL_MAX_NODES, Dijkstra from every
  // node with room, for the floor and the paths.
  round(starts, options.maxStates ?? ARRIVAL_FLOOR_MAX_STATES);
  const floor = rose();
  // The schedule: from the last listed node down, each node not computed yet made from
  // nothing along its path (a late node's path computes most of its ancestors); where the
  // searches above found none, Dijkstra again until the deadline.
  const computed = new Uint8Array(graph.size);
  const sequence: number[] = [];
  for (let node = graph.size - 1; node >= 0; node--) {
    if (computed[node]) continue;
    const path = paths[node] ?? (Date.now() > deadline ? undefined : search.bound(node, best, Infinity, deadline).path);
    if (!path) return floor;
    for (let at = path.length - 1; at >= 0; at--) {
      // A node computed only once stays from its first computation to its last read.
      if (computed[path[at]] && !graph.recomputable[path[at]]) continue;
      sequence.push(path[at]);
      computed[path[at]] = 1;
    }
  }
  return { ...floor, sequence };
}
