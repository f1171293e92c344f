// The cancel suite (`npm run bench -- --suite cancel [--repeat N]`): how fast a cancel
// takes effect on the service (issue 12, item 5; target 250 ms) and that it is cooperative
// (no worker thread terminated and replaced), for a running auto, the exact MILP and the
// local search; then how close a huge graph's answer comes to its time limit (auto on a
// 20k-node chain with a 10 s limit, item 5's "stops in time").
// The service runs in this process (build() with two workers); a cancel's latency is the
// DELETE /v1/jobs/{id} round trip, which answers once the worker has returned its plan.
import type { FastifyInstance } from 'fastify';
import { chain, fractionalChain } from '../../fixtures/generators.js';
import type { Graph } from '../../solver/graph/schema.js';
import { argValue, markdownTable, median, writeOut } from '../lib.js';

interface Case {
  name: string;
  graph: Graph;
  options: Record<string, unknown>;
  /** Milliseconds the job runs before the cancel (after it has started). */
  afterMs: number;
}

const CASES: Case[] = [
  {
    name: 'auto, fractionalChain(30) at 45 %',
    graph: fractionalChain(30),
    options: { budget: { fraction: 0.45 }, strategy: 'auto', relativeGap: 0 },
    afterMs: 2000,
  },
  {
    name: 'checkmate-milp, chain(25) at 40 %',
    graph: chain(25),
    options: { budget: { fraction: 0.4 }, strategy: 'checkmate-milp' },
    afterMs: 2000,
  },
  {
    name: 'local-search, chain(1500) at 40 %',
    graph: chain(1500),
    options: { budget: { fraction: 0.4 }, strategy: 'local-search' },
    afterMs: 2000,
  },
];

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function runningJob(app: FastifyInstance, body: object): Promise<string> {
  const reply = await app.inject({ method: 'POST', url: '/v1/plans?wait=0', payload: body });
  if (reply.statusCode !== 202) throw new Error(`submit: ${reply.statusCode} ${reply.body}`);
  const id = reply.json().jobId as string;
  while ((await app.inject({ url: `/v1/jobs/${id}` })).json().state !== 'running') await sleep(10);
  return id;
}

/** Runs the suite; see the module comment. */
export async function run(args: string[]): Promise<void> {
  const repeat = Number(argValue(args, 'repeat') ?? 3);
  const { build } = await import('../../src/app.js');
  const app = await build({ dataDir: ':memory:', workers: 2, apiKeys: [], maxTimeLimitSeconds: 3600 });
  app.memplan.pool.warm();
  const rows: (string | number)[][] = [];
  try {
    for (const testCase of CASES) {
      const latencies: number[] = [];
      let respawns = 0;
      let kept = 0;
      for (let round = 0; round < repeat; round++) {
        // A new graph name per round: the same request would be answered from the store.
        const graph = { ...testCase.graph, name: `${testCase.graph.name} #${round}` };
        const id = await runningJob(app, { graph, ...testCase.options, timeLimitSeconds: 120 });
        await sleep(testCase.afterMs);
        const spawned = app.memplan.pool.spawned;
        const started = performance.now();
        const reply = await app.inject({ method: 'DELETE', url: `/v1/jobs/${id}` });
        latencies.push(performance.now() - started);
        if (reply.json().plan) kept++;
        while (app.memplan.pool.busy > 0) await sleep(10);
        respawns += app.memplan.pool.spawned - spawned;
      }
      rows.push([testCase.name, Math.round(median(latencies)), Math.round(Math.max(...latencies)), `${kept}/${repeat}`, respawns]);
      console.log(`${testCase.name}: ${latencies.map((ms) => Math.round(ms)).join(', ')} ms`);
    }
    // A huge graph against its time limit: the answer's wall time and status.
    const huge = chain(9999);
    const started = performance.now();
    const posted = await app.inject({
      method: 'POST',
      url: '/v1/plans?wait=0',
      payload: { graph: huge, budget: { fraction: 0.5 }, strategy: 'auto', timeLimitSeconds: 10 },
    });
    const jobId = posted.json().jobId as string;
    let reply = await app.inject({ url: `/v1/jobs/${jobId}` });
    while (reply.json().state === 'queued' || reply.json().state === 'running') {
      await sleep(50);
      reply = await app.inject({ url: `/v1/jobs/${jobId}` });
    }
    const seconds = (performance.now() - started) / 1000;
    const job = reply.json();
    const status = job.plan ? `${job.state}, plan ${job.plan.status}` : `${job.state} ${job.error?.code}`;
    const table = markdownTable(['cancelled job', 'median ms', 'max ms', 'plan kept', 'threads respawned'], rows);
    const deadline = markdownTable(
      ['request', 'finished after s', 'job'],
      [['auto, chain(9999) = 20,000 nodes, limit 10 s', seconds.toFixed(1), status]],
    );
    const text = `## Cancel latency (DELETE round trip, ${repeat} runs each)\n\n${table}\n\n## Time limit on a huge graph\n\n${deadline}\n`;
    console.log(`\n${text}`);
    console.log(`written to ${writeOut('cancel.md', text)}`);
  } finally {
    await app.close();
  }
}
