// auto: the portfolio, a list of phases run in order behind one check (canRun in
// phases.ts: not stopped, not yet proven within the gap, time left). Each phase offers its plans and
// bounds to one incumbent, which keeps the best valid plan and the best proven bound and
// reports every improvement through onProgress. What runs is chosen by size and time
// left: the LP relaxation needs the WASM heap of a few hundred nodes at most and the
// exact MILP rarely closes beyond ~100 nodes, but the best plan so far is always returned.
// Every number (size limits, time shares) is in solver/limits.ts.
import {
  AUTO_MARGIN_SECONDS,
  AUTO_MAX_NONZEROS,
  COVERING_SECONDS,
  FINAL_LOCAL_SEARCH_RESERVE_SECONDS,
  LOCAL_SEARCH_SECONDS,
  MILP_MAX_NODES,
  MIN_LOCAL_SEARCH_SECONDS,
  MIN_PHASE_SECONDS,
  TIME_SHARES,
} from '../limits.js';
import { buildCheckmate } from '../milp/checkmate.js';
import { buildWithin, type ReplayedPlan, runCheckmateLp, runCheckmateMilp } from '../milp/checkmate-solve.js';
import { coveringRows, rowsBound } from '../scale/bound.js';
import { coveringBound } from '../scale/covering.js';
import { betterOrder, reorderedGraph } from '../schedule/reorder.js';
import { Clock } from '../util/clock.js';
import { BASELINES } from './baselines.js';
import { capuchin } from './capuchin.js';
import { scaleImprove } from './local-search.js';
import { type Phase, PhasedRun, runPhases } from './phases.js';
import { solveSwapMilp } from './swap-milp.js';
import type { Strategy, StrategyContext, StrategyOutcome } from './types.js';
import { vdnnAll, vdnnConv } from './vdnn.js';

/** The baselines auto starts from: heuristics, and the swap heuristics when a link is given. */
export const AUTO_BASELINES: readonly Strategy[] = [...BASELINES, vdnnAll, vdnnConv, capuchin];

/** Runs the scale search from the best plan and the best in-order plan and offers what it finds. */
async function improveLocally(run: PhasedRun, seconds: number): Promise<undefined> {
  const { incumbent } = run;
  run.note('local-search');
  const starts = incumbent.best ? [{ steps: incumbent.best.steps, from: incumbent.best.from }] : [];
  if (incumbent.inOrder && incumbent.inOrder.steps !== incumbent.best?.steps)
    starts.push({ steps: incumbent.inOrder.steps, from: 'in-order' });
  const local = scaleImprove(run.context, starts, seconds);
  if (local.bound) incumbent.offerBound(local.bound.makespan, local.bound.source);
  if (local.kind === 'schedule') incumbent.offer(local.steps, 'local-search');
  return undefined;
}

