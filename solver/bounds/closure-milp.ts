// The closure covering MILP: a lower bound on the makespan of every remat-only schedule
// (no host link, any order), from the closure argument of closure.ts.
//
// Symbols:
//   x[u]      binary, one per recomputable node: u is computed more than once (u in R)
//   e[v][u]   in [0, 1], for the closure row of node v: u is in E(v) (absent at v's first
//             computation, computed after it); e[v][u] <= x[u] when u is an ancestor of v
//   p[v][w]   in [0, 1]: w is in N(v) \ E(v) only because a node of E(v) reads it:
//             p[v][w] >= e[v][u] - e[v][w] for every candidate u of E(v) that reads w
//   z[u]      binary, one per node with a discount (an encoded form that decodes back into
//             the value, on a graph with node options: relaxation.ts): u is encoded at least
//             once, which costs at least price(u) and lets u weigh saving(u) less wherever
//             the rows count it on the device
//   minimize  sum_u cost(u) x[u] + sum_u price(u) z[u]
//                                           (each node of R costs at least once more)
//   cover(v):  sum_{u in A(v)} bytes(u) x[u] >= need(v), with A(v) the recomputable
//             ancestors among the nodes needed after v (ancestry.ts): those outside R are
//             on the device at v's first computation (the rows of solver/scale/bound.ts)
//   closure(v): constant(v) + sum_{needed u} bytes(u) (1 - e[v][u]) + sum_w bytes(w) p[v][w]
//             <= budget, for the nodes v added by separation
//   Each row also counts sum saving(u) z[u] as freed, over every node it may count on the
//   device (its needed nodes and its network's), present there or not: a relaxation.
// With a host link (options.transfer), swaps: a value swapped out and back in is off the
// device between the two, so every node with bytes gets a discount of all its bytes,
// z[u] = u is swapped in at least once, at no price in the objective. Each swapIn reads a
// copy that a swapOut of u made, and both run on the one copy stream before the read, so
// the makespan is at least the copy time of the swapped nodes as well as the compute time:
//   minimize  extra
//   compute:  sum_u cost(u) x[u] <= extra
//   copy:     sum_u 2 (latency + bytes(u) / bandwidth) z[u] <= baseCost + extra
// Every x and z exists from the start there (the two rows must hold all of them).
// Every remat-only schedule within the budget gives a feasible point (R, and each E(v) of
// closure.ts), so the optimum, and the solver's dual bound at any time, is a lower bound
// on the extra compute cost (with a link: on the extra time of every schedule). Given
// integral x, continuous e and p are exact: each closure row then asks whether a minimum
// cut (closure.ts) fits, and that linear program has integral optima. Closure rows are
// added lazily: solve, take the solution's R, add the rows of the nodes whose closure
// minimum with recomputation restricted to R exceeds the budget, and solve again, while
// time is left. Every solve's dual bound is valid (fewer rows, a relaxation), so the best
// of them is reported. With split nodes (options.splits, splitCount), once the plain rows
// are met, the cost moves from each x to its per-interval y and interval rows join
// (interval-closure.ts has their symbols and proof).
import type { IndexedGraph } from '../graph/validate.js';
import {
  CLOSURE_CUTS_PER_ROUND,
  CLOSURE_DEPTH,
  CLOSURE_FIRST_COVER_ROWS,
  CLOSURE_INTERVAL_MIN_GAIN,
  CLOSURE_INTERVAL_STALL_ROUNDS,
  CLOSURE_RESOLVE_MIN_SECONDS,
  CLOSURE_ROUND_GAP,
  CLOSURE_ROUND_SECONDS,
  CLOSURE_ROUND_SHARE,
  CLOSURE_ROWS_PER_ROUND,
  COVERING_BOUND_SHAVE,
  MODEL_COST_RANGE,
} from '../limits.js';
import type { MilpBackend, SolveResult } from '../milp/backend.js';
import { highsBackend } from '../milp/highs-backend.js';
import type { Transfer } from '../schedule/types.js';
import { Model, type Term } from '../milp/model.js';
import { Ancestry, type FirstComputation, firstComputation } from './ancestry.js';
import { type ClosureNetwork, closureMinimum, closureNetwork } from './closure.js';
import { chooseSplits, type IntervalRow, Intervals, intervalRow, splitsAt } from './interval-closure.js';

