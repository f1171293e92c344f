// The scaleout suite (`npm run bench -- --suite scaleout [--jobs 20] [--layers 1500] [--repeat 30]`):
// the scaled-out service on real engines (a redis-server of its own, a database on the
// PostgreSQL of MEMPLAN_TEST_DATABASE_URL, which scripts/scaleout-services.sh provides):
// - throughput of `--jobs` medium jobs (chen-greedy on a chain of `--layers` layers, about
//   a second of CPU each, all distinct) posted at once to one API process, with 1 and 2
//   worker processes of one solver thread each (on 2 cores, 2 workers should come close
//   to twice the throughput);
// - the latency a job gains through the queue: the median round trip of a tiny plan
//   (POST /v1/plans?wait=30, checkpoint-all on the sample graph, `--repeat` times) on a
//   scaled-out API process minus the same on a single-process server (target <= 50 ms);
// - SSE event delay: for each progress event of auto runs, the time from the worker
//   making it (its `at`) to its arrival at the client through another API process
//   (target <= 100 ms).
// Every process is a child of this one (node src/server.ts, node bin/memplan.mjs worker).
import type { Graph } from '../../solver/graph/schema.js';
import { chain, fractionalChain } from '../../fixtures/generators.js';
import { argValue, markdownTable, median, REPO_ROOT, writeOut } from '../lib.js';
import { type Child, freePort, freshDatabase, killChild, startNode, TestRedis } from '../services.js';

interface Api {
  child: Child;
  url: string;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function post(url: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function get(url: string, path: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${url}${path}`)).json()) as Record<string, unknown>;
}

/** Starts an API process (scaled out when env has MEMPLAN_REDIS_URL) and waits until it is ready. */
async function startApi(env: NodeJS.ProcessEnv): Promise<Api> {
  const port = await freePort();
  const child = startNode(
    ['--import', 'tsx', 'src/server.ts'],
    { ...env, PORT: String(port), HOST: '127.0.0.1', MEMPLAN_LOG: '0' },
    REPO_ROOT,
  );
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 600; attempt++) {
    const health = await get(url, '/health').catch(() => undefined);
    if (health && (health.queue === undefined || health.queue === 'ok')) return { child, url };
    await sleep(100);
  }
  throw new Error(`the API process did not start: ${child.output}`);
}

function startWorkers(env: NodeJS.ProcessEnv, count: number): Child[] {
  return Array.from({ length: count }, () => startNode(['bin/memplan.mjs', 'worker', '--concurrency', '1'], env, REPO_ROOT));
}

/** Waits until `count` solver threads report heartbeats to the API. */
async function waitForWorkers(api: Api, count: number): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if ((await get(api.url, '/health')).workers === count) return;
    await sleep(100);
  }
  throw new Error('the workers did not start');
}

/** Posts every body at once and waits until every job is done; seconds from the first post to the last end. */
async function throughput(api: Api, bodies: unknown[]): Promise<number> {
  const started = performance.now();
  const ids = await Promise.all(
    bodies.map(async (body) => {
      const reply = await post(api.url, '/v1/plans?wait=0', body);
      if (reply.status !== 202) throw new Error(`submit: ${reply.status} ${JSON.stringify(reply.body)}`);
      return reply.body.jobId as string;
    }),
  );
  const pending = new Set(ids);
  while (pending.size > 0) {
    for (const id of [...pending]) {
      const job = await get(api.url, `/v1/jobs/${id}`);
      if (job.state === 'done') pending.delete(id);
      else if (job.state !== 'queued' && job.state !== 'running') throw new Error(`job ${id}: ${JSON.stringify(job.error)}`);
    }
    await sleep(50);
  }
  return (performance.now() - started) / 1000;
}

/** Median round trip of a tiny plan, each request distinct (no answer from the store). */
async function roundTrip(api: Api, graph: Graph, repeat: number, tag: string): Promise<number> {
  const times: number[] = [];
  for (let round = -3; round < repeat; round++) {
    const started = performance.now();
    const reply = await post(api.url, '/v1/plans?wait=30', {
      graph: { ...graph, name: `${tag} #${round}` },
      budget: 1,
      strategy: 'checkpoint-all',
    });
    if (reply.status !== 200) throw new Error(`plan: ${reply.status} ${JSON.stringify(reply.body)}`);
    // The first rounds warm the processes up.
    if (round >= 0) times.push(performance.now() - started);
  }
  return median(times);
}

