// The shape of a sweep's curve: which points are Pareto-optimal in (budget, makespan), and
// the knee, past which more memory buys little time.

/** A point of the curve: its budget and, when it has a plan, that plan's makespan. */
export interface CurvePoint {
  budgetBytes: number;
  makespan?: number;
}

/**
 * Indices of the Pareto points of points sorted by increasing budget: those with a plan
 * strictly faster than every plan at a smaller budget (a point whose plan is no faster
 * than a cheaper one is beaten by it).
 */
export function paretoIndices(points: readonly CurvePoint[]): number[] {
  const front: number[] = [];
  let fastest = Infinity;
  points.forEach((point, index) => {
    if (point.makespan !== undefined && point.makespan < fastest) {
      front.push(index);
      fastest = point.makespan;
    }
  });
  return front;
}

/**
 * The knee: the first Pareto point k from which no larger Pareto point buys `slope` or more
 * time per budget, time as a fraction of baseCost and budget as a fraction of the no-remat
 * peak (slope 0.1 is 1 % of time per 10 % of budget). The last Pareto point always
 * qualifies, so there is a knee whenever some point has a plan.
 */
export function kneeIndex(
  points: readonly CurvePoint[],
  pareto: readonly number[],
  scale: { baseCost: number; noRematPeakBytes: number },
  slope: number,
): number | undefined {
  const ratio = (index: number) => points[index].makespan! / scale.baseCost;
  const fraction = (index: number) => points[index].budgetBytes / scale.noRematPeakBytes;
  for (let at = 0; at < pareto.length; at++) {
    const knee = pareto[at];
    const steep = pareto.slice(at + 1).some((later) => (ratio(knee) - ratio(later)) / (fraction(later) - fraction(knee)) >= slope);
    if (!steep) return knee;
  }
  return undefined;
}
