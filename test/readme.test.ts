// The README's command-line examples marked `<!-- ci: run ... -->` run as they are, from the
// repository root: the sweep example exits 0, and the files it writes hold a result whose
// plans replay and the Pareto plot. (The plugin's marked example is run by
// plugins/torch/tests/test_readme.py.)
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Plan } from '../solver/plan-schema.js';
import type { SweepResult } from '../solver/sweep/schema.js';
import { loadGraph } from '../src/cli.js';
import { checkPlan } from './helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MARK = '<!-- ci: run';

/** The fenced blocks that follow a `<!-- ci: run ... -->` line, with their language. */
export function markedBlocks(markdown: string): { language: string; code: string }[] {
  const blocks: { language: string; code: string }[] = [];
  const lines = markdown.split('\n');
  for (let at = 0; at < lines.length; at++) {
    if (!lines[at].startsWith(MARK)) continue;
    const fence = /^```(\w*)/.exec(lines[at + 1] ?? '');
    if (!fence) throw new Error(`README line ${at + 1}: a ci mark must be followed by a fenced block`);
    const end = lines.findIndex((line, index) => index > at + 1 && line.startsWith('```'));
    blocks.push({ language: fence[1], code: lines.slice(at + 2, end).join('\n') });
  }
  return blocks;
}

const written = ['sweep.json', 'pareto.svg'].map((file) => join(ROOT, file));
afterAll(() => {
  for (const path of written) rmSync(path, { force: true });
});

describe('README examples', () => {
  const shell = markedBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8')).filter((block) => block.language === 'sh');

  it('has the sweep example marked to run', () => {
    expect(shell.map((block) => block.code).join('\n')).toMatch(/npx memplan sweep .* --max-overhead 5% .*--svg pareto\.svg/);
  });

  it('runs the marked shell examples as they are; the sweep writes plans that replay and the Pareto plot', async () => {
    for (const path of written) rmSync(path, { force: true });
    for (const block of shell) {
      const ran = await new Promise<{ code: number; stderr: string }>((resolvePromise) => {
        execFile('bash', ['-euo', 'pipefail', '-c', block.code], { cwd: ROOT, timeout: 180_000 }, (error, _stdout, stderr) =>
          resolvePromise({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stderr }),
        );
      });
      expect(ran.code, `${block.code}\n${ran.stderr}`).toBe(0);
    }
    const result = JSON.parse(readFileSync(written[0], 'utf8')) as SweepResult & { plans: Plan[] };
    const graph = loadGraph(join(ROOT, 'bench', 'graphs', 'resnet18.json.gz'));
    expect(result.points).toHaveLength(15);
    for (const point of result.points) if (point.planId !== undefined) checkPlan(graph, result.plans[Number(point.planId)]);
    expect(result.maxOverhead!.predicted.overheadRatio).toBeLessThanOrEqual(1.05);
    expect(existsSync(written[1]) && readFileSync(written[1], 'utf8').startsWith('<svg')).toBe(true);
  }, 240_000);
});