/** The exact MILP phase: a forward-only MILP for plans on training graphs, then the full one, in the listed or the best plan's order. */
async function milpPhase(run: PhasedRun): Promise<undefined> {
  const { context, graph, incumbent, form } = run;
  // With a host link, part of what is left goes to swap-milp.
  const milpSeconds = context.transfer ? run.clock.ofLeft('milpWithLink') : run.clock.left();
  const milpDeadline = Clock.deadline(milpSeconds);
  // Checkmate's class follows the listed order, or the best plan's order when that plan
  // beats every plan in the listed order (betterOrder). In another order the MILP's plans
  // count, but its bounds and its proof hold for that order's class only: not offered.
  const order = context.transfer ? undefined : betterOrder(graph, incumbent.best, incumbent.inOrder);
  const reordered = order ? reorderedGraph(graph, order) : undefined;
  const milpGraph = reordered?.graph ?? graph;
  const milpForm = reordered ? buildCheckmate(milpGraph, { budgetBytes: context.budgetBytes, variant: context.formulation }) : form!;
  const common = { graph: milpGraph, budgetBytes: context.budgetBytes, relativeGap: context.relativeGap, signal: context.signal };
  const source = `checkmate-milp${reordered ? " (in the best plan's order)" : ''}`;
  const start = reordered ? reordered.fromOriginal(incumbent.best!.steps) : incumbent.inOrder?.steps;
  const onPlan = (plan: ReplayedPlan) => incumbent.offer(reordered ? reordered.toOriginal(plan.steps) : plan.steps, source);
  // On training graphs a first MILP that recomputes forward nodes only (much smaller, often
  // optimal quickly) looks for plans; its bound is not a bound of the class, so only the full one's counts.
  const restricted = milpGraph.recomputable.some((recomputable, node) => recomputable && milpGraph.kind[node] !== 'forward');
  if (restricted && context.formulation === 'tight') {
    run.note(`${source}, forward recomputation only`);
    const forward = await runCheckmateMilp({
      ...common,
      variant: 'tight',
      formulation: buildCheckmate(milpGraph, { budgetBytes: context.budgetBytes, variant: 'tight', recompute: 'forward' }),
      timeLimitSeconds: Math.max(MIN_PHASE_SECONDS, milpSeconds * TIME_SHARES.milpForward),
      start,
      onPlan,
    });
    if (forward.best) onPlan(forward.best);
    if (forward.solve.stop === 'timeLimit') run.timedOut = true;
  }
  if (!run.canRun(Clock.secondsTo(milpDeadline), MIN_PHASE_SECONDS / 2)) return undefined;
  run.note(source);
  const milp = await runCheckmateMilp({
    ...common,
    variant: context.formulation,
    formulation: milpForm,
    timeLimitSeconds: Clock.secondsTo(milpDeadline),
    start,
    onPlan,
    onBound: reordered ? undefined : (bound) => incumbent.offerBound(bound, 'milp'),
  });
  run.solver = milp.solver;
  if (milp.best) onPlan(milp.best);
  if (!reordered && milp.bound !== undefined) incumbent.offerBound(milp.bound, 'milp');
  if (!reordered && milp.solve.stop === 'optimal') run.proven = true;
  run.stopped('checkmate-milp', milp.solve.stop, milp.solve.error);
  return undefined;
}

