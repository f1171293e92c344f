// The recomputation bound's covering problem (solver/scale/bound.ts) solved as a MILP.
// bound.ts proves that every remat-only schedule computes a set R more than once with
//   bytes(T(v) ∩ R) >= need(v) for every node v,
// and so costs at least baseCost + cost(R). It bounds min cost(R) row by row (a fractional
// knapsack per v); here all rows are solved together, with integrality:
//   x[u] (binary, one per recomputable member of some T(v)): u is in R;
//   minimize  sum_u cost(u) x[u]
//   subject to, for each v with need(v) > 0:  sum_{u in T(v)} bytes(u) x[u] >= need(v).
// Every schedule's R is feasible here, so the MILP's proven lower bound (its dual bound,
// valid even when the solve stops at its time limit) is a lower bound on the extra
// compute of every remat-only schedule: a true bound, in any order, not only in
// Checkmate's class. Rows sharing members make it better than the best single row.
import type { IndexedGraph } from '../graph/validate.js';
import { COVERING_BOUND_SHAVE } from '../limits.js';
import { highsBackend } from '../milp/highs-backend.js';
import type { MilpBackend } from '../milp/backend.js';
import { Model } from '../milp/model.js';
import type { CoveringRow } from './bound.js';

/** The covering model of `rows`: one binary per member, one row per node. */
export function coveringModel(graph: IndexedGraph, rows: readonly CoveringRow[]): Model {
  const model = new Model();
  const variable = new Map<number, number>();
  for (const row of rows) {
    for (const member of row.members) {
      if (!variable.has(member)) variable.set(member, model.addBinary(`R_${member}`, graph.cost[member]));
    }
  }
  for (const row of rows) coverNeed(model, graph, row, variable);
  return model;
}

/** The covering row of node v: the recomputed members of T(v) hold at least need(v) bytes. */
function coverNeed(model: Model, graph: IndexedGraph, row: CoveringRow, variable: ReadonlyMap<number, number>): void {
  model.addRow(
    `cover_${row.node}`,
    row.members.map((member) => [variable.get(member)!, graph.bytes[member]] as const),
    row.need,
    Infinity,
  );
}

/** Options of the covering solve. */
export interface CoveringOptions {
  timeLimitSeconds: number;
  signal?: AbortSignal;
  backend?: MilpBackend;
}

/**
 * A lower bound on the makespan of every remat-only schedule from the covering MILP, or
 * undefined when the solve proved nothing (no rows, an error, or no bound in time).
 */
export async function coveringBound(
  graph: IndexedGraph,
  rows: readonly CoveringRow[],
  options: CoveringOptions,
): Promise<number | undefined> {
  if (rows.length === 0) return undefined;
  const model = coveringModel(graph, rows);
  const result = await (options.backend ?? highsBackend()).solve(model, {
    timeLimitSeconds: options.timeLimitSeconds,
    signal: options.signal,
  });
  if (result.stop === 'error' || result.bound === undefined || !Number.isFinite(result.bound)) return undefined;
  // A hair below the solver's figure, so its tolerances never lift the bound above the optimum.
  const extra = Math.max(0, result.bound) * (1 - COVERING_BOUND_SHAVE);
  return graph.baseCost + extra;
}
