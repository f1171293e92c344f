// plan(graph, request) -> Plan: resolve the budget, answer at once below the floor, run
// the strategy, replay its schedule in the simulator and build the Plan from the replay.
import { z } from 'zod';
import { BudgetSchema, budgetBytes as bytesOfBudget, type ResolvedBudget } from './budget.js';
import { MemplanError } from './errors.js';
import { roundBoundUp } from './bounds/integral.js';
import { assertFinite } from './finite.js';
import { peakFloor } from './graph/analysis.js';
import { noRematPeak } from './schedule/no-remat.js';
import { DEFAULT_TIME_LIMIT_SECONDS, MAX_STRATEGY_NAME_LENGTH, MAX_TIME_LIMIT_SECONDS, OPTIMAL_GAP } from './limits.js';
import type { IndexedGraph } from './graph/validate.js';
import { boundHolds, boundScope, type Plan, type PlanStatus } from './plan-schema.js';
import { type IndexedStep, simulateIndexed, toSchedule } from './schedule/simulate.js';
import { TransferSchema, type Transfer } from './schedule/types.js';
import { getStrategy, strategyNames } from './strategies/registry.js';
import type { ProgressEvent, StrategyContext, StrategyOutcome } from './strategies/types.js';
import { StopSignal } from './util/stop.js';

/**
 * Host-link presets, assuming costs in microseconds: bandwidth in bytes per microsecond
 * (1 byte/us = 1 MB/s), latency in microseconds per copy. Bandwidths are what a pinned
 * host buffer sustains in one direction, about 75-80 % of the link's raw rate:
 * - pcie3: PCIe 3.0 x16, 15.75 GB/s raw, 12 GB/s sustained;
 * - pcie4: PCIe 4.0 x16, 31.5 GB/s raw, 25 GB/s sustained;
 * - pcie5: PCIe 5.0 x16, 63 GB/s raw, 50 GB/s sustained;
 * - nvlink-c2c: Grace Hopper's chip-to-chip link, 450 GB/s per direction, 400 GB/s sustained.
 * The latency is the fixed cost of one asynchronous copy (launch and DMA setup), about
 * 10 us over PCIe and less over the coherent C2C link. With these figures a 1 MiB copy
 * takes about 97 us over pcie3, 52 us over pcie4, 31 us over pcie5 and 8 us over nvlink-c2c.
 */
export const TRANSFER_PRESETS = {
  pcie3: { bandwidth: 12_000, latency: 10 },
  pcie4: { bandwidth: 25_000, latency: 10 },
  pcie5: { bandwidth: 50_000, latency: 10 },
  'nvlink-c2c': { bandwidth: 400_000, latency: 5 },
} as const satisfies Record<string, Transfer>;

export { BudgetSchema };

export const PlanOptionsSchema = z
  .object({
    budget: BudgetSchema,
    strategy: z.string().max(MAX_STRATEGY_NAME_LENGTH).default('auto').describe('A name from GET /v1/strategies'),
    timeLimitSeconds: z
      .number()
      .positive()
      .max(MAX_TIME_LIMIT_SECONDS)
      .default(DEFAULT_TIME_LIMIT_SECONDS)
      .describe('Wall-clock limit for optimizers, in seconds (a service may set a lower cap)'),
    relativeGap: z.number().min(0).max(1).default(0.0001).describe('Stop once the proven gap is below this'),
    formulation: z.enum(['tight', 'plain']).default('tight').describe('MILP variant: tight rows and pruning, or plain'),
    transfer: z
      .union([TransferSchema, z.enum(Object.keys(TRANSFER_PRESETS) as [keyof typeof TRANSFER_PRESETS])])
      .optional()
      .describe('Host link for swapping: {bandwidth, latency} or a preset'),
  })
  .meta({ id: 'PlanOptions' });

export type PlanOptions = z.input<typeof PlanOptionsSchema>;
/** A budget resolved to {fraction} or {bytes} (BudgetSchema's output). */
export type Budget = ResolvedBudget;

export interface PlanHooks {
  /** Stops the solve when it aborts (read through the strategy's StopSignal). */
  signal?: AbortSignal;
  /** Shared stop flags set by another thread (a thread-pool task's flag): read synchronously. */
  stopFlags?: readonly Int32Array[];
  onProgress?: (event: ProgressEvent) => void;
  /** Schedules to start from (auto offers them first); one that does not replay legally with the request's link is left out. */
  seeds?: readonly IndexedStep[][];
}

/** Resolves a budget to bytes (a fraction is of the no-remat peak). */
export function resolveBudget(graph: IndexedGraph, budget: Budget, peak = noRematPeak(graph)): number {
  return bytesOfBudget(budget, peak);
}

/** Resolves a transfer preset name or object. */
export function resolveTransfer(transfer: PlanOptions['transfer']): Transfer | undefined {
  if (transfer === undefined) return undefined;
  if (typeof transfer === 'string') return { ...TRANSFER_PRESETS[transfer] };
  return { bandwidth: transfer.bandwidth, latency: transfer.latency ?? 0 };
}

/**
 * Plans a validated graph under a request; every figure comes from the simulator. Throws
 * MEMPLAN_ERR_NON_FINITE_FIGURE rather than return a plan with a non-finite figure.
 */