/** auto's phases, in order. */
const PHASES: readonly Phase[] = [
  {
    name: 'recompute-bound',
    summary: 'the recomputation bound (with its covering MILP) without a host link',
    async run({ context, graph, incumbent, clock }) {
      incumbent.offerBound(graph.baseCost, 'baseCost');
      // The recomputation bound (scale/bound.ts) holds for every remat-only schedule (swaps
      // escape its argument): its best row alone, then all rows at once and integral as a
      // small covering MILP (scale/covering.ts), often tighter.
      const rows = context.transfer ? null : coveringRows(graph, context.budgetBytes);
      if (!rows) return undefined;
      const remat = rowsBound(graph, rows);
      if (remat.infeasible)
        return { kind: 'infeasible', proven: true, message: 'auto: the recomputation bound proves that no remat plan fits the budget' };
      incumbent.offerBound(remat.makespan, 'recompute-bound');
      const seconds = Math.min(COVERING_SECONDS, clock.ofLimit('covering'));
      if (rows.length === 0 || seconds <= 0 || context.signal?.aborted) return undefined;
      const covering = await coveringBound(graph, rows, { timeLimitSeconds: seconds, signal: context.signal });
      if (covering !== undefined) incumbent.offerBound(covering, 'recompute-bound');
      return undefined;
    },
  },
  {
    name: 'baselines',
    summary: 'the baselines (and vDNN and Capuchin with a host link)',
    async run(run) {
      run.note('baselines');
      await run.incumbent.runEach(AUTO_BASELINES);
      return undefined;
    },
  },
  {
    name: 'scale-search',
    summary: 'the scale search (greedy remat, reordering, local search) from their plans without a link',
    skip: (run) => run.context.transfer !== undefined,
    // A share of the time, more where the MILP will not run.
    seconds: ({ clock, graph }) =>
      Math.min(LOCAL_SEARCH_SECONDS, clock.ofLimit(graph.size <= MILP_MAX_NODES ? 'scaleSearch' : 'scaleSearchWithoutMilp')) -
      clock.elapsed(),
    minSeconds: MIN_LOCAL_SEARCH_SECONDS,
    run: improveLocally,
  },
  {
    name: 'checkmate-lp',
    summary: "Checkmate's LP relaxation with two-phase rounding",
    seconds: ({ clock }) => clock.left(),
    async run(run) {
      const { context, graph, incumbent } = run;
      run.form = buildWithin(graph, { budgetBytes: context.budgetBytes, variant: context.formulation }, AUTO_MAX_NONZEROS);
      if (!run.form) {
        run.note(`checkmate-lp skipped: ${graph.size} nodes is beyond the formulation's size limit`);
        return undefined;
      }
      if (!run.canRun(run.clock.left())) return undefined;
      run.note('checkmate-lp');
      const lp = await runCheckmateLp({
        graph,
        budgetBytes: context.budgetBytes,
        variant: context.formulation,
        formulation: run.form,
        timeLimitSeconds: Math.max(MIN_PHASE_SECONDS, run.clock.ofLeft(graph.size <= MILP_MAX_NODES ? 'lp' : 'lpWithoutMilp')),
        signal: context.signal,
      });
      run.solver = lp.solver;
      if (lp.bound !== undefined) incumbent.offerBound(lp.bound, 'lp');
      incumbent.notePeak(lp.smallestPeakBytes);
      if (lp.best) incumbent.offer(lp.best.steps, 'checkmate-lp');
      run.stopped('checkmate-lp', lp.solve.stop, lp.solve.error);
      return undefined;
    },
  },
  {
    name: 'checkmate-milp',
    summary: "the exact MILP warm-started from the best plan (in that plan's order when it beats every plan in the listed order)",
    skip: (run) => !run.form || (run.graph.size > MILP_MAX_NODES && `${run.graph.size} nodes is beyond ${MILP_MAX_NODES}`),
    seconds: ({ clock }) => clock.left(),
    run: milpPhase,
  },
  {
    name: 'swap-milp',
    summary: 'swap-milp from the best plan with a host link',
    skip: (run) => !run.context.transfer || run.graph.size > MILP_MAX_NODES,
    seconds: ({ clock }) => clock.left(),
    async run(run) {
      const { context, graph, incumbent } = run;
      run.note('swap-milp');
      const best = incumbent.best;
      const swap = await solveSwapMilp(context, {
        slack: best ? best.makespan - graph.baseCost : undefined,
        starts: best ? [best.steps] : [],
      });
      if (swap.steps) incumbent.offer(swap.steps, 'swap-milp');
      run.stopped('swap-milp', swap.stop);
      return undefined;
    },
  },
  {
    name: 'local-search',
    summary: 'local search with the time left',
    skip: (run) => run.context.transfer !== undefined,
    // The solvers closed early or were skipped: more local search from the best plan.
    seconds: ({ clock }) => clock.left() - FINAL_LOCAL_SEARCH_RESERVE_SECONDS,
    minSeconds: MIN_LOCAL_SEARCH_SECONDS,
    run: improveLocally,
  },
];

/** The portfolio run: every phase that applies and can run, then the best plan and bound. */
function runAuto(context: StrategyContext): Promise<StrategyOutcome> {
  const run = new PhasedRun(context, AUTO_MARGIN_SECONDS);
  // The caller's plans (a sweep's plans at smaller budgets) come first: every later phase starts from the best of them.
  for (const seed of context.seeds ?? []) run.incumbent.offer(seed, 'seed');
  return runPhases(run, PHASES, 'auto');
}

export const auto: Strategy = {
  name: 'auto',
  description:
    `Portfolio, within the time limit: ${PHASES.map((phase) => phase.summary).join('; then ')}. ` +
    'The best valid plan and the best proven bound',
  options: ['timeLimitSeconds', 'relativeGap', 'formulation', 'transfer'],
  run: runAuto,
};
