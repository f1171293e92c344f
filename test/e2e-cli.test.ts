// End to end through the CLI: `memplan serve` starts the service, `memplan plan --server`
// plans on it with a progress line (elapsed, incumbent, gap) and prints a plan that replays;
// `memplan sweep --server` sweeps on it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chain, namedFixtures } from '../fixtures/generators.js';
import { expectReplays } from './api-helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'memplan.mjs');
let server: ChildProcess;
let base: string;
let dir: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, MEMPLAN_LOG: '0' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'memplan-e2e-cli-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(
    process.execPath,
    [bin, 'serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', join(dir, 'data'), '--workers', '1'],
    {
      cwd: root,
      env: { ...process.env, MEMPLAN_LOG: '0', MEMPLAN_API_KEYS: '' },
      stdio: 'ignore',
    },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error('memplan serve did not start');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}, 60_000);

afterAll(() => {
  if (server.exitCode === null) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('memplan serve and plan --server', () => {
  it('plans on the server with a progress line and prints a plan that replays', async () => {
    const graph = namedFixtures()['random-layered-7'];
    const file = join(dir, 'graph.json');
    writeFileSync(file, JSON.stringify(graph));
    // Long enough (an optimizer runs to its time limit: the gap stays near 1 %) that the CLI
    // follows the job's events; a chain's plan is proven optimal within a second.
    const result = await runCli(['plan', file, '--budget', '80%', '--time-limit', '3', '--server', base, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan.id).toBeTypeOf('string');
    expectReplays(graph, plan);
    expect(result.stderr).toMatch(/elapsed \d+\.\d s · incumbent [\d.]+ · gap [\d.]+ %/);
    const stored = await (await fetch(`${base}/v1/plans/${plan.id}`)).json();
    expect(stored).toEqual(plan);
  }, 60_000);

  it('reports a catalogued error from the server', async () => {
    const file = join(dir, 'empty.json');
    writeFileSync(file, JSON.stringify({ nodes: [{ id: 'a', bytes: 1, cost: 1 }] }));
    const result = await runCli(['plan', file, '--budget', '1', '--strategy', 'nope', '--server', base]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('MEMPLAN_ERR_UNKNOWN_STRATEGY');
  }, 30_000);

  it('sweeps on the server with a progress line per budget; every point names a stored plan that replays', async () => {
    const graph = chain(10);
    const file = join(dir, 'sweep-graph.json');
    writeFileSync(file, JSON.stringify(graph));
    const result = await runCli(['sweep', file, '--points', '3', '--time-limit', '3', '--max-overhead', '10%', '--server', base, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const sweep = JSON.parse(result.stdout);
    expect(sweep.points).toHaveLength(3);
    expect(result.stderr).toMatch(/point 3\/3 at 100\.0 %/);
    for (const point of sweep.points.filter((entry: { planId?: string }) => entry.planId)) {
      const stored = await (await fetch(`${base}/v1/plans/${point.planId}`)).json();
      expectReplays(graph, stored);
      expect(stored.budgetBytes).toBe(point.budgetBytes);
    }
    expect(sweep.maxOverhead.predicted.overheadRatio).toBeLessThanOrEqual(1.1);
  }, 60_000);

  it('stops on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});
