// swap-milp: rematerialization and swapping decided together by the MILP of
// solver/milp/swap.ts (Checkmate's stages plus swap-out, swap-in and host residency,
// copy time beyond a stage's compute time counted as stall), solved by HiGHS in a worker.
// The heuristics run first, then the exact remat MILP (checkmate-milp's model) on part of
// the time: the best no-swap plan starts the swap model (its stages, no swaps), and the
// best plan of all (the swapping baselines vdnn-all, vdnn-conv and capuchin included)
// gives a known makespan that prunes swaps too slow to pay off. The model's stages synchronise
// the copy stream with the compute stream, so a heuristic whose copies straddle stages
// can replay faster than the model's class allows: the fastest replayed plan is returned
// and the message says where it came from. Every figure comes from the simulator.
import { FEASIBILITY_TOLERANCE, MILP_MAX_NODES, MIN_SOLVE_SECONDS, MIN_SWAP_MILP_SECONDS } from '../limits.js';
import type { CheckmateFormulation } from '../milp/checkmate.js';
import { runCheckmateMilp, warmStart } from '../milp/checkmate-solve.js';
import { highsBackend } from '../milp/highs-backend.js';
import { buildSwap, extractSwapSchedule, swapObjectiveToCost } from '../milp/swap.js';
import type { IndexedStep } from '../schedule/simulate.js';
import { Clock } from '../util/clock.js';
import { BASELINES } from './baselines.js';
import { capuchin } from './capuchin.js';
import { Incumbent } from './incumbent.js';
import type { Strategy, StrategyContext, StrategyOutcome } from './types.js';
import { transferMissing, vdnnAll, vdnnConv } from './vdnn.js';

/** The swapping heuristics swap-milp competes with and prunes by. */
export const SWAP_BASELINES: readonly Strategy[] = [vdnnAll, vdnnConv, capuchin];

/** Solves the swap MILP for a context; the solution's schedule and the model's objective. */
export async function solveSwapMilp(
  context: StrategyContext,
  options: { slack?: number; starts?: readonly IndexedStep[][] } = {},
): Promise<{
  steps?: IndexedStep[];
  objective?: number;
  stop: string;
  variables: number;
  rows: number;
  nodes: number;
  wallSeconds: number;
}> {
  const { graph, transfer } = context;
  if (!transfer) throw new Error('swap-milp needs a transfer link');
  const form = buildSwap(graph, { budgetBytes: context.budgetBytes, variant: context.formulation, transfer, slack: options.slack });
  const model = form.base.model;
  const start = bestStart(form.base, options.starts ?? [], context.budgetBytes);
  const result = await highsBackend().solve(model, {
    timeLimitSeconds: Math.max(MIN_SWAP_MILP_SECONDS, Clock.of(context).left()),
    relativeGap: context.relativeGap,
    start,
    signal: context.signal,
  });
  const common = {
    stop: result.stop,
    variables: model.variableCount,
    rows: model.rowCount,
    nodes: result.nodes,
    wallSeconds: result.wallSeconds,
  };
  if (!result.hasSolution || !result.values) return common;
  return { ...common, steps: extractSwapSchedule(form, result.values), objective: swapObjectiveToCost(form, result.objective!) };
}

/** The cheapest feasible model assignment among the stage plans of no-swap schedules (swap variables 0). */
function bestStart(base: CheckmateFormulation, schedules: readonly IndexedStep[][], budgetBytes: number): Float64Array | undefined {
  let chosen: Float64Array | undefined;
  let cheapest = Infinity;
  for (const steps of schedules) {
    const start = warmStart(base, steps, budgetBytes);
    // The swap model's variables were created with the base model's, so the assignment covers them at 0.
    if (!start || base.model.violation(start.values) > FEASIBILITY_TOLERANCE) continue;
    const objective = base.model.objectiveOf(start.values);
    if (objective < cheapest) {
      cheapest = objective;
      chosen = start.values;
    }
  }
  return chosen;
}

