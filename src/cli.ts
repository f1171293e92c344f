// The memplan command line: plan, sweep, simulate, analyze and strategies over a graph file
// (the contract's Graph JSON or networkx node-link JSON). Every figure printed comes from
// the engine's simulator; the CLI only parses arguments, reads files and formats.
//
// All argument parsing lives in `parseCommandLine` over one table: GLOBAL_OPTIONS apply to
// every command, and each entry of COMMANDS declares its own options, its positionals and
// its run function. To add a command (such as `serve`), add an entry; to add a global
// option (such as `--server URL` for remote planning), add it to GLOBAL_OPTIONS and read
// it from `args.values` in the commands that honour it.
//
// Exit codes: 0 success; 1 no plan fits (infeasible or error status) or the schedule is
// illegal or over its budget; 2 usage or input error (printed with the catalogue's code).
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { MemplanError, isMemplanError } from '../solver/errors.js';
import { graphStats } from '../solver/schedule/graph-stats.js';
import { importGraph } from '../solver/graph/import.js';
import type { IndexedGraph } from '../solver/graph/validate.js';
import { PlanSchema, type Plan, type SmallestBudget } from '../solver/plan-schema.js';
import { ANALYZE_BRACKET_SECONDS } from '../solver/limits.js';
import { smallestBudget } from '../solver/scale/bracket.js';
import { Clock } from '../solver/util/clock.js';
import { parseBudget as parseAnyBudget } from '../solver/budget.js';
import { assertFinite } from '../solver/finite.js';
import { TRANSFER_PRESETS, plan, type Budget, type PlanOptions } from '../solver/plan.js';
import { simulate, type Figures } from '../solver/schedule/simulate.js';
import { ScheduleSchema, TransferSchema, type Schedule, type Transfer } from '../solver/schedule/types.js';
import { STRATEGIES } from '../solver/strategies/registry.js';
import type { ProgressEvent } from '../solver/strategies/types.js';
import { DEFAULT_SWEEP_POINTS, MAX_SWEEP_POINTS } from '../solver/limits.js';
import { parseOverheadCap, type SweepOptions, type SweepResult } from '../solver/sweep/schema.js';
import { sweep } from '../solver/sweep/sweep.js';
import { paretoSvg } from './pareto-svg.js';
import { ERROR_CATALOGUE, type ErrorCode } from '../solver/errors.js';
import { MemplanClient, MemplanClientError, planWithProgress } from './client.js';
import { formatBytes } from './format.js';

/** Where the CLI writes; tests and embedders may capture it. */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

type OptionSpec = { type: 'string' | 'boolean'; short?: string; description: string; valueName?: string };

/** Parsed arguments handed to a command. */
export interface CommandArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** One entry of the command table. */
export interface Command {
  name: string;
  summary: string;
  /** Positional names, e.g. ['GRAPH.json']; all required. */
  positionals: string[];
  options: Record<string, OptionSpec>;
  run: (args: CommandArgs, io: CliIo) => Promise<number>;
}

/** A mistake in the command line itself (exit 2, usage printed). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'Print machine-readable JSON instead of the summary' },
  help: { type: 'boolean', short: 'h', description: 'Show help' },
};

// ---------------------------------------------------------------------------------------
// Value parsers.

/**
 * Parses --budget with the engine's one budget parser (solver/budget.ts): "60%", a bare
 * number with a fraction part or at most 1 ("0.6", "1") as a fraction, or bytes ("123456",
 * "12GB", "800MiB"; KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB of 1024).
 */
export function parseBudget(text: string): Budget {
  return parseAnyBudget(text);
}

/** Parses --transfer: a preset name or "BANDWIDTH,LATENCY" (bytes per cost unit, cost units). */
export function parseTransfer(text: string): PlanOptions['transfer'] {
  if (Object.hasOwn(TRANSFER_PRESETS, text)) return text as keyof typeof TRANSFER_PRESETS;
  const parts = text.split(',').map((part) => Number(part.trim()));
  if (parts.length >= 1 && parts.length <= 2) {
    return checkTransfer({ bandwidth: parts[0], latency: parts[1] ?? 0 }, 'transfer', `"${text}"`);
  }
  throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', {
    path: 'transfer',
    detail: `"${text}": expected a preset (${Object.keys(TRANSFER_PRESETS).join(', ')}) or BANDWIDTH,LATENCY`,
  });
}

/** Checks a host link against the contract's limits (bandwidth in [1e-6, 1e12], latency in [0, 1e12]). */
function checkTransfer(value: unknown, path: string, shown: string): Transfer {
  const parsed = TransferSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', {
    path: [path, ...issue.path].join('.'),
    detail: `${shown}: ${issue.message}`,
  });
}

