// auto: the portfolio. The fast baselines first, then (without a host link) the scale
// search from their plans, then Checkmate's LP relaxation with two-phase rounding, then the
// exact MILP warm-started from the best in-order plan so far, until the time limit or the
// relative gap, and local search with whatever time is left. It returns the best valid plan and the best proven
// bound, and reports every improving plan and bound through onProgress. What it runs is
// chosen by size and time left: the LP relaxation needs the WASM heap of a few hundred
// nodes at most and the exact MILP rarely closes beyond ~100 nodes, but the best plan
// found so far is always returned.
import { indexGraph, type IndexedGraph } from '../graph/validate.js';
import { buildCheckmate, estimateCheckmateSize, type CheckmateFormulation } from '../milp/checkmate.js';
import { runCheckmateLp, runCheckmateMilp, type ReplayedPlan } from '../milp/checkmate-solve.js';
import { boundScope, type SolverInfo } from '../plan-schema.js';
import { coveringRows, rowsBound } from '../scale/bound.js';
import { coveringBound } from '../scale/covering.js';
import { LOCAL_SEARCH_SECONDS, scaleImprove } from '../scale/portfolio.js';
import { simulateIndexed, type IndexedStep } from '../schedule/simulate.js';
import { BASELINES } from './baselines.js';
import { capuchin } from './capuchin.js';
import { solveSwapMilp } from './swap-milp.js';
import type { Strategy, StrategyContext, StrategyOutcome } from './types.js';
import { vdnnAll, vdnnConv } from './vdnn.js';

/** Beyond this many nonzeros the formulation is not built (the 2 GiB WASM heap). */
export const LP_MAX_NONZEROS = 2_500_000;
/** Beyond this many nodes the exact MILP is not tried. */
export const MILP_MAX_NODES = 200;
/** Below this many seconds left, a solver phase is skipped. */
const MIN_PHASE_SECONDS = 1;

/** Runs each strategy, replays its schedule, and keeps the cheapest within the budget. */
export async function bestOf(context: StrategyContext, strategies: readonly Strategy[]): Promise<StrategyOutcome & { from?: string }> {
  let best: { outcome: StrategyOutcome & { kind: 'schedule' }; makespan: number; from: string } | null = null;
  let smallestPeak = Infinity;
  for (const strategy of strategies) {
    if (context.signal?.aborted) break;
    if (strategy.usesTransfer && !context.transfer) continue;
    const outcome = await strategy.run(context);
    if (outcome.kind === 'infeasible') {
      if (outcome.smallestPeakBytes !== undefined) smallestPeak = Math.min(smallestPeak, outcome.smallestPeakBytes);
      continue;
    }
    const replay = simulateIndexed(context.graph, outcome.steps, { transfer: context.transfer });
    if (!replay.ok) continue;
    smallestPeak = Math.min(smallestPeak, replay.figures.peakBytes);
    if (replay.figures.peakBytes > context.budgetBytes) continue;
    if (!best || replay.figures.makespan < best.makespan) {
      best = { outcome, makespan: replay.figures.makespan, from: strategy.name };
      context.onProgress?.({
        kind: 'incumbent',
        elapsedSeconds: (Date.now() - context.startedAt) / 1000,
        makespan: replay.figures.makespan,
        peakBytes: replay.figures.peakBytes,
        strategy: strategy.name,
      });
    }
  }
  if (best) return { ...best.outcome, from: best.from, message: `best of the portfolio: ${best.from}` };
  return {
    kind: 'infeasible',
    smallestPeakBytes: Number.isFinite(smallestPeak) ? smallestPeak : undefined,
    message: 'no strategy of the portfolio fits the budget',
  };
}

/** Seconds the covering MILP of the recomputation bound may take at most (it needs well under one on the benchmarks). */
export const COVERING_SECONDS = 5;

/** The baselines auto starts from: heuristics, and the swap heuristics when a link is given. */
export const AUTO_BASELINES: readonly Strategy[] = [...BASELINES, vdnnAll, vdnnConv, capuchin];

/** The portfolio's state: the best plan, the best bound, what ran. */
class Portfolio {
  best: { steps: IndexedStep[]; makespan: number; peakBytes: number; from: string } | null = null;
  /** The best plan with first computations in graph order: the MILP's warm start (a reordered plan cannot be one). */
  inOrder: { steps: IndexedStep[]; makespan: number } | null = null;
  bound: { makespan: number; source: string } | undefined;
  /** The best bound of every schedule (baseCost, recompute-bound): what is left when a plan beats a class bound. */
  trueBound: { makespan: number; source: string } | undefined;
  smallestPeak = Infinity;
  solver: SolverInfo | undefined;
  proven = false;
  timedOut = false;
  notes: string[] = [];

