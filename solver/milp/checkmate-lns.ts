// Large-neighbourhood search with Checkmate's exact MILP: the plan's stages outside a
// window stay as they are, and the MILP re-plans the window's stages exactly (what each of
// them recomputes, keeps and frees), with what is kept into the window and out of it fixed,
// warm-started from the plan. The window moves over the stages that recompute most, and
// its size adapts to what HiGHS closes in its time slice: it grows after a quick proof and
// shrinks after a time-out. A window's plan is merged into the stages, extracted and
// replayed by the simulator; it replaces the plan only when it is legal, within the budget
// and faster. The plan must be in Checkmate's class of its graph's order (the caller
// relabels a reordered plan's graph, schedule/reorder.ts).
import type { IndexedGraph } from '../graph/validate.js';
import { LNS_MAX_WINDOW, LNS_MIN_WINDOW, LNS_SLICE_SECONDS, LNS_START_WINDOW } from '../limits.js';
import type { IndexedStep } from '../schedule/simulate.js';
import type { MilpBackend } from './backend.js';
import { buildCheckmate, keptFromStages, stagesOf, type CheckmateVariant } from './checkmate.js';
import { type ReplayedPlan, replayWithin, warmStartValues } from './checkmate-solve.js';
import { canonicalStages, scheduleFromStages } from './extract.js';
import { highsBackend } from './highs-backend.js';

/** Options of the search. */
export interface LnsOptions {
  graph: IndexedGraph;
  budgetBytes: number;
  variant: CheckmateVariant;
  /** The plan to improve (first computations in graph order). */
  start: readonly IndexedStep[];
  /** Date.now() after which no new window is solved. */
  deadline: number;
  /** Seconds one window's MILP may take at most (default LNS_SLICE_SECONDS). */
  sliceSeconds?: number;
  /** Stages per window to start with (default LNS_START_WINDOW). */
  window?: number;
  /** Stop after this many windows (tests use it instead of time). */
  maxWindows?: number;
  signal?: AbortSignal;
  backend?: MilpBackend;
  onPlan?: (plan: ReplayedPlan) => void;
}

/** What the search did: its best plan (undefined when the start was not usable), windows solved and accepted. */
export interface LnsResult {
  best?: ReplayedPlan;
  windows: number;
  improved: number;
}

/**
 * The result of re-planning stages from..to of `stages` exactly: the merged stages and
 * their replayed plan, or undefined when the MILP found nothing better in its time.
 */
export async function solveWindow(
  options: Pick<LnsOptions, 'graph' | 'budgetBytes' | 'variant' | 'signal' | 'backend'> & {
    stages: readonly (readonly number[])[];
    from: number;
    to: number;
    timeLimitSeconds: number;
  },
): Promise<{ stages: number[][]; plan: ReplayedPlan | undefined; proven: boolean }> {
  const { graph, stages, from, to } = options;
  const kept = keptFromStages(graph, stages);
  const members = (row: Uint8Array) => {
    const list: number[] = [];
    for (let node = 0; node < row.length; node++) if (row[node]) list.push(node);
    return list;
  };
  const form = buildCheckmate(graph, {
    budgetBytes: options.budgetBytes,
    variant: options.variant,
    window: { from, to, keptBefore: from > 0 ? members(kept[from]) : [], keptAfter: to + 1 < graph.size ? members(kept[to + 1]) : [] },
  });
  const start = warmStartValues(form, stages);
  const solve = await (options.backend ?? highsBackend()).solve(form.model, {
    timeLimitSeconds: options.timeLimitSeconds,
    start: start ?? undefined,
    signal: options.signal,
  });
  const merged = stages.map((nodes) => [...nodes]);
  if (!solve.hasSolution || !solve.values) return { stages: merged, plan: undefined, proven: solve.stop === 'optimal' };
  const window = stagesOf(form, solve.values);
  for (let t = from; t <= to; t++) merged[t] = window[t];
  const plan = replayWithin(graph, scheduleFromStages(graph, merged), options.budgetBytes);
  return { stages: merged, plan, proven: solve.stop === 'optimal' };
}

/** Runs the search (see the file comment). */
export async function checkmateLns(options: LnsOptions): Promise<LnsResult> {
  const { graph } = options;
  const first = canonicalStages(graph, options.start);
  const startPlan = first && replayWithin(graph, scheduleFromStages(graph, first), options.budgetBytes);
  if (!first || !startPlan) return { windows: 0, improved: 0 };
  let stages = first;
  let best = startPlan;
  let size = Math.min(options.window ?? LNS_START_WINDOW, graph.size);
  let windows = 0;
  let improved = 0;
  const slice = options.sliceSeconds ?? LNS_SLICE_SECONDS;
  const done = () => options.signal?.aborted === true || Date.now() > options.deadline || windows >= (options.maxWindows ?? Infinity);
  // Rounds over the stages, the ones that recompute most first; a round with no
  // improvement ends the search.
  while (!done()) {
    const extra = stages.map((nodes, t) => nodes.reduce((sum, node) => sum + (node === t ? 0 : graph.cost[node]), 0));
    const centres = extra
      .map((cost, t) => ({ cost, t }))
      .filter(({ cost }) => cost > 0)
      .sort((a, b) => b.cost - a.cost || a.t - b.t)
      .map(({ t }) => t);
    if (centres.length === 0) break;
    let roundImproved = false;
    const covered = new Uint8Array(graph.size);
    for (const centre of centres) {
      if (done()) break;
      if (covered[centre]) continue;
      const from = Math.max(0, Math.min(centre - Math.floor(size / 2), graph.size - size));
      const to = Math.min(graph.size - 1, from + size - 1);
      for (let t = from; t <= to; t++) covered[t] = 1;
      const seconds = Math.min(slice, (options.deadline - Date.now()) / 1000);
      if (seconds <= 0) break;
      const started = Date.now();
      const result = await solveWindow({ ...options, stages, from, to, timeLimitSeconds: seconds });
      windows++;
      if (result.plan && result.plan.computeCost < best.computeCost) {
        stages = result.stages;
        best = result.plan;
        improved++;
        roundImproved = true;
        options.onPlan?.(best);
      }
      // A quick proof: try larger windows; a time-out: smaller ones.
      const spent = (Date.now() - started) / 1000;
      if (result.proven && spent < slice / 3) size = Math.min(LNS_MAX_WINDOW, graph.size, Math.ceil(size * 1.5));
      else if (!result.proven) size = Math.max(LNS_MIN_WINDOW, Math.floor(size / 1.5));
    }
    if (!roundImproved) break;
  }
  return { best, windows, improved };
}