function parsePositiveNumber(text: string, path: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path, detail: `"${text}" is not a positive number` });
  return value;
}

// ---------------------------------------------------------------------------------------
// Files.

function readJson(path: string, onError: (detail: string) => MemplanError): unknown {
  let text: string;
  try {
    // Captured graphs are committed gzipped (bench/graphs/*.json.gz).
    const bytes = readFileSync(path);
    text = path.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
  } catch (error) {
    throw onError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw onError(`${path} is not JSON: ${(error as Error).message}`);
  }
}

/** Reads and imports a graph file (contract Graph or node-link JSON). */
export function loadGraph(path: string): IndexedGraph {
  const raw = readJson(path, (detail) => new MemplanError('MEMPLAN_ERR_INVALID_IMPORT', { detail }));
  return importGraph(raw);
}

/** Reads a plan file (a Plan or a bare schedule array): its schedule, transfer and budget. */
export function loadSchedule(path: string): { schedule: Schedule; transfer?: Transfer; budgetBytes?: number; plan?: Plan } {
  const invalid = (where: string, detail: string) => new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', { path: where, detail });
  const raw = readJson(path, (detail) => invalid(path, detail));
  const body = Array.isArray(raw) ? raw : (raw as { schedule?: unknown })?.schedule;
  if (!Array.isArray(body)) throw invalid(path, 'expected a plan with a "schedule" array, or a bare schedule array');
  const parsed = ScheduleSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`${path}: schedule.${issue.path.join('.')}`, issue.message);
  }
  if (Array.isArray(raw)) return { schedule: parsed.data };
  const asPlan = PlanSchema.safeParse(raw);
  const object = raw as { transfer?: Transfer; budgetBytes?: unknown };
  return {
    schedule: parsed.data,
    transfer: object.transfer === undefined ? undefined : checkTransfer(object.transfer, `${path}: transfer`, "the plan's transfer"),
    budgetBytes: typeof object.budgetBytes === 'number' ? object.budgetBytes : undefined,
    plan: asPlan.success ? asPlan.data : undefined,
  };
}

// ---------------------------------------------------------------------------------------
// Formatting.

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : 'n/a';
}

function rows(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([label]) => label.length));
  return pairs.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

// ---------------------------------------------------------------------------------------
// Commands.

async function runPlan(args: CommandArgs, io: CliIo): Promise<number> {
  const [graphPath] = args.positionals;
  if (typeof args.values.budget !== 'string') throw new UsageError('--budget is required', COMMANDS.plan);
  const budget = parseBudget(args.values.budget);
  const options: PlanOptions = { budget };
  if (typeof args.values.strategy === 'string') options.strategy = args.values.strategy;
  if (typeof args.values['time-limit'] === 'string')
    options.timeLimitSeconds = parsePositiveNumber(args.values['time-limit'], 'time-limit');
  if (typeof args.values.transfer === 'string') options.transfer = parseTransfer(args.values.transfer);
  const graph = loadGraph(graphPath);
  const started = performance.now();
  const result =
    typeof args.values.server === 'string' ? await planOnServer(args.values.server, graph, options) : await plan(graph, options);
  const seconds = (performance.now() - started) / 1000;
  if (typeof args.values.out === 'string') writeFileSync(args.values.out, `${JSON.stringify(result, null, 2)}\n`);
  const fits = result.status !== 'infeasible' && result.status !== 'error';
  if (args.values.json) {
    io.out(JSON.stringify(result, null, 2));
    return fits ? 0 : 1;
  }
  const stats = { nodes: graph.size, edges: graph.edgeCount };
  const peak = result.noRematPeakBytes ?? 0;
  const lines: [string, string][] = [
    ['graph', `${graph.graph.name ?? graphPath} (${stats.nodes} nodes, ${stats.edges} edges)`],
    ['no-remat peak', `${formatBytes(peak)} (${formatNumber(peak)} B)`],
    ['floor', `${formatBytes(result.floorBytes ?? 0)} (${percent(result.floorBytes ?? 0, peak)} of no-remat)`],
    [
      'budget',
      `${formatBytes(result.budgetBytes)} (${formatNumber(result.budgetBytes)} B, ${percent(result.budgetBytes, peak)} of no-remat)`,
    ],
    ['strategy', result.strategy],
  ];
  if (result.transfer)
    lines.push([
      'transfer',
      `bandwidth ${formatNumber(result.transfer.bandwidth)} B/unit, latency ${formatNumber(result.transfer.latency)}`,
    ]);
  lines.push(['status', result.status]);
  if (result.predicted) {
    const figures = result.predicted;
    lines.push(['peak', `${formatBytes(figures.peakBytes)} (${percent(figures.peakBytes, result.budgetBytes)} of budget)`]);
    lines.push([
      'makespan',
      `${formatNumber(figures.makespan)} / baseCost ${formatNumber(figures.baseCost)} = ${figures.overheadRatio.toFixed(4)}x`,
    ]);
    const recomputes = result.nodes.reduce((sum, node) => sum + Math.max(0, node.computes - 1), 0);
    lines.push(['compute', `${formatNumber(figures.computeCost)} (${recomputes} recomputations)`]);
    if (figures.transferBytes > 0) lines.push(['transferred', formatBytes(figures.transferBytes)]);
  } else if (result.smallestPeakBytes !== undefined) {
    lines.push(['smallest peak', `${formatBytes(result.smallestPeakBytes)} (${percent(result.smallestPeakBytes, peak)} of no-remat)`]);
  }
  if (result.smallestBudget) lines.push(['smallest budget', bracketLine(result.smallestBudget, peak)]);
  if (result.bound) {
    const scope = result.bound.scope === 'checkmate-class' ? ", within Checkmate's class" : '';
    lines.push([
      'bound',
      `${formatNumber(result.bound.makespan)} (${result.bound.source ?? 'bound'}${scope}), gap ${(100 * result.bound.gap).toFixed(2)} %`,
    ]);
  }
  if (result.message) lines.push(['note', result.message]);
  lines.push(['seconds', seconds.toFixed(3)]);
  if (typeof args.values.out === 'string') lines.push(['written', args.values.out]);
  io.out(rows(lines));
  return fits ? 0 : 1;
}

