// Request and reply schemas of the sweep routes (src/routes/sweeps.ts), composed from the
// solver's sweep contract (solver/sweep/schema.ts) and the Graph schema.
import { z } from 'zod';
import { GraphSchema } from '../../solver/graph/schema.js';
import { MAX_PLAN_WAIT_SECONDS } from '../../solver/limits.js';
import { ASKS_SOMETHING, asksSomething, SweepOptionsObject } from '../../solver/sweep/schema.js';
import { EXAMPLE_GRAPH } from './index.js';

/**
 * The example sweep of the docs: four budgets from 75 % to 100 % of the example graph's
 * no-remat peak, and the smallest budget within 5 % of baseCost; it is done within the
 * default wait of POST /v1/sweeps (5 s), so "Try it out" shows the result.
 */
export const EXAMPLE_SWEEP_REQUEST = {
  graph: EXAMPLE_GRAPH,
  budgets: { from: '75%', to: '100%', points: 4 },
  strategy: 'auto',
  timeLimitSeconds: 4,
  maxOverhead: '5%',
};

/** POST /v1/sweeps body: a graph and the sweep options of the solver's contract. */
export const SweepRequestSchema = SweepOptionsObject.extend({ graph: GraphSchema }).refine(asksSomething, ASKS_SOMETHING).meta({
  id: 'SweepRequest',
  description: 'A graph, the budgets to plan it at, solver options and the inverse questions',
  example: EXAMPLE_SWEEP_REQUEST,
});
export type SweepRequest = z.input<typeof SweepRequestSchema>;

export const SweepQuerySchema = z.object({
  wait: z.coerce
    .number()
    .min(0)
    .max(MAX_PLAN_WAIT_SECONDS)
    .default(5)
    .describe('Seconds to wait for the result: 200 with it if done by then, else 202 with the job'),
});
