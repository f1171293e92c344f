// The [swap] benchmark: Checkmate's layer graphs at 60 % and 40 % of the no-remat peak over
// a PCIe 4 link; makespan / baseCost of the exact remat MILP, the joint remat + swap MILP,
// vDNN (all and conv) and Capuchin. Run: npm run bench -- --suite swap [--time-limit S]
// [--dir DIR] [--graphs vgg16,resnet50] [--fractions 0.6,0.4] [--transfer pcie4] [--json FILE].
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importGraph } from '../../solver/graph/import.js';
import { plan, TRANSFER_PRESETS } from '../../solver/plan.js';
import type { Plan } from '../../solver/plan-schema.js';

const DEFAULT_DIR = '/work/shared/benchmarks/checkmate-moccasin';
const GRAPHS: Record<string, string> = {
  vgg16: 'vgg16_b256_train.json',
  vgg19: 'vgg19_b256_train.json',
  fcn8: 'fcn_8_vgg_b32_train.json',
  segnet: 'segnet_b32_train.json',
  'vgg-unet': 'vgg_unet_b32_train.json',
  mobilenet: 'mobilenet_b512_train.json',
  resnet50: 'resnet50_b256_train.json',
};
const STRATEGIES = ['checkmate-milp', 'swap-milp', 'vdnn-all', 'vdnn-conv', 'capuchin'] as const;

/** One measured cell of the table. */
export interface SwapBenchRow {
  graph: string;
  nodes: number;
  fraction: number;
  strategy: string;
  status: Plan['status'];
  overhead?: number;
  gap?: number;
  seconds: number;
}

function option(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(`--${name}`);
  if (at >= 0) return args[at + 1];
  const inline = args.find((arg) => arg.startsWith(`--${name}=`));
  return inline?.slice(name.length + 3);
}

function cell(row: SwapBenchRow | undefined): string {
  if (!row) return '-';
  if (row.overhead === undefined) return row.status;
  const mark = row.status === 'optimal' ? '' : row.status === 'timeLimit' ? '*' : row.status === 'feasible' ? '~' : '?';
  return `${row.overhead.toFixed(3)}${mark}`;
}

/** Runs the suite and prints a markdown table; returns the rows. */
export async function run(args: readonly string[] = []): Promise<SwapBenchRow[]> {
  const dir = option(args, 'dir') ?? DEFAULT_DIR;
  const timeLimitSeconds = Number(option(args, 'time-limit') ?? 30);
  const fractions = (option(args, 'fractions') ?? '0.6,0.4').split(',').map(Number);
  const names = (option(args, 'graphs') ?? Object.keys(GRAPHS).join(',')).split(',');
  const transfer = (option(args, 'transfer') ?? 'pcie4') as keyof typeof TRANSFER_PRESETS;
  const strategies = (option(args, 'strategies') ?? STRATEGIES.join(',')).split(',');
  const rows: SwapBenchRow[] = [];
  console.log(`swap suite: ${transfer} (${JSON.stringify(TRANSFER_PRESETS[transfer])}), time limit ${timeLimitSeconds} s per solve`);
  console.log('cells: makespan / baseCost; * time limit (feasible, not proven), ~ feasible heuristic, infeasible = no plan within the budget');
  console.log(`| graph | nodes | budget | ${strategies.join(' | ')} | seconds (${strategies.join(' / ')}) |`);
  console.log(`|---|---|---|${strategies.map(() => '---').join('|')}|---|`);
  for (const name of names) {
    const file = GRAPHS[name] ?? name;
    const graph = importGraph(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    for (const fraction of fractions) {
      const mine: SwapBenchRow[] = [];
      for (const strategy of strategies) {
        const started = performance.now();
        const result = await plan(graph, { budget: { fraction }, strategy, transfer, timeLimitSeconds });
        const row: SwapBenchRow = {
          graph: name,
          nodes: graph.size,
          fraction,
          strategy,
          status: result.status,
          overhead: result.predicted?.overheadRatio,
          gap: result.bound?.gap,
          seconds: (performance.now() - started) / 1000,
        };
        mine.push(row);
        rows.push(row);
      }
      const cells = strategies.map((strategy) => cell(mine.find((row) => row.strategy === strategy)));
      const seconds = mine.map((row) => row.seconds.toFixed(1)).join(' / ');
      console.log(`| ${name} | ${graph.size} | ${Math.round(fraction * 100)} % | ${cells.join(' | ')} | ${seconds} |`);
    }
  }
  const json = option(args, 'json');
  if (json) writeFileSync(json, JSON.stringify(rows, null, 2));
  return rows;
}