/** Plans on a memplan server with a live progress line on stderr (elapsed, incumbent, gap). */
async function planOnServer(url: string, graph: IndexedGraph, options: PlanOptions): Promise<Plan> {
  const client = new MemplanClient({ baseUrl: url, apiKey: process.env.MEMPLAN_API_KEY });
  const live = Boolean(process.stderr.isTTY);
  const write = (line: string) => process.stderr.write(live ? `\r\x1b[K${line}` : `${line}\n`);
  try {
    return await onServer(url, COMMANDS.plan, () => planWithProgress(client, { ...options, graph: graph.graph }, write, live));
  } finally {
    if (live) process.stderr.write('\r\x1b[K');
  }
}

/** Parses --points: a whole number of budgets in [2, MAX_SWEEP_POINTS]. */
function parsePoints(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 2 || value > MAX_SWEEP_POINTS)
    throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', {
      path: 'points',
      detail: `"${text}" is not a whole number in [2, ${MAX_SWEEP_POINTS}]`,
    });
  return value;
}

/** The sweep options of the command line: --budgets a,b,c or --from/--to/--points, the strategy options and the inverse questions. */
function sweepOptionsOf(values: CommandArgs['values']): SweepOptions {
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : undefined);
  const options: SweepOptions = {};
  const list = text('budgets');
  if (list !== undefined)
    options.budgets = list
      .split(',')
      .filter((part) => part.trim() !== '')
      .map((part) => parseBudget(part));
  else {
    const from = text('from');
    options.budgets = {
      from: from === undefined || from.trim() === 'floor' ? 'floor' : parseBudget(from),
      to: parseBudget(text('to') ?? '100%'),
      points: text('points') === undefined ? DEFAULT_SWEEP_POINTS : parsePoints(text('points')!),
    };
  }
  if (text('strategy') !== undefined) options.strategy = text('strategy');
  if (text('time-limit') !== undefined) options.timeLimitSeconds = parsePositiveNumber(text('time-limit')!, 'time-limit');
  if (text('transfer') !== undefined) options.transfer = parseTransfer(text('transfer')!);
  if (text('max-overhead') !== undefined) options.maxOverhead = parseOverheadCap(text('max-overhead'), 'max-overhead');
  if (values['smallest-feasible']) options.smallestFeasible = true;
  if (text('knee-slope') !== undefined) options.kneeSlope = parsePositiveNumber(text('knee-slope')!, 'knee-slope');
  return options;
}

