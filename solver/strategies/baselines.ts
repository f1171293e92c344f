// The heuristic baselines from the literature, in the order the portfolio tries them.
import { checkpointAll } from './checkpoint-all.js';
import { chenGreedy, chenGreedyAp, chenSqrtn, chenSqrtnAp } from './chen.js';
import { dtr } from './dtr.js';
import { griewank } from './griewank.js';
import { superneurons } from './superneurons.js';
import type { Strategy } from './types.js';

/** Heuristic baselines that need no solver and no host link. */
export const BASELINES: readonly Strategy[] = [
  checkpointAll,
  chenSqrtn,
  chenSqrtnAp,
  chenGreedy,
  chenGreedyAp,
  griewank,
  dtr,
  superneurons,
];
