// gist: Gist's fixed encoding rules (Jain et al., "Gist: Efficient Data Encoding for Deep
// Neural Network Training", ISCA 2018) on a graph's node options. Every node is computed
// once in execution order, as checkpoint-all does; each value that has an eligible
// encoding is encoded after its last use by a node that is not a backward node and
// dropped, and its backward users read the encoded form (Gist's binarized ReLU masks) or,
// for a form they cannot read, get the value back by a decode right before the first of
// them (Gist's lossless sparse storage). Eligible (schedule/lower.ts): smaller than the
// value, every backward user after that last use, and each one a reader of the form or
// the form decodable; the smallest such form that needs no decode is preferred. Two plans
// are tried, with decodes and with reader forms only; without any eligible form the plan
// is checkpoint-all's.
import { eligibleForms, lower, mapBack } from '../schedule/lower.js';
import { noRematSteps } from '../schedule/no-remat.js';
import { Incumbent } from './incumbent.js';
import type { Strategy } from './types.js';

/** Gist's encodings on the no-remat schedule. */
export const gist: Strategy = {
  name: 'gist',
  description:
    "Gist's rules: compute each node once and keep, after each value's last forward use, its smallest eligible encoding instead " +
    '(readers read it, others get the value back by a decode)',
  options: [],
  run(context) {
    const { graph } = context;
    const incumbent = new Incumbent(context, { ties: 'lower-peak', progress: false });
    const seen = new Set<string>();
    for (const decodes of [true, false]) {
      const forms = eligibleForms(graph, { decodes });
      const key = [...forms].join(';');
      if (forms.size === 0 || seen.has(key)) continue;
      seen.add(key);
      const choice = { forms };
      const lowered = lower(graph, choice);
      const steps = mapBack(graph, lowered, noRematSteps(lowered.graph), choice);
      if (steps) incumbent.offer(steps, 'gist');
    }
    if (seen.size === 0) incumbent.offer(noRematSteps(graph), 'gist (no eligible encoding)');
    return incumbent.sweepOutcome('gist');
  },
};
