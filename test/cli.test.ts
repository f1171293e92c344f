// The CLI, run as the real bin in a child process: plan, simulate, analyze, strategies,
// exit codes and catalogue errors. Budget and transfer parsing is checked in-process.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chain } from '../fixtures/generators.js';
import { GRAPHS_DIR } from '../fixtures/index.js';
import { peakFloor } from '../solver/graph/analysis.js';
import { graphStats } from '../solver/schedule/graph-stats.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { importGraph } from '../solver/graph/import.js';
import { parseGraph } from '../solver/graph/validate.js';
import type { Plan } from '../solver/plan-schema.js';
import { simulate } from '../solver/schedule/simulate.js';
import { STRATEGIES } from '../solver/strategies/registry.js';
import { parseBudget, parseCommandLine, parseTransfer, UsageError } from '../src/cli.js';
import { checkPlan } from './helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'memplan.mjs');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs bin/memplan.mjs with arguments; resolves with its exit code and output. */
function memplan(...args: string[]): Promise<Ran> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

let dir: string;
let chainPath: string;
let nodeLinkPath: string;
const chainGraph = chain(12);

// A Moccasin-style node-link graph: a diamond 0 -> {2, 3} -> 1.
const nodeLink = {
  directed: true,
  multigraph: false,
  graph: { name: 'nl-diamond', order: [0, 2, 3, 1] },
  nodes: [
    { name: 0, out_cost: 100, param_cost: 0, duration: 1 },
    { name: 1, out_cost: 10, param_cost: 0, duration: 4 },
    { name: 2, out_cost: 300, param_cost: 0, duration: 2 },
    { name: 3, out_cost: 200, param_cost: 0, duration: 3 },
  ],
  links: [
    { '0': 0, '1': 2 },
    { '0': 0, '1': 3 },
    { '0': 2, '1': 1 },
    { '0': 3, '1': 1 },
  ],
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'memplan-cli-'));
  chainPath = join(dir, 'chain.json');
  writeFileSync(chainPath, JSON.stringify(chainGraph));
  nodeLinkPath = join(dir, 'nodelink.json');
  writeFileSync(nodeLinkPath, JSON.stringify(nodeLink));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('argument parsing', () => {
  it('reads budgets as percentages, fractions or bytes', () => {
    expect(parseBudget('60%')).toEqual({ fraction: 0.6 });
    expect(parseBudget('0.6')).toEqual({ fraction: 0.6 });
    expect(parseBudget('1')).toEqual({ fraction: 1 });
    expect(parseBudget('123456')).toEqual({ bytes: 123456 });
    expect(parseBudget('12GB')).toEqual({ bytes: 12e9 });
    expect(parseBudget('800MiB')).toEqual({ bytes: 800 * 1024 * 1024 });
    expect(parseBudget('1.5kib')).toEqual({ bytes: 1536 });
    for (const bad of ['', 'abc', '60x', '-5', '0%', '0', '12 parsecs']) {
      expect(() => parseBudget(bad), bad).toThrow(expect.objectContaining({ code: 'MEMPLAN_ERR_INVALID_BUDGET' }));
    }
  });

  it('reads transfers as presets or BW,LAT', () => {
    expect(parseTransfer('pcie4')).toBe('pcie4');
    expect(parseTransfer('1000,5')).toEqual({ bandwidth: 1000, latency: 5 });
    expect(parseTransfer('1000')).toEqual({ bandwidth: 1000, latency: 0 });
    for (const bad of ['pcie9', '0,1', 'x,y', '1,2,3']) {
      expect(() => parseTransfer(bad), bad).toThrow(expect.objectContaining({ code: 'MEMPLAN_ERR_INVALID_REQUEST' }));
    }
  });

  it('parses through the one command table', () => {
    const { command, args } = parseCommandLine(['plan', 'g.json', '--budget', '60%', '--strategy', 'dtr', '--json']);
    expect(command?.name).toBe('plan');
    expect(args.positionals).toEqual(['g.json']);
    expect(args.values).toMatchObject({ budget: '60%', strategy: 'dtr', json: true });
    expect(() => parseCommandLine(['plan'])).toThrow(UsageError);
    expect(() => parseCommandLine(['plan', 'g.json', '--bogus'])).toThrow(UsageError);
    expect(() => parseCommandLine(['nope'])).toThrow(UsageError);
  });
});