  constructor(private readonly context: StrategyContext) {}

  elapsed(): number {
    return (Date.now() - this.context.startedAt) / 1000;
  }

  /** Seconds left, less a margin for what happens outside the solvers' own clocks (passing models, extraction). */
  left(): number {
    const margin = Math.min(2, 0.05 * this.context.timeLimitSeconds);
    return this.context.timeLimitSeconds - margin - this.elapsed();
  }

  gap(): number | undefined {
    if (!this.best || !this.bound) return undefined;
    return this.best.makespan > 0 ? Math.max(0, (this.best.makespan - this.bound.makespan) / this.best.makespan) : 0;
  }

  /** True once the best plan is proven within the relative gap asked for. */
  closed(): boolean {
    const gap = this.gap();
    return gap !== undefined && gap <= this.context.relativeGap;
  }

  offer(plan: { steps: IndexedStep[]; makespan: number; peakBytes: number }, from: string): void {
    if (firstComputations(plan.steps).every((node, at) => node === at) && (!this.inOrder || plan.makespan < this.inOrder.makespan))
      this.inOrder = plan;
    if (this.best && plan.makespan >= this.best.makespan) return;
    this.best = { ...plan, from };
    // A plan below a bound of Checkmate's class comes from outside the class: that bound
    // says nothing of it.
    if (this.bound && boundScope(this.bound.source) === 'checkmate-class' && plan.makespan < this.bound.makespan)
      this.bound = this.trueBound;
    this.context.onProgress?.({
      kind: 'incumbent',
      elapsedSeconds: this.elapsed(),
      makespan: plan.makespan,
      peakBytes: plan.peakBytes,
      bound: this.bound?.makespan,
      gap: this.gap(),
      strategy: from,
    });
  }

  /** Takes a proven lower bound on the makespan (remat-only bounds are valid only without a host link). */
  offerBound(makespan: number, source: string): void {
    if (this.context.transfer) return;
    const floor = Math.max(makespan, this.context.graph.baseCost);
    if (boundScope(source) === 'all-schedules') {
      if (!this.trueBound || floor > this.trueBound.makespan) this.trueBound = { makespan: floor, source };
    } else if (this.best && floor > this.best.makespan) {
      return;
    }
    if (this.bound && floor <= this.bound.makespan) return;
    this.bound = { makespan: floor, source };
    this.context.onProgress?.({
      kind: 'bound',
      elapsedSeconds: this.elapsed(),
      bound: floor,
      makespan: this.best?.makespan,
      gap: this.gap(),
      strategy: source,
    });
  }

  phase(message: string): void {
    this.notes.push(message);
    this.context.onProgress?.({ kind: 'phase', elapsedSeconds: this.elapsed(), message });
  }
}

/** The nodes of a schedule in the order of their first computations. */
export function firstComputations(steps: readonly IndexedStep[]): number[] {
  const seen = new Set<number>();
  const order: number[] = [];
  for (const step of steps) {
    if (step.op !== 'compute' || seen.has(step.node)) continue;
    seen.add(step.node);
    order.push(step.node);
  }
  return order;
}

/**
 * The graph with its nodes listed in `order` (a topological order), so that Checkmate's
 * class, whose first computations follow the listing, becomes the class of that order.
 * `toOriginal` maps a schedule of the reordered graph back; `fromOriginal` the other way.
 */
export function reorderedGraph(
  graph: IndexedGraph,
  order: readonly number[],
): {
  graph: IndexedGraph;
  toOriginal: (steps: readonly IndexedStep[]) => IndexedStep[];
  fromOriginal: (steps: readonly IndexedStep[]) => IndexedStep[];
} {
  const position = new Int32Array(graph.size);
  order.forEach((node, at) => (position[node] = at));
  const reordered = indexGraph({ ...graph.graph, nodes: order.map((node) => graph.graph.nodes[node]) }, { maxNodes: graph.size });
  return {
    graph: reordered,
    toOriginal: (steps) => steps.map((step) => ({ ...step, node: order[step.node] })),
    fromOriginal: (steps) => steps.map((step) => ({ ...step, node: position[step.node] })),
  };
}

/**
 * The order the exact MILP should follow: the listed one, unless the best plan so far
 * computes nodes first in another order and beats every plan in the listed order (the
 * scale search's reorderings on graphs listed level by level, as Moccasin's are). Then
 * Checkmate's class in that plan's order holds a plan at least as good, and the MILP
 * searches there, warm-started from it.
 */
