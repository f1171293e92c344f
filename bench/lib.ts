// Shared benchmark helpers: locating and loading graphs, timing, planning in a worker
// thread (bench/case-worker.ts) with a hard time-out, markdown tables, output files and SVG line plots. Suites import
// these; nothing here is specific to one suite.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { importGraph } from '../solver/graph/import.js';
import type { IndexedGraph } from '../solver/graph/validate.js';
import type { Plan } from '../solver/plan-schema.js';
import { PlanOptionsSchema, plan, type PlanOptions } from '../solver/plan.js';
import { simulate } from '../solver/schedule/simulate.js';
import { ThreadPool } from '../solver/util/thread-pool.js';

/** The repository root (bench/..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where suites write their tables and plots (ignored by git). */
export const OUT_DIR = join(REPO_ROOT, 'bench', 'out');

/** The default benchmark graphs: ../shared/benchmarks/checkmate-moccasin beside the repo. */
export const DEFAULT_GRAPH_DIR = resolve(REPO_ROOT, '..', 'shared', 'benchmarks', 'checkmate-moccasin');

/** The relative gap the suites ask auto for (the plan options' default): each solve stops there, so gaps below it do not rank plans. */
export const ASKED_GAP = PlanOptionsSchema.shape.relativeGap.parse(undefined);

// ---------------------------------------------------------------------------------------
// Arguments.

/** Reads `--name VALUE` (or `--name=VALUE`) from a suite's arguments. */
export function argValue(args: readonly string[], name: string): string | undefined {
  for (let at = 0; at < args.length; at++) {
    if (args[at] === `--${name}`) return args[at + 1];
    if (args[at].startsWith(`--${name}=`)) return args[at].slice(name.length + 3);
  }
  return undefined;
}

/** True when a bare `--name` flag is present. */
export function argFlag(args: readonly string[], name: string): boolean {
  return args.includes(`--${name}`);
}

// ---------------------------------------------------------------------------------------
// Graphs.

/** A benchmark graph file, loaded and validated. */
export interface BenchGraph {
  name: string;
  path: string;
  graph: IndexedGraph;
}

