// auto's phase for graphs with node options: gist and cdma (with a host link), then the
// graph lowered to its encodings and alternatives (schedule/lower.ts) planned by the
// baselines and the scale search; each lowered plan is mapped back,
// replayed in the original graph and offered to auto's incumbent. Two lowerings are
// tried: every eligible form with the fastest implementations, and the forms that need no
// decode with the leanest implementations (the least workspace). The phases that solve
// Checkmate's formulation see the options through the model itself (milp/options.ts).
// When nothing fits, auto's smallest-peak phase searches the lowered graphs too
// (smallestPeakWithOptions): there an encoding holds a saved value in fewer bytes.
import { peakFloor } from '../graph/analysis.js';
import { LOCAL_SEARCH_SECONDS, MILP_MAX_NODES, MIN_LOCAL_SEARCH_SECONDS } from '../limits.js';
import { smallestPeakSearchAsync } from '../scale/smallest-peak.js';
import { eligibleForms, type LoweringChoice, lower, mapBack, preferredImplementations } from '../schedule/lower.js';
import { simulateIndexed } from '../schedule/simulate.js';
import { Clock } from '../util/clock.js';
import { BASELINES } from './baselines.js';
import { capuchin } from './capuchin.js';
import { cdma } from './cdma.js';
import { gist } from './gist.js';
import { Incumbent } from './incumbent.js';
import { scaleImprove } from './local-search.js';
import type { Phase, PhasedRun } from './phases.js';
import type { SearchStart } from '../scale/multistart.js';
import type { StrategyContext } from './types.js';
import { vdnnAll, vdnnConv } from './vdnn.js';

/** The lowerings auto plans: all eligible forms at the fastest implementations that fit the budget, and reader forms at the leanest. */
function loweringChoices(run: PhasedRun): LoweringChoice[] {
  const { graph } = run;
  return [
    { forms: eligibleForms(graph, { decodes: true }), alternatives: preferredImplementations(graph, 'cost', run.context.budgetBytes) },
    { forms: eligibleForms(graph, { decodes: false }), alternatives: preferredImplementations(graph, 'workspace') },
  ];
}

/** A lowering and what its searches found on the lowered graph, for later rounds: their starts, the best plan first, and its makespan. */
interface LoweredSearch {
  choice: LoweringChoice;
  lowered: ReturnType<typeof lower>;
  starts: SearchStart[];
  bestMakespan: number;
}

/** Each run's lowered searches, in the order of loweringChoices. */
const loweredSearches = new WeakMap<PhasedRun, LoweredSearch[]>();

/** Offers a plan of the lowered graph, mapped back, to auto's incumbent. */
function offerLowered(
  run: PhasedRun,
  choice: LoweringChoice,
  lowered: ReturnType<typeof lower>,
  steps: Parameters<typeof mapBack>[2],
  from: string,
): void {
  const mapped = mapBack(run.graph, lowered, steps, choice, run.context.transfer);
  if (mapped) run.incumbent.offer(mapped, `${from} on the lowered graph`);
}

/** Plans one lowering with the baselines (and the scale search without a link) and offers what maps back. */
async function planLowered(run: PhasedRun, choice: LoweringChoice, seconds: number): Promise<void> {
  const { context, graph } = run;
  const lowered = lower(graph, choice);
  const loweredContext: StrategyContext = { ...context, graph: lowered.graph, onProgress: undefined };
  const local = new Incumbent(loweredContext, { progress: false });
  const swapping = context.transfer ? [vdnnAll, vdnnConv, capuchin] : [];
  const fitting = await local.runEach([...BASELINES, ...swapping]);
  for (const candidate of fitting) offerLowered(run, choice, lowered, candidate.steps, candidate.from);
  const starts = local.best ? [local.best, ...fitting.filter((candidate) => candidate !== local.best)] : [...fitting];
  const search: LoweredSearch = { choice, lowered, starts, bestMakespan: local.best?.makespan ?? Infinity };
  loweredSearches.set(run, [...(loweredSearches.get(run) ?? []), search]);
  // Remat plans are plans with a link too: the search runs either way.
  if (seconds < MIN_LOCAL_SEARCH_SECONDS) return;
  const searched = await scaleImprove(loweredContext, fitting, seconds);
  if (searched.kind === 'schedule') {
    offerLowered(run, choice, lowered, searched.steps, 'local-search');
    keepIfCheaper(search, searched.steps, 'local-search', context);
  }
}

