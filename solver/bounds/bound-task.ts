// The closure bound on its own thread (bound-worker.mjs loads this): the WASM HiGHS solves
// one model at a time and the separation rounds between its solves are plain JavaScript,
// so auto runs the bound here while its search runs on the main thread (both cores busy).
// It serves the thread pool's tasks (util/thread-worker.mjs), so the thread, its loader, its
// modules and its HiGHS thread (kept idle as on any thread, retired once its heap grows
// large: milp/highs-backend.ts) outlive one bound, and the next bound starts at once. A
// task's payload is a BoundRequest (the raw Graph, indexed again here); its result is the
// bound, and its progress messages (BoundProgress) the guides of its rounds and, with
// intervals, the plain bound; a stop request aborts the task's signal, and the bound then
// returns its best dual bound.
import type { Graph } from '../graph/schema.js';
import { indexGraph } from '../graph/validate.js';
import { serveTasks } from '../util/thread-worker.mjs';
import type { ClosureBound } from './closure-milp.js';
import { CLOSURE_TAIL_MIN_EXTRA, CLOSURE_TAIL_MIN_SECONDS, CLOSURE_TAIL_SPLITS } from '../limits.js';
import { closureBoundOf, stronger } from './relaxation.js';

/** A request of the main thread. */
export interface BoundRequest {
  graph: Graph;
  budgetBytes: number;
  timeLimitSeconds: number;
  maxNodes: number;
  /** Split nodes for intervals once the plain rows are met (closure-milp.ts; 0: none). */
  splitCount: number;
  /**
   * Instead of `splitCount`: sets of split nodes, each at fractions of the backward pass, one
   * run per set in turn, each with an equal share of the time left (the last solve of each
   * takes all of its share); the strongest bound counts (a small graph's bound beside its MILP).
   */
  splitSets?: readonly (readonly number[])[];
}

/**
 * What the bound sends back before its result: each separation round's recomputed set while
 * the plain rows are not yet met (a guide for the search, sent when it changes), and the plain
 * bound once they are, when the bound goes on with intervals.
 */
export type BoundProgress = { kind: 'guide'; round: number; recompute: number[] } | { kind: 'plain'; bound: ClosureBound };

serveTasks<BoundRequest, ClosureBound | undefined, BoundProgress>(async (request, context) => {
  const graph = indexGraph(request.graph, { maxNodes: request.maxNodes });
  const started = Date.now();
  if (request.splitSets?.length) {
    let best: ClosureBound | undefined;
    for (const [at, splitFractions] of request.splitSets.entries()) {
      const left = request.timeLimitSeconds - (Date.now() - started) / 1000;
      if (context.signal.aborted || left <= 0 || best?.infeasible) break;
      const bound = await closureBoundOf(graph, request.budgetBytes, {
        timeLimitSeconds: left / (request.splitSets.length - at),
        signal: context.signal,
        resolve: true,
        splitFractions,
        capIntervals: false,
      });
      best = stronger(best, bound);
    }
    return best;
  }
  // This thread's time costs the search on the main thread nothing: once the plain rows are
  // met, the bound may go on with intervals (interval-closure.ts), and a round that stopped
  // at its slice is solved again with the time left (closure-milp.ts). The plain bound, with
  // its recomputed set, goes back as progress then: the search takes its guide from it.
  // Before that, each round's recomputed set goes back as it changes (sameGuide).
  let plainSent = false;
  let lastGuide: readonly number[] = [];
  const spread = await closureBoundOf(graph, request.budgetBytes, {
    timeLimitSeconds: request.timeLimitSeconds,
    signal: context.signal,
    resolve: true,
    splitCount: request.splitCount,
    onRound: (round, recompute) => {
      if (plainSent || recompute.length === 0 || sameGuide(recompute, lastGuide)) return;
      lastGuide = recompute;
      context.progress({ kind: 'guide', round, recompute: [...recompute] });
    },
    onPlain: (bound) => {
      plainSent = true;
      context.progress({ kind: 'plain', bound });
    },
  });
  const left = request.timeLimitSeconds - (Date.now() - started) / 1000;
  if (!spread || spread.infeasible || request.splitCount === 0 || context.signal.aborted || left < CLOSURE_TAIL_MIN_SECONDS) return spread;
  // Near the floor (the bound already well above baseCost), with the time left, the bound
  // again with its splits at the end of the backward pass, where the gradients held leave the
  // least room and plans recompute values twice; its last solve takes all the time left.
  // Every split set gives a valid bound: the stronger one counts (CLOSURE_TAIL_SPLITS has the
  // figures). Elsewhere the caller would wait for it for nothing.
  if (spread.makespan < (1 + CLOSURE_TAIL_MIN_EXTRA) * graph.baseCost) return spread;
  const tail = await closureBoundOf(graph, request.budgetBytes, {
    timeLimitSeconds: left,
    signal: context.signal,
    resolve: true,
    splitFractions: CLOSURE_TAIL_SPLITS,
    capIntervals: false,
  });
  return stronger(spread, tail);
});

/** True when two ascending node lists are the same. */
function sameGuide(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((node, at) => node === b[at]);
}
