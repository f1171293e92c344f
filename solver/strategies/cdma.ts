// cdma: vDNN swapping the compressed form (Rhu et al., "Compressing DMA Engine: Leveraging
// Activation Sparsity for Training Deep Neural Networks", HPCA 2018). Each forward output
// with an eligible encoding (as gist chooses it, schedule/lower.ts) is encoded after its
// last forward use and that smaller form crosses the host link: vDNN's offload and
// prefetch (vdnn.ts) run on the lowered graph, where the form is a node of its own, and
// the value comes back by a decode before its first backward user that cannot read the
// form. Outputs without an eligible encoding are offloaded as they are, as vdnn-all does.
import { eligibleForms, lower, mapBack } from '../schedule/lower.js';
import { Incumbent } from './incumbent.js';
import type { Strategy } from './types.js';
import { forwardWindows, transferMissing, vdnnSchedules } from './vdnn.js';

/** vDNN with compressed copies. */
export const cdma: Strategy = {
  name: 'cdma',
  description: 'cDMA: vDNN offloading every forward output, in its smallest eligible encoding where it has one (decoded on the way back)',
  options: ['transfer'],
  usesTransfer: true,
  run(context) {
    const { graph, transfer } = context;
    if (!transfer) return transferMissing('cdma');
    const incumbent = new Incumbent(context, { ties: 'lower-peak', progress: false });
    const choice = { forms: eligibleForms(graph, { decodes: true }) };
    const lowered = lower(graph, choice);
    // What crosses the link: the forms, and the outputs that have none (never a value that has a form, nor a decode).
    const offloaded = (node: number) => {
      const origin = lowered.origins[node];
      return origin.kind === 'encode' || (origin.kind === 'value' && !choice.forms.has(origin.node));
    };
    for (const steps of vdnnSchedules(lowered.graph, forwardWindows(lowered.graph, offloaded))) {
      const mapped = steps && mapBack(graph, lowered, steps, choice, transfer);
      if (mapped) incumbent.offer(mapped, 'cdma');
      else incumbent.giveUp();
    }
    return incumbent.sweepOutcome('cdma');
  },
};
