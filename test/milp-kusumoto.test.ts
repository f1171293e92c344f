// kusumoto-dp against checkmate-milp: its plans are plans of Checkmate's class, so the
// exact MILP's proven optimum is never worse than kusumoto-dp's replayed makespan, on tiny
// random training graphs at several budgets (the model against exhaustive search is in
// kusumoto.test.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { chain, diamond, randomLayered, unetLike } from '../fixtures/generators.js';
import { indexGraph } from '../solver/graph/validate.js';
import { shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { plan } from '../solver/plan.js';
import { checkPlan } from './helpers.js';

afterAll(async () => {
  await shutdownHighsWorkers();
});

const GRAPHS = [
  chain(5, { bytes: (layer) => 60 + ((layer * 53) % 90), cost: (layer) => 3 + ((layer * 7) % 13) }),
  chain(12, { bytes: (layer) => 100 + ((layer * 37) % 60), cost: (layer) => 5 + ((layer * 13) % 11) }),
  chain(16),
  diamond(),
  unetLike(2, 128),
  ...[2, 3, 4].map((seed) => randomLayered({ seed, layers: 3, width: 2 })),
];

describe('kusumoto-dp and checkmate-milp', () => {
  it("kusumoto-dp is never faster than checkmate-milp's proven optimum", async () => {
    let compared = 0;
    let recomputing = 0;
    for (const raw of GRAPHS) {
      const graph = indexGraph(raw);
      for (const fraction of [1, 0.9, 0.8, 0.7]) {
        const options = { budget: { fraction }, timeLimitSeconds: 20, relativeGap: 0 };
        const dp = await plan(graph, { ...options, strategy: 'kusumoto-dp' });
        checkPlan(graph, dp);
        if (!dp.predicted) continue;
        const milp = await plan(graph, { ...options, strategy: 'checkmate-milp' });
        checkPlan(graph, milp);
        if (milp.status !== 'optimal') continue;
        expect(milp.predicted!.makespan, `${graph.graph.name} at ${fraction}`).toBeLessThanOrEqual(dp.predicted.makespan + 1e-9);
        compared++;
        if (dp.predicted.computeCost > graph.baseCost) recomputing++;
      }
    }
    expect(compared).toBeGreaterThan(10);
    expect(recomputing).toBeGreaterThan(3);
  });
});
