// The [options] suite: what node options (Gist encodings, cDMA forms, operator
// alternatives) buy on captured training steps. For each graph it plans the capture with
// options (bench/graphs/NAME-options.json.gz, from `bench/graphs/capture.py --options`) and
// the same graph without its options (the same measurements; `--plain committed` takes the
// plain capture NAME.json.gz instead) with one strategy (auto by default), and reports:
//   - the smallest budget with a plan, as a share of the no-remat peak: a bisection between
//     the proven floor and the smallest peak the strategy reached at the floor;
//   - makespan / baseCost at --fractions (40, 50, 60 %) of the no-remat peak (the same bytes
//     for both: the no-remat peak ignores options), and each graph's baseCost (with options
//     it sums the cheapest implementations, so ratios are against a lower baseCost).
//   npm run bench -- --suite options [--only resnet18,resnet50,vgg16,unet] [--time-limit 20]
//                    [--strategy auto] [--fractions 0.4,0.5,0.6] [--steps 6] [--graphs DIR]
//                    [--plain stripped|committed]
// Cells: makespan / baseCost; '*' the strategy hit its time limit; 'inf.' no plan found.
// Every plan is replayed by the simulator inside plan(); the table is also written to
// bench/out/options.md (and the raw figures to bench/out/options.json).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { peakFloor } from '../../solver/graph/analysis.js';
import { importGraph } from '../../solver/graph/import.js';
import { type IndexedGraph, indexGraph } from '../../solver/graph/validate.js';
import { shutdownHighsWorkers } from '../../solver/milp/highs-backend.js';
import type { Plan } from '../../solver/plan-schema.js';
import { plan } from '../../solver/plan.js';
import { noRematPeak } from '../../solver/schedule/no-remat.js';
import { REPO_ROOT, argValue, fixed, markdownTable, nowMs, writeOut } from '../lib.js';

const DEFAULT_GRAPHS = ['resnet18', 'resnet50', 'vgg16', 'unet'];

/** Reads a graph file, gzipped or not. */
function readGraph(path: string): IndexedGraph {
  const bytes = readFileSync(path);
  const text = path.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
  return importGraph(JSON.parse(text));
}

/** The graph without its node options. */
function stripped(graph: IndexedGraph): IndexedGraph {
  const nodes = graph.graph.nodes.map(({ alternatives, encodings, ...node }) => node);
  return indexGraph({ ...graph.graph, nodes }, { maxNodes: graph.size });
}

/** The figures of one graph (plain or with options). */
interface Measured {
  nodes: number;
  baseCost: number;
  noRematPeak: number;
  floor: number;
  /** The smallest budget with a plan found, in bytes. */
  smallest?: number;
  /** Per fraction: makespan / baseCost, or the plan's status when it has none. */
  cells: Record<string, { ratio?: number; status: string; makespan?: number }>;
  seconds: number;
}

/** The smallest budget (bytes) at which the strategy finds a plan: bisection from the floor. */
async function smallestBudget(graph: IndexedGraph, run: (budget: number) => Promise<Plan>, steps: number): Promise<number | undefined> {
  const floor = peakFloor(graph);
  const peak = noRematPeak(graph);
  const atFloor = await run(floor);
  if (atFloor.predicted) return floor;
  let high = Math.min(peak, atFloor.smallestPeakBytes ?? peak);
  if (!(await run(high)).predicted) {
    high = peak;
    if (!(await run(high)).predicted) return undefined;
  }
  let low = floor;
  for (let step = 0; step < steps && high - low > 1; step++) {
    const middle = Math.floor((low + high) / 2);
    if ((await run(middle)).predicted) high = middle;
    else low = middle;
  }
  return high;
}

async function measure(graph: IndexedGraph, options: { strategy: string; timeLimitSeconds: number; fractions: number[]; steps: number }) {
  const started = nowMs();
  const run = (bytes: number) => plan(graph, { budget: { bytes }, strategy: options.strategy, timeLimitSeconds: options.timeLimitSeconds });
  const measured: Measured = {
    nodes: graph.size,
    baseCost: graph.baseCost,
    noRematPeak: noRematPeak(graph),
    floor: peakFloor(graph),
    cells: {},
    seconds: 0,
  };
  for (const fraction of options.fractions) {
    const result = await plan(graph, { budget: { fraction }, strategy: options.strategy, timeLimitSeconds: options.timeLimitSeconds });
    measured.cells[String(fraction)] = {
      ratio: result.predicted?.overheadRatio,
      makespan: result.predicted?.makespan,
      status: result.status,
    };
  }
  measured.smallest = await smallestBudget(graph, run, options.steps);
  measured.seconds = (nowMs() - started) / 1000;
  return measured;
}

