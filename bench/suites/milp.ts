// The [milp] benchmark. Run: npm run bench -- --suite milp [--time-limit S] [--graphs DIR]
// [--only vgg16,segnet] [--fractions 0.8,0.6] [--case-timeout S]
// On Checkmate's training graphs (VGG16, VGG19, FCN8, SegNet, VGG-UNet, MobileNet,
// ResNet50) at 80 % and 60 % of the no-remat peak: status, makespan / baseCost, the
// proven gap and wall seconds of auto, checkmate-lp and the best baseline. Each case runs
// in a worker with a hard time-out; every plan is re-checked by replaying its schedule.
import { join } from 'node:path';
import { BASELINES } from '../../solver/strategies/baselines.js';
import { CaseRunner, argValue, fixed, graphDir, loadGraphFile, markdownTable, writeOut, type CaseResult } from '../lib.js';

/** Checkmate's graphs, in the order of the paper's table. */
export const CHECKMATE_GRAPHS = [
  'vgg16_b256_train',
  'vgg19_b256_train',
  'fcn_8_vgg_b32_train',
  'segnet_b32_train',
  'vgg_unet_b32_train',
  'mobilenet_b512_train',
  'resnet50_b256_train',
] as const;

function statusOf(result: CaseResult): string {
  if (result.timedOut) return 'timeout';
  if (result.error) return 'error';
  const plan = result.plan!;
  if (plan.status === 'infeasible' && plan.floorBytes !== undefined && plan.budgetBytes < plan.floorBytes) return '< floor';
  return plan.status;
}

function cells(result: CaseResult): string[] {
  const predicted = result.plan?.predicted;
  const checked = result.replayChecked === false ? '!' : '';
  return [
    statusOf(result),
    predicted ? `${predicted.overheadRatio.toFixed(4)}${checked}` : '-',
    result.plan?.bound ? `${(100 * result.plan.bound.gap).toFixed(2)} %` : '-',
    fixed(result.wallMs / 1000, 1),
  ];
}

/** Runs the milp suite. */
export async function run(args: string[]): Promise<void> {
  const dir = graphDir(args);
  const timeLimitSeconds = Number(argValue(args, 'time-limit') ?? 60);
  const caseTimeoutMs = 1000 * Number(argValue(args, 'case-timeout') ?? 2 * timeLimitSeconds + 60);
  const fractions = (argValue(args, 'fractions') ?? '0.8,0.6').split(',').map(Number);
  const only = argValue(args, 'only')?.split(',');
  const graphs = CHECKMATE_GRAPHS.filter((name) => !only || only.some((wanted) => name.startsWith(wanted)));
  const runner = new CaseRunner(caseTimeoutMs);
  const rows: string[][] = [];
  const records: unknown[] = [];
  console.log(`\n## Checkmate graphs: auto, checkmate-lp and the best baseline (time limit ${timeLimitSeconds} s per solve)\n`);
  try {
    for (const name of graphs) {
      const graphPath = join(dir, `${name}.json`);
      const { graph } = loadGraphFile(graphPath);
      for (const fraction of fractions) {
        const options = { budget: { fraction }, timeLimitSeconds };
        const budget = `${Math.round(fraction * 100)} %`;
        for (const strategy of ['auto', 'checkmate-lp']) {
          const result = await runner.run({ graphPath, options: { ...options, strategy } });
          const row = [name, String(graph.size), budget, strategy, ...cells(result)];
          rows.push(row);
          records.push({
            graph: name,
            fraction,
            strategy,
            wallMs: result.wallMs,
            status: statusOf(result),
            predicted: result.plan?.predicted,
            bound: result.plan?.bound,
            message: result.plan?.message,
            error: result.error,
          });
          console.error(`  ${row.join('  ')}`);
        }
        let best: { name: string; result: CaseResult; seconds: number } | undefined;
        let seconds = 0;
        for (const strategy of BASELINES) {
          const result = await runner.run({ graphPath, options: { ...options, strategy: strategy.name } });
          seconds += result.wallMs / 1000;
          const makespan = result.plan?.predicted?.makespan;
          if (makespan !== undefined && (!best || makespan < best.result.plan!.predicted!.makespan))
            best = { name: strategy.name, result, seconds: 0 };
          if (!best && strategy === BASELINES[BASELINES.length - 1]) best = { name: 'best baseline', result, seconds: 0 };
        }
        const baselineCells = best ? cells(best.result) : ['-', '-', '-', '-'];
        baselineCells[3] = fixed(seconds, 1);
        const row = [
          name,
          String(graph.size),
          budget,
          `best baseline (${best?.result.plan?.predicted ? best.name : 'none'})`,
          ...baselineCells,
        ];
        rows.push(row);
        records.push({
          graph: name,
          fraction,
          strategy: 'best baseline',
          baseline: best?.name,
          seconds,
          predicted: best?.result.plan?.predicted,
          bound: best?.result.plan?.bound,
        });
        console.error(`  ${row.join('  ')}`);
      }
    }
  } finally {
    await runner.close();
  }
  const table = markdownTable(['graph', 'nodes', 'budget', 'strategy', 'status', 'makespan / baseCost', 'gap', 'seconds'], rows);
  console.log(table);
  const note =
    'budget: share of the no-remat peak; "< floor": the budget is below the proven floor (no plan exists); ' +
    'gap: (makespan - bound) / makespan with the best proven bound (baseCost at least; lp / milp bounds hold for ' +
    "Checkmate's class); seconds: wall time of plan() (for the best baseline, all baselines together); " +
    '"!" marks a plan whose replay check failed.';
  const written = [
    writeOut('milp.md', `# Checkmate graphs (time limit ${timeLimitSeconds} s)\n\n${note}\n\n${table}\n`),
    writeOut('milp.json', JSON.stringify({ dir, timeLimitSeconds, fractions, when: new Date().toISOString(), records }, null, 2)),
  ];
  console.log(`\n${note}\n\nwritten: ${written.join(', ')}`);
}