/** Puts a plan of the lowered graph first among a lowering's starts when it replays faster than its best; true then. */
function keepIfCheaper(search: LoweredSearch, steps: SearchStart['steps'], from: string, context: StrategyContext): boolean {
  const replay = simulateIndexed(search.lowered.graph, steps, { transfer: context.transfer });
  if (!replay.ok || replay.figures.makespan >= search.bestMakespan) return false;
  search.starts.unshift({ steps, from });
  search.bestMakespan = replay.figures.makespan;
  return true;
}

/**
 * A later round of the options phase's searches (auto's final search, scale/multistart.ts
 * rounds): each lowering's scale search again, from its best plan so far, with that round's
 * seeds, in an equal share of `seconds`. True when a lowering's search found a plan
 * cheaper than its best before (on the lowered graph; what maps back is offered).
 */
export async function improveLoweredAgain(run: PhasedRun, seconds: number, round: number): Promise<boolean> {
  const searches = loweredSearches.get(run) ?? [];
  const deadline = Clock.deadline(seconds);
  let cheaper = false;
  for (const [at, search] of searches.entries()) {
    const share = Clock.secondsTo(deadline) / (searches.length - at);
    if (!run.canRun(share, MIN_LOCAL_SEARCH_SECONDS)) break;
    const loweredContext: StrategyContext = { ...run.context, graph: search.lowered.graph, onProgress: undefined };
    const searched = await scaleImprove(loweredContext, search.starts, share, { round });
    if (searched.kind !== 'schedule') continue;
    offerLowered(run, search.choice, search.lowered, searched.steps, 'local-search');
    if (keepIfCheaper(search, searched.steps, `local-search round ${round}`, run.context)) cheaper = true;
  }
  return cheaper;
}

/** The lowerings that aim at the smallest peak: reader forms, then every eligible form, both at the leanest implementations. */
function leanChoices(run: PhasedRun): LoweringChoice[] {
  const { graph } = run;
  const alternatives = preferredImplementations(graph, 'workspace');
  const choices: LoweringChoice[] = [];
  const seen = new Set<string>();
  for (const decodes of [false, true]) {
    const forms = eligibleForms(graph, { decodes });
    const key = [...forms].join(';');
    if (seen.has(key)) continue;
    seen.add(key);
    choices.push({ forms, alternatives });
  }
  return choices;
}

/**
 * When nothing fits: the smallest-peak search (scale/smallest-peak.ts) on the graph lowered
 * to its encodings at the leanest implementations, each result mapped back and offered (it
 * stops at a plan within the budget), within `seconds`.
 */
export async function smallestPeakWithOptions(run: PhasedRun, seconds: number): Promise<void> {
  const { context, graph, incumbent } = run;
  const deadline = Clock.deadline(seconds);
  const choices = leanChoices(run);
  for (const [at, choice] of choices.entries()) {
    if (incumbent.best || context.signal?.aborted) return;
    const lowered = lower(graph, choice);
    const share = Clock.secondsTo(deadline) / (choices.length - at);
    const found = await smallestPeakSearchAsync(lowered.graph, {
      deadline: Clock.deadline(share),
      floorBytes: peakFloor(lowered.graph),
      enoughBytes: context.budgetBytes,
      climb: graph.size > MILP_MAX_NODES,
      signal: context.signal,
    });
    const mapped = found && mapBack(graph, lowered, found.steps, choice, context.transfer);
    if (mapped) incumbent.offer(mapped, 'smallest-peak on the lowered graph');
  }
}

/** The options phase of auto (see the module comment). */
export const optionsPhase: Phase = {
  name: 'options',
  summary: 'with node options, gist and cdma and the baselines and scale search on the graph lowered to its encodings and alternatives',
  skip: (run) => !run.graph.hasOptions,
  seconds: ({ clock }) => Math.min(LOCAL_SEARCH_SECONDS, clock.ofLimit('options')),
  async run(run, seconds) {
    run.note('options');
    await run.incumbent.runEach([gist, cdma]);
    const choices = loweringChoices(run);
    for (const choice of choices) {
      if (!run.canRun(run.clock.left())) break;
      await planLowered(run, choice, seconds / choices.length);
    }
    return undefined;
  },
};