/** The summary of a sweep: one row per budget, the Pareto points and knee, the answers. */
function sweepSummary(graph: IndexedGraph, graphPath: string, result: SweepResult, seconds: number): string {
  const peak = result.noRematPeakBytes;
  const head = rows([
    ['graph', `${graph.graph.name ?? graphPath} (${graph.size} nodes, ${graph.edgeCount} edges)`],
    ['no-remat peak', `${formatBytes(peak)} (${formatNumber(peak)} B)`],
    ['floor', `${formatBytes(result.floorBytes)} (${percent(result.floorBytes, peak)} of no-remat)`],
    ['strategy', `${result.strategy}, ${formatNumber(result.timeLimitSeconds)} s for the whole sweep, ${seconds.toFixed(1)} s taken`],
  ]);
  const pareto = new Set(result.pareto);
  const table = [
    ['#', 'budget', 'of no-remat', 'status', 'makespan / baseCost', 'gap', 'bound', 'seconds', ''],
    ...result.points.map((point, index) => [
      String(index),
      formatBytes(point.budgetBytes),
      percent(point.budgetBytes, peak),
      point.status,
      point.predicted ? `${point.predicted.overheadRatio.toFixed(4)}x` : '-',
      point.bound ? `${(100 * point.bound.gap).toFixed(2)} %` : '-',
      point.bound?.source ?? '-',
      point.seconds.toFixed(1),
      [pareto.has(index) ? 'pareto' : '', result.knee === index ? 'knee' : ''].filter(Boolean).join(', '),
    ]),
  ];
  const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)));
  const lines = table.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd(),
  );
  const notes: string[] = [];
  if (result.points.length > 0) {
    const knee = result.knee === undefined ? undefined : result.points[result.knee];
    notes.push(
      knee
        ? `knee: ${formatBytes(knee.budgetBytes)} (${percent(knee.budgetBytes, peak)}): beyond it more memory buys less than ` +
            `${(10 * result.kneeSlope).toPrecision(2)} % of baseCost per 10 % of the no-remat peak`
        : 'knee: none (no point has a plan)',
    );
  }
  if (result.maxOverhead) notes.push(`max overhead: ${result.maxOverhead.statement}`);
  if (result.smallestFeasible) notes.push(`smallest feasible: ${result.smallestFeasible.statement}`);
  return [head, '', ...(result.points.length ? [...lines, ''] : []), ...notes].join('\n');
}

/** Sweeps a graph over budgets (locally or on a server) with a progress line on stderr, and prints the summary. */
async function runSweep(args: CommandArgs, io: CliIo): Promise<number> {
  const [graphPath] = args.positionals;
  const options = sweepOptionsOf(args.values);
  const graph = loadGraph(graphPath);
  const live = Boolean(process.stderr.isTTY) && !args.values.json;
  const write = (line: string) => (live ? process.stderr.write(`\r\x1b[K${line}`) : io.err(line));
  const started = performance.now();
  const onProgress = (event: ProgressEvent) => {
    if (event.kind === 'point' && event.message)
      write(`sweep ${(performance.now() / 1000 - started / 1000).toFixed(1)} s · ${event.message}`);
  };
  let result: SweepResult;
  let plans: Plan[] | undefined;
  try {
    if (typeof args.values.server === 'string') {
      const client = new MemplanClient({ baseUrl: args.values.server, apiKey: process.env.MEMPLAN_API_KEY });
      result = await onServer(args.values.server, COMMANDS.sweep, () => client.sweep({ ...options, graph: graph.graph }, { onProgress }));
    } else ({ result, plans } = await sweep(graph, options, { onProgress }));
  } finally {
    if (live) process.stderr.write('\r\x1b[K');
  }
  const seconds = (performance.now() - started) / 1000;
  const written: string[] = [];
  if (typeof args.values.out === 'string') {
    writeFileSync(args.values.out, `${JSON.stringify(plans ? { ...result, plans } : result, null, 2)}\n`);
    written.push(args.values.out);
  }
  if (typeof args.values.svg === 'string') {
    writeFileSync(args.values.svg, `${paretoSvg(result, `${graph.graph.name ?? graphPath} (${graph.size} nodes)`)}\n`);
    written.push(args.values.svg);
  }
  const found = result.points.some((point) => point.predicted) || result.maxOverhead !== undefined || result.smallestFeasible !== undefined;
  if (args.values.json) {
    io.out(JSON.stringify(result, null, 2));
    return found ? 0 : 1;
  }
  io.out(sweepSummary(graph, graphPath, result, seconds) + (written.length ? `\nwritten: ${written.join(', ')}` : ''));
  return found ? 0 : 1;
}

/** Runs a request on a server, reporting its catalogued errors as the local engine would. */
async function onServer<T>(url: string, command: Command, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    if (error instanceof MemplanClientError && Object.hasOwn(ERROR_CATALOGUE, error.code)) {
      throw new MemplanError(error.code as ErrorCode, error.details);
    }
    if (error instanceof TypeError)
      throw new UsageError(`cannot reach the server ${url}: ${(error.cause as Error | undefined)?.message ?? error.message}`, command);
    throw error;
  }
}

