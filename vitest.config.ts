import { defineConfig } from 'vitest/config';

/**
 * The solver-quality tests (`npm run test:solver`): exact solvers against exhaustive
 * search and against each other, every strategy on every fixture, all under wall-clock
 * limits of seconds per solve. The scale-out tests (`npm run test:scaleout`, test/scaleout/)
 * need Redis and PostgreSQL, which scripts/test-scaleout.sh provides. Every other test file
 * is in the fast default project (`npm test`).
 */
const SOLVER_TESTS = [
  'test/conformance.test.ts',
  'test/milp-checkmate.test.ts',
  'test/milp-strategies.test.ts',
  'test/swap-milp.test.ts',
  'test/bounds-closure.test.ts',
  'test/bounds-relaxation.test.ts',
  'test/bracket.test.ts',
  'test/milp-lns.test.ts',
  'test/swap-convert.test.ts',
  'test/milp-kusumoto.test.ts',
  'test/milp-options.test.ts',
  // The long fuzz run (10,000 requests); the fast project keeps a short one (test/fuzz-api.test.ts).
  'test/fuzz-api.slow.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'fast', include: ['test/**/*.test.ts'], exclude: [...SOLVER_TESTS, 'test/scaleout/**'] } },
      { extends: true, test: { name: 'solver', include: SOLVER_TESTS } },
      // One file at a time: each starts processes and servers of its own.
      { extends: true, test: { name: 'scaleout', include: ['test/scaleout/**/*.test.ts'], fileParallelism: false, testTimeout: 180_000 } },
    ],
  },
});
