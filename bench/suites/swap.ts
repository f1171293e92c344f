// The [swap] suite: Checkmate's layer graphs at 60 % and 40 % of the no-remat peak over a
// PCIe 4 link; makespan / baseCost of the exact remat MILP (checkmate-milp), the joint
// remat + swap MILP (swap-milp), vDNN (all, conv), Capuchin, and the strategies for node
// options: gist (no swaps) and cdma (vDNN swapping compressed forms). Checkmate's graphs
// carry no options, so gist plans there as checkpoint-all does and cdma as vdnn-all;
// `--options SEED` gives them synthetic ones (fixtures/options.ts: masks the backward
// users read, half-size forms that decode, alternatives), the same for every strategy.
//   npm run bench -- --suite swap [--time-limit S] [--graphs DIR] [--only vgg16,resnet50]
//                    [--fractions 0.6,0.4] [--transfer pcie4] [--strategies a,b] [--options SEED]
// Cells: makespan / baseCost; '*' the solver hit its time limit (a valid plan, not proven),
// 'inf.' no plan within the budget; 'floor': the proven floor on any peak, as a share of the
// no-remat peak (below it nothing fits). The table is also written to bench/out/swap.md.
import { join } from 'node:path';
import { shutdownHighsWorkers } from '../../solver/milp/highs-backend.js';
import { plan, TRANSFER_PRESETS } from '../../solver/plan.js';
import type { Plan } from '../../solver/plan-schema.js';
import { withOptions } from '../../fixtures/options.js';
import { indexGraph } from '../../solver/graph/validate.js';
import { argValue, fixed, graphDir, loadGraphFile, markdownTable, nowMs, writeOut } from '../lib.js';

const GRAPHS: Record<string, string> = {
  vgg16: 'vgg16_b256_train.json',
  vgg19: 'vgg19_b256_train.json',
  fcn8: 'fcn_8_vgg_b32_train.json',
  segnet: 'segnet_b32_train.json',
  'vgg-unet': 'vgg_unet_b32_train.json',
  mobilenet: 'mobilenet_b512_train.json',
  resnet50: 'resnet50_b256_train.json',
};
const STRATEGIES = ['checkmate-milp', 'swap-milp', 'vdnn-all', 'vdnn-conv', 'capuchin', 'gist', 'cdma'];

function cell(result: Plan): string {
  if (!result.predicted) return result.status === 'infeasible' ? 'inf.' : result.status;
  return `${fixed(result.predicted.overheadRatio)}${result.status === 'timeLimit' ? '*' : ''}`;
}

/** Runs the suite: one row per graph and budget, one column per strategy. */
export async function run(args: string[]): Promise<void> {
  const dir = graphDir(args);
  const timeLimitSeconds = Number(argValue(args, 'time-limit') ?? 30);
  const fractions = (argValue(args, 'fractions') ?? '0.6,0.4').split(',').map(Number);
  const names = (argValue(args, 'only') ?? Object.keys(GRAPHS).join(',')).split(',');
  const transfer = (argValue(args, 'transfer') ?? 'pcie4') as keyof typeof TRANSFER_PRESETS;
  const strategies = (argValue(args, 'strategies') ?? STRATEGIES.join(',')).split(',');
  const optionsSeed = argValue(args, 'options');
  const header = ['graph', 'nodes', 'budget', 'floor', ...strategies, 'seconds'];
  const rows: string[][] = [];
  console.log(
    `swap suite: ${transfer} ${JSON.stringify(TRANSFER_PRESETS[transfer])}, costs read as microseconds, ${timeLimitSeconds} s per solve`,
  );
  try {
    for (const name of names) {
      const loaded = loadGraphFile(join(dir, GRAPHS[name] ?? name)).graph;
      const graph = optionsSeed === undefined ? loaded : indexGraph(withOptions(loaded.graph, { seed: Number(optionsSeed) }));
      for (const fraction of fractions) {
        const cells: string[] = [];
        const seconds: string[] = [];
        let floor = '';
        for (const strategy of strategies) {
          const started = nowMs();
          const result = await plan(graph, { budget: { fraction }, strategy, transfer, timeLimitSeconds });
          cells.push(cell(result));
          if (result.floorBytes !== undefined && result.noRematPeakBytes)
            floor = `${Math.round((100 * result.floorBytes) / result.noRematPeakBytes)} %`;
          seconds.push(((nowMs() - started) / 1000).toFixed(1));
        }
        const row = [name, String(graph.size), `${Math.round(fraction * 100)} %`, floor, ...cells, seconds.join(' / ')];
        rows.push(row);
        console.log(row.join('  '));
      }
    }
  } finally {
    await shutdownHighsWorkers();
  }
  const table = markdownTable(header, rows);
  console.log(`\n${table}`);
  console.log(`written to ${writeOut('swap.md', `${table}\n`)}`);
}
