// The [quality] benchmark: auto on real training steps captured with memplan_torch.
//   npm run bench -- --suite real [--time-limit 60] [--graphs DIR] [--only a,b]
//     [--fractions 0.3,0.5,0.7] [--links none,pcie4] [--public] [--baseline-root DIR]
//     [--write-baseline] [--baseline-only]
// Every graph of bench/graphs (or --graphs DIR; *.json and *.json.gz) at 30 %, 50 % and
// 70 % of its no-remat peak, where a budget below the proven floor (the contract's, without
// swaps, so both link columns plan the same budget) is replaced by floor x 1.1, each
// without a host link and with pcie4. --public adds Checkmate's and Moccasin's graphs
// (../shared/benchmarks/checkmate-moccasin). For each case it prints auto's status,
// makespan / baseCost, certified gap, bound source and scope, seconds, and the
// smallest-feasible bracket (proven floor .. smallest peak reached), next to the current
// auto as a baseline column: the figures of the code at BASELINE_COMMIT, read from
// bench/baseline-real.json, or recomputed by running DIR/bin/memplan.mjs when
// --baseline-root DIR is given (--write-baseline then rewrites the JSON; --baseline-only
// skips auto, for producing that file). The file keeps each graph's fingerprint: a graph
// whose text changed since (captured again) has no baseline figures. Every plan is
// re-checked by replaying its schedule ('!' marks a failed check), baseline plans too.
// Tables go to stdout and bench/out/real.md and real.json.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { peakFloor } from '../../solver/graph/analysis.js';
import { importGraph } from '../../solver/graph/import.js';
import type { IndexedGraph } from '../../solver/graph/validate.js';
import type { Plan } from '../../solver/plan-schema.js';
import { resolveTransfer } from '../../solver/plan.js';
import { noRematPeak } from '../../solver/schedule/no-remat.js';
import { simulate } from '../../solver/schedule/simulate.js';
import {
  ASKED_GAP,
  CaseRunner,
  DEFAULT_GRAPH_DIR,
  REPO_ROOT,
  argFlag,
  argValue,
  markdownTable,
  writeOut,
  type CaseResult,
} from '../lib.js';

/** The commit whose auto is the baseline column ("the current auto" when the suite was written). */
export const BASELINE_COMMIT = '83099e4';

/** Where the baseline figures are kept (small, committed). */
export const BASELINE_FILE = join(REPO_ROOT, 'bench', 'baseline-real.json');

/** The captured graphs. */
export const REAL_GRAPH_DIR = join(REPO_ROOT, 'bench', 'graphs');

/** The suite's budgets, fractions of the no-remat peak. */
export const REAL_FRACTIONS = [0.3, 0.5, 0.7] as const;

/** A budget below the floor is replaced by the floor times this. */
export const FLOOR_FACTOR = 1.1;

/** The link columns: none, or a preset name. */
export const REAL_LINKS = ['none', 'pcie4'] as const;

/** One graph of the suite: its file, its graph and the figures its budgets are taken from. */
interface SuiteGraph {
  name: string;
  path: string;
  graph: IndexedGraph;
  peak: number;
  floor: number;
  /** A hash of the graph's text: the baseline's figures are of this graph only (graphFingerprint). */
  fingerprint: string;
}

/** One case: a graph at a budget, with or without a link. */
interface SuiteCase {
  graph: string;
  fraction: number;
  budgetBytes: number;
  /** True when the fraction was below the floor and floor x FLOOR_FACTOR is planned instead. */
  raised: boolean;
  link: string;
}

/** The figures the table prints for one plan (auto's or the baseline's). */
export interface CaseFigures {
  status: string;
  ratio?: number;
  makespan?: number;
  gap?: number;
  source?: string;
  scope?: string;
  seconds: number;
  floorBytes?: number;
  smallestPeakBytes?: number;
  peakBytes?: number;
  /** False when the schedule did not replay legally within the budget, or its figures differ from the replay. */
  replays?: boolean;
}

/** Reads a graph file, gzipped or not. */
function readGraphText(path: string): string {
  const bytes = readFileSync(path);
  return path.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
}

/**
 * The first 16 hex digits of the SHA-256 of a graph's text. The baseline file keeps it per
 * graph: a graph captured again (its costs measured again, its nodes split otherwise) may
 * keep its no-remat peak and so its case keys, and its old figures must not stand for it.
 */