/** Progress event delays (ms) of auto runs posted to one API and streamed from another. */
async function sseDelays(postTo: Api, streamFrom: Api, runs: number): Promise<number[]> {
  const delays: number[] = [];
  for (let run = 0; run < runs; run++) {
    const body = {
      graph: { ...fractionalChain(30), name: `sse #${run}` },
      budget: 0.45,
      strategy: 'auto',
      timeLimitSeconds: 4,
      relativeGap: 0,
    };
    const reply = await post(postTo.url, '/v1/plans?wait=0', body);
    const response = await fetch(`${streamFrom.url}/v1/jobs/${reply.body.jobId}/events`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      const arrived = Date.now();
      buffer += decoder.decode(chunk, { stream: true });
      for (let split = buffer.indexOf('\n\n'); split >= 0; split = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (!frame.startsWith('event: progress') || !data) continue;
        const at = (JSON.parse(data) as { at?: number }).at;
        // Events replayed from before the stream opened are not delays.
        if (at !== undefined && at >= arrived - 60_000) delays.push(arrived - at);
      }
    }
  }
  return delays;
}

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))];
}

/** Runs the suite; see the module comment. */
export async function run(args: string[]): Promise<void> {
  const jobs = Number(argValue(args, 'jobs') ?? 20);
  const layers = Number(argValue(args, 'layers') ?? 1500);
  const repeat = Number(argValue(args, 'repeat') ?? 30);
  const redis = await TestRedis.start();
  const database = await freshDatabase();
  const children: Child[] = [];
  const env = {
    ...process.env,
    MEMPLAN_REDIS_URL: redis.url,
    MEMPLAN_DATABASE_URL: database.url,
    MEMPLAN_API_KEYS: '',
    MEMPLAN_MAX_JOBS_PER_KEY: '1000',
    MEMPLAN_MAX_QUEUE: '1000',
  };
  const medium = chain(layers);
  const sample = JSON.parse(
    await import('node:fs').then(({ readFileSync }) => readFileSync(`${REPO_ROOT}/fixtures/graphs/small-cnn.json`, 'utf8')),
  ) as Graph;
  try {
    // Throughput with 1, then 2 worker processes.
    const api = await startApi(env);
    children.push(api.child);
    const rows: (string | number)[][] = [];
    let single = 0;
    for (const count of [1, 2]) {
      const workers = startWorkers(env, count);
      children.push(...workers);
      await waitForWorkers(api, count);
      const bodies = Array.from({ length: jobs }, (_, index) => ({
        graph: { ...medium, name: `medium ${count}x #${index}` },
        budget: 0.5,
        strategy: 'chen-greedy',
        timeLimitSeconds: 120,
      }));
      const seconds = await throughput(api, bodies);
      const perSecond = jobs / seconds;
      if (count === 1) single = perSecond;
      rows.push([
        `${count} worker process${count > 1 ? 'es' : ''}`,
        jobs,
        seconds.toFixed(1),
        perSecond.toFixed(2),
        (perSecond / single).toFixed(2),
      ]);
      console.log(`${count} worker(s): ${jobs} jobs in ${seconds.toFixed(1)} s`);
      for (const worker of workers) {
        worker.process.kill('SIGTERM');
        await worker.exited;
      }
    }
    // Added latency: a second API process and one worker, against a single-process server.
    const second = await startApi(env);
    children.push(second.child);
    const worker = startWorkers(env, 1);
    children.push(...worker);
    await waitForWorkers(api, 1);
    const queued = await roundTrip(api, sample, repeat, 'queued');
    const local = await startApi({
      ...process.env,
      MEMPLAN_REDIS_URL: '',
      MEMPLAN_DATABASE_URL: '',
      MEMPLAN_WORKERS: '1',
      MEMPLAN_DATA_DIR: ':memory:',
    });
    children.push(local.child);
    const inProcess = await roundTrip(local, sample, repeat, 'local');
    // SSE delay: posted to one API process, streamed from the other.
    const delays = await sseDelays(api, second, 3);
    const text = [
      `## Throughput: ${jobs} jobs (chen-greedy, chain(${layers}) = ${medium.nodes.length} nodes, 50 %), one API process`,
      '',
      markdownTable(['workers (1 solver thread each)', 'jobs', 'seconds', 'jobs/s', 'speed-up'], rows),
      '',
      `## Added latency per job (median of ${repeat} tiny plans, POST /v1/plans?wait=30)`,
      '',
      markdownTable(
        ['path', 'median ms'],
        [
          ['single process (npm start, no Redis)', inProcess.toFixed(1)],
          ['scaled out (API -> Redis -> worker -> PostgreSQL -> API)', queued.toFixed(1)],
          ['added by the queue (target <= 50 ms)', (queued - inProcess).toFixed(1)],
        ],
      ),
      '',
      `## SSE event delay (${delays.length} progress events of 3 auto runs, worker -> Redis -> another API process -> client)`,
      '',
      markdownTable(
        ['median ms', 'p95 ms', 'max ms', 'target'],
        [[median(delays).toFixed(1), percentile(delays, 0.95).toFixed(1), Math.max(...delays).toFixed(1), '<= 100 ms']],
      ),
      '',
    ].join('\n');
    console.log(`\n${text}`);
    console.log(`written to ${writeOut('scaleout.md', text)}`);
  } finally {
    for (const child of children) await killChild(child);
    await redis.stop();
    await database.drop();
  }
}
