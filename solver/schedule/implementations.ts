// The implementation of each computation in a schedule, chosen again once the order is
// fixed. A node's alternatives differ in cost and workspace only, and workspace is held
// while the computation runs and no longer, so the choice at one step changes that step's
// device bytes and nothing else's (and a cheaper computation never ends anything later).
// Each step can thus take the cheapest implementation that fits beside what is held there:
// given the order, that is the fastest choice within the budget. A plan found on a lowered
// graph (schedule/lower.ts) takes one implementation for every node, the leanest where
// workspace is scarce somewhere: unet-options at floor x 1.1 ran 48 computations on their
// slow lean implementations, most of them where the fast one fits.
import { implementationOf } from '../graph/analysis.js';
import type { IndexedGraph } from '../graph/validate.js';
import { type IndexedStep, simulateIndexed, type TimelineRow } from './simulate.js';
import type { Transfer } from './types.js';

/** The whole timeline of a schedule, or undefined when it does not replay. */
function timelineOf(graph: IndexedGraph, steps: readonly IndexedStep[], transfer?: Transfer): readonly TimelineRow[] | undefined {
  const replay = simulateIndexed(graph, steps, { transfer, timeline: true });
  return replay.ok ? replay.timeline : undefined;
}

/**
 * The schedule with each computation of a node with alternatives at the cheapest
 * implementation whose workspace fits `budgetBytes` beside what that step holds (the
 * leanest where none fits, which may make a plan fit). `timeline`: the schedule's whole
 * timeline when the caller has replayed it already. Undefined when nothing changes or the
 * schedule does not replay.
 */
export function fastestImplementations(
  graph: IndexedGraph,
  steps: readonly IndexedStep[],
  budgetBytes: number,
  transfer?: Transfer,
  timeline?: readonly TimelineRow[],
): IndexedStep[] | undefined {
  if (!graph.alternatives.some((alternatives) => alternatives.length > 0)) return undefined;
  const rows = timeline?.length === steps.length ? timeline : timelineOf(graph, steps, transfer);
  if (!rows) return undefined;
  let changed = false;
  const chosen = steps.map((step, at) => {
    const alternatives = graph.alternatives[step.node];
    if (step.op !== 'compute' || alternatives.length === 0) return step;
    const current = step.alt ?? -1;
    // What the step holds besides its workspace.
    const held = rows[at].bytes - implementationOf(graph, step.node, current).workspace;
    let best = current;
    let bestFits = held + implementationOf(graph, step.node, current).workspace <= budgetBytes;
    for (let alt = -1; alt < alternatives.length; alt++) {
      const candidate = implementationOf(graph, step.node, alt);
      const incumbent = implementationOf(graph, step.node, best);
      const fits = held + candidate.workspace <= budgetBytes;
      const better = bestFits
        ? fits && (candidate.cost < incumbent.cost || (candidate.cost === incumbent.cost && candidate.workspace < incumbent.workspace))
        : fits || candidate.workspace < incumbent.workspace;
      if (better) {
        best = alt;
        bestFits = fits;
      }
    }
    if (best === current) return step;
    changed = true;
    const out: IndexedStep = { op: 'compute', node: step.node };
    if (best >= 0) out.alt = best;
    return out;
  });
  return changed ? chosen : undefined;
}
