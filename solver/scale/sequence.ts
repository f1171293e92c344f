// Remat-only plans as compute sequences. Without a host link a schedule's makespan is the
// sum of its compute costs (a free waits only for readers that end before the next
// compute starts), and for a fixed order of computes, freeing every value right after its
// last read before its next compute is the peak-minimal choice of frees. So a remat plan
// is fully described by the order of its computes, and the scale pieces work on that:
// `sequenceToSteps` rebuilds the earliest frees, `profileOf` gives the exact memory at
// each compute, with the same accounting as the simulator.
import type { IndexedGraph } from '../graph/validate.js';
import type { IndexedStep } from '../schedule/simulate.js';

/** The exact memory picture of a compute sequence; null fields mean an illegal sequence. */
export interface SequenceProfile {
  /** Device bytes while each compute runs (residentBytes excluded, workspace included). */
  during: Float64Array;
  /**
   * For each position, the position of the last read of the value it computes, or the
   * position itself when nothing reads it; Infinity when it must stay to the end (the last
   * compute of a keep node).
   */
  end: Float64Array;
  /** For each position, the position of the previous compute of the same node, or -1. */
  previous: Int32Array;
  /** Peak over `during` (residentBytes excluded). */
  peak: number;
  /** Sum of the compute costs: the makespan without swaps. */
  cost: number;
}

/** Checks legality and builds the profile; returns a reason string when the sequence is illegal. */
export function profileOf(graph: IndexedGraph, sequence: readonly number[]): SequenceProfile | string {
  const length = sequence.length;
  const end = new Float64Array(length);
  const previous = new Int32Array(length);
  const latest = new Int32Array(graph.size).fill(-1);
  const count = new Int32Array(graph.size);
  let cost = 0;
  for (let position = 0; position < length; position++) {
    const node = sequence[position];
    for (const input of graph.inputs[node]) {
      const instance = latest[input];
      if (instance < 0) return `input ${graph.ids[input]} of ${graph.ids[node]} at ${position} was never computed`;
      end[instance] = position;
    }
    previous[position] = latest[node];
    latest[node] = position;
    end[position] = position;
    if (count[node]++ > 0 && !graph.recomputable[node]) return `${graph.ids[node]} is computed twice but not recomputable`;
    cost += graph.cost[node];
  }
  for (let node = 0; node < graph.size; node++) {
    if (count[node] === 0) return `${graph.ids[node]} is never computed`;
    if (graph.keep[node]) end[latest[node]] = Infinity;
  }
  // Difference array: an instance made at p occupies its bytes on positions p+1..end
  // (at p itself it is counted as the computing node, with its workspace).
  const delta = new Float64Array(length + 1);
  const during = new Float64Array(length);
  for (let position = 0; position < length; position++) {
    const node = sequence[position];
    const last = end[position];
    if (last > position) {
      delta[position + 1] += graph.bytes[node];
      if (last !== Infinity) delta[last + 1] -= graph.bytes[node];
    }
  }
  let live = 0;
  let peak = 0;
  for (let position = 0; position < length; position++) {
    live += delta[position];
    const node = sequence[position];
    during[position] = live + graph.bytes[node] + graph.workspace[node];
    if (during[position] > peak) peak = during[position];
  }
  return { during, end, previous, peak, cost };
}

/** The schedule of a compute sequence with every value freed right after its last read. */
export function sequenceToSteps(graph: IndexedGraph, sequence: readonly number[]): IndexedStep[] {
  const profile = profileOf(graph, sequence);
  if (typeof profile === 'string') throw new Error(`illegal compute sequence: ${profile}`);
  const freesAfter: number[][] = Array.from({ length: sequence.length }, () => []);
  for (let position = 0; position < sequence.length; position++) {
    const last = profile.end[position];
    if (last !== Infinity) freesAfter[last].push(sequence[position]);
  }
  const steps: IndexedStep[] = [];
  for (let position = 0; position < sequence.length; position++) {
    steps.push({ op: 'compute', node: sequence[position] });
    for (const node of freesAfter[position]) steps.push({ op: 'free', node });
  }
  return steps;
}

/** The compute sequence of a schedule (frees and swaps dropped). */
export function stepsToSequence(steps: readonly IndexedStep[]): number[] {
  const sequence: number[] = [];
  for (const step of steps) if (step.op === 'compute') sequence.push(step.node);
  return sequence;
}