/** The joint remat + swap MILP, competing with the heuristics. */
export const swapMilp: Strategy = {
  name: 'swap-milp',
  description: 'Rematerialization and swapping in one MILP on Checkmate stages: copies overlap compute, stalls are paid; HiGHS',
  options: ['transfer', 'timeLimitSeconds', 'relativeGap', 'formulation'],
  usesTransfer: true,
  async run(context): Promise<StrategyOutcome> {
    const { graph, transfer } = context;
    if (!transfer) return transferMissing('swap-milp');
    const incumbent = new Incumbent(context, { label: 'swap-milp' });
    const plain = await incumbent.runEach(BASELINES);
    await incumbent.runEach(SWAP_BASELINES);
    const heuristic = incumbent.best;
    // baseCost bounds every makespan: a heuristic that reaches it is optimal.
    if (heuristic && heuristic.makespan === graph.baseCost) {
      return { kind: 'schedule', steps: heuristic.steps, status: 'optimal', message: `${heuristic.from}'s plan runs in baseCost` };
    }
    if (graph.size > MILP_MAX_NODES) {
      if (!heuristic) {
        return {
          kind: 'infeasible',
          smallestPeakBytes: incumbent.smallestPeakBytes,
          message: `swap-milp: ${graph.size} nodes is beyond the MILP's ${MILP_MAX_NODES}, and no heuristic fits the budget`,
        };
      }
      return {
        kind: 'schedule',
        steps: heuristic.steps,
        message: `swap-milp: ${graph.size} nodes is beyond the MILP's ${MILP_MAX_NODES}; ${heuristic.from}'s plan`,
      };
    }
    // The exact remat MILP first (a smaller model that HiGHS closes sooner), on part of the
    // time: its plan is a candidate and the swap model's starting point.
    const starts = plain
      .slice()
      .sort((a, b) => a.makespan - b.makespan)
      .map((candidate) => candidate.steps);
    const remat = await runCheckmateMilp({
      graph,
      budgetBytes: context.budgetBytes,
      variant: context.formulation,
      timeLimitSeconds: Math.max(MIN_SOLVE_SECONDS, incumbent.clock.ofLeft('swapMilpRemat')),
      relativeGap: context.relativeGap,
      signal: context.signal,
      start: starts[0],
    });
    if (remat.best && incumbent.offer(remat.best.steps, 'checkmate-milp').fits) starts.unshift(remat.best.steps);
    const known = incumbent.best ? incumbent.best.makespan - graph.baseCost : undefined;
    const solved = await solveSwapMilp(context, { slack: known, starts });
    let milpMakespan: number | undefined;
    if (solved.steps) {
      const replayed = incumbent.offer(solved.steps, 'milp');
      if (replayed.fits) milpMakespan = replayed.makespan;
    }
    const solver = {
      name: 'highs',
      version: highsBackend().version,
      wallSeconds: solved.wallSeconds,
      variables: solved.variables,
      rows: solved.rows,
      nodesExplored: solved.nodes,
      stopReason: solved.stop,
    };
    const best = incumbent.best;
    if (!best) {
      return {
        kind: 'infeasible',
        smallestPeakBytes: incumbent.smallestPeakBytes,
        solver,
        message: `swap-milp: no plan within the budget (solver stopped: ${solved.stop})`,
      };
    }
    const from = best.from;
    const milpNote =
      milpMakespan !== undefined ? `the MILP's plan replays at ${milpMakespan}` : `the MILP found no better plan (${solved.stop})`;
    return {
      kind: 'schedule',
      steps: best.steps,
      status: solved.stop === 'timeLimit' ? 'timeLimit' : 'feasible',
      solver,
      message: from === 'milp' ? `the MILP's plan (${solved.stop})` : `${from}'s plan is the fastest; ${milpNote}`,
    };
  },
};