/** The result of the closure covering bound. */
export interface ClosureBound {
  /** A lower bound on the makespan of every remat-only plan within the budget (>= baseCost). */
  makespan: number;
  /** True when the argument proves that no remat-only plan fits the budget. */
  infeasible: boolean;
  /** Separation rounds run and closure rows in the last model. */
  rounds: number;
  closureRows: number;
  /** True when the last solve was optimal and separation found no violated row: the bound is the closure optimum. */
  exact: boolean;
  /** The recomputed set R of the last solution, ascending: a guide for plan search. */
  recompute: number[];
}

/** Options of the closure bound. */
export interface ClosureBoundOptions {
  timeLimitSeconds: number;
  signal?: AbortSignal;
  backend?: MilpBackend;
  /** At most this many separation rounds (tests use it instead of time). */
  maxRounds?: number;
  depth?: number;
  /** Closure rows per round (default CLOSURE_ROWS_PER_ROUND); the rest of the violated nodes get flow cuts. */
  rowsPerRound?: number;
  /** A shared ancestry of the graph (it is quadratic to build). */
  ancestry?: Ancestry;
  /** Per node, what an encoding saves and costs at least (relaxation.ts); absent: none. */
  discounts?: Discounts;
  /** A host link: the bound covers every schedule that may swap (the file comment); not with `discounts`. */
  transfer?: Transfer;
  /**
   * When the last round leaves nothing to separate but stopped at its time slice, solve that
   * model again with all the time left (for a bound on its own thread, whose time costs the
   * search nothing; default false).
   */
  resolve?: boolean;
  /**
   * Split nodes, each an ancestor of the next (interval-closure.ts): the model then counts
   * recomputations per interval between their first computations, and adds interval rows
   * once the plain rows are met (default none; not with `transfer`).
   */
  splits?: readonly number[];
  /** Without `splits`: this many, chosen by chooseSplits (interval-closure.ts; default none). */
  splitCount?: number;
  /** Without `splits` and `splitCount`: split nodes at these fractions of the backward pass (splitsAt, interval-closure.ts). */
  splitFractions?: readonly number[];
  /**
   * With intervals, a solve takes at most as long as the plain rounds took together (default
   * true); false lets the last solve take all the time left, for a bound that nothing waits for.
   */
  capIntervals?: boolean;
  /** With intervals: called once the plain rows are met, with the plain closure bound as it then stands. */
  onPlain?: (bound: ClosureBound) => void;
  /** Called after each round with its solution's recomputed set (a guide before the bound is in). */
  onRound?: (round: number, recompute: readonly number[]) => void;
}

/** Per node: bytes an encoded form saves at most (0: none) and the least cost of making it. */
export interface Discounts {
  saving: Float64Array;
  price: Float64Array;
}

const firstsCache = new WeakMap<IndexedGraph, { ancestry: Ancestry; firsts: FirstComputation[] }>();

/** The ancestry and first-computation pictures of a graph, built once per graph. */
export function firstComputations(graph: IndexedGraph, ancestry?: Ancestry): { ancestry: Ancestry; firsts: FirstComputation[] } {
  let cached = firstsCache.get(graph);
  if (!cached) {
    const built = ancestry ?? new Ancestry(graph);
    cached = { ancestry: built, firsts: Array.from({ length: graph.size }, (_, node) => firstComputation(built, node)) };
    firstsCache.set(graph, cached);
  }
  return cached;
}

/** A cover row: the recomputable needed ancestors of a node, and the bytes they must free. */
interface CoverRow {
  node: number;
  need: number;
  members: number[];
  /** The needed ancestors, recomputable or not: the nodes the row counts on the device. */
  counted: number[];
}

