// The [sweep] benchmark: one budget sweep per graph against separate solves.
//   npm run bench -- --suite sweep [--graphs DIR] [--graph FILE ...] [--only a,b] [--points 20]
//     [--time-limit 120] [--compare-time-limit 60] [--compare-every K] [--no-compare] [--reuse]
//     [--max-overhead 5%] [--overhead-time-limit 60] [--no-overhead] [--overhead-only]
// For every graph of the directory (default ../shared/benchmarks/checkmate-moccasin) and the
// captured resnet50 and 12-layer GPT-2 decoder (bench/graphs; --graph FILE replaces the whole
// list, and may be repeated), it runs one sweep of --points budgets (default 20) from the
// proven floor to 100 % of the no-remat peak with auto and a whole-sweep limit of
// --time-limit seconds (default 120, twice one 60 s solve), in a worker with a hard
// time-out. It checks that every point's plan replays in the simulator to its figures and
// within its budget, and that makespans never increase with the budget. Then, unless
// --no-compare, it solves every budget separately with auto and --compare-time-limit (default
// 60 s) and compares the gaps point by point (with --compare-every K, at every K-th point
// and the last only). --reuse takes separate solves from an earlier
// run (bench/out/sweep-separate.json, keyed by graph, budget and limit). Then, unless
// --no-overhead, it asks the inverse question alone (budgets [], maxOverhead --max-overhead,
// default 5 %, --overhead-time-limit seconds, default 60): the smallest budget B whose plan
// stays within the cap, whether that plan replays within B and within the cap, and what is
// said of B minus 1 % of the no-remat peak (a proof, or that none was found); --overhead-only
// asks only that (bench/out/sweep-overhead.md and .json). It prints one
// row per graph for each and writes bench/out/sweep.md (with one table per graph),
// sweep.json and sweep-GRAPH.svg (the Pareto plot).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { IndexedGraph } from '../../solver/graph/validate.js';
import { simulate } from '../../solver/schedule/simulate.js';
import type { SweepOptions, SweepResult } from '../../solver/sweep/schema.js';
import { sweep } from '../../solver/sweep/sweep.js';
import { paretoSvg } from '../../src/pareto-svg.js';
import {
  ASKED_GAP,
  CaseRunner,
  DEFAULT_GRAPH_DIR,
  OUT_DIR,
  REPO_ROOT,
  argFlag,
  argValue,
  fixed,
  loadGraphFile,
  markdownTable,
  writeOut,
  type CaseResult,
} from '../lib.js';

/** The captured graphs this suite adds to the public ones: a ResNet-50 and a 12-layer decoder. */
const CAPTURED = ['resnet50.json.gz', 'gpt2-12.json.gz'].map((file) => join(REPO_ROOT, 'bench', 'graphs', file));

/** What a sweep case gave, checked in the worker. */
interface SweepCaseResult {
  result?: SweepResult;
  wallMs: number;
  /** Per point: its plan replays to its figures within its budget (undefined: no plan). */
  replays?: (boolean | undefined)[];
  /** The max-overhead answer's plan replays to its figures within its budget and its cap. */
  answerReplays?: boolean;
  timedOut?: boolean;
  error?: string;
}

interface SweepRequest {
  id: number;
  graphPath: string;
  options: SweepOptions;
}

/** Runs one sweep here and replays every point's plan. */
async function runSweepHere(request: SweepRequest, cache: Map<string, IndexedGraph>): Promise<SweepCaseResult> {
  let graph = cache.get(request.graphPath);
  if (!graph) {
    graph = loadGraphFile(request.graphPath).graph;
    cache.set(request.graphPath, graph);
  }
  const started = performance.now();
  try {
    const { result, plans } = await sweep(graph, request.options);
    const wallMs = performance.now() - started;
    const replays = result.points.map((point) => {
      if (point.planId === undefined) return undefined;
      const plan = plans[Number(point.planId)];
      const replay = simulate(graph, plan.schedule, { transfer: plan.transfer });
      return (
        replay.ok &&
        replay.figures.peakBytes <= point.budgetBytes &&
        plan.budgetBytes === point.budgetBytes &&
        JSON.stringify(replay.figures) === JSON.stringify(point.predicted)
      );
    });
    const answer = result.maxOverhead;
    let answerReplays: boolean | undefined;
    if (answer?.planId !== undefined) {
      const plan = plans[Number(answer.planId)];
      const replay = simulate(graph, plan.schedule, { transfer: plan.transfer });
      answerReplays =
        replay.ok &&
        replay.figures.peakBytes <= answer.budgetBytes &&
        replay.figures.overheadRatio <= 1 + answer.maxOverhead &&
        JSON.stringify(replay.figures) === JSON.stringify(answer.predicted);
    }
    return { result, wallMs, replays, answerReplays };
  } catch (error) {
    return { wallMs: performance.now() - started, error: (error as Error).message };
  }
}