export async function plan(graph: IndexedGraph, rawOptions: PlanOptions, hooks: PlanHooks = {}): Promise<Plan> {
  const parsed = PlanOptionsSchema.safeParse(rawOptions);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.join('.') || '(root)';
    if (issue.path[0] === 'budget') throw new MemplanError('MEMPLAN_ERR_INVALID_BUDGET', { detail: `${path}: ${issue.message}` });
    throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path, detail: issue.message });
  }
  const options = parsed.data;
  const strategy = getStrategy(options.strategy);
  if (!strategy) throw new MemplanError('MEMPLAN_ERR_UNKNOWN_STRATEGY', { strategy: options.strategy, known: strategyNames().join(', ') });
  const transfer = resolveTransfer(options.transfer);
  const peak = noRematPeak(graph);
  const budgetBytes = resolveBudget(graph, options.budget, peak);
  const floor = peakFloor(graph, { swaps: transfer !== undefined });
  const common = { strategy: strategy.name, budgetBytes, transfer, floorBytes: floor, noRematPeakBytes: peak };
  if (budgetBytes < floor) {
    return assertFinite('plan', {
      ...common,
      status: 'infeasible',
      smallestPeakBytes: floor,
      smallestBudget: { floorBytes: floor, floorSource: 'contract-floor' },
      message: `the budget ${budgetBytes} is below the proven floor ${floor}: no legal schedule fits`,
      schedule: [],
      nodes: [],
    } satisfies Plan);
  }
  const startedAt = Date.now();
  // The one stop of this solve (util/stop.ts): a cancel through the hooks, or the time limit.
  const signal = new StopSignal({ flags: hooks.stopFlags, parent: hooks.signal, deadline: startedAt + options.timeLimitSeconds * 1000 });
  const context: StrategyContext = {
    graph,
    budgetBytes,
    transfer,
    timeLimitSeconds: options.timeLimitSeconds,
    relativeGap: options.relativeGap,
    formulation: options.formulation,
    signal,
    onProgress: hooks.onProgress,
    startedAt,
    seeds: hooks.seeds?.filter((steps) => simulateIndexed(graph, steps, { transfer }).ok),
  };
  try {
    const outcome = await strategy.run(context);
    // A plan with a non-finite figure is never returned: the numbers were too far apart.
    return assertFinite('plan', finalizePlan(graph, outcome, common));
  } finally {
    signal.dispose();
  }
}

/** Builds the Plan from a strategy's outcome by replaying its schedule. */
export function finalizePlan(
  graph: IndexedGraph,
  outcome: StrategyOutcome,
  common: { strategy: string; budgetBytes: number; transfer?: Transfer; floorBytes?: number; noRematPeakBytes?: number },
): Plan {
  if (outcome.kind === 'infeasible') {
    return {
      ...common,
      status: 'infeasible',
      smallestPeakBytes: outcome.smallestPeakBytes,
      smallestBudget: outcome.smallestBudget,
      message: outcome.message,
      schedule: [],
      nodes: [],
      solver: outcome.solver,
      failures: outcome.failures,
    };
  }
  const replay = simulateIndexed(graph, outcome.steps, { transfer: common.transfer });
  if (!replay.ok) {
    return {
      ...common,
      status: 'error',
      message: `the strategy produced an illegal schedule: ${replay.error.message}`,
      schedule: [],
      nodes: [],
      solver: outcome.solver,
    };
  }
  const figures = replay.figures;
  if (figures.peakBytes > common.budgetBytes) {
    return {
      ...common,
      status: 'infeasible',
      smallestPeakBytes: figures.peakBytes,
      message: outcome.message ?? 'the schedule found exceeds the budget',
      schedule: [],
      nodes: [],
      solver: outcome.solver,
    };
  }
  // A bound of Checkmate's class does not hold for a plan from outside it: when the plan
  // beats it, only baseCost is left to certify the plan (an all-schedules bound above the
  // plan can only be float rounding, and is capped below).
  let outcomeBound = outcome.bound;
  let status: PlanStatus = outcome.status ?? 'feasible';
  // On a graph with node options a bound that ignores them bounds nothing.
  if (outcomeBound && !boundHolds(outcomeBound.source, graph.hasOptions)) {
    outcomeBound = undefined;
    if (status === 'optimal') status = 'feasible';
  }
  if (outcomeBound && boundScope(outcomeBound.source) === 'checkmate-class' && outcomeBound.makespan > figures.makespan) {
    outcomeBound = undefined;
    // Nor does a proof of optimality within the class speak for it.
    if (status === 'optimal') status = 'feasible';
  }
  // Where every makespan is an integer a bound proves the next one (bounds/integral.ts).
  const boundMakespan = Math.min(
    roundBoundUp(graph, common.transfer, Math.max(graph.baseCost, outcomeBound?.makespan ?? 0)),
    figures.makespan,
  );
  const boundSource = outcomeBound && outcomeBound.makespan > graph.baseCost ? outcomeBound.source : 'baseCost';
  const gap = figures.makespan > 0 ? Math.max(0, (figures.makespan - boundMakespan) / figures.makespan) : 0;
  if (gap <= OPTIMAL_GAP) status = 'optimal';
  return {
    ...common,
    status,
    predicted: figures,
    bound: { makespan: boundMakespan, gap, source: boundSource, scope: boundScope(boundSource) },
    message: outcome.message,
    schedule: toSchedule(graph, outcome.steps),
    nodes: replay.counts.map((count, node) => ({ id: graph.ids[node], ...count })),
    solver: outcome.solver,
    failures: outcome.failures,
  };
}
