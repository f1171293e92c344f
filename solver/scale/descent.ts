// The repair descent: a remat plan for a budget reached from above, by lowering the budget
// in steps from the no-remat plan of the listed order and repairing the sequence at each
// step (exchange.ts: the values live where the sequence exceeds the step's budget have their
// lifetimes split, each computed again before its next read with the inputs that are gone by
// then, the most excess removed per unit of cost first), then removing what the repaired
// sequence no longer needs (improve.ts). Each step starts from the last step's plan, so the
// recomputations chosen at a larger budget carry down. A repair that fails is tried again
// with half the step, down to REPAIR_DESCENT_MIN_STEP.
// The greedy aims at a budget from nothing and, near the floor, recomputes whole chains at
// once or overshoots; the descent gets there by small corrections. On a captured
// Inception-v3 the greedy in any order found nothing below 42.9 % of the no-remat peak
// (that plan cost 2.61x baseCost after 60 s of local search), and the descent reaches
// 42.9 % at 1.54x and 40 % at 1.66x in under 2 s; the proven floor is 39.0 %. On other
// captures it plans higher budgets dearer than the greedy, and gets stuck above the
// greedy's smallest peak on random layered graphs and an LSTM: the scale search runs it
// where none of its greedy's fixed variants fits, and the smallest-peak search after its
// walk.
import type { IndexedGraph } from '../graph/validate.js';
import {
  REPAIR_DESCENT_FIRST_STEP,
  REPAIR_DESCENT_INPUT_DEPTH,
  REPAIR_DESCENT_MIN_SPLITS,
  REPAIR_DESCENT_MIN_STEP,
  REPAIR_DESCENT_SPLITS,
} from '../limits.js';
import { runYielding } from '../util/yielding.js';
import { repair } from './exchange.js';
import { improveSequence } from './improve.js';
import { listedOrder } from './order.js';
import { profileOf } from './sequence.js';

/** Options of the descent. */
export interface DescentOptions {
  /** Date.now() after which no new repair starts (a running one stops too). */
  deadline: number;
  signal?: AbortSignal;
  /** The sequence to descend from (default the listed order's no-remat plan); it must be legal. */
  from?: readonly number[];
}

/** Where the descent got: the lowest sequence it reached (its peak and cost exact, residentBytes excluded), and whether that is within the target. */
export interface Descended {
  sequence: number[];
  peak: number;
  cost: number;
  reached: boolean;
  /**
   * True when it stopped short of the target because even the smallest step's repair failed
   * (not for want of time): a descent from its sequence to the same target would fail the
   * same way, as the descent is deterministic, and a lower target asks more of each step.
   */
  stuck: boolean;
  /** The target it descended towards (device bytes, residentBytes excluded). */
  available: number;
}

/** The descent as a generator that pauses after each step; see repairDescent. */
export function* descentSteps(graph: IndexedGraph, available: number, options: DescentOptions): Generator<void, Descended | undefined> {
  const from = options.from ?? listedOrder(graph);
  const start = profileOf(graph, from);
  if (typeof start === 'string') return undefined;
  let current = { sequence: from.slice(), peak: start.peak, cost: start.cost };
  const firstStep = Math.max(1, Math.floor(start.peak * REPAIR_DESCENT_FIRST_STEP));
  const minStep = Math.max(1, Math.floor(start.peak * REPAIR_DESCENT_MIN_STEP));
  // A repair's splits at most, in proportion to the square root of its step: a stuck descent
  // fails its smaller steps sooner (on a 4,000-node LSTM each split profiles the whole
  // sequence dozens of times).
  const limits = (step: number) => ({
    inputDepth: REPAIR_DESCENT_INPUT_DEPTH,
    steps: Math.max(REPAIR_DESCENT_MIN_SPLITS, Math.round(REPAIR_DESCENT_SPLITS * Math.sqrt(step / firstStep))),
  });
  const stopped = () => options.signal?.aborted === true || Date.now() > options.deadline;
  let step = firstStep;
  let stuck = false;
  while (current.peak > available && !stopped()) {
    const aim = Math.max(available, current.peak - step);
    const repaired = repair(graph, current.sequence, aim, Infinity, options.deadline, limits(step), options.signal);
    if (repaired) {
      const improved = improveSequence(graph, repaired, aim, { deadline: options.deadline, signal: options.signal });
      current = { sequence: improved.sequence, peak: improved.peak, cost: improved.cost };
      step = firstStep;
    } else {
      // A smaller step asks less of one repair; below the smallest the descent is stuck.
      step = Math.floor(step / 2);
      if (step < minStep) {
        stuck = true;
        break;
      }
    }
    yield;
  }
  return { ...current, reached: current.peak <= available, stuck, available };
}

/**
 * Descends from the listed order's no-remat plan (or `from`) towards `available` device
 * bytes (residentBytes excluded): the file comment. Returns the lowest sequence reached;
 * undefined when the start is not a legal sequence. It hands the event loop back every
 * SEARCH_YIELD_MS.
 */
export function repairDescent(graph: IndexedGraph, available: number, options: DescentOptions): Promise<Descended | undefined> {
  return runYielding(descentSteps(graph, available, options));
}
