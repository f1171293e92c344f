// The README's shell blocks, run verbatim: the service as `npm start` starts it, the curl
// and CLI commands against it, the CLI examples on the in-repo sample graph, and the sweep
// example on the captured resnet18. Every
// ```sh block is either run here or listed with the reason it is not, so a new block
// cannot slip by untested. (The PyTorch block is the plugin's own test.)
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../solver/plan-schema.js';
import type { SweepResult } from '../solver/sweep/schema.js';
import { loadGraph } from '../src/cli.js';
import { checkPlan } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The ```sh blocks of the README, in order, with the line each starts on. */
function shellBlocks(): { text: string; line: number }[] {
  const blocks: { text: string; line: number }[] = [];
  const pattern = /^```sh\n([\s\S]*?)^```$/gm;
  for (let match = pattern.exec(readme); match; match = pattern.exec(readme)) {
    blocks.push({ text: match[1], line: readme.slice(0, match.index).split('\n').length });
  }
  return blocks;
}

type Role = { run: 'server' | 'client' | 'cli' | 'sweep' } | { skip: string };

/** What this test does with each block, by the block's first line. */
const ROLES: [prefix: string, role: Role][] = [
  [
    'npm ci && npm start ',
    {
      skip:
        "the two first commands install (.ci/run's npm ci on a clean clone) and then run what the Service section's " +
        '`npm start` block and .ci/run run (checked below); this test runs in the installed checkout',
    },
  ],
  ['npm start ', { run: 'server' }],
  ['npx memplan analyze fixtures/graphs/small-cnn.json', { run: 'cli' }],
  ['npx memplan sweep ', { run: 'sweep' }],
  [
    'npx memplan plan ../shared/benchmarks/',
    { skip: 'it needs the public benchmark graphs beside the repository (test/import.test.ts reads them when present)' },
  ],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the README's shell text, not a template.
  ['curl -s localhost:${PORT:-8080}/health', { run: 'client' }],
  ['npm run bench -- --suite engine', { skip: 'benchmarks take minutes and are figures, not tests (npm run bench)' }],
  [
    'eval "$(sudo bash scripts/scaleout-services.sh',
    {
      skip:
        'it installs and starts system services as root; npm run test:scaleout (in .ci/run) runs the same processes: ' +
        'the script, API processes and memplan worker processes (test/scaleout/distributed.test.ts)',
    },
  ],
  [
    'python3 -m pip install torch torchvision',
    { skip: "the PyTorch plugin's block: plugins/torch/tests runs the README's Python example" },
  ],
];

function roleOf(text: string): Role | undefined {
  const first = text.split('\n')[0];
  return ROLES.find(([prefix]) => first.startsWith(prefix))?.[1];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Runs a block with bash, as a reader pasting it would (stopping at the first failure). */
function runBlock(text: string, env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', text], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

let env: NodeJS.ProcessEnv;
let dataDir: string;
let server: ChildProcess | undefined;
let serverOutput = '';

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'memplan-readme-'));
  env = { ...process.env, PORT: String(await freePort()), HOST: '127.0.0.1', MEMPLAN_DATA_DIR: dataDir, MEMPLAN_LOG: '0' };
});

afterAll(async () => {
  await stopServer();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(join(root, 'plan.json'), { force: true });
  for (const file of ['sweep.json', 'pareto.svg']) rmSync(join(root, file), { force: true });
});

async function startServer(text: string): Promise<void> {
  // Its own process group, so stopping it stops npm and the node it started.
  server = spawn('bash', ['-c', text], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (chunk) => (serverOutput += chunk));
  server.stderr!.on('data', (chunk) => (serverOutput += chunk));
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${env.PORT}/health`)).ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`the server did not start:\n${serverOutput}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stopServer(): Promise<void> {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((resolve) => server!.once('exit', resolve));
  process.kill(-server.pid!, 'SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  if (server.exitCode === null) process.kill(-server.pid!, 'SIGKILL');
  server = undefined;
}

describe("the README's shell blocks", () => {
  const blocks = shellBlocks();

  it('are each run here or left out with a reason, and every rule still matches a block', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
    for (const block of blocks) expect(roleOf(block.text), `README.md:${block.line}: ${block.text}`).toBeDefined();
    for (const [prefix] of ROLES)
      expect(
        blocks.some((block) => block.text.startsWith(prefix)),
        prefix,
      ).toBe(true);
  });

  it('start with the install-and-start and install-and-test commands that .ci/run runs', () => {
    const first = blocks[0].text.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim());
    expect(first[0]).toBe('npm ci && npm start');
    const testCommands = first[1].split('&&').map((part) => part.trim());
    expect(testCommands[0]).toBe('npm ci');
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    for (const command of testCommands)
      expect(ci, command).toMatch(new RegExp(`^${command.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( |$)`, 'm'));
  });

  it('run the CLI examples on the in-repo sample graph', async () => {
    for (const block of blocks.filter((candidate) => (roleOf(candidate.text) as { run?: string })?.run === 'cli')) {
      const { code, output } = await runBlock(block.text, env);
      expect(code, `README.md:${block.line}\n${output}`).toBe(0);
      expect(output).toContain('no-remat peak');
      // Both plans fit: a status with a plan, and the written plan replays to its own figures.
      expect(output.match(/^status\s+(optimal|feasible|timeLimit)$/gm)?.length, output).toBe(2);
      expect(output).toMatch(/^predicted\s+equal to the replay$/m);
      expect(output).toContain('capuchin');
      expect(existsSync(join(root, 'plan.json'))).toBe(true);
    }
  }, 180_000);

  it('run the sweep example: a plan per budget that replays, the overhead answer and the Pareto plot', async () => {
    const sweeps = blocks.filter((candidate) => (roleOf(candidate.text) as { run?: string })?.run === 'sweep');
    expect(sweeps.length).toBe(1);
    for (const block of sweeps) {
      for (const file of ['sweep.json', 'pareto.svg']) rmSync(join(root, file), { force: true });
      const { code, output } = await runBlock(block.text, env, 180_000);
      expect(code, `README.md:${block.line}\n${output}`).toBe(0);
      expect(output).toMatch(/^max overhead: the smallest budget found with a plan within 5 %/m);
      const result = JSON.parse(readFileSync(join(root, 'sweep.json'), 'utf8')) as SweepResult & { plans: Plan[] };
      const graph = loadGraph(join(root, 'bench', 'graphs', 'resnet18.json.gz'));
      expect(result.points).toHaveLength(15);
      for (const point of result.points) if (point.planId !== undefined) checkPlan(graph, result.plans[Number(point.planId)]);
      expect(result.maxOverhead!.predicted.overheadRatio).toBeLessThanOrEqual(1.05);
      expect(readFileSync(join(root, 'pareto.svg'), 'utf8')).toMatch(/^<svg /);
    }
  }, 240_000);

  it('start the service and talk to it with curl and the CLI', async () => {
    const servers = blocks.filter((block) => (roleOf(block.text) as { run?: string })?.run === 'server');
    const clients = blocks.filter((block) => (roleOf(block.text) as { run?: string })?.run === 'client');
    expect(servers.length).toBeGreaterThanOrEqual(1);
    for (const [position, block] of servers.entries()) {
      await startServer(block.text);
      const docs = await fetch(`http://127.0.0.1:${env.PORT}/docs/json`);
      expect(docs.status).toBe(200);
      // The commands "from another shell" follow the Service section's server, the last one.
      if (position < servers.length - 1) {
        await stopServer();
        continue;
      }
      for (const client of clients) {
        const { code, output } = await runBlock(client.text, env);
        expect(code, `README.md:${client.line}\n${output}\n${serverOutput}`).toBe(0);
        expect(output).toContain('"status":"ok"');
        expect(output).toContain('"predicted"');
        expect(output).toMatch(/^status\s+(optimal|feasible|timeLimit)$/m);
      }
      await stopServer();
    }
  }, 240_000);

  it('names the sample graph, which plans at 60 % (mlp-keep.json cannot)', () => {
    expect(readme).toContain('fixtures/graphs/small-cnn.json');
    expect(readme).not.toMatch(/```sh\n[^`]*mlp-keep/);
  });
});
