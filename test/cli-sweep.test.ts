// `memplan sweep`, run as the real bin in a child process: the summary table with Pareto
// points and knee, a progress line per budget on stderr, --out with every plan (each
// replays at its point's budget), --svg, the inverse questions, and typed usage errors.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unetLike } from '../fixtures/generators.js';
import { parseGraph } from '../solver/graph/validate.js';
import type { Plan } from '../solver/plan-schema.js';
import type { SweepResult } from '../solver/sweep/schema.js';
import { parseCommandLine } from '../src/cli.js';
import { checkPlan } from './helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'memplan.mjs');

function memplan(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: 120_000 }, (error, stdout, stderr) => {
      resolvePromise({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let graphPath: string;
const graph = unetLike(3);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'memplan-cli-sweep-'));
  graphPath = join(dir, 'unet.json');
  writeFileSync(graphPath, JSON.stringify(graph));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('memplan sweep', () => {
  it('parses its options through the command table', () => {
    const { command, args } = parseCommandLine([
      'sweep',
      'g.json',
      '--from',
      '30%',
      '--to',
      '100%',
      '--points',
      '15',
      '--max-overhead',
      '5%',
    ]);
    expect(command?.name).toBe('sweep');
    expect(args.values).toMatchObject({ from: '30%', to: '100%', points: '15', 'max-overhead': '5%' });
  });

  it('prints the table, a progress line per budget, and writes every plan and the Pareto plot', async () => {
    const out = join(dir, 'sweep.json');
    const svg = join(dir, 'pareto.svg');
    const ran = await memplan(
      'sweep',
      graphPath,
      '--from',
      '60%',
      '--to',
      '100%',
      '--points',
      '4',
      '--time-limit',
      '6',
      '--max-overhead',
      '10%',
      '--smallest-feasible',
      '--out',
      out,
      '--svg',
      svg,
    );
    expect(ran.code, ran.stderr).toBe(0);
    for (const index of [1, 2, 3, 4]) expect(ran.stderr).toContain(`point ${index}/4 at`);
    expect(ran.stdout).toMatch(/makespan \/ baseCost/);
    expect(ran.stdout).toMatch(/100\.0 %\s+optimal\s+1\.0000x/);
    expect(ran.stdout).toMatch(/knee: /);
    expect(ran.stdout).toMatch(/max overhead: the smallest budget found with a plan within 10 %/);
    expect(ran.stdout).toMatch(/smallest feasible: the smallest feasible budget/);
    const written = JSON.parse(readFileSync(out, 'utf8')) as SweepResult & { plans: Plan[] };
    const indexed = parseGraph(graph);
    expect(written.points).toHaveLength(4);
    for (const point of written.points) {
      if (point.planId === undefined) continue;
      const plan = written.plans[Number(point.planId)];
      expect(plan.budgetBytes).toBe(point.budgetBytes);
      checkPlan(indexed, plan);
    }
    checkPlan(indexed, written.plans[Number(written.maxOverhead!.planId)]);
    expect(written.maxOverhead!.predicted.overheadRatio).toBeLessThanOrEqual(1.1);
    const picture = readFileSync(svg, 'utf8');
    expect(picture).toMatch(/^<svg /);
    expect(picture).toContain('class="knee"');
  }, 120_000);

  it('takes a list of budgets and prints JSON', async () => {
    const ran = await memplan('sweep', graphPath, '--budgets', '100%,80%', '--time-limit', '2', '--json');
    expect(ran.code, ran.stderr).toBe(0);
    const result = JSON.parse(ran.stdout) as SweepResult;
    expect(result.points.map((point) => Math.round(point.fraction * 100))).toEqual([80, 100]);
  }, 60_000);

  it('exits 2 with the catalogue code on bad options', async () => {
    const points = await memplan('sweep', graphPath, '--points', '1');
    expect(points.code).toBe(2);
    expect(points.stderr).toContain('MEMPLAN_ERR_INVALID_REQUEST');
    expect(points.stderr).toContain('points');
    const overhead = await memplan('sweep', graphPath, '--max-overhead', 'lots');
    expect(overhead.code).toBe(2);
    expect(overhead.stderr).toContain('max-overhead');
    const budget = await memplan('sweep', graphPath, '--from', 'small');
    expect(budget.code).toBe(2);
    expect(budget.stderr).toContain('MEMPLAN_ERR_INVALID_BUDGET');
  }, 60_000);
});
