// Shared helpers of the service tests: an app on ':memory:', plan checks by the simulator.
import { expect } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { build, type BuildOptions } from '../src/app.js';
import { parseGraph } from '../solver/graph/validate.js';
import type { Graph } from '../solver/graph/schema.js';
import type { Plan } from '../solver/plan-schema.js';
import { simulate } from '../solver/schedule/simulate.js';

/** An app with an in-memory store, two workers and the internal test strategies. */
export function testApp(options: BuildOptions = {}): Promise<FastifyInstance> {
  return build({ dataDir: ':memory:', workers: 2, apiKeys: [], ...options, internal: { testStrategies: true, ...options.internal } });
}

/** Asserts a plan replays in the simulator to the figures it claims, within its budget. */
export function expectReplays(graph: Graph, plan: Plan): void {
  expect(plan.predicted, `plan ${plan.status}: ${plan.message}`).toBeDefined();
  const replay = simulate(parseGraph(graph), plan.schedule, { transfer: plan.transfer });
  if (!replay.ok) throw replay.error;
  expect(replay.figures).toEqual(plan.predicted);
  expect(replay.figures.peakBytes).toBeLessThanOrEqual(plan.budgetBytes);
}

/** Polls until the predicate holds or the time runs out. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

/** What a raw HTTP exchange saw: the reply text (possibly empty) and when the server closed the socket. */
export interface RawExchange {
  text: string;
  status?: number;
  closedAfterMs: number;
}

/**
 * Opens a TCP connection to a listening server, writes `head` (request line and headers),
 * then `body` slowly: one chunk every `dripMs` (never finishing when `drip` is set), and
 * reports what came back and when the server closed the connection. Gives up after `giveUpMs`.
 */
export function rawExchange(
  port: number,
  head: string,
  options: { body?: string; drip?: boolean; dripMs?: number; giveUpMs?: number } = {},
): Promise<RawExchange> {
  return import('node:net').then(
    ({ connect }) =>
      new Promise((resolve) => {
        const started = Date.now();
        const socket = connect(port, '127.0.0.1');
        let text = '';
        let drip: NodeJS.Timeout | undefined;
        const done = () => {
          clearInterval(drip);
          clearTimeout(giveUp);
          socket.destroy();
          const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
          resolve({ text, status: status ? Number(status) : undefined, closedAfterMs: Date.now() - started });
        };
        const giveUp = setTimeout(done, options.giveUpMs ?? 10_000);
        socket.on('data', (chunk) => {
          text += chunk.toString('utf8');
        });
        socket.on('close', done);
        socket.on('error', () => {});
        socket.on('connect', () => {
          socket.write(head);
          if (options.body !== undefined) socket.write(options.body);
          if (options.drip) drip = setInterval(() => socket.write('{'), options.dripMs ?? 100);
        });
      }),
  );
}
