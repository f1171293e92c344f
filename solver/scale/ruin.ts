// Ruin and recreate: a large-neighbourhood move on a remat plan. A run of the plan's
// recomputations goes at once (a window of them in sequence order, of random width); without
// them, the earlier copies of their values stay on the device up to the reads they served.
// The local search of improve.ts then drops what the lighter sequence no longer needs, at its
// own peak, and the repair descent (descent.ts) brings it back within the budget in steps,
// choosing other recomputations. The result replaces the plan when it is cheaper.
// The exchange descent (exchange.ts) removes one recomputation at a time and must repair it at
// once, within what the removal saved; recomputations that only pay together stay. On
// resnet50 at 30 % of its no-remat peak, the plans of auto's search recompute the
// backward pass of the last stages once more, to make weight gradients after the first
// stages' backward; 60 s of ruin and recreate from such a plan (1.7566 x baseCost) reached
// 1.6820, where 240 s of the other moves reached 1.7478. auto's search while it waits for
// the closure bound and its final search run it before their descents too, with most of
// their time (multistart.ts, ruinFirst): there auto's 60 s plans were 1.65-1.71.
import type { IndexedGraph } from '../graph/validate.js';
import { RUIN_MAX_SHARE, RUIN_MIN_SHARE, RUIN_SEED } from '../limits.js';
import { seededRandom } from '../util/random.js';
import { repairDescent } from './descent.js';
import { improveSequence } from './improve.js';
import { profileOf } from './sequence.js';

/** Options of ruin and recreate. */
export interface RuinOptions {
  /** Date.now() after which no new move starts (a running descent stops too). */
  deadline: number;
  signal?: AbortSignal;
  /** Seed of the windows' draws (a later round of a search passes another). */
  seed?: number;
  /** Stop once a plan costs at most this (a proven bound, or baseCost). */
  stopAt?: number;
  /** Stop after this many moves (tests use it instead of time). */
  maxMoves?: number;
  /** Stop after this many accepted moves (the scale search renews the time after each). */
  maxAccepted?: number;
  /** Called before each move: the caller hands the event loop back there. */
  pause?: () => Promise<void>;
}

/** The cheapest sequence found (the input when no move helped), its figures, and the moves tried and accepted. */
export interface Ruined {
  sequence: number[];
  cost: number;
  peak: number;
  tried: number;
  accepted: number;
}

/** The positions of a sequence that compute a value again. */
function recomputedPositions(sequence: readonly number[]): number[] {
  const seen = new Set<number>();
  const positions: number[] = [];
  sequence.forEach((node, at) => {
    if (seen.has(node)) positions.push(at);
    seen.add(node);
  });
  return positions;
}

/**
 * Ruin and recreate from a legal sequence within `available` bytes (residentBytes excluded)
 * until the deadline: the file comment. Every accepted sequence is legal, within
 * `available` and cheaper than the one before.
 */
export async function ruinAndRecreate(
  graph: IndexedGraph,
  input: readonly number[],
  available: number,
  options: RuinOptions,
): Promise<Ruined> {
  const start = profileOf(graph, input);
  if (typeof start === 'string' || start.peak > available)
    throw new Error('ruinAndRecreate: the starting sequence is illegal or exceeds the budget');
  let best = { sequence: input.slice(), cost: start.cost, peak: start.peak };
  const random = seededRandom(RUIN_SEED + (options.seed ?? 0));
  let tried = 0;
  let accepted = 0;
  const stopped = () =>
    options.signal?.aborted === true ||
    Date.now() > options.deadline ||
    best.cost <= (options.stopAt ?? 0) ||
    tried >= (options.maxMoves ?? Infinity) ||
    accepted >= (options.maxAccepted ?? Infinity);
  // The best plan's recomputed positions, found again only when a move replaces it.
  let again = recomputedPositions(best.sequence);
  while (!stopped()) {
    await options.pause?.();
    if (again.length === 0) break;
    tried++;
    const share = RUIN_MIN_SHARE + (RUIN_MAX_SHARE - RUIN_MIN_SHARE) * random();
    const width = Math.max(1, Math.floor(again.length * share));
    const first = Math.floor(random() * Math.max(1, again.length - width + 1));
    const removed = new Set(again.slice(first, first + width));
    // Removing a recomputation keeps the sequence legal: an earlier copy serves its reads.
    const ruined = best.sequence.filter((_, at) => !removed.has(at));
    const profile = profileOf(graph, ruined);
    if (typeof profile === 'string') continue;
    const lighter = improveSequence(graph, ruined, Math.max(profile.peak, available), {
      deadline: options.deadline,
      signal: options.signal,
    });
    // The descent only adds recomputations on the whole: a start that costs as much already loses.
    if (lighter.cost >= best.cost) continue;
    const descended = await repairDescent(graph, available, { deadline: options.deadline, signal: options.signal, from: lighter.sequence });
    if (!descended?.reached) continue;
    const recreated = improveSequence(graph, descended.sequence, available, { deadline: options.deadline, signal: options.signal });
    if (recreated.cost < best.cost * (1 - Number.EPSILON * 16) && recreated.peak <= available) {
      best = { sequence: recreated.sequence, cost: recreated.cost, peak: recreated.peak };
      again = recomputedPositions(best.sequence);
      accepted++;
    }
  }
  return { ...best, tried, accepted };
}