describe('memplan plan', () => {
  it('plans, prints the summary and writes a plan that replays', async () => {
    const out = join(dir, 'plan.json');
    const ran = await memplan('plan', chainPath, '--budget', '60%', '--strategy', 'chen-sqrtn', '--out', out);
    const written = JSON.parse(readFileSync(out, 'utf8')) as Plan;
    const graph = parseGraph(chainGraph);
    checkPlan(graph, written);
    expect(written.strategy).toBe('chen-sqrtn');
    expect(written.budgetBytes).toBe(Math.floor(0.6 * noRematPeak(graph)));
    // Exit 0 exactly when a plan fits.
    expect(ran.code).toBe(written.predicted ? 0 : 1);
    expect(ran.stdout).toContain(`status         ${written.status}`);
    expect(ran.stdout).toContain('chen-sqrtn');
    expect(ran.stdout).toMatch(/no-remat peak/);
    expect(ran.stdout).toMatch(/floor/);
    if (written.predicted) expect(ran.stdout).toContain(`${written.predicted.overheadRatio.toFixed(4)}x`);
  });

  it('prints the plan as JSON with --json, budgets in bytes kept exact', async () => {
    const graph = parseGraph(chainGraph);
    const peak = noRematPeak(graph);
    const ran = await memplan('plan', chainPath, '--budget', String(peak), '--strategy', 'checkpoint-all', '--json');
    expect(ran.code).toBe(0);
    const result = JSON.parse(ran.stdout) as Plan;
    expect(result.budgetBytes).toBe(peak);
    const { replay } = checkPlan(graph, result);
    expect(replay!.figures.peakBytes).toBe(peak);
  });

  it('answers infeasible with exit 1 below the floor', async () => {
    const graph = parseGraph(chainGraph);
    const below = peakFloor(graph) - 1;
    const ran = await memplan('plan', chainPath, '--budget', String(below));
    expect(ran.code).toBe(1);
    expect(ran.stdout).toMatch(/status\s+infeasible/);
    expect(ran.stdout).toContain('below the proven floor');
  });

  it('reads node-link JSON', async () => {
    const ran = await memplan('plan', nodeLinkPath, '--budget', '100%', '--json');
    expect(ran.code).toBe(0);
    checkPlan(importGraph(nodeLink), JSON.parse(ran.stdout) as Plan);
  });

  it('exits 2 with the catalogue code on bad input', async () => {
    const missingBudget = await memplan('plan', chainPath);
    expect(missingBudget.code).toBe(2);
    expect(missingBudget.stderr).toContain('--budget is required');
    const badBudget = await memplan('plan', chainPath, '--budget', 'lots');
    expect(badBudget.code).toBe(2);
    expect(badBudget.stderr).toContain('MEMPLAN_ERR_INVALID_BUDGET');
    const badStrategy = await memplan('plan', chainPath, '--budget', '60%', '--strategy', 'nope');
    expect(badStrategy.code).toBe(2);
    expect(badStrategy.stderr).toContain('MEMPLAN_ERR_UNKNOWN_STRATEGY');
    const cycle = await memplan('plan', join(GRAPHS_DIR, 'bad-cycle.json'), '--budget', '60%');
    expect(cycle.code).toBe(2);
    expect(cycle.stderr).toContain('MEMPLAN_ERR_CYCLE');
    const missing = await memplan('plan', join(dir, 'absent.json'), '--budget', '60%');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('MEMPLAN_ERR_INVALID_IMPORT');
    const unknown = await memplan('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command');
  });
});

