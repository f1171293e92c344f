// The conformance suite (engine acceptance 1) on every fixture: every registered strategy
// at 100 %, 80 %, 60 % and 40 % of the no-remat peak (conformance-suite.ts). The solver
// project runs it; the fast project runs the same checks on the small fixtures
// (conformance-small.test.ts).
import { describe, expect, it } from 'vitest';
import { plan } from '../solver/plan.js';
import { STRATEGIES } from '../solver/strategies/registry.js';
import { conformanceSuite, fixtureGraphs } from './conformance-suite.js';

const graphs = fixtureGraphs();

conformanceSuite(graphs);

describe('the suite itself', () => {
  it('covers every registered strategy and both kinds of fixture', () => {
    expect(STRATEGIES.length).toBeGreaterThanOrEqual(9);
    expect(graphs.some(([name]) => name.startsWith('json:'))).toBe(true);
    expect(graphs.length).toBeGreaterThanOrEqual(12);
  });

  it('checkpoint-all fits at 100 % on every fixture (its peak defines the fractions)', async () => {
    for (const [, graph] of graphs) {
      const result = await plan(graph, { budget: { fraction: 1 }, strategy: 'checkpoint-all', timeLimitSeconds: 5 });
      expect(result.status).toBe('optimal');
    }
  });
});