/** The cover row of v (ancestors needed after its first computation outside R fit beside forced(v)), or null when it needs nothing. */
function coverRow(graph: IndexedGraph, ancestry: Ancestry, first: FirstComputation, budget: number): CoverRow | null {
  let need = first.forced - budget;
  const members: number[] = [];
  const counted: number[] = [];
  for (const member of first.needed) {
    if (!ancestry.isAncestor(member, first.node)) continue;
    need += graph.bytes[member];
    counted.push(member);
    if (graph.recomputable[member]) members.push(member);
  }
  return need > 0 ? { node: first.node, need, members, counted } : null;
}

/** The covering model under construction: x per recomputable node, z per discounted node, cover rows, closure rows. */
class ClosureModel {
  readonly model = new Model();
  readonly x = new Map<number, number>();
  readonly costScale: number;
  /** z[u] per discounted node, created on first use. */
  readonly z = new Map<number, number>();
  private readonly added = new Set<number>();
  /** y[u][0..K] per x, with intervals (interval-closure.ts): the cost is on them. */
  readonly y = new Map<number, number[]>();
  private readonly intervalAdded = new Set<number>();
  private intervals?: Intervals;

  /** With a host link: every x and z made at the start; a later one would be missing from the two rows. */
  private readonly sealed: boolean = false;

  constructor(
    private readonly graph: IndexedGraph,
    private readonly budget: number,
    private readonly discounts?: Discounts,
    transfer?: Transfer,
  ) {
    const copy = transfer ? graph.bytes.map((bytes) => (bytes > 0 ? 2 * (transfer.latency + bytes / transfer.bandwidth) : 0)) : [];
    const maxCost = Math.max(0, ...graph.cost, ...(discounts?.price ?? []), ...copy, transfer ? graph.baseCost : 0);
    this.costScale = maxCost > MODEL_COST_RANGE ? maxCost / MODEL_COST_RANGE : 1;
    if (!transfer) return;
    // The extra time is the objective; recomputations and swaps count through the two rows.
    const extra = this.model.addVariable('extra', { lb: 0, cost: 1 });
    const compute: Term[] = [[extra, -1]];
    const swaps: Term[] = [[extra, -1]];
    for (let node = 0; node < graph.size; node++) {
      if (graph.recomputable[node]) {
        const variable = this.model.addBinary(`x_${node}`, 0);
        this.x.set(node, variable);
        compute.push([variable, graph.cost[node] / this.costScale]);
      }
      if (discounts && discounts.saving[node] > 0) {
        const variable = this.model.addBinary(`z_${node}`, 0);
        this.z.set(node, variable);
        swaps.push([variable, copy[node] / this.costScale]);
      }
    }
    this.model.addRow('compute', compute, -Infinity, 0);
    this.model.addRow('copy', swaps, -Infinity, graph.baseCost / this.costScale);
    this.sealed = true;
  }

  /** The discount terms saving(u) z[u] (scaled by the budget) of the given nodes (each once), z created on first use. */
  discountTerms(...groups: readonly (readonly number[] | Int32Array)[]): Term[] {
    const discounts = this.discounts;
    if (!discounts) return [];
    const terms: Term[] = [];
    for (const node of new Set(groups.flatMap((group) => [...group]))) {
      if (!(discounts.saving[node] > 0)) continue;
      let variable = this.z.get(node);
      if (variable === undefined) {
        if (this.sealed) throw new Error(`closure bound: no z for node ${node}`);
        variable = this.model.addBinary(`z_${node}`, discounts.price[node] / this.costScale);
        this.z.set(node, variable);
      }
      terms.push([variable, discounts.saving[node] / this.budget]);
    }
    return terms;
  }

