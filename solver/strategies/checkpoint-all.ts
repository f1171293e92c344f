// checkpoint-all: compute every node once in execution order and free each value after
// its last use. Its peak is the no-remat peak that budget fractions refer to.
import { noRematSteps } from '../graph/analysis.js';
import { CandidatePicker } from './search.js';
import type { Strategy } from './types.js';

/** Keeps everything: no recomputation, the fastest plan when it fits. */
export const checkpointAll: Strategy = {
  name: 'checkpoint-all',
  description: 'Keep every value until its last use (no recomputation); its peak is the no-remat peak',
  options: [],
  run(context) {
    const picker = new CandidatePicker(context);
    picker.offer(noRematSteps(context.graph));
    return picker.outcome('checkpoint-all');
  },
};
