import { defineConfig } from 'vitest/config';

/**
 * The solver-quality tests (`npm run test:solver`): exact solvers against exhaustive
 * search and against each other, every strategy on every fixture, all under wall-clock
 * limits of seconds per solve. Every other test file is in the fast default project
 * (`npm test`).
 */
const SOLVER_TESTS = ['test/conformance.test.ts', 'test/milp-checkmate.test.ts', 'test/milp-strategies.test.ts', 'test/swap-milp.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'fast', include: ['test/**/*.test.ts'], exclude: SOLVER_TESTS } },
      { extends: true, test: { name: 'solver', include: SOLVER_TESTS } },
    ],
  },
});