function milpOrder(graph: IndexedGraph, portfolio: Portfolio): number[] | undefined {
  const best = portfolio.best;
  if (!best || (portfolio.inOrder && portfolio.inOrder.makespan <= best.makespan)) return undefined;
  const order = firstComputations(best.steps);
  if (order.length !== graph.size || order.every((node, at) => node === at)) return undefined;
  return order;
}

/** A remat plan's replay as the portfolio's figures (the makespan with the request's link). */
function replayed(
  graph: IndexedGraph,
  plan: ReplayedPlan,
  context: StrategyContext,
): { steps: IndexedStep[]; makespan: number; peakBytes: number } | undefined {
  const replay = simulateIndexed(graph, plan.steps, { transfer: context.transfer });
  if (!replay.ok || replay.figures.peakBytes > context.budgetBytes) return undefined;
  return { steps: plan.steps, makespan: replay.figures.makespan, peakBytes: replay.figures.peakBytes };
}

/** Builds the formulation when its size allows; undefined when it is too large. */
function formulationFor(context: StrategyContext, graph: IndexedGraph): CheckmateFormulation | undefined {
  // Estimate before building: building a model past the limit alone takes seconds.
  if (estimateCheckmateSize(graph, context.formulation).nonzeros > LP_MAX_NONZEROS * 1.2) return undefined;
  const form = buildCheckmate(graph, { budgetBytes: context.budgetBytes, variant: context.formulation });
  return form.model.nonzeroCount <= LP_MAX_NONZEROS ? form : undefined;
}

