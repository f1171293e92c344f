// Checkmate's deterministic two-phase rounding of the LP relaxation. Phase one rounds S
// (which values are kept into each stage) at a threshold; phase two repairs R from the
// dependencies: walking stages and nodes backwards, a node is computed in a stage when
// something computed later in the stage reads it, or the next stage keeps it, and the
// stage does not already hold it. A node that cannot be recomputed is kept instead, back
// to its first computation (so are nodes the formulation does not recompute). Each threshold of a sweep gives a plan; the simulator
// replays each and the cheapest within the budget wins.
import type { IndexedGraph } from '../graph/validate.js';
import { INTEGRALITY_TOLERANCE, ROUNDING_GRID, THRESHOLD_SLACK } from '../limits.js';
import { simulateIndexed, type IndexedStep } from '../schedule/simulate.js';
import type { CheckmateFormulation } from './checkmate.js';
import { scheduleFromStages } from './extract.js';

export interface RoundingResult {
  /** The cheapest plan within the budget, when one was found. */
  best?: { steps: IndexedStep[]; computeCost: number; peakBytes: number; threshold: number };
  /** The smallest replayed peak over the sweep. */
  smallestPeakBytes: number;
  tried: number;
}

/** Phase two: the stages (R) implied by the kept values (S) of a threshold. */
export function repairStages(graph: IndexedGraph, kept: Uint8Array[], canRecompute: readonly boolean[] = graph.recomputable): number[][] {
  const size = graph.size;
  const stages: number[][] = [];
  // keptNext[i]: value i must be on the device at the start of the next stage.
  let keptNext = new Uint8Array(size);
  for (let node = 0; node < size; node++) if (graph.keep[node]) keptNext[node] = 1;
  for (let t = size - 1; t >= 0; t--) {
    const keptHere = new Uint8Array(size);
    for (let i = 0; i < t; i++) keptHere[i] = kept[t]?.[i] ?? 0;
    const computed = new Uint8Array(size);
    computed[t] = 1;
    const needed = new Uint8Array(size);
    for (const input of graph.inputs[t]) needed[input] = 1;
    for (let i = t - 1; i >= 0; i--) {
      if (keptNext[i]) needed[i] = 1;
      if (!needed[i] || keptHere[i]) continue;
      if (canRecompute[i]) {
        computed[i] = 1;
        for (const input of graph.inputs[i]) needed[input] = 1;
      } else {
        keptHere[i] = 1;
      }
    }
    const nodes: number[] = [];
    for (let i = 0; i <= t; i++) if (computed[i]) nodes.push(i);
    stages[t] = nodes;
    // What this stage holds at its start and uses must come from the stage before.
    keptNext = new Uint8Array(size);
    for (let i = 0; i < t; i++) if (keptHere[i] && needed[i]) keptNext[i] = 1;
  }
  return stages;
}

/** The thresholds of the sweep: a fixed grid plus the distinct fractional S values (sampled). */
function thresholds(form: CheckmateFormulation, values: ArrayLike<number>): number[] {
  const grid = [1, 0.999, 0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.01, 0.001];
  const fractional = new Set<number>();
  for (const row of form.S)
    for (const variable of row) {
      if (variable < 0) continue;
      const value = Math.round(values[variable] * ROUNDING_GRID) / ROUNDING_GRID;
      if (value > INTEGRALITY_TOLERANCE && value < 1 - INTEGRALITY_TOLERANCE) fractional.add(value);
    }
  const sorted = [...fractional].sort((a, b) => b - a);
  const step = Math.max(1, Math.floor(sorted.length / 24));
  const sampled = sorted.filter((_, position) => position % step === 0);
  return [...new Set([...grid, ...sampled])].sort((a, b) => b - a);
}

/** Rounds an LP solution of the formulation over a threshold sweep; keeps the cheapest plan within the budget. */
export function twoPhaseRounding(form: CheckmateFormulation, values: ArrayLike<number>, budgetBytes: number): RoundingResult {
  const graph = form.graph;
  const result: RoundingResult = { smallestPeakBytes: Infinity, tried: 0 };
  const seen = new Set<string>();
  for (const threshold of thresholds(form, values)) {
    const kept = form.S.map((row) => {
      const mark = new Uint8Array(row.length);
      row.forEach((variable, i) => {
        if (variable >= 0 && values[variable] >= threshold - THRESHOLD_SLACK) mark[i] = 1;
      });
      return mark;
    });
    // The formulation's recomputation set keeps rounded plans valid warm starts for it.
    const stages = repairStages(graph, kept, form.canRecompute);
    const key = stages.map((nodes) => nodes.join(',')).join(';');
    if (seen.has(key)) continue;
    seen.add(key);
    const steps = scheduleFromStages(graph, stages);
    const replay = simulateIndexed(graph, steps);
    result.tried++;
    if (!replay.ok) continue;
    const { peakBytes, computeCost } = replay.figures;
    result.smallestPeakBytes = Math.min(result.smallestPeakBytes, peakBytes);
    if (peakBytes > budgetBytes) continue;
    if (
      !result.best ||
      computeCost < result.best.computeCost ||
      (computeCost === result.best.computeCost && peakBytes < result.best.peakBytes)
    ) {
      result.best = { steps, computeCost, peakBytes, threshold };
    }
  }
  return result;
}
