// checkpoint-all: compute every node once in execution order and free each value after
// its last use. Its peak is the no-remat peak that budget fractions refer to.
import { noRematSteps } from '../schedule/no-remat.js';
import { Incumbent } from './incumbent.js';
import type { Strategy } from './types.js';

/** Keeps everything: no recomputation, the fastest plan when it fits. */
export const checkpointAll: Strategy = {
  name: 'checkpoint-all',
  description: 'Keep every value until its last use (no recomputation); its peak is the no-remat peak',
  options: [],
  run(context) {
    const incumbent = new Incumbent(context, { ties: 'lower-peak', progress: false });
    incumbent.offer(noRematSteps(context.graph), 'checkpoint-all');
    return incumbent.sweepOutcome('checkpoint-all');
  },
};