/** Runs sweeps in a worker thread, replaced when one passes its time-out. */
class SweepRunner {
  private worker: Worker | undefined;
  private nextId = 0;

  constructor(private readonly timeoutMs: number) {}

  run(graphPath: string, options: SweepOptions): Promise<SweepCaseResult> {
    const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); });`;
    if (!this.worker) this.worker = new Worker(bootstrap, { eval: true, workerData: { memplanSweepWorker: true } });
    const worker = this.worker;
    const id = this.nextId++;
    return new Promise((resolve) => {
      const done = (result: SweepCaseResult) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        resolve(result);
      };
      const onMessage = (reply: { id: number; result: SweepCaseResult }) => {
        if (reply.id === id) done(reply.result);
      };
      const onError = (error: Error) => {
        this.worker = undefined;
        done({ wallMs: Number.NaN, error: error.message });
      };
      const timer = setTimeout(() => {
        this.worker = undefined;
        void worker.terminate();
        done({ wallMs: this.timeoutMs, timedOut: true });
      }, this.timeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.postMessage({ id, graphPath, options } satisfies SweepRequest);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}

if (!isMainThread && (workerData as { memplanSweepWorker?: boolean } | null)?.memplanSweepWorker) {
  const cache = new Map<string, IndexedGraph>();
  parentPort!.on('message', async (request: SweepRequest) => {
    parentPort!.postMessage({ id: request.id, result: await runSweepHere(request, cache) });
  });
}

/** A separate solve's figures, as cached in bench/out/sweep-separate.json. */
interface Separate {
  status: string;
  ratio?: number;
  gap?: number;
  source?: string;
  seconds: number;
}

function separateOf(result: CaseResult): Separate {
  const plan = result.plan;
  if (!plan) return { status: result.timedOut ? 'timeout' : `error: ${result.error}`, seconds: result.wallMs / 1000 };
  return {
    status: plan.status,
    ratio: plan.predicted?.overheadRatio,
    gap: plan.bound?.gap,
    source: plan.bound?.source,
    seconds: result.wallMs / 1000,
  };
}

const percent = (value: number | undefined) => (value === undefined ? '-' : `${(100 * value).toFixed(2)} %`);

/**
 * Whether the sweep's point is no worse than the separate solve: a plan where it has one, and
 * a gap at most its gap or at most the relative gap both were asked for (each solve stops
 * there, so gaps below it say which stop came first, not which plan is better).
 */
function noWorse(point: SweepResult['points'][number], separate: Separate): boolean {
  if (separate.ratio === undefined) return true;
  if (!point.predicted || !point.bound) return false;
  return point.bound.gap <= Math.max(separate.gap ?? Infinity, ASKED_GAP) + 1e-12;
}

/** Runs the suite. */
export async function run(args: string[]): Promise<void> {
  const points = Number(argValue(args, 'points') ?? 20);
  const timeLimitSeconds = Number(argValue(args, 'time-limit') ?? 120);
  const compareLimit = Number(argValue(args, 'compare-time-limit') ?? 60);
  const compare = !argFlag(args, 'no-compare');
  // Separate solves at every K-th point only (the last point always): 20 points x 60 s on
  // every graph is hours on 2 cores.
  const compareEvery = Math.max(1, Math.floor(Number(argValue(args, 'compare-every') ?? 1)));
  // --overhead-only: the inverse question alone, without the sweeps and their comparisons.
  const overheadOnly = argFlag(args, 'overhead-only');
  const overhead = overheadOnly || !argFlag(args, 'no-overhead');
  const overheadCap = argValue(args, 'max-overhead') ?? '5%';
  const overheadLimit = Number(argValue(args, 'overhead-time-limit') ?? 60);
  const overheadRows: string[][] = [];
  const overheadRecords: unknown[] = [];
  const reuse = argFlag(args, 'reuse');
  const only = argValue(args, 'only')?.split(',');
  const given = args.flatMap((arg, at) => (arg === '--graph' ? [args[at + 1]] : arg.startsWith('--graph=') ? [arg.slice(8)] : []));
  const dir = argValue(args, 'graphs') ?? DEFAULT_GRAPH_DIR;
  let paths = given.length
    ? given
    : [
        ...(existsSync(dir)
          ? (await import('node:fs'))
              .readdirSync(dir)
              .filter((file) => file.endsWith('.json'))
              .sort()
              .map((file) => join(dir, file))
          : []),
        ...CAPTURED,
      ];
  if (only) paths = paths.filter((path) => only.some((part) => path.includes(part)));
  const cachePath = join(OUT_DIR, 'sweep-separate.json');
  const cache: Record<string, Separate> = reuse && existsSync(cachePath) ? JSON.parse(readFileSync(cachePath, 'utf8')) : {};
  const sweeps = new SweepRunner(1000 * (timeLimitSeconds * 1.5 + 60));
  const separate = new CaseRunner(1000 * (compareLimit * 1.5 + 30));
  const header = [
    'graph',
    'nodes',
    'points',
    'sweep s',
    '<= 2x60 s',
    'replay',
    'monotone',
    'gap <= separate',
    'worst gap (sweep / separate)',
    'knee',
  ];
  /** The inverse question alone on one graph: its row of the overhead table (and its record). */
  const askOverhead = async (path: string, name: string, size: number): Promise<string[]> => {
    const asked = await sweeps.run(path, { budgets: [], maxOverhead: overheadCap, strategy: 'auto', timeLimitSeconds: overheadLimit });
    const answer = asked.result?.maxOverhead;
    if (!answer)
      return [
        name,
        String(size),
        '-',
        '-',
        '-',
        '-',
        '-',
        '-',
        fixed(asked.wallMs / 1000, 1),
        asked.timedOut ? 'timed out' : `error: ${asked.error}`,
      ];
    const below = answer.below;
    overheadRecords.push({ graph: name, answer });
    return [
      name,
      String(size),
      `${(100 * answer.fraction).toFixed(1)} %`,
      `${(100 * (answer.predicted.overheadRatio - 1)).toFixed(3)} %`,
      asked.answerReplays ? 'yes' : 'NO',
      `${(100 * below.fraction).toFixed(1)} %`,
      below.proven ? `proof (${below.reason})` : 'none found',
      below.boundOverheadRatio === undefined ? '-' : `${(100 * (below.boundOverheadRatio - 1)).toFixed(3)} %`,
      fixed(asked.wallMs / 1000, 1),
      String(answer.evaluations),
    ];
  };
  const rows: string[][] = [];
  const sections: string[] = [];
  const records: unknown[] = [];
  console.log(
    `sweep suite: ${points} points from the floor to 100 %, auto, ${timeLimitSeconds} s per sweep; ` +
      `separate solves ${compare ? `${compareLimit} s` : 'off'}`,
  );
  try {
    for (const path of paths) {
      let name = path.replace(/^.*\//, '').replace(/\.json(\.gz)?$/, '');
      let size: number;
      try {
        const loaded = loadGraphFile(path);
        name = loaded.name;
        size = loaded.graph.size;
      } catch (error) {
        rows.push([name, '-', '-', '-', '-', '-', '-', '-', `cannot import: ${(error as Error).message.slice(0, 80)}`, '-']);
        console.log(rows.at(-1)!.join('  '));
        continue;
      }
      if (overheadOnly) {
        overheadRows.push(await askOverhead(path, name, size));
        console.log(overheadRows.at(-1)!.join('  '));
        continue;
      }
      const options: SweepOptions = { budgets: { from: 'floor', to: '100%', points }, strategy: 'auto', timeLimitSeconds };
      const outcome = await sweeps.run(path, options);
      const result = outcome.result;
      if (!result) {
        rows.push([
          name,
          String(size),
          String(points),
          fixed(outcome.wallMs / 1000, 1),
          'no',
          '-',
          '-',
          '-',
          outcome.timedOut ? 'timed out' : `error: ${outcome.error}`,
          '-',
        ]);
        console.log(rows.at(-1)!.join('  '));
        continue;
      }
      const seconds = outcome.wallMs / 1000;
      const replays = outcome.replays ?? [];
      const replayOk = replays.every((ok) => ok !== false);
      const makespans = result.points.map((point) => point.predicted?.makespan ?? Infinity);
      const monotone = makespans.every((makespan, index) => index === 0 || makespan <= makespans[index - 1]);
      const pointRows: string[][] = [];
      let better = 0;
      let compared = 0;
      let worst: { sweep: number; separate: number } | undefined;
      for (const [index, point] of result.points.entries()) {
        let other: Separate | undefined;
        if (compare && (index % compareEvery === 0 || index === result.points.length - 1)) {
          const key = `${name}|${point.budgetBytes}|${compareLimit}`;
          other = cache[key];
          if (!other) {
            other = separateOf(
              await separate.run({
                graphPath: path,
                options: { budget: { bytes: point.budgetBytes }, strategy: 'auto', timeLimitSeconds: compareLimit },
              }),
            );
            cache[key] = other;
            writeOut('sweep-separate.json', JSON.stringify(cache, null, 1));
          }
          compared++;
          if (noWorse(point, other)) better++;
          // A budget where neither has a plan says nothing about gaps.
          if (point.predicted || other.ratio !== undefined) {
            const sweepGap = point.bound?.gap ?? Infinity;
            const otherGap = other.gap ?? (other.ratio === undefined ? 0 : Infinity);
            if (!worst || sweepGap - otherGap > worst.sweep - worst.separate) worst = { sweep: sweepGap, separate: otherGap };
          }
        }
        pointRows.push([
          String(index),
          `${(100 * point.fraction).toFixed(1)} %`,
          point.status,
          fixed(point.predicted?.overheadRatio, 5),
          percent(point.bound?.gap),
          point.bound?.source ?? '-',
          fixed(point.seconds, 1),
          replays[index] === undefined ? '-' : replays[index] ? 'yes' : 'NO',
          other?.status ?? '-',
          fixed(other?.ratio, 5),
          percent(other?.gap),
          fixed(other?.seconds, 1),
          other ? (noWorse(point, other) ? 'yes' : 'NO') : '-',
        ]);
      }
      const row = [
        name,
        String(size),
        String(result.points.length),
        fixed(seconds, 1),
        seconds <= 2 * 60 ? 'yes' : 'NO',
        replayOk ? 'yes' : 'NO',
        monotone ? 'yes' : 'NO',
        compare ? `${better}/${compared}` : '-',
        worst ? `${percent(worst.sweep)} / ${percent(worst.separate)}` : '-',
        result.knee === undefined ? '-' : `${(100 * result.points[result.knee].fraction).toFixed(1)} %`,
      ];
      rows.push(row);
      console.log(row.join('  '));
      sections.push(
        `## ${name} (${size} nodes; floor ${(100 * (result.floorBytes / result.noRematPeakBytes)).toFixed(1)} %; ` +
          `sweep ${fixed(seconds, 1)} s)\n\n` +
          markdownTable(
            [
              '#',
              'budget',
              'status',
              'sweep x',
              'sweep gap',
              'bound',
              'sweep s',
              'replays',
              'separate',
              'separate x',
              'separate gap',
              'separate s',
              'no worse',
            ],
            pointRows,
          ),
      );
      records.push({ graph: name, nodes: size, seconds, replays, monotone, result });
      writeOut(`sweep-${name}.svg`, paretoSvg(result, `${name} (${size} nodes)`));
      if (overhead) {
        overheadRows.push(await askOverhead(path, name, size));
        console.log(overheadRows.at(-1)!.join('  '));
      }
    }
  } finally {
    await sweeps.close();
    await separate.close();
  }
  const table = markdownTable(header, rows);
  const note =
    `one sweep per graph: ${points} budgets from the proven floor to 100 % of the no-remat peak, auto, ` +
    `${timeLimitSeconds} s for the whole sweep; "gap <= separate": points whose proven gap is at most that of a separate ` +
    `${compareLimit} s auto solve at the same budget (a plan where it has one); replay: every point's plan replays in the ` +
    'simulator to its figures, within its budget; monotone: makespans never increase with the budget.';
  console.log(`\n${table}\n\n${note}`);
  const overheadTable = markdownTable(
    ['graph', 'nodes', 'B', 'overhead at B', 'replays', 'B - 1 %', 'there', 'bound there', 'seconds', 'evaluations'],
    overheadRows,
  );
  const overheadNote =
    `the inverse question alone (budgets [], maxOverhead ${overheadCap}, ${overheadLimit} s): B is the smallest budget found ` +
    'whose plan stays within the cap (the plan\'s peak); "replays": that plan replays within B and within the cap; at B - 1 % ' +
    'of the no-remat peak, a proof that no plan within the cap exists (below the floor, proven infeasible, or a bound over ' +
    'every schedule above the cap) or "none found"; "bound there": the best bound over every schedule at B - 1 %, as overhead ' +
    'over baseCost.';
  if (overhead) console.log(`\n${overheadTable}\n\n${overheadNote}`);
  const overheadSection = overhead ? `\n\n## The smallest budget within ${overheadCap}\n\n${overheadNote}\n\n${overheadTable}` : '';
  if (overheadOnly) {
    writeOut('sweep-overhead.md', `# Sweep suite: the inverse question alone${overheadSection}\n`);
    writeOut('sweep-overhead.json', JSON.stringify({ when: new Date().toISOString(), overhead: overheadRecords }, null, 1));
    console.log('written: bench/out/sweep-overhead.md, bench/out/sweep-overhead.json');
    return;
  }
  writeOut('sweep.md', `# Sweep suite\n\n${note}\n\n${table}${overheadSection}\n\n${sections.join('\n\n')}\n`);
  writeOut(
    'sweep.json',
    JSON.stringify({ when: new Date().toISOString(), points, timeLimitSeconds, compareLimit, records, overhead: overheadRecords }, null, 1),
  );
  console.log('written: bench/out/sweep.md, bench/out/sweep.json, bench/out/sweep-GRAPH.svg');
}
