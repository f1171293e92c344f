// The conformance checks (conformance-suite.ts) for the fast project: every registered
// strategy on the fixtures of at most SMALL_NODES nodes, at 100 %, 80 %, 60 % and 40 % of
// the no-remat peak. On graphs this small the exact solvers finish by proof and the scale
// search by its stall count (an iteration limit), well before the time limit, which is a
// safety net only. Every fixture is in conformance.test.ts (the solver project).
import { describe, expect, it } from 'vitest';
import { STRATEGIES } from '../solver/strategies/registry.js';
import { conformanceSuite, fixtureGraphs } from './conformance-suite.js';

/** The largest fixture the fast project plans with every strategy. */
const SMALL_NODES = 20;

const graphs = fixtureGraphs().filter(([, graph]) => graph.size <= SMALL_NODES);

conformanceSuite(graphs);

describe('the small suite itself', () => {
  it('covers every registered strategy on generated and JSON fixtures', () => {
    expect(STRATEGIES.length).toBeGreaterThanOrEqual(9);
    expect(graphs.some(([name]) => name.startsWith('json:'))).toBe(true);
    expect(graphs.some(([name]) => !name.startsWith('json:'))).toBe(true);
    expect(graphs.length).toBeGreaterThanOrEqual(5);
  });
});