  /** x[u], created on first use. */
  variable(node: number): number {
    let variable = this.x.get(node);
    if (variable === undefined) {
      if (this.sealed) throw new Error(`closure bound: no x for node ${node}`);
      variable = this.model.addBinary(`x_${node}`, this.graph.cost[node] / this.costScale);
      this.x.set(node, variable);
      if (this.intervals) this.splitVariable(node, variable);
    }
    return variable;
  }

  /**
   * From now on, recomputations count per interval (interval-closure.ts): every x and every
   * later one gets its y, which carry the cost. Until then the model is the plain one.
   */
  splitInto(intervals: Intervals): void {
    this.intervals = intervals;
    for (const [node, variable] of this.x) this.splitVariable(node, variable);
  }

  /** True once the model counts recomputations per interval. */
  get split(): boolean {
    return this.intervals !== undefined;
  }

  /** x[u] <= sum_k y[u][k], the cost moved from x to each y. */
  private splitVariable(node: number, variable: number): void {
    const cost = this.graph.cost[node] / this.costScale;
    this.model.setCost(variable, 0);
    const ys: number[] = [];
    const terms: Term[] = [[variable, 1]];
    for (let k = 0; k <= this.intervals!.count; k++) {
      ys.push(this.model.addBinary(`y_${node}_${k}`, cost));
      terms.push([ys[k], -1]);
    }
    this.y.set(node, ys);
    this.model.addRow(`any_${node}`, terms, -Infinity, 0);
  }

  /** y[u][k] (x[u] and its y created on first use). */
  ys(node: number): number[] {
    this.variable(node);
    return this.y.get(node)!;
  }

  /** True when v's interval row is in the model. */
  hasInterval(node: number): boolean {
    return this.intervalAdded.has(node);
  }

  /** Interval rows in the model. */
  get intervalRowCount(): number {
    return this.intervalAdded.size;
  }

  /** The interval row of v (interval-closure.ts): its candidates leave in a window of intervals, ordered by their reads. */
  interval(row: IntervalRow, counted: readonly number[]): void {
    const { graph, model } = this;
    const intervals = this.intervals!;
    const v = row.node;
    this.intervalAdded.add(v);
    const scale = 1 / this.budget;
    const lo = intervals.lo(v);
    const { nodes, memberCount, canLeave, recomputed, inputs, hi } = row;
    const count = nodes.length;
    // serve[index][k] = f[v][u][k]; sparse over the candidate's window.
    const serve: number[][] = [];
    const present = new Int32Array(count).fill(-1);
    const memory: Term[] = [];
    let right = this.budget - row.constant;
    for (let index = 0; index < count; index++) {
      const node = nodes[index];
      const bytes = graph.bytes[node];
      const variables: number[] = [];
      if (canLeave[index]) {
        const top = index < memberCount ? hi[index] : intervals.count;
        const ys = recomputed[index] ? this.ys(node) : undefined;
        const once: Term[] = [];
        for (let k = lo; k <= top; k++) {
          const variable = model.addVariable(`f_${v}_${node}_${k}`, { lb: 0, ub: 1 });
          variables[k] = variable;
          once.push([variable, 1]);
          if (ys)
            model.addRow(
              `serve_${v}_${node}_${k}`,
              [
                [variable, 1],
                [ys[k], -1],
              ],
              -Infinity,
              0,
            );
        }
        if (once.length > 1) model.addRow(`once_${v}_${node}`, once, -Infinity, 1);
      }
      serve.push(variables);
      if (index < memberCount) {
        for (const variable of variables) if (variable !== undefined) memory.push([variable, -bytes * scale]);
        right -= bytes;
      } else {
        present[index] = model.addVariable(`q_${v}_${node}`, { lb: 0, ub: 1 });
        memory.push([present[index], bytes * scale]);
      }
    }
    for (let index = 0; index < count; index++) {
      if (!canLeave[index]) continue;
      for (const input of inputs[index]) {
        const member = input < memberCount;
        // A member that cannot leave is on the device at tau anyway.
        if (member && !canLeave[input]) continue;
        serve[index].forEach((variable, k) => {
          if (variable === undefined) return;
          const terms: Term[] = [[variable, member ? 1 : -1]];
          if (member) {
            // present = 1 - sum_k' f[w][k']: f[u][k] + sum_{k' > k} f[w][k'] <= 1.
            serve[input].forEach((other, at) => {
              if (other !== undefined && at > k) terms.push([other, 1]);
            });
            if (terms.length > 1) model.addRow(`order_${v}_${nodes[index]}_${nodes[input]}_${k}`, terms, -Infinity, 1);
          } else {
            terms.push([present[input], 1]);
            serve[input].forEach((other, at) => {
              if (other !== undefined && at <= k) terms.push([other, 1]);
            });
            model.addRow(`order_${v}_${nodes[index]}_${nodes[input]}_${k}`, terms, 0, Infinity);
          }
        });
      }
    }
    for (const [variable, coefficient] of this.discountTerms(counted, nodes)) memory.push([variable, -coefficient]);
    model.addRow(`interval_${v}`, memory, -Infinity, right * scale);
  }

