// Extraction: from the nodes computed in each stage (R) to a schedule. Stage by stage,
// each stage's computations in index order; a value is kept exactly from its computation
// to its last read before it is computed again (so what S keeps is implied), and freed
// right after that read: as early as the contract allows. Keep nodes' last copies stay.
// The schedule is then replayed by the simulator; the model's U is never trusted.
import type { IndexedGraph } from '../graph/validate.js';
import type { IndexedStep } from '../schedule/simulate.js';

/**
 * The compute sequence of a stage plan: stages in order, nodes ascending within each,
 * the frontier t always in stage t, a node that cannot be recomputed computed once.
 */
export function computeSequence(graph: IndexedGraph, stages: readonly (readonly number[])[]): number[] {
  const sequence: number[] = [];
  const computed = new Uint8Array(graph.size);
  for (let t = 0; t < graph.size; t++) {
    const nodes = new Set((stages[t] ?? []).filter((node) => node >= 0 && node <= t));
    nodes.add(t);
    for (const node of [...nodes].sort((a, b) => a - b)) {
      if (computed[node] && !graph.recomputable[node]) continue;
      computed[node] = 1;
      sequence.push(node);
    }
  }
  return sequence;
}

interface Copies {
  /** For each position, the position of the copy each input is read from. */
  readFrom: number[][];
  /** For each position, the number of reads of the copy it produces. */
  reads: number[];
  /** For each position, the last position reading its copy (itself when none). */
  lastRead: number[];
  /** The last production of each keep node (never freed). */
  finalKeep: Set<number>;
}

function analyse(graph: IndexedGraph, sequence: readonly number[]): Copies {
  const latest = new Int32Array(graph.size).fill(-1);
  const readFrom: number[][] = [];
  const reads = new Array<number>(sequence.length).fill(0);
  const lastRead = sequence.map((_, position) => position);
  sequence.forEach((node, position) => {
    const from: number[] = [];
    for (const input of graph.inputs[node]) {
      const copy = latest[input];
      if (copy < 0) throw new Error(`extraction: ${graph.ids[node]} reads ${graph.ids[input]} before it is computed`);
      from.push(copy);
      reads[copy]++;
      lastRead[copy] = position;
    }
    readFrom.push(from);
    latest[node] = position;
  });
  const finalKeep = new Set<number>();
  for (let node = 0; node < graph.size; node++) if (graph.keep[node] && latest[node] >= 0) finalKeep.add(latest[node]);
  return { readFrom, reads, lastRead, finalKeep };
}

/** Drops recomputations whose value nobody reads, until none is left. */
function dropUselessRecomputes(graph: IndexedGraph, sequence: number[]): number[] {
  let current = sequence;
  for (;;) {
    const { reads, finalKeep } = analyse(graph, current);
    const seen = new Uint8Array(graph.size);
    const keep: number[] = [];
    let dropped = false;
    current.forEach((node, position) => {
      const first = !seen[node];
      seen[node] = 1;
      if (!first && reads[position] === 0 && !finalKeep.has(position)) {
        dropped = true;
        return;
      }
      keep.push(node);
    });
    if (!dropped) return current;
    current = keep;
  }
}

/** Builds the schedule of a stage plan (see the file comment). */
export function scheduleFromStages(graph: IndexedGraph, stages: readonly (readonly number[])[]): IndexedStep[] {
  const sequence = dropUselessRecomputes(graph, computeSequence(graph, stages));
  const { lastRead, finalKeep } = analyse(graph, sequence);
  const freeAfter: number[][] = sequence.map(() => []);
  sequence.forEach((node, position) => {
    if (!finalKeep.has(position)) freeAfter[lastRead[position]].push(node);
  });
  const steps: IndexedStep[] = [];
  sequence.forEach((node, position) => {
    steps.push({ op: 'compute', node });
    for (const dead of freeAfter[position].sort((a, b) => a - b)) steps.push({ op: 'free', node: dead });
  });
  return steps;
}

/**
 * The stages of a schedule, when it is in Checkmate's class: compute steps only, first
 * computations in node order, each recomputation before the first computation of a later
 * node (its stage), ascending and at most once per stage. Returns null otherwise.
 */
export function stagesFromSchedule(graph: IndexedGraph, steps: readonly IndexedStep[]): number[][] | null {
  return readStages(graph, steps, true);
}

/**
 * The nearest stage plan of any schedule with first computations in node order: each
 * stage's recomputations sorted and deduplicated (the caller replays the result, since
 * reordering may change the peak). Null when first computations are out of order or the
 * schedule swaps.
 */
export function canonicalStages(graph: IndexedGraph, steps: readonly IndexedStep[]): number[][] | null {
  return readStages(graph, steps, false);
}

/** Groups compute steps into stages; strict rejects what is outside Checkmate's class, else it is normalized. */
function readStages(graph: IndexedGraph, steps: readonly IndexedStep[], strict: boolean): number[][] | null {
  const stages: number[][] = [];
  let pending: number[] = [];
  const computed = new Uint8Array(graph.size);
  let frontier = 0;
  for (const step of steps) {
    if (step.op === 'free') continue;
    if (step.op !== 'compute') return null;
    if (computed[step.node]) {
      if (strict && pending.length && pending[pending.length - 1] >= step.node) return null;
      pending.push(step.node);
      continue;
    }
    if (step.node !== frontier) return null;
    computed[step.node] = 1;
    pending.push(step.node);
    stages.push(strict ? pending : [...new Set(pending)].sort((a, b) => a - b));
    pending = [];
    frontier++;
  }
  if (frontier !== graph.size || (strict && pending.length)) return null;
  return stages;
}
