// End to end: the real server started as `npm start` starts it, on a free port, and
// headless Chromium running "Try it out" on POST /v1/plans and POST /v1/sweeps in Swagger UI at /docs.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_GRAPH } from '../src/schemas/index.js';
import { expectReplays } from './api-helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const root = fileURLToPath(new URL('..', import.meta.url));

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

let server: ChildProcess;
let base: string;
let dataDir: string;
let profile: string;
let browser: BrowserContext;
let output = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  dataDir = mkdtempSync(join(tmpdir(), 'memplan-e2e-data-'));
  profile = mkdtempSync(join(tmpdir(), 'memplan-e2e-profile-'));
  // The command of `npm start`, run directly so the test owns the process.
  const start: string = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.start;
  const [command, ...args] = start.split(/\s+/);
  server = spawn(command, args, {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MEMPLAN_DATA_DIR: dataDir, MEMPLAN_API_KEYS: '', MEMPLAN_LOG: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (chunk) => (output += chunk));
  server.stderr!.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`the server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // A fresh profile directory: playwright passes it as --user-data-dir.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGKILL');
  }
  // beforeAll may have stopped before it made them (chromium missing).
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('Swagger UI on the real server', () => {
  it('runs "Try it out" on POST /v1/plans with the example and shows 200 and a plan', async () => {
    const page = await browser.newPage();
    const planResponse = page.waitForResponse(
      (response) => response.url().includes('/v1/plans') && response.request().method() === 'POST',
      {
        timeout: 60_000,
      },
    );
    await page.goto(`${base}/docs`);
    const operation = page.locator('.opblock-post', { has: page.locator('[data-path="/v1/plans"]') }).first();
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    const response = await planResponse;
    expect(response.status()).toBe(200);
    const plan = await response.json();
    expectReplays(EXAMPLE_GRAPH, plan);
    // What the user sees: the live response with status 200 and the plan's body.
    const live = operation.locator('.live-responses-table .response');
    await expect
      .poll(async () => (await live.locator('.response-col_status').first().textContent())?.trim(), { timeout: 15_000 })
      .toBe('200');
    await expect
      .poll(async () => (await live.locator('.response-col_description').first().textContent()) ?? '', { timeout: 15_000 })
      .toContain('"predicted"');
    await page.close();
  }, 120_000);

  it('runs "Try it out" on POST /v1/sweeps with the example: the sweep runs and every point names a plan that replays', async () => {
    const page = await browser.newPage();
    const sweepResponse = page.waitForResponse(
      (response) => response.url().includes('/v1/sweeps') && response.request().method() === 'POST',
      { timeout: 60_000 },
    );
    await page.goto(`${base}/docs`);
    const operation = page.locator('.opblock-post', { has: page.locator('[data-path="/v1/sweeps"]') }).first();
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    const response = await sweepResponse;
    // Done within the default wait (200), or still running (202): then the job finishes on its own.
    expect([200, 202]).toContain(response.status());
    let result = await response.json();
    if (response.status() === 202) {
      const url = `${base}/v1/sweeps/${result.jobId}`;
      for (let tries = 0; tries < 100; tries++) {
        const reply = await fetch(url);
        if (reply.status === 200) {
          result = await reply.json();
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    expect(result.points.length).toBe(4);
    for (const point of result.points.filter((entry: { planId?: string }) => entry.planId)) {
      expectReplays(EXAMPLE_GRAPH, await (await fetch(`${base}/v1/plans/${point.planId}`)).json());
    }
    expect(result.maxOverhead.predicted.overheadRatio).toBeLessThanOrEqual(1.05);
    const live = operation.locator('.live-responses-table .response');
    await expect
      .poll(async () => (await live.locator('.response-col_status').first().textContent())?.trim(), { timeout: 15_000 })
      .toMatch(/^20[02]$/);
    await page.close();
  }, 120_000);

  it('shuts down cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});