/** Starts the HTTP service (src/server.ts); it runs until SIGTERM or SIGINT. */
async function runServe(args: CommandArgs, io: CliIo): Promise<number> {
  const port = typeof args.values.port === 'string' ? Number(args.values.port) : undefined;
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536))
    throw new UsageError('--port must be a port number', COMMANDS.serve);
  const workers = typeof args.values.workers === 'string' ? Number(args.values.workers) : undefined;
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1))
    throw new UsageError('--workers must be a positive integer', COMMANDS.serve);
  const { serve, startupError } = await import('./server.js');
  let url: string;
  try {
    ({ url } = await serve({
      port,
      workers,
      host: typeof args.values.host === 'string' ? args.values.host : undefined,
      dataDir: typeof args.values['data-dir'] === 'string' ? args.values['data-dir'] : undefined,
    }));
  } catch (error) {
    io.err(startupError(error));
    return 2;
  }
  io.err(`memplan: serving on ${url} (Swagger UI at ${url}/docs)`);
  // The server's signal handlers end the process; this promise never settles.
  return new Promise<number>(() => {});
}

/** A positive integer from the environment, or undefined. */
function envPositive(name: string): number | undefined {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * Serves the scaled-out job queue (MEMPLAN_REDIS_URL) until SIGTERM or SIGINT, which let
 * the running jobs finish (MEMPLAN_WORKER_SHUTDOWN_GRACE_MS) and hand the rest back.
 */
async function runWorker(args: CommandArgs, io: CliIo): Promise<number> {
  const concurrency = typeof args.values.concurrency === 'string' ? Number(args.values.concurrency) : undefined;
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1))
    throw new UsageError('--concurrency must be a positive integer', COMMANDS.worker);
  const { redisSettingsFromEnv } = await import('./jobs/distributed/settings.js');
  const settings = redisSettingsFromEnv();
  if (!settings) throw new UsageError('memplan worker needs MEMPLAN_REDIS_URL (redis://host:port), the queue it serves', COMMANDS.worker);
  const { openStore } = await import('./jobs/open-store.js');
  const store = await openStore({
    databaseUrl: process.env.MEMPLAN_DATABASE_URL,
    dataDir: typeof args.values['data-dir'] === 'string' ? args.values['data-dir'] : (process.env.MEMPLAN_DATA_DIR ?? './data'),
  });
  const { WorkerProcess } = await import('./jobs/distributed/worker-process.js');
  const worker = new WorkerProcess({
    settings,
    store,
    concurrency: concurrency ?? envPositive('MEMPLAN_WORKERS'),
    attempts: envPositive('MEMPLAN_JOB_ATTEMPTS'),
    log: io.err,
  });
  const grace = envPositive('MEMPLAN_WORKER_SHUTDOWN_GRACE_MS');
  const stop = (signal: string) => {
    io.err(`memplan worker: ${signal}: finishing the running jobs`);
    worker.stopGracefully(grace).then(
      () => process.exit(0),
      (error: unknown) => {
        io.err(`memplan worker: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // The signal handlers end the process; this promise never settles.
  return new Promise<number>(() => {});
}

async function runSimulate(args: CommandArgs, io: CliIo): Promise<number> {
  const [graphPath, planPath] = args.positionals;
  const graph = loadGraph(graphPath);
  const loaded = loadSchedule(planPath);
  const transfer = typeof args.values.transfer === 'string' ? toTransfer(parseTransfer(args.values.transfer)) : loaded.transfer;
  const budgetBytes =
    typeof args.values.budget === 'string' ? resolveCliBudget(graph, parseBudget(args.values.budget)) : loaded.budgetBytes;
  const status = loaded.plan?.status;
  if ((status === 'infeasible' || status === 'error') && loaded.schedule.length === 0) {
    // Nothing to replay: say what the plan says instead of calling its empty schedule illegal.
    const plan = loaded.plan!;
    if (args.values.json) {
      io.out(JSON.stringify({ ok: false, status, smallestPeakBytes: plan.smallestPeakBytes, message: plan.message }, null, 2));
    } else {
      const smallest = plan.smallestPeakBytes === undefined ? '' : `; the smallest peak reached is ${formatBytes(plan.smallestPeakBytes)}`;
      io.out(`the plan is ${status}: it has no schedule to replay${smallest}${plan.message ? ` (${plan.message})` : ''}`);
    }
    return 1;
  }
  const replay = simulate(graph, loaded.schedule, { transfer });
  if (!replay.ok) {
    if (args.values.json) io.out(JSON.stringify({ ok: false, legal: false, step: replay.step, error: replay.error.toJSON() }, null, 2));
    else io.out(`illegal at step ${replay.step}: ${replay.error.code}: ${replay.error.message}`);
    return 1;
  }
  const figures = assertFinite('replay', replay.figures);
  const overBudget = budgetBytes !== undefined && figures.peakBytes > budgetBytes;
  const matches = loaded.plan?.predicted ? samesFigures(loaded.plan.predicted, figures) : undefined;
  if (args.values.json) {
    io.out(
      JSON.stringify(
        {
          ok: !overBudget,
          legal: true,
          figures,
          budgetBytes,
          withinBudget: budgetBytes === undefined ? undefined : !overBudget,
          predictedMatches: matches,
        },
        null,
        2,
      ),
    );
    return overBudget ? 1 : 0;
  }
  const lines: [string, string][] = [
    ['graph', `${graph.graph.name ?? graphPath} (${graph.size} nodes)`],
    ['steps', `${loaded.schedule.length} (legal)`],
    ['peak', `${formatBytes(figures.peakBytes)} (${formatNumber(figures.peakBytes)} B)`],
  ];
  if (budgetBytes !== undefined) {
    lines.push([
      'budget',
      `${formatBytes(budgetBytes)} (${formatNumber(budgetBytes)} B): ` +
        `${overBudget ? 'EXCEEDED' : `peak is ${percent(figures.peakBytes, budgetBytes)}`}`,
    ]);
  }
  lines.push(['compute', formatNumber(figures.computeCost)]);
  lines.push([
    'makespan',
    `${formatNumber(figures.makespan)} / baseCost ${formatNumber(figures.baseCost)} = ${figures.overheadRatio.toFixed(4)}x`,
  ]);
  lines.push(['transferred', `${formatBytes(figures.transferBytes)}`]);
  if (matches !== undefined) lines.push(['predicted', matches ? 'equal to the replay' : 'DIFFERS from the replay']);
  io.out(rows(lines));
  return overBudget ? 1 : 0;
}

function samesFigures(a: Figures, b: Figures): boolean {
  return (Object.keys(b) as (keyof Figures)[]).every((key) => a[key] === b[key]);
}

function toTransfer(value: PlanOptions['transfer']): Transfer | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return { ...TRANSFER_PRESETS[value] };
  return { bandwidth: value.bandwidth, latency: value.latency ?? 0 };
}

function resolveCliBudget(graph: IndexedGraph, budget: Budget): number {
  return 'bytes' in budget ? budget.bytes : Math.floor(budget.fraction * graphStats(graph).noRematPeakBytes);
}

/** A bracket of the smallest feasible budget as one line: the proven floor .. the smallest peak found. */
function bracketLine(bracket: SmallestBudget, peak: number): string {
  const floor = `${formatBytes(bracket.floorBytes)} (${percent(bracket.floorBytes, peak)}, ${bracket.floorSource})`;
  const found =
    bracket.foundBytes === undefined ? 'none found' : `${formatBytes(bracket.foundBytes)} (${percent(bracket.foundBytes, peak)})`;
  return `between ${floor} and ${found} of no-remat`;
}

async function runAnalyze(args: CommandArgs, io: CliIo): Promise<number> {
  const [graphPath] = args.positionals;
  const graph = loadGraph(graphPath);
  const stats = { ...graphStats(graph), smallestBudget: smallestBudget(graph, { deadline: Clock.deadline(ANALYZE_BRACKET_SECONDS) }) };
  if (args.values.json) {
    io.out(JSON.stringify({ name: graph.graph.name, ...stats }, null, 2));
    return 0;
  }
  const peak = stats.noRematPeakBytes;
  io.out(
    rows([
      ['graph', graph.graph.name ?? graphPath],
      ['nodes', `${stats.nodes} (${stats.forwardNodes} forward, ${stats.articulationPoints} articulation points)`],
      ['edges', String(stats.edges)],
      ['baseCost', formatNumber(stats.baseCost)],
      ['resident', formatBytes(stats.residentBytes)],
      ['keep', formatBytes(stats.keepBytes)],
      ['no-remat peak', `${formatBytes(peak)} (${formatNumber(peak)} B)`],
      ['floor', `${formatBytes(stats.floorBytes)} (${percent(stats.floorBytes, peak)} of no-remat)`],
      ['floor, swaps', `${formatBytes(stats.floorWithSwapsBytes)} (${percent(stats.floorWithSwapsBytes, peak)} of no-remat)`],
      ['smallest budget', bracketLine(stats.smallestBudget, peak)],
    ]),
  );
  return 0;
}

async function runStrategies(args: CommandArgs, io: CliIo): Promise<number> {
  const list = STRATEGIES.map((strategy) => ({
    name: strategy.name,
    description: strategy.description,
    options: strategy.options,
    usesTransfer: strategy.usesTransfer ?? false,
  }));
  if (args.values.json) {
    io.out(JSON.stringify(list, null, 2));
    return 0;
  }
  const width = Math.max(...list.map((entry) => entry.name.length));
  io.out(
    list.map((entry) => `${entry.name.padEnd(width)}  ${entry.description}${entry.usesTransfer ? ' (needs --transfer)' : ''}`).join('\n'),
  );
  return 0;
}

const TRANSFER_OPTION: OptionSpec = {
  type: 'string',
  valueName: 'pcie4|BW,LAT',
  description: `Host link: a preset (${Object.keys(TRANSFER_PRESETS).join(', ')}) or bandwidth (bytes per cost unit),latency`,
};

/** The command table: name -> command. */
export const COMMANDS: Record<string, Command> = {
  plan: {
    name: 'plan',
    summary: 'Plan a graph under a memory budget and print a summary',
    positionals: ['GRAPH.json'],
    options: {
      budget: { type: 'string', valueName: 'B', description: 'Budget: 60% or 0.6 (of the no-remat peak), or bytes: 12GB, 800MiB, 123456' },
      strategy: { type: 'string', valueName: 'NAME', description: 'A strategy from `memplan strategies` (default auto)' },
      out: { type: 'string', valueName: 'FILE', description: 'Write the plan JSON to FILE' },
      'time-limit': { type: 'string', valueName: 'S', description: 'Wall-clock limit for optimizers, seconds (default 60)' },
      transfer: TRANSFER_OPTION,
      server: {
        type: 'string',
        valueName: 'URL',
        description: 'Plan on a memplan server (live progress on stderr); API key from MEMPLAN_API_KEY',
      },
    },
    run: runPlan,
  },
  simulate: {
    name: 'simulate',
    summary: "Replay a plan's schedule (or a bare schedule array) and print its figures or the first illegal step",
    positionals: ['GRAPH.json', 'PLAN.json'],
    options: {
      transfer: { ...TRANSFER_OPTION, description: `${TRANSFER_OPTION.description}; default: the plan's own` },
      budget: { type: 'string', valueName: 'B', description: "Check the peak against this budget; default: the plan's own" },
    },
    run: runSimulate,
  },
  analyze: {
    name: 'analyze',
    summary: 'Print graph statistics: nodes, edges, no-remat peak, proven floor',
    positionals: ['GRAPH.json'],
    options: {},
    run: runAnalyze,
  },
  strategies: {
    name: 'strategies',
    summary: 'List the strategies',
    positionals: [],
    options: {},
    run: runStrategies,
  },
  sweep: {
    name: 'sweep',
    summary: 'Plan a graph at many budgets in one run: a table of plans, Pareto points, the knee, and the inverse questions',
    positionals: ['GRAPH.json'],
    options: {
      from: { type: 'string', valueName: 'B', description: 'Smallest budget: floor (the proven floor, default) or a budget such as 30%' },
      to: { type: 'string', valueName: 'B', description: 'Largest budget (default 100%)' },
      points: {
        type: 'string',
        valueName: 'N',
        description: `Budgets from --from to --to, evenly spaced in bytes (default ${DEFAULT_SWEEP_POINTS})`,
      },
      budgets: { type: 'string', valueName: 'B,B,...', description: 'A list of budgets instead of --from/--to/--points' },
      'max-overhead': {
        type: 'string',
        valueName: 'P',
        description:
          'Also find the smallest budget whose plan stays within this overhead (5% or 0.05), with a statement about 1 % below it',
      },
      'smallest-feasible': {
        type: 'boolean',
        description: 'Also find the smallest feasible budget, bracketed (proven floor, smallest found)',
      },
      'knee-slope': {
        type: 'string',
        valueName: 'S',
        description: 'The knee: more memory buys less than S of time per budget (default 0.1: 1 % per 10 %)',
      },
      strategy: { type: 'string', valueName: 'NAME', description: 'A strategy from `memplan strategies` (default auto)' },
      'time-limit': { type: 'string', valueName: 'S', description: 'Wall-clock limit for the whole sweep, seconds (default 60)' },
      transfer: TRANSFER_OPTION,
      out: { type: 'string', valueName: 'FILE', description: 'Write the result JSON, with every plan (planId indexes "plans"), to FILE' },
      svg: { type: 'string', valueName: 'FILE', description: 'Write the Pareto plot (SVG) to FILE' },
      server: {
        type: 'string',
        valueName: 'URL',
        description:
          'Sweep on a memplan server (progress on stderr; plans stay there, GET /v1/plans/{planId}); API key from MEMPLAN_API_KEY',
      },
    },
    run: runSweep,
  },
  serve: {
    name: 'serve',
    summary: 'Start the HTTP service (REST API, Swagger UI at /docs)',
    positionals: [],
    options: {
      port: { type: 'string', valueName: 'PORT', description: 'Port to listen on (default PORT or 8080)' },
      host: { type: 'string', valueName: 'HOST', description: 'Address to bind (default HOST or 0.0.0.0)' },
      'data-dir': { type: 'string', valueName: 'DIR', description: 'Store directory (default MEMPLAN_DATA_DIR or ./data)' },
      workers: { type: 'string', valueName: 'N', description: 'Worker threads (default MEMPLAN_WORKERS or the cores)' },
    },
    run: runServe,
  },
  worker: {
    name: 'worker',
    summary: "Solve the scaled-out service's jobs (MEMPLAN_REDIS_URL; store: MEMPLAN_DATABASE_URL or the data directory)",
    positionals: [],
    options: {
      concurrency: {
        type: 'string',
        valueName: 'N',
        description: 'Jobs at once, one solver thread each (default MEMPLAN_WORKERS or the cores)',
      },
      'data-dir': {
        type: 'string',
        valueName: 'DIR',
        description: 'SQLite store shared with the API processes, without MEMPLAN_DATABASE_URL',
      },
    },
    run: runWorker,
  },
};

// ---------------------------------------------------------------------------------------
// Parsing and dispatch.

function optionLines(options: Record<string, OptionSpec>): string[] {
  return Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
    return `  ${flag.padEnd(28)} ${spec.description}`;
  });
}