  /** The cover row of v: the needed ancestors of v outside R fit beside forced(v). */
  cover(row: CoverRow): void {
    const terms: Term[] = row.members.map((member) => [this.variable(member), this.graph.bytes[member] / this.budget]);
    terms.push(...this.discountTerms(row.counted));
    this.model.addRow(`cover_${row.node}`, terms, row.need / this.budget, Infinity);
  }

  /** True when v's closure row is in the model. */
  has(node: number): boolean {
    return this.added.has(node);
  }

  /**
   * A flow cut of node v (closure.ts, closureMinimum's `blocked`): recomputing the blocked
   * nodes lowers v's closure minimum by at most their weights, so they must cover the excess.
   */
  flowCut(network: ClosureNetwork, counted: readonly number[], weights: ReadonlyMap<number, number>, excess: number): void {
    const node = network.node;
    const terms: Term[] = [...weights].map(([member, weight]) => [this.variable(member), weight / this.budget]);
    terms.push(...this.discountTerms(counted, network.nodes));
    this.model.addRow(`flow_${node}_${this.model.rowCount}`, terms, excess / this.budget, Infinity);
  }

  /** The closure row of v (network built with every recomputable node allowed in R). */
  closure(network: ClosureNetwork, counted: readonly number[]): void {
    const { graph, model } = this;
    const v = network.node;
    this.added.add(v);
    const scale = 1 / this.budget;
    const { nodes, memberCount, canLeave, recomputed, readStart, readList } = network;
    const count = nodes.length;
    const leave = new Int32Array(count).fill(-1);
    const present = new Int32Array(count).fill(-1);
    const memory: Term[] = [];
    let right = this.budget - network.constant;
    for (let index = 0; index < count; index++) {
      const node = nodes[index];
      const bytes = graph.bytes[node];
      if (canLeave[index]) {
        leave[index] = model.addVariable(`e_${v}_${node}`, { lb: 0, ub: 1 });
        if (recomputed[index]) {
          model.addRow(
            `link_${v}_${node}`,
            [
              [leave[index], 1],
              [this.variable(node), -1],
            ],
            -Infinity,
            0,
          );
        }
      }
      if (index < memberCount) {
        memory.push([leave[index], -bytes * scale]);
        right -= bytes;
      } else {
        present[index] = model.addVariable(`p_${v}_${node}`, { lb: 0, ub: 1 });
        memory.push([present[index], bytes * scale]);
      }
    }
    for (let index = 0; index < count; index++) {
      if (leave[index] < 0) continue;
      for (let at = readStart[index]; at < readStart[index + 1]; at++) {
        const input = readList[at];
        const terms: Term[] = [
          [present[input], 1],
          [leave[index], -1],
        ];
        if (leave[input] >= 0) terms.push([leave[input], 1]);
        model.addRow(`need_${v}_${nodes[index]}_${nodes[input]}`, terms, 0, Infinity);
      }
    }
    for (const [variable, coefficient] of this.discountTerms(counted, nodes)) memory.push([variable, -coefficient]);
    model.addRow(`closure_${v}`, memory, -Infinity, right * scale);
  }
}