/** Reads and imports one graph file (contract Graph or node-link JSON, gzipped when it ends in .gz). */
export function loadGraphFile(path: string): BenchGraph {
  const bytes = readFileSync(path);
  const graph = importGraph(JSON.parse(path.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8')));
  return { name: path.replace(/^.*\//, '').replace(/\.json(\.gz)?$/, ''), path, graph };
}

/** Every *.json graph of a directory, smallest first (then by name). */
export function loadGraphDir(dir: string): BenchGraph[] {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort();
  return files.map((file) => loadGraphFile(join(dir, file))).sort((a, b) => a.graph.size - b.graph.size || a.name.localeCompare(b.name));
}

/** The graph directory from `--graphs DIR`, else the default beside the repository. */
export function graphDir(args: readonly string[]): string {
  const given = argValue(args, 'graphs');
  return given ? resolve(given) : DEFAULT_GRAPH_DIR;
}

// ---------------------------------------------------------------------------------------
// Timing.

/** Milliseconds since an arbitrary origin, high resolution. */
export function nowMs(): number {
  return performance.now();
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// ---------------------------------------------------------------------------------------
// Planning one case in a worker, so a strategy that runs away can be stopped.

/** One planning case; the worker reloads the graph from `graphPath`. */
export interface PlanCase {
  graphPath: string;
  options: PlanOptions;
}

/** What a case gave: the plan (or a time-out / crash) and plan()'s own wall time. */
export interface CaseResult {
  plan?: Plan;
  /** Wall milliseconds of plan() alone, graph loading excluded. */
  wallMs: number;
  timedOut?: boolean;
  error?: string;
  /** True when the plan's schedule replays legally and its figures equal the replay. */
  replayChecked?: boolean;
}

/** Runs one case in this thread: load, plan, re-check the plan with the simulator. */
export async function runCaseHere(planCase: PlanCase, cache = new Map<string, IndexedGraph>()): Promise<CaseResult> {
  let graph = cache.get(planCase.graphPath);
  if (!graph) {
    graph = loadGraphFile(planCase.graphPath).graph;
    cache.set(planCase.graphPath, graph);
  }
  const started = nowMs();
  try {
    const result = await plan(graph, planCase.options);
    const wallMs = nowMs() - started;
    let replayChecked: boolean | undefined;
    if (result.predicted) {
      const replay = simulate(graph, result.schedule, { transfer: result.transfer });
      replayChecked =
        replay.ok &&
        replay.figures.peakBytes <= result.budgetBytes &&
        (Object.keys(replay.figures) as (keyof typeof replay.figures)[]).every((key) => replay.figures[key] === result.predicted![key]);
    }
    return { plan: result, wallMs, replayChecked };
  } catch (error) {
    return { wallMs: nowMs() - started, error: (error as Error).message };
  }
}

/** The case worker (bench/case-worker.ts behind its tsx bootstrap). */
const CASE_WORKER = new URL('./case-worker.mjs', import.meta.url);

/**
 * Plans cases in one worker thread at a time (the thread pool of solver/util), replacing
 * the thread when a case passes its time-out (a strategy that never returns cannot be
 * interrupted otherwise).
 */
export class CaseRunner {
  private readonly threads = new ThreadPool<CaseResult>({ url: CASE_WORKER, maxThreads: 1, graceMs: 0 });

  constructor(private readonly timeoutMs: number) {}

  /** Plans one case with the runner's time-out. */
  async run(planCase: PlanCase): Promise<CaseResult> {
    const outcome = await this.threads.run(planCase, { deadlineMs: this.timeoutMs }).outcome;
    if (outcome.kind === 'done') return outcome.result;
    if (outcome.kind === 'stopped') return { wallMs: this.timeoutMs, timedOut: true };
    return { wallMs: Number.NaN, error: String(outcome.error) };
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    await this.threads.close();
  }
}

// ---------------------------------------------------------------------------------------
// Output.

/** A markdown table from a header and rows of cells. */
export function markdownTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header.map(String), ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) => Math.max(3, ...cells.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  return [line(cells[0]), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

/** Writes a file under bench/out/ (creating it) and returns its path. */
export function writeOut(name: string, content: string): string {
  mkdirSync(OUT_DIR, { recursive: true });
  const path = join(OUT_DIR, name);
  writeFileSync(path, content.endsWith('\n') ? content : `${content}\n`);
  return path;
}

/** A number with a fixed number of decimals, or a dash for undefined / NaN. */
export function fixed(value: number | undefined, digits = 3): string {
  return value === undefined || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

// ---------------------------------------------------------------------------------------
// SVG line plots.

/** One line of a plot. */
export interface PlotSeries {
  name: string;
  points: readonly (readonly [number, number])[];
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly PlotSeries[];
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceTicks(low: number, high: number, count: number): number[] {
  if (!(high > low)) return [low];
  const rough = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let tick = Math.ceil(low / step) * step; tick <= high + step * 1e-9; tick += step) ticks.push(Number(tick.toPrecision(12)));
  return ticks;
}

function tickLabel(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e4 || magnitude < 1e-2) return value.toExponential(0);
  return String(Number(value.toPrecision(4)));
}

/** A self-contained SVG line plot (no dependencies), with axes, ticks and a legend. */
export function svgLinePlot(options: PlotOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const margin = { left: 70, right: 170, top: 40, bottom: 50 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const tx = (value: number) => (options.logX ? Math.log10(value) : value);
  const ty = (value: number) => (options.logY ? Math.log10(value) : value);
  const usable = options.series.map((series) => ({
    ...series,
    points: series.points.filter(([x, y]) => Number.isFinite(tx(x)) && Number.isFinite(ty(y))),
  }));
  const xs = usable.flatMap((series) => series.points.map(([x]) => tx(x)));
  const ys = usable.flatMap((series) => series.points.map(([, y]) => ty(y)));
  let [xMin, xMax] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [yMin, yMax] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (xMax === xMin) {
    xMin -= 0.5;
    xMax += 0.5;
  }
  if (yMax === yMin) {
    yMin -= 0.5;
    yMax += 0.5;
  }
  const px = (value: number) => margin.left + ((value - xMin) / (xMax - xMin)) * plotWidth;
  const py = (value: number) => margin.top + plotHeight - ((value - yMin) / (yMax - yMin)) * plotHeight;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(options.title)}</text>`);
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#333"/>`);
  for (const tick of niceTicks(xMin, xMax, 6)) {
    const x = px(tick);
    parts.push(`<line x1="${x}" y1="${margin.top}" x2="${x}" y2="${margin.top + plotHeight}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x}" y="${margin.top + plotHeight + 16}" ` +
        `text-anchor="middle">${escapeXml(tickLabel(options.logX ? 10 ** tick : tick))}</text>`,
    );
  }
  for (const tick of niceTicks(yMin, yMax, 6)) {
    const y = py(tick);
    parts.push(`<line x1="${margin.left}" y1="${y}" x2="${margin.left + plotWidth}" y2="${y}" stroke="#eee"/>`);
    parts.push(
      `<text x="${margin.left - 6}" y="${y + 4}" text-anchor="end">${escapeXml(tickLabel(options.logY ? 10 ** tick : tick))}</text>`,
    );
  }
  parts.push(
    `<text x="${margin.left + plotWidth / 2}" y="${height - 12}" ` +
      `text-anchor="middle">${escapeXml(options.xLabel)}${options.logX ? ' (log)' : ''}</text>`,
  );
  parts.push(
    `<text x="16" y="${margin.top + plotHeight / 2}" text-anchor="middle" transform="rotate(-90 16 ` +
      `${margin.top + plotHeight / 2})">${escapeXml(options.yLabel)}${options.logY ? ' (log)' : ''}</text>`,
  );
  usable.forEach((series, index) => {
    const color = PALETTE[index % PALETTE.length];
    const points = [...series.points].sort((a, b) => a[0] - b[0]).map(([x, y]) => [px(tx(x)), py(ty(y))] as const);
    if (points.length > 1) {
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" ` +
          `points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`,
      );
    }
    for (const [x, y] of points) parts.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${color}"/>`);
    const legendY = margin.top + 14 + index * 18;
    parts.push(
      `<line x1="${width - margin.right + 12}" y1="${legendY - 4}" x2="${width - margin.right + 32}" y2="${legendY - 4}" ` +
        `stroke="${color}" stroke-width="2"/>`,
    );
    parts.push(`<text x="${width - margin.right + 38}" y="${legendY}">${escapeXml(series.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
