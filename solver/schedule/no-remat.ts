// The no-remat schedule (every node once, in order, each value freed after its last use)
// and its replayed peak, which budget fractions refer to.
import { lastUses } from '../graph/analysis.js';
import type { IndexedGraph } from '../graph/validate.js';
import { type IndexedStep, simulateIndexed } from './simulate.js';

/**
 * The checkpoint-all schedule: every node once in order, each value freed right after
 * its last use (keep nodes never; a value with no user right after it is computed).
 */
export function noRematSteps(graph: IndexedGraph): IndexedStep[] {
  const last = lastUses(graph);
  const freeAfter: number[][] = Array.from({ length: graph.size }, () => []);
  for (let node = 0; node < graph.size; node++) {
    if (graph.keep[node]) continue;
    freeAfter[last[node] === -1 ? node : last[node]].push(node);
  }
  const steps: IndexedStep[] = [];
  for (let node = 0; node < graph.size; node++) {
    steps.push({ op: 'compute', node });
    for (const dead of freeAfter[node]) steps.push({ op: 'free', node: dead });
  }
  return steps;
}

/** Peak bytes of the no-remat schedule (residentBytes included). */
export function noRematPeak(graph: IndexedGraph): number {
  const replay = simulateIndexed(graph, noRematSteps(graph));
  if (!replay.ok) throw new Error(`no-remat schedule is illegal: ${replay.error.message}`);
  return replay.figures.peakBytes;
}