/** The portfolio run. */
async function runAuto(context: StrategyContext): Promise<StrategyOutcome> {
  const graph = context.graph;
  const portfolio = new Portfolio(context);
  portfolio.offerBound(graph.baseCost, 'baseCost');
  // The recomputation bound (solver/scale/bound.ts) holds for every remat-only schedule
  // (swaps escape its argument): its best row alone, then all its rows at once and integral,
  // as a small covering MILP (solver/scale/covering.ts), often tighter.
  const rows = context.transfer ? null : coveringRows(graph, context.budgetBytes);
  if (rows) {
    const remat = rowsBound(graph, rows);
    if (remat.infeasible) {
      return { kind: 'infeasible', proven: true, message: 'auto: the recomputation bound proves that no remat plan fits the budget' };
    }
    portfolio.offerBound(remat.makespan, 'recompute-bound');
    const seconds = Math.min(COVERING_SECONDS, 0.1 * context.timeLimitSeconds);
    if (rows.length > 0 && seconds > 0 && !context.signal?.aborted) {
      const covering = await coveringBound(graph, rows, { timeLimitSeconds: seconds, signal: context.signal });
      if (covering !== undefined) portfolio.offerBound(covering, 'recompute-bound');
    }
  }

  // 1. The fast baselines.
  portfolio.phase('baselines');
  for (const strategy of AUTO_BASELINES) {
    if (context.signal?.aborted) break;
    if (strategy.usesTransfer && !context.transfer) continue;
    const outcome = await strategy.run(context);
    if (outcome.kind === 'infeasible') {
      if (outcome.smallestPeakBytes !== undefined) portfolio.smallestPeak = Math.min(portfolio.smallestPeak, outcome.smallestPeakBytes);
      continue;
    }
    const replay = simulateIndexed(graph, outcome.steps, { transfer: context.transfer });
    if (!replay.ok) continue;
    portfolio.smallestPeak = Math.min(portfolio.smallestPeak, replay.figures.peakBytes);
    if (replay.figures.peakBytes <= context.budgetBytes) {
      portfolio.offer({ steps: outcome.steps, makespan: replay.figures.makespan, peakBytes: replay.figures.peakBytes }, strategy.name);
    }
  }

  // 1b. Without a host link: the scale search (greedy remat, reordering, local search) from
  // the baselines' plans, for a share of the time (more where the MILP will not run).
  if (!context.transfer) {
    const share = graph.size <= MILP_MAX_NODES ? 0.2 : 0.5;
    await improveLocally(context, portfolio, Math.min(LOCAL_SEARCH_SECONDS, share * context.timeLimitSeconds) - portfolio.elapsed());
  }

  // 2. The LP relaxation and its rounding.
  let form: CheckmateFormulation | undefined;
  if (!context.signal?.aborted && !portfolio.closed() && portfolio.left() > MIN_PHASE_SECONDS) {
    form = formulationFor(context, graph);
    if (!form) portfolio.phase(`checkmate-lp skipped: ${graph.size} nodes is beyond the formulation's size limit`);
  }
  if (form && !context.signal?.aborted && !portfolio.closed() && portfolio.left() > MIN_PHASE_SECONDS) {
    portfolio.phase('checkmate-lp');
    // The LP gets at most 40 % of what is left (90 % when the MILP will be skipped).
    const lp = await runCheckmateLp({
      graph,
      budgetBytes: context.budgetBytes,
      variant: context.formulation,
      formulation: form,
      timeLimitSeconds: Math.max(MIN_PHASE_SECONDS, portfolio.left() * (graph.size <= MILP_MAX_NODES ? 0.4 : 0.9)),
      signal: context.signal,
    });
    portfolio.solver = lp.solver;
    if (lp.bound !== undefined) portfolio.offerBound(lp.bound, 'lp');
    if (lp.smallestPeakBytes !== undefined) portfolio.smallestPeak = Math.min(portfolio.smallestPeak, lp.smallestPeakBytes);
    if (lp.best) {
      const plan = replayed(graph, lp.best, context);
      if (plan) portfolio.offer(plan, 'checkmate-lp');
    }
    if (lp.solve.stop === 'timeLimit') portfolio.timedOut = true;
    if (lp.solve.stop === 'error') portfolio.phase(`checkmate-lp failed: ${lp.solve.error ?? 'solver error'}`);
  }

  // 3. The exact MILP, warm-started from the best remat plan so far. On training graphs a
  // first MILP that recomputes forward nodes only (much smaller, often optimal quickly)
  // looks for plans; its bound is not a bound of the class, so only the full one's counts.
  if (form && graph.size <= MILP_MAX_NODES && !context.signal?.aborted && !portfolio.closed() && portfolio.left() > MIN_PHASE_SECONDS) {
    // With a host link, half of what is left goes to swap-milp (phase 4).
    const milpSeconds = context.transfer ? portfolio.left() / 2 : portfolio.left();
    const milpDeadline = Date.now() + milpSeconds * 1000;
    const secondsTo = (deadline: number) => Math.max(0, (deadline - Date.now()) / 1000);
    // Checkmate's class follows the listed order, or the best plan's order when that plan
    // beats every plan in the listed order (milpOrder). In another order the MILP's plans
    // count, but its bounds and its proof hold for that order's class only: not offered.
    const order = context.transfer ? undefined : milpOrder(graph, portfolio);
    const reordered = order ? reorderedGraph(graph, order) : undefined;
    const milpGraph = reordered?.graph ?? graph;
    const milpForm = reordered ? buildCheckmate(milpGraph, { budgetBytes: context.budgetBytes, variant: context.formulation }) : form;
    const inClass = (plan: ReplayedPlan): ReplayedPlan => (reordered ? { ...plan, steps: reordered.toOriginal(plan.steps) } : plan);
    const suffix = reordered ? " (in the best plan's order)" : '';
    const start = reordered ? reordered.fromOriginal(portfolio.best!.steps) : portfolio.inOrder?.steps;
    const source = `checkmate-milp${suffix}`;
    const onPlan = (plan: ReplayedPlan) => {
      const figures = replayed(graph, inClass(plan), context);
      if (figures) portfolio.offer(figures, source);
    };
    const restricted = milpGraph.recomputable.some((recomputable, node) => recomputable && milpGraph.kind[node] !== 'forward');
    if (restricted && context.formulation === 'tight') {
      portfolio.phase(`${source}, forward recomputation only`);
      const forward = await runCheckmateMilp({
        graph: milpGraph,
        budgetBytes: context.budgetBytes,
        variant: 'tight',
        formulation: buildCheckmate(milpGraph, { budgetBytes: context.budgetBytes, variant: 'tight', recompute: 'forward' }),
        timeLimitSeconds: Math.max(MIN_PHASE_SECONDS, milpSeconds * 0.4),
        relativeGap: context.relativeGap,
        signal: context.signal,
        start,
        onPlan,
      });
      if (forward.best) onPlan(forward.best);
      if (forward.solve.stop === 'timeLimit') portfolio.timedOut = true;
    }
    if (!context.signal?.aborted && !portfolio.closed() && secondsTo(milpDeadline) > MIN_PHASE_SECONDS / 2) {
      portfolio.phase(source);
      const milp = await runCheckmateMilp({
        graph: milpGraph,
        budgetBytes: context.budgetBytes,
        variant: context.formulation,
        formulation: milpForm,
        timeLimitSeconds: secondsTo(milpDeadline),
        relativeGap: context.relativeGap,
        signal: context.signal,
        start,
        onPlan,
        onBound: reordered ? undefined : (bound) => portfolio.offerBound(bound, 'milp'),
      });
      portfolio.solver = milp.solver;
      if (milp.best) onPlan(milp.best);
      if (!reordered && milp.bound !== undefined) portfolio.offerBound(milp.bound, 'milp');
      if (!reordered && milp.solve.stop === 'optimal') portfolio.proven = true;
      if (milp.solve.stop === 'timeLimit') portfolio.timedOut = true;
      if (milp.solve.stop === 'error') portfolio.phase(`checkmate-milp failed: ${milp.solve.error ?? 'solver error'}`);
    }
  } else if (form && graph.size > MILP_MAX_NODES) {
    portfolio.phase(`checkmate-milp skipped: ${graph.size} nodes is beyond ${MILP_MAX_NODES}`);
  }

  // 4. With a host link: the joint remat + swap MILP, started from the best no-swap plan.
  if (
    context.transfer &&
    graph.size <= MILP_MAX_NODES &&
    !context.signal?.aborted &&
    !portfolio.closed() &&
    portfolio.left() > MIN_PHASE_SECONDS
  ) {
    portfolio.phase('swap-milp');
    const slack = portfolio.best ? portfolio.best.makespan - graph.baseCost : undefined;
    const swap = await solveSwapMilp(context, { slack, starts: portfolio.best ? [portfolio.best.steps] : [] });
    if (swap.steps) {
      const replay = simulateIndexed(graph, swap.steps, { transfer: context.transfer });
      if (replay.ok && replay.figures.peakBytes <= context.budgetBytes) {
        portfolio.offer({ steps: swap.steps, makespan: replay.figures.makespan, peakBytes: replay.figures.peakBytes }, 'swap-milp');
      }
    }
    if (swap.stop === 'timeLimit') portfolio.timedOut = true;
    if (swap.stop === 'error') portfolio.phase('swap-milp failed: solver error');
  }

  // 5. Time left (the solvers closed early or were skipped): more local search from the best plan.
  if (!context.transfer) await improveLocally(context, portfolio, portfolio.left() - 0.5);

  const best = portfolio.best;
  if (!best) {
    return {
      kind: 'infeasible',
      smallestPeakBytes: Number.isFinite(portfolio.smallestPeak) ? portfolio.smallestPeak : undefined,
      solver: portfolio.solver,
      message: `auto: no plan within the budget (${portfolio.notes.join('; ')})`,
    };
  }
  const closed = portfolio.closed() || (portfolio.proven && !context.transfer);
  return {
    kind: 'schedule',
    steps: best.steps,
    status: closed ? 'optimal' : portfolio.timedOut ? 'timeLimit' : 'feasible',
    bound: portfolio.bound,
    solver: portfolio.solver,
    message: `auto: best plan from ${best.from} (${portfolio.notes.join('; ')})`,
  };
}