describe('memplan simulate', () => {
  it('replays a plan file and a bare schedule with the same figures', async () => {
    const planPath = join(dir, 'sim-plan.json');
    const planned = await memplan('plan', chainPath, '--budget', '80%', '--strategy', 'griewank', '--out', planPath);
    const written = JSON.parse(readFileSync(planPath, 'utf8')) as Plan;
    expect(planned.code).toBe(written.predicted ? 0 : 1);
    if (!written.predicted) return;
    const ran = await memplan('simulate', chainPath, planPath, '--json');
    expect(ran.code).toBe(0);
    const body = JSON.parse(ran.stdout);
    expect(body).toMatchObject({ ok: true, withinBudget: true, predictedMatches: true });
    expect(body.figures).toEqual(written.predicted);
    const barePath = join(dir, 'bare.json');
    writeFileSync(barePath, JSON.stringify(written.schedule));
    const bare = await memplan('simulate', chainPath, barePath);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain(`${written.schedule.length} (legal)`);
    expect(bare.stdout).toContain(`${written.predicted.overheadRatio.toFixed(4)}x`);
  });

  it('reports the first illegal step with its code and exits 1', async () => {
    const graph = parseGraph(chainGraph);
    const schedule = [
      { op: 'compute', node: graph.ids[0] },
      { op: 'free', node: graph.ids[0] },
      { op: 'compute', node: graph.ids[1] },
    ];
    expect(simulate(graph, schedule as never).ok).toBe(false);
    const path = join(dir, 'illegal.json');
    writeFileSync(path, JSON.stringify(schedule));
    const ran = await memplan('simulate', chainPath, path);
    expect(ran.code).toBe(1);
    expect(ran.stdout).toContain('illegal at step 2');
    expect(ran.stdout).toContain('MEMPLAN_ERR_STEP_INPUT_MISSING');
  });

  it('exits 1 when the replayed peak exceeds the budget', async () => {
    const graph = parseGraph(chainGraph);
    const planPath = join(dir, 'all.json');
    await memplan('plan', chainPath, '--budget', '100%', '--strategy', 'checkpoint-all', '--out', planPath);
    const ran = await memplan('simulate', chainPath, planPath, '--budget', String(noRematPeak(graph) - 1));
    expect(ran.code).toBe(1);
    expect(ran.stdout).toContain('EXCEEDED');
  });

  it('exits 2 on a malformed schedule', async () => {
    const path = join(dir, 'malformed.json');
    writeFileSync(path, JSON.stringify({ schedule: [{ op: 'teleport', node: 'x' }] }));
    const ran = await memplan('simulate', chainPath, path);
    expect(ran.code).toBe(2);
    expect(ran.stderr).toContain('MEMPLAN_ERR_INVALID_REQUEST');
  });
});

describe('memplan analyze and strategies', () => {
  it('prints graphStats of a node-link graph', async () => {
    const ran = await memplan('analyze', nodeLinkPath, '--json');
    expect(ran.code).toBe(0);
    const body = JSON.parse(ran.stdout);
    const { smallestBudget, ...stats } = body;
    expect(stats).toEqual({ name: 'nl-diamond', ...graphStats(importGraph(nodeLink)) });
    // The bracket of the smallest feasible budget: a proven floor, and a peak some schedule reaches.
    expect(smallestBudget.floorBytes).toBeGreaterThanOrEqual(stats.floorBytes);
    expect(smallestBudget.foundBytes).toBeGreaterThanOrEqual(smallestBudget.floorBytes);
    expect(smallestBudget.foundBytes).toBeLessThanOrEqual(stats.noRematPeakBytes);
    const text = await memplan('analyze', nodeLinkPath);
    expect(text.stdout).toMatch(/no-remat peak\s+\d/);
    expect(text.stdout).toMatch(/smallest budget\s+between .* and .* of no-remat/);
  });

  it('lists every strategy', async () => {
    const ran = await memplan('strategies', '--json');
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout).map((entry: { name: string }) => entry.name)).toEqual(STRATEGIES.map((strategy) => strategy.name));
    const text = await memplan('strategies');
    for (const strategy of STRATEGIES) expect(text.stdout).toContain(strategy.name);
  });
});