/** The solve of a model without variables: optimal at 0, or infeasible when a row's bounds exclude 0. */
function emptyModelResult(model: Model): Pick<SolveResult, 'stop' | 'bound' | 'hasSolution' | 'values' | 'objective'> {
  for (let row = 0; row < model.rowCount; row++) {
    const { lb, ub } = model.row(row);
    if (lb > 0 || ub < 0) return { stop: 'infeasible', hasSolution: false };
  }
  return { stop: 'optimal', bound: 0, hasSolution: true, values: new Float64Array(0), objective: 0 };
}

/**
 * The closure covering bound of a graph at `budgetBytes` (residentBytes included); see
 * the file comment. Undefined when no solve proved anything (an error, no bound in time).
 */
export async function closureBound(
  graph: IndexedGraph,
  budgetBytes: number,
  options: ClosureBoundOptions,
): Promise<ClosureBound | undefined> {
  const started = Date.now();
  const left = () => options.timeLimitSeconds - (Date.now() - started) / 1000;
  const { ancestry, firsts } = firstComputations(graph, options.ancestry);
  const depth = options.depth ?? CLOSURE_DEPTH;
  const proof = (rounds: number, closureRows: number): ClosureBound => ({
    makespan: Infinity,
    infeasible: true,
    rounds,
    closureRows,
    exact: true,
    recompute: [],
  });
  // Rows whose cover is needed at all; a node whose closure minimum with every
  // recomputable node droppable exceeds the budget proves that nothing fits.
  const active = firsts.filter((first) => first.forced + first.needed.reduce((sum, member) => sum + graph.bytes[member], 0) > budgetBytes);
  if (active.length === 0) return { makespan: graph.baseCost, infeasible: false, rounds: 0, closureRows: 0, exact: true, recompute: [] };
  for (const first of active) {
    if (first.forced > budgetBytes) return proof(0, 0);
  }
  // With a host link every node with bytes may be swapped out: a discount of all of it.
  const transfer = options.transfer;
  if (transfer && options.discounts) throw new Error('closure bound: a host link and node discounts together are not supported');
  const discounts = transfer ? { saving: Float64Array.from(graph.bytes), price: new Float64Array(graph.size) } : options.discounts;
  const splits =
    options.splits ??
    (options.splitCount ? chooseSplits(graph, options.splitCount) : options.splitFractions ? splitsAt(graph, options.splitFractions) : []);
  const intervals = splits.length && !transfer ? new Intervals(ancestry, splits) : undefined;
  const form = new ClosureModel(graph, budgetBytes, discounts, transfer);
  // Cover rows are cheap to check: the neediest start the model, the violated ones join
  // at each separation round (fewer rows are a relaxation, so every round's bound holds).
  const covers = active
    .map((first) => coverRow(graph, ancestry, first, budgetBytes))
    .filter((row): row is CoverRow => row !== null)
    .sort((a, b) => b.need - a.need);
  const pendingCovers = new Set(covers.slice(CLOSURE_FIRST_COVER_ROWS));
  for (const row of covers.slice(0, CLOSURE_FIRST_COVER_ROWS)) form.cover(row);
  const backend = options.backend ?? highsBackend();
  let best: number | undefined;
  // Interval rounds in a row that raised the bound by less than CLOSURE_INTERVAL_MIN_GAIN.
  let stalled = 0;
  // The longest a solve may take (set when the model splits).
  let roundCap = Infinity;
  let exact = false;
  let rounds = 0;
  let closureRows = 0;
  let recompute: number[] = [];
  const maxRounds = options.maxRounds ?? Infinity;
  const rowsPerRound = options.rowsPerRound ?? CLOSURE_ROWS_PER_ROUND;
  const networks = new Map<number, ClosureNetwork>();
  // Per node, the last interval each member of its row may be served in (interval rows).
  const windows = new Map<number, Map<number, number>>();
  const networkOf = (first: FirstComputation) => {
    let network = networks.get(first.node);
    if (!network) {
      network = closureNetwork(ancestry, first, { depth });
      networks.set(first.node, network);
    }
    return network;
  };
  const windowOf = (intervals: Intervals, first: FirstComputation, network: ClosureNetwork) => {
    let window = windows.get(first.node);
    if (!window) {
      window = new Map();
      for (let index = 0; index < network.memberCount; index++) {
        const member = network.nodes[index];
        window.set(member, intervals.memberWindow(member, first.node));
      }
      windows.set(first.node, window);
    }
    return window;
  };
  // Set when the model is solved again, unchanged, with all the time left (below).
  let resolving = false;
  for (; rounds < maxRounds && left() > 0.05 && !options.signal?.aborted; ) {
    rounds++;
    // Each round needs a good R and a dual bound, not a proof: a small gap and a share of the
    // time keep the later rounds possible. A re-solve takes all that is left; both at most roundCap.
    const roundSeconds = Math.min(
      roundCap,
      resolving ? left() : Math.max(0.05, Math.min(left(), Math.max(CLOSURE_ROUND_SECONDS, CLOSURE_ROUND_SHARE * left()))),
    );
    // A model without variables (no row can be met by recomputing) has the empty R as its
    // optimum, unless one of its rows asks more than the forced bytes leave: then nothing fits.
    const result: Pick<SolveResult, 'stop' | 'bound' | 'hasSolution' | 'values' | 'objective'> =
      form.model.variableCount === 0
        ? emptyModelResult(form.model)
        : await backend.solve(form.model, {
            timeLimitSeconds: roundSeconds,
            relativeGap: CLOSURE_ROUND_GAP,
            signal: options.signal,
          });
    if (result.stop === 'infeasible') return proof(rounds, closureRows);
    if (result.stop === 'error') break;
    const before = best ?? 0;
    if (result.bound !== undefined && Number.isFinite(result.bound)) {
      const extra = Math.max(0, result.bound) * form.costScale * (1 - COVERING_BOUND_SHAVE);
      best = Math.max(best ?? 0, extra);
    }
    // Interval rows that stop raising the bound end it: their MILPs are harder than the
    // plain ones, and the time they would take is the caller's wait (mobilenet_v2 at 30 %:
    // none of 4 rounds raised it).
    if (form.intervalRowCount > 0) {
      stalled = (best ?? 0) - before < CLOSURE_INTERVAL_MIN_GAIN * graph.baseCost ? stalled + 1 : 0;
      if (stalled >= CLOSURE_INTERVAL_STALL_ROUNDS) break;
    }
    const resolved = resolving;
    resolving = false;
    if (!result.hasSolution || !result.values) break;
    // Separation: the nodes whose closure minimum, with recomputation within the solution's R, exceeds the budget.
    const values = result.values;
    // With intervals x may sit below its y: R is where some y is set.
    const recomputedIn = (node: number, from: number, to: number) => {
      const ys = form.y.get(node);
      if (!ys) return false;
      for (let k = from; k <= to; k++) if (values[ys[k]] > 0.5) return true;
      return false;
    };
    const inR = (node: number) => {
      if (intervals && form.split) return recomputedIn(node, 0, intervals.count);
      const variable = form.x.get(node);
      return variable !== undefined && values[variable] > 0.5;
    };
    recompute = [...form.x.keys()].filter(inR).sort((a, b) => a - b);
    options.onRound?.(rounds, recompute);
    // What the solution's encoded nodes take off a row that counts `nodes` (each once).
    const discounted = (...groups: readonly (readonly number[] | Int32Array)[]) => {
      if (!discounts) return 0;
      let bytes = 0;
      for (const node of new Set(groups.flatMap((group) => [...group]))) {
        const variable = form.z.get(node);
        if (variable !== undefined && values[variable] > 0.5) bytes += discounts.saving[node];
      }
      return bytes;
    };
    const violated: { network: ClosureNetwork; first: FirstComputation; excess: number; weights: Map<number, number> }[] = [];
    for (const first of active) {
      if (form.has(first.node)) continue;
      const network = networkOf(first);
      const minimum = closureMinimum(network, graph, (node) => !inR(node));
      const excess = minimum.bytes - budgetBytes;
      if (excess > 0 && excess > discounted(first.needed, network.nodes))
        violated.push({ network, first, excess, weights: minimum.blocked });
    }
    let coversAdded = 0;
    for (const row of pendingCovers) {
      let freed = 0;
      for (const member of row.members) if (inR(member)) freed += graph.bytes[member];
      if (freed + discounted(row.counted) >= row.need) continue;
      form.cover(row);
      pendingCovers.delete(row);
      coversAdded++;
    }
    // Once the plain rows are met, the model counts recomputations per interval (the same
    // optimum until interval rows join), and from its next solution on, the interval rows
    // of the nodes whose closure minimum, with each recomputation allowed only in its
    // window's intervals, exceeds the budget.
    let intervalRows = 0;
    if (intervals && violated.length === 0 && coversAdded === 0) {
      if (!form.split) {
        options.onPlain?.({
          makespan: graph.baseCost + (best ?? 0),
          infeasible: false,
          rounds,
          closureRows,
          exact: result.stop === 'optimal',
          recompute,
        });
        form.splitInto(intervals);
        // A solve with intervals, a re-solve included, takes at most as long as the plain
        // rounds took together: a bound whose plain rows were met quickly does not hold its
        // caller long for intervals that raise nothing (a captured ResNet-18 at 70 %: the
        // plain bound at 3.1 s, the bound with intervals, the same, at 10.2 s; without the
        // cap auto waited for it to 23.4 s).
        if (options.capIntervals ?? true) roundCap = Math.max(CLOSURE_ROUND_SECONDS, options.timeLimitSeconds - left());
        continue;
      }
      const late: { first: FirstComputation; excess: number }[] = [];
      for (const first of active) {
        if (form.hasInterval(first.node)) continue;
        const network = networkOf(first);
        const lo = intervals.lo(first.node);
        // Members are served by their window's end, the nodes they read by the last interval.
        const window = windowOf(intervals, first, network);
        const minimum = closureMinimum(network, graph, (node) => !recomputedIn(node, lo, window.get(node) ?? intervals.count));
        const excess = minimum.bytes - budgetBytes;
        if (excess > 0 && excess > discounted(first.needed, network.nodes)) late.push({ first, excess });
      }
      late.sort((a, b) => b.excess - a.excess);
      for (const { first } of late.slice(0, rowsPerRound)) {
        form.interval(intervalRow(graph, ancestry, intervals, first, depth), first.needed);
        intervalRows++;
      }
      closureRows += intervalRows;
    }
    if (violated.length === 0 && coversAdded === 0 && intervalRows === 0) {
      exact = result.stop === 'optimal';
      // Nothing to separate, but the round stopped at its slice: its dual bound is all
      // there is, and the rest of the time would go unused. The same model once more, with
      // all of it, raises the bound (and may find an R that separates again).
      if (options.resolve && !exact && !resolved && left() >= CLOSURE_RESOLVE_MIN_SECONDS) {
        resolving = true;
        continue;
      }
      break;
    }
    violated.sort((a, b) => b.excess - a.excess);
    violated.forEach(({ network, first, excess, weights }, rank) => {
      if (rank < rowsPerRound) {
        form.closure(network, first.needed);
        closureRows++;
      } else if (rank < CLOSURE_CUTS_PER_ROUND) {
        form.flowCut(network, first.needed, weights, excess);
      }
    });
  }
  if (best === undefined) return undefined;
  return { makespan: graph.baseCost + best, infeasible: false, rounds, closureRows, exact, recompute };
}