/** Usage text for one command, or for all when none is given. */
export function usage(command?: Command): string {
  if (command) {
    return [
      `usage: memplan ${command.name} ${command.positionals.join(' ')}${Object.keys(command.options).length ? ' [options]' : ''}`.trimEnd(),
      '',
      command.summary,
      '',
      'options:',
      ...optionLines({ ...command.options, ...GLOBAL_OPTIONS }),
    ].join('\n');
  }
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    'usage: memplan <command> [options]',
    '',
    'commands:',
    ...Object.values(COMMANDS).map((entry) => `  ${entry.name.padEnd(width)}  ${entry.summary}`),
    '',
    'Graphs may be memplan Graph JSON or networkx node-link JSON (Checkmate or Moccasin).',
    'Exit codes: 0 success, 1 infeasible or illegal, 2 usage or input error.',
    "Run 'memplan <command> --help' for a command's options.",
  ].join('\n');
}

/** Parses argv into a command and its arguments; throws UsageError. The one parser of the CLI. */
export function parseCommandLine(argv: string[]): { command?: Command; args: CommandArgs } {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    return { command: undefined, args: { values: { help: true }, positionals: [] } };
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(`unknown command "${name}"`);
  const options = Object.fromEntries(
    Object.entries({ ...command.options, ...GLOBAL_OPTIONS }).map(([key, spec]) => [
      key,
      spec.short ? { type: spec.type, short: spec.short } : { type: spec.type },
    ]),
  );
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
  const args: CommandArgs = { values: parsed.values as CommandArgs['values'], positionals: parsed.positionals };
  if (!args.values.help && args.positionals.length !== command.positionals.length) {
    throw new UsageError(
      `expected ${command.positionals.join(' ') || 'no arguments'}, got ${args.positionals.length} argument(s)`,
      command,
    );
  }
  return { command, args };
}

const DEFAULT_IO: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** Runs the CLI on argv (without node and script); returns the exit code. */
export async function main(argv: string[], io: CliIo = DEFAULT_IO): Promise<number> {
  try {
    const { command, args } = parseCommandLine(argv);
    if (!command || args.values.help) {
      io.out(usage(command));
      return 0;
    }
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`memplan: ${error.message}\n\n${usage(error.command)}`);
      return 2;
    }
    if (isMemplanError(error)) {
      if (argv.includes('--json')) io.out(JSON.stringify({ error: error.toJSON() }, null, 2));
      io.err(`memplan: ${error.code}: ${error.message}`);
      return 2;
    }
    io.err(`memplan: internal error: ${(error as Error)?.stack ?? String(error)}`);
    return 2;
  }
}

// Run when executed directly (`node --import tsx src/cli.ts`, the npm script `memplan`);
// bin/memplan.mjs imports main instead.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