/** Runs the suite: one row per graph. */
export async function run(args: string[]): Promise<void> {
  const dir = resolve(argValue(args, 'graphs') ?? join(REPO_ROOT, 'bench', 'graphs'));
  const names = (argValue(args, 'only') ?? DEFAULT_GRAPHS.join(',')).split(',');
  const strategy = argValue(args, 'strategy') ?? 'auto';
  const timeLimitSeconds = Number(argValue(args, 'time-limit') ?? 20);
  const fractions = (argValue(args, 'fractions') ?? '0.4,0.5,0.6').split(',').map(Number);
  const steps = Number(argValue(args, 'steps') ?? 6);
  const committed = argValue(args, 'plain') === 'committed';
  const share = (bytes: number | undefined, of: number) => (bytes === undefined ? 'none' : `${fixed((100 * bytes) / of, 1)} %`);
  const cell = (measured: Measured, fraction: number) => {
    const found = measured.cells[String(fraction)];
    if (found.ratio === undefined) return found.status === 'infeasible' ? 'inf.' : found.status;
    return `${fixed(found.ratio)}${found.status === 'timeLimit' ? '*' : ''}`;
  };
  console.log(`options suite: ${strategy}, ${timeLimitSeconds} s per plan, graphs from ${dir}`);
  const header = [
    'graph',
    'nodes (plain / options)',
    'floor',
    'smallest budget with a plan',
    ...fractions.map((fraction) => `${Math.round(fraction * 100)} %`),
    'baseCost',
  ];
  const rows: string[][] = [];
  const raw: Record<string, unknown> = {
    strategy,
    timeLimitSeconds,
    fractions,
    steps,
    plain: committed ? 'committed' : 'stripped',
    when: new Date().toISOString(),
  };
  try {
    for (const name of names) {
      const plainPath = join(dir, `${name}.json.gz`);
      const optionsPath = join(dir, `${name}-options.json.gz`);
      if (!existsSync(optionsPath) || (committed && !existsSync(plainPath))) {
        console.log(`${name}: skipped (needs ${optionsPath}${committed ? ` and ${plainPath}` : ''})`);
        continue;
      }
      const optionsGraph = readGraph(optionsPath);
      const plainGraph = committed ? readGraph(plainPath) : stripped(optionsGraph);
      const plain = await measure(plainGraph, { strategy, timeLimitSeconds, fractions, steps });
      const withOptions = await measure(optionsGraph, { strategy, timeLimitSeconds, fractions, steps });
      // Shares are of each graph's own no-remat peak (the same bytes when both are captured alike).
      const row = [
        name,
        `${plain.nodes} / ${withOptions.nodes}`,
        `${share(plain.floor, plain.noRematPeak)} / ${share(withOptions.floor, withOptions.noRematPeak)}`,
        `${share(plain.smallest, plain.noRematPeak)} / ${share(withOptions.smallest, withOptions.noRematPeak)}`,
        ...fractions.map((fraction) => `${cell(plain, fraction)} / ${cell(withOptions, fraction)}`),
        `${fixed(plain.baseCost, 0)} / ${fixed(withOptions.baseCost, 0)}`,
      ];
      rows.push(row);
      raw[name] = { plain, withOptions };
      console.log(`${row.join('  ')}  (${fixed(plain.seconds + withOptions.seconds, 0)} s)`);
    }
  } finally {
    await shutdownHighsWorkers();
  }
  const table = markdownTable(header, rows);
  const note =
    'Each cell: without options / with options. Shares are of the no-remat peak; makespan / baseCost at each budget, ' +
    "baseCost with options sums the cheapest implementations; '*' time limit, 'inf.' no plan found.";
  console.log(`\n${note}\n\n${table}`);
  console.log(
    `written to ${writeOut('options.md', `${note}\n\n${table}\n`)} and ${writeOut('options.json', JSON.stringify(raw, null, 2))}`,
  );
}
