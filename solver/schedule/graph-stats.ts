// A graph's statistics before planning: sizes, base cost, the no-remat peak and the
// proven floors (POST /v1/analyze, the CLI's header).
import { articulationPoints, forwardNodes, peakFloor } from '../graph/analysis.js';
import type { IndexedGraph } from '../graph/validate.js';
import { noRematPeak } from './no-remat.js';

/** A graph's statistics before planning. */
export interface GraphStats {
  nodes: number;
  edges: number;
  forwardNodes: number;
  baseCost: number;
  residentBytes: number;
  keepBytes: number;
  noRematPeakBytes: number;
  floorBytes: number;
  floorWithSwapsBytes: number;
  articulationPoints: number;
}

/** Computes GraphStats. */
export function graphStats(graph: IndexedGraph): GraphStats {
  let keepBytes = 0;
  for (let node = 0; node < graph.size; node++) if (graph.keep[node]) keepBytes += graph.bytes[node];
  return {
    nodes: graph.size,
    edges: graph.edgeCount,
    forwardNodes: forwardNodes(graph).length,
    baseCost: graph.baseCost,
    residentBytes: graph.residentBytes,
    keepBytes,
    noRematPeakBytes: noRematPeak(graph),
    floorBytes: peakFloor(graph),
    floorWithSwapsBytes: peakFloor(graph, { swaps: true }),
    articulationPoints: articulationPoints(graph).length,
  };
}
