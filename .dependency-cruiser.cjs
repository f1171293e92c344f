// Dependency rules, checked by `npm run lint` (and so by .ci/run):
// - no import cycles anywhere (type-only imports included);
// - solver/ never imports src/, bench/, test/, fixtures/ or scripts/ (the service, the
//   benchmarks and the tests sit on top of the solver, never under it);
// - solver's folders import downward only, in the order of SOLVER_LAYERS below;
// - no orphan modules except the entry points listed in ENTRY_POINTS.
// test/layering.test.ts shows that a deliberate cycle, an upward import and an import of
// src/ from solver/ each make this rule set fail.
const { existsSync } = require('node:fs');

/**
 * solver's layers, lowest first: a module may import its own layer and the layers below.
 * base: errors, limits, the finite check, the budget parser and small utilities;
 * graph: validation and graph analyses;
 * schedule: the simulator and what needs it; contract: the Plan schema; milp: formulations,
 * LP writer, backend; bounds: the closure bound (minimum cuts, its covering MILP, its
 * worker thread); scale: the recomputation bound and the scale search; strategies:
 * every strategy, the incumbent and auto; entry: plan(); sweep: sweeps and the inverse
 * questions over a budget axis, which call strategies and finalize plans as plan() does.
 */
const SOLVER_LAYERS = [
  { name: 'base', path: '^solver/(errors|limits|finite|budget)\\.ts$|^solver/util/' },
  { name: 'graph', path: '^solver/graph/' },
  { name: 'schedule', path: '^solver/schedule/' },
  { name: 'contract', path: '^solver/plan-schema\\.ts$' },
  { name: 'milp', path: '^solver/milp/' },
  { name: 'bounds', path: '^solver/bounds/' },
  { name: 'scale', path: '^solver/scale/' },
  { name: 'strategies', path: '^solver/strategies/' },
  { name: 'entry', path: '^solver/plan\\.ts$' },
  { name: 'sweep', path: '^solver/sweep/' },
];

/** Modules nothing imports on purpose: programs, workers loaded by URL, suites loaded by name. */
const ENTRY_POINTS = [
  '^src/server\\.ts$',
  '^src/cli\\.ts$',
  '^src/jobs/worker-entry\\.mjs$',
  '^bench/case-worker\\.mjs$',
  '^solver/milp/highs-worker\\.mjs$',
  '^solver/bounds/bound-worker\\.mjs$',
  '^bench/run\\.ts$',
  '^bench/suites/',
  '^scripts/',
  '^bin/',
];

const layerRules = SOLVER_LAYERS.slice(0, -1).map((layer, position) => ({
  name: `solver-layer-${layer.name}`,
  comment: `solver/${layer.name} may import only ${SOLVER_LAYERS.slice(0, position + 1)
    .map((below) => below.name)
    .join(', ')}: folders import downward only`,
  severity: 'error',
  from: { path: layer.path },
  to: { path: SOLVER_LAYERS.slice(position + 1).map((above) => `(${above.path})`) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Import cycles make modules impossible to read, test or load in isolation.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'solver-stays-below',
      comment: 'solver/ is the library: it never imports the service, the benchmarks, the tests or the scripts.',
      severity: 'error',
      from: { path: '^solver/' },
      to: { path: '^(src|bench|test|fixtures|scripts|bin)/' },
    },
    {
      name: 'solver-layer-unknown',
      comment: 'Every solver module belongs to a layer of .dependency-cruiser.cjs: add new folders there.',
      severity: 'error',
      from: { path: '^solver/', pathNot: SOLVER_LAYERS.map((layer) => `(${layer.path})`) },
      to: {},
    },
    ...layerRules,
    {
      name: 'no-orphans',
      comment: 'A module nothing imports is dead code, unless it is an entry point (ENTRY_POINTS).',
      severity: 'error',
      from: { orphan: true, pathNot: ['\\.d\\.m?ts$', ...ENTRY_POINTS] },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to no file is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    ...(existsSync('tsconfig.json') ? { tsConfig: { fileName: 'tsconfig.json' } } : {}),
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