export function graphFingerprint(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The graphs of a directory (*.json, *.json.gz), smallest first. */
function loadSuiteGraphs(dir: string): SuiteGraph[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json') || file.endsWith('.json.gz'))
    .filter((file) => file !== 'manifest.json')
    .map((file) => {
      const path = join(dir, file);
      const text = readGraphText(path);
      const graph = importGraph(JSON.parse(text));
      const name = file.replace(/\.json(\.gz)?$/, '');
      return { name, path, graph, peak: noRematPeak(graph), floor: peakFloor(graph), fingerprint: graphFingerprint(text) };
    })
    .sort((a, b) => a.graph.size - b.graph.size || a.name.localeCompare(b.name));
}

/** The suite's cases of one graph. */
function casesOf(entry: SuiteGraph, fractions: readonly number[], links: readonly string[]): SuiteCase[] {
  const cases: SuiteCase[] = [];
  const budgets = new Set<number>();
  for (const fraction of fractions) {
    const asked = Math.floor(fraction * entry.peak);
    const raised = asked < entry.floor;
    const budgetBytes = raised ? Math.ceil(FLOOR_FACTOR * entry.floor) : asked;
    // Two fractions below the floor plan the same budget: once is enough.
    if (budgets.has(budgetBytes)) continue;
    budgets.add(budgetBytes);
    for (const link of links) cases.push({ graph: entry.name, fraction, budgetBytes, raised, link });
  }
  return cases;
}

/** Whether a plan's schedule replays legally within its budget with figures equal to its predicted ones. */
function replays(graph: IndexedGraph, plan: Plan): boolean | undefined {
  if (!plan.predicted) return undefined;
  const replay = simulate(graph, plan.schedule, { transfer: plan.transfer });
  if (!replay.ok || replay.figures.peakBytes > plan.budgetBytes) return false;
  return (Object.keys(replay.figures) as (keyof typeof replay.figures)[]).every((key) => replay.figures[key] === plan.predicted![key]);
}

/** The table's figures of a plan. */
function figuresOf(plan: Plan | undefined, seconds: number, replayed: boolean | undefined, failure?: string): CaseFigures {
  if (!plan) return { status: failure ?? 'error', seconds };
  return {
    status: plan.status,
    ratio: plan.predicted?.overheadRatio,
    makespan: plan.predicted?.makespan,
    gap: plan.bound?.gap,
    source: plan.bound?.source,
    scope: plan.bound?.scope,
    seconds,
    // The bracket's floor: auto's proven one (the closure floor where it is higher), else the contract's.
    floorBytes: plan.smallestBudget?.floorBytes ?? plan.floorBytes,
    smallestPeakBytes: plan.smallestPeakBytes,
    peakBytes: plan.predicted?.peakBytes,
    replays: replayed,
  };
}

/** auto's figures for one case, planned in a worker with a hard time-out. */
async function runAuto(runner: CaseRunner, entry: SuiteGraph, suiteCase: SuiteCase, timeLimitSeconds: number): Promise<CaseFigures> {
  const result: CaseResult = await runner.run({
    graphPath: entry.path,
    options: {
      budget: { bytes: suiteCase.budgetBytes },
      strategy: 'auto',
      timeLimitSeconds,
      transfer: suiteCase.link === 'none' ? undefined : (suiteCase.link as 'pcie4'),
    },
  });
  const failure = result.timedOut ? 'timeout' : result.error ? `error: ${result.error}` : undefined;
  return figuresOf(result.plan, result.wallMs / 1000, result.replayChecked, failure);
}

/** The baseline's figures for one case: DIR/bin/memplan.mjs plan ... --json, its plan replayed here. */
function runBaseline(root: string, entry: SuiteGraph, suiteCase: SuiteCase, timeLimitSeconds: number, scratch: string): CaseFigures {
  // The baseline's CLI reads plain JSON only.
  const file = join(scratch, `${entry.name}.json`);
  if (!existsSync(file)) writeFileSync(file, readGraphText(entry.path));
  const args = [join(root, 'bin', 'memplan.mjs'), 'plan', file, '--budget', String(suiteCase.budgetBytes), '--json'];
  args.push('--time-limit', String(timeLimitSeconds));
  if (suiteCase.link !== 'none') args.push('--transfer', suiteCase.link);
  const started = performance.now();
  const child = spawnSync(process.execPath, args, {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    timeout: (timeLimitSeconds * 2 + 60) * 1000,
  });
  const seconds = (performance.now() - started) / 1000;
  let plan: Plan | undefined;
  try {
    plan = JSON.parse(child.stdout) as Plan;
  } catch {
    return { status: `error: ${(child.stderr || 'no output').split('\n')[0]}`, seconds };
  }
  return figuresOf(plan, seconds, replays(entry.graph, plan));
}

/** The key of a case in the baseline file. */
function caseKey(suiteCase: SuiteCase): string {
  return `${suiteCase.graph}@${suiteCase.budgetBytes}/${suiteCase.link}`;
}

function percent(value: number | undefined, digits = 2): string {
  return value === undefined ? '-' : `${(100 * value).toFixed(digits)} %`;
}

function ratioCell(figures: CaseFigures | undefined): string {
  if (!figures || figures.ratio === undefined) return '-';
  return `${figures.ratio.toFixed(4)}${figures.replays === false ? '!' : ''}`;
}

/** The smallest-feasible bracket in % of the no-remat peak: proven floor .. smallest peak reached (or the plan's peak). */
function bracketCell(figures: CaseFigures, entry: SuiteGraph): string {
  const floor = figures.floorBytes;
  const top = figures.peakBytes ?? figures.smallestPeakBytes;
  if (floor === undefined && top === undefined) return '-';
  const part = (bytes: number | undefined) => (bytes === undefined ? '?' : (100 * (bytes / entry.peak)).toFixed(1));
  return `${part(floor)} .. ${part(top)}`;
}

/**
 * Whether auto is no worse than a reference (a plan no slower; infeasible only where the
 * reference is too). Plans of one case are compared by makespan: the ratio divides it by the
 * baseCost of the code that planned it, and the baseline (83099e4) predates node options, so
 * on an -options graph its baseCost is the nodes' own cost, not the cheapest implementation's
 * (unet-options at 50 %: the same makespan, 1.1205 against 1.1229).
 */
function noWorse(mine: CaseFigures, reference: CaseFigures | undefined): string {
  if (!reference) return '-';
  // A plan has both figures (figuresOf): the makespan says whether there is one.
  if (reference.makespan === undefined) return mine.makespan !== undefined ? 'yes (only auto fits)' : 'yes (neither fits)';
  if (mine.makespan === undefined) return 'NO (no plan)';
  if (mine.makespan <= reference.makespan * (1 + 1e-9)) return 'yes';
  const over = `+${percent(mine.makespan / reference.makespan - 1)}`;
  // auto stops once its proven gap is below the relative gap it was asked for: a plan slower
  // than the reference by less than that, with such a proof, is what it was asked to find.
  const withinAsked = mine.gap !== undefined && mine.gap <= ASKED_GAP && mine.makespan <= reference.makespan * (1 + ASKED_GAP);
  return withinAsked ? `yes (within the asked gap, ${over})` : `NO (${over})`;
}

/** Runs the suite. */
export async function run(args: string[]): Promise<void> {
  const timeLimitSeconds = Number(argValue(args, 'time-limit') ?? 60);
  const fractions = (argValue(args, 'fractions') ?? REAL_FRACTIONS.join(',')).split(',').map(Number);
  const links = (argValue(args, 'links') ?? REAL_LINKS.join(',')).split(',');
  for (const link of links) if (link !== 'none' && !resolveTransfer(link as 'pcie4')) throw new Error(`unknown link ${link}`);
  const only = argValue(args, 'only')?.split(',');
  const baselineRoot = argValue(args, 'baseline-root');
  const writeBaseline = argFlag(args, 'write-baseline');
  const baselineOnly = argFlag(args, 'baseline-only');
  const dirs = [resolve(argValue(args, 'graphs') ?? REAL_GRAPH_DIR)];
  if (argFlag(args, 'public')) dirs.push(DEFAULT_GRAPH_DIR);
  let graphs = dirs.flatMap((dir) => loadSuiteGraphs(dir));
  if (only) graphs = graphs.filter((entry) => only.some((part) => entry.name.includes(part)));

  const stored: { commit?: string; timeLimitSeconds?: number; graphs?: Record<string, string>; cases?: Record<string, CaseFigures> } =
    existsSync(BASELINE_FILE) ? JSON.parse(readFileSync(BASELINE_FILE, 'utf8')) : {};
  // A baseline rewritten for every graph starts empty, so cases of older captures do not
  // linger in it; with --only it is updated in place.
  const fresh = writeBaseline && baselineRoot && !only;
  const baseline: Record<string, CaseFigures> = fresh ? {} : { ...(stored.cases ?? {}) };
  const fingerprints: Record<string, string> = fresh ? {} : { ...(stored.graphs ?? {}) };
  const scratch = mkdtempSync(join(tmpdir(), 'memplan-real-'));
  // The baseline file is rewritten after every case, so a long run that stops keeps what it measured.
  const commit = baselineRoot
    ? spawnSync('git', ['-C', baselineRoot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim()
    : '';
  const saveBaseline = () => {
    if (!writeBaseline || !baselineRoot) return;
    const sorted = Object.fromEntries(Object.entries(baseline).sort(([a], [b]) => a.localeCompare(b)));
    const graphsSorted = Object.fromEntries(Object.entries(fingerprints).sort(([a], [b]) => a.localeCompare(b)));
    writeFileSync(BASELINE_FILE, `${JSON.stringify({ commit, timeLimitSeconds, graphs: graphsSorted, cases: sorted }, null, 1)}\n`);
  };
  const runner = new CaseRunner(1000 * (timeLimitSeconds * 1.5 + 30));
  const header = [
    'graph',
    'nodes',
    'budget',
    'link',
    'status',
    'ratio',
    'gap',
    'bound (scope)',
    's',
    'bracket %',
    'baseline',
    'base gap',
    '<= baseline',
    '<= no link',
  ];
  const rows: string[][] = [];
  const records: unknown[] = [];
  console.log(
    `real suite: auto at ${timeLimitSeconds} s per case; baseline: ${baselineRoot ? `${baselineRoot} (recomputed)` : `${BASELINE_FILE} (${stored.commit ?? 'none'})`}`,
  );
  try {
    for (const entry of graphs) {
      const noLink = new Map<number, CaseFigures>();
      for (const suiteCase of casesOf(entry, fractions, links)) {
        const mine: CaseFigures = baselineOnly
          ? { status: 'not run', seconds: 0 }
          : await runAuto(runner, entry, suiteCase, timeLimitSeconds);
        if (suiteCase.link === 'none') noLink.set(suiteCase.budgetBytes, mine);
        const key = caseKey(suiteCase);
        if (baselineRoot) {
          baseline[key] = runBaseline(baselineRoot, entry, suiteCase, timeLimitSeconds, scratch);
          fingerprints[entry.name] = entry.fingerprint;
          saveBaseline();
        }
        // A graph whose text differs from the one the baseline was measured on has no baseline figures.
        const reference = fingerprints[entry.name] === entry.fingerprint ? baseline[key] : undefined;
        const budget = suiteCase.raised
          ? `floor x ${FLOOR_FACTOR} = ${(100 * (suiteCase.budgetBytes / entry.peak)).toFixed(1)} %`
          : `${Math.round(100 * suiteCase.fraction)} %`;
        const row = [
          entry.name,
          String(entry.graph.size),
          budget,
          suiteCase.link,
          mine.status,
          ratioCell(mine),
          percent(mine.gap),
          mine.source ? `${mine.source} (${mine.scope})` : '-',
          mine.seconds.toFixed(1),
          bracketCell(mine, entry),
          reference ? `${ratioCell(reference)} ${reference.ratio === undefined ? reference.status : ''}`.trim() : '-',
          percent(reference?.gap),
          noWorse(mine, reference),
          suiteCase.link === 'none' ? '' : noWorse(mine, noLink.get(suiteCase.budgetBytes)),
        ];
        rows.push(row);
        console.log(row.join(' | '));
        records.push({
          ...suiteCase,
          nodes: entry.graph.size,
          peakBytes: entry.peak,
          floorBytes: entry.floor,
          auto: mine,
          baseline: reference,
        });
      }
    }
  } finally {
    await runner.close();
  }
  if (writeBaseline && baselineRoot) console.log(`baseline written: ${BASELINE_FILE}`);
  const table = markdownTable(header, rows);
  const note =
    `auto with a ${timeLimitSeconds} s limit; ratio = makespan / baseCost ('!' a plan whose replay did not match); gap = (makespan - bound) / makespan; ` +
    'bound: its source and the schedules it covers; bracket: proven floor .. smallest peak reached (the plan peak when a plan fits), % of the no-remat peak; ' +
    `baseline: auto at ${stored.commit ?? BASELINE_COMMIT} on the same case.`;
  console.log(`\n${table}\n\n${note}`);
  const written = [
    writeOut('real.md', `# Real suite\n\n${note}\n\n${table}\n`),
    writeOut('real.json', JSON.stringify({ when: new Date().toISOString(), timeLimitSeconds, records }, null, 1)),
  ];
  console.log(`written: ${written.map((path) => join('bench/out', basename(path))).join(', ')}`);
}