/** Runs the scale search for `seconds` from the portfolio's plans and offers its result. */
async function improveLocally(context: StrategyContext, portfolio: Portfolio, seconds: number): Promise<void> {
  if (context.signal?.aborted || portfolio.closed() || seconds < 0.1) return;
  portfolio.phase('local-search');
  const starts = portfolio.best ? [{ steps: portfolio.best.steps, from: portfolio.best.from }] : [];
  if (portfolio.inOrder && portfolio.inOrder.steps !== portfolio.best?.steps)
    starts.push({ steps: portfolio.inOrder.steps, from: 'in-order' });
  const local = scaleImprove(context, starts, seconds);
  if (local.bound) portfolio.offerBound(local.bound.makespan, local.bound.source);
  if (local.kind !== 'schedule') return;
  const replay = simulateIndexed(context.graph, local.steps, { transfer: context.transfer });
  if (replay.ok && replay.figures.peakBytes <= context.budgetBytes) {
    portfolio.offer({ steps: local.steps, makespan: replay.figures.makespan, peakBytes: replay.figures.peakBytes }, 'local-search');
  }
}

export const auto: Strategy = {
  name: 'auto',
  description:
    'Portfolio: the baselines, then Checkmate LP rounding, then the MILP warm-started from the best plan, within the time limit; the best valid plan and the best bound',
  options: ['timeLimitSeconds', 'relativeGap', 'formulation', 'transfer'],
  run: runAuto,
};
