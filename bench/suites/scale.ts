// The [scale] benchmark: large graphs within 60 s on this machine.
//   npm run bench -- --suite scale [--time-limit S] [--graphs DIR] [--graph FILE]
//     [--only a,b] [--fractions 0.8,0.6] [--sweep 0.4,0.5,...] [--sweep-time-limit S]
//     [--no-sweep] [--strategies a,b] [--autos auto]
// For every graph of the directory (or the one --graph FILE: a contract Graph or a
// node-link JSON) at the suite budgets (the seven training graphs at 80 % and 60 % of the
// no-remat peak, the random layered graphs at 90 % and 80 %, other graphs at 80 % and
// 60 % unless --fractions says otherwise), it runs the portfolios (--autos, default auto)
// with --time-limit (default 60 s) and every
// baseline plus the scale strategies, each in a worker with a hard time-out, and prints
// one row per portfolio: status, makespan / baseCost, bound source, gap and seconds; the
// best baseline; local-search; and whether the portfolio <= the best baseline. Each graph also gets an
// SVG (bench/out/scale-GRAPH.svg): makespan / baseCost against budget, one line per
// strategy, the baselines and scale strategies over the --sweep budgets (40..100 %), auto
// at the suite budgets. Every plan is re-checked by replaying its schedule; '!' marks a
// failed check. The table is also written to bench/out/scale.md and scale.json.
import { join } from 'node:path';
import { BASELINES } from '../../solver/strategies/baselines.js';
import {
  CaseRunner,
  argFlag,
  argValue,
  fixed,
  graphDir,
  loadGraphDir,
  loadGraphFile,
  markdownTable,
  svgLinePlot,
  writeOut,
  type BenchGraph,
  type CaseResult,
  type PlotSeries,
} from '../lib.js';

/** The strategies this suite adds to the baselines. */
const SCALE_STRATEGIES = ['greedy-remat', 'local-search'];

/** The budgets of Moccasin's paper: training graphs at 80 % and 60 %, random layered at 90 % and 80 %. */
export function suiteFractions(name: string): number[] {
  if (name.startsWith('random_layered')) return [0.9, 0.8];
  return [0.8, 0.6];
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 100)} %`;
}

function ratioOf(result: CaseResult): number | undefined {
  return result.plan?.predicted?.overheadRatio;
}

function statusOf(result: CaseResult): string {
  if (result.timedOut) return 'timeout';
  if (result.error) return 'error';
  const plan = result.plan!;
  if (!plan.predicted && plan.floorBytes !== undefined && plan.budgetBytes < plan.floorBytes) return 'infeasible (< floor)';
  return plan.status;
}

function ratioCell(result: CaseResult): string {
  const ratio = ratioOf(result);
  if (ratio === undefined) return '-';
  return `${ratio.toFixed(4)}${result.replayChecked === false ? '!' : ''}`;
}

/** Runs the suite. */
export async function run(args: string[]): Promise<void> {
  const timeLimitSeconds = Number(argValue(args, 'time-limit') ?? 60);
  const sweepTimeLimit = Number(argValue(args, 'sweep-time-limit') ?? 2);
  const caseTimeoutMs = 1000 * Number(argValue(args, 'case-timeout') ?? timeLimitSeconds * 1.5 + 30);
  const sweepTimeoutMs = 1000 * Math.max(30, sweepTimeLimit * 3 + 20);
  const fixedFractions = argValue(args, 'fractions')?.split(',').map(Number);
  const sweep = argFlag(args, 'no-sweep') ? [] : (argValue(args, 'sweep') ?? '0.4,0.5,0.6,0.7,0.8,0.9,1').split(',').map(Number);
  const only = argValue(args, 'only')?.split(',');
  const single = argValue(args, 'graph');
  const others = (argValue(args, 'strategies') ?? [...BASELINES.map((strategy) => strategy.name), ...SCALE_STRATEGIES].join(',')).split(
    ',',
  );
  const baselineNames = new Set(BASELINES.map((strategy) => strategy.name));

  let graphs: BenchGraph[] = single ? [loadGraphFile(single)] : loadGraphDir(graphDir(args));
  if (only) graphs = graphs.filter((bench) => only.some((part) => bench.name.includes(part)));
  const runner = new CaseRunner(caseTimeoutMs);
  const sweepRunner = new CaseRunner(sweepTimeoutMs);
  const autos = (argValue(args, 'autos') ?? 'auto').split(',');
  const header = [
    'graph',
    'nodes',
    'budget',
    'portfolio',
    'status',
    'makespan / baseCost',
    'bound',
    'gap',
    'seconds',
    'best baseline',
    'local-search',
    '<= baseline',
  ];
  const rows: string[][] = [];
  const records: unknown[] = [];
  const svgs: string[] = [];
  console.log(`scale suite: ${autos.join(', ')} at ${timeLimitSeconds} s per case; cells are makespan / baseCost`);
  try {
    for (const bench of graphs) {
      const fractions = fixedFractions ?? suiteFractions(bench.name);
      const autoPoints = new Map<string, [number, number][]>(autos.map((name) => [name, []]));
      for (const fraction of fractions) {
        const options = { budget: { fraction }, timeLimitSeconds };
        const portfolios: Record<string, CaseResult> = {};
        for (const name of autos) {
          portfolios[name] = await runner.run({ graphPath: bench.path, options: { ...options, strategy: name } });
          const ratio = ratioOf(portfolios[name]);
          if (ratio !== undefined) autoPoints.get(name)!.push([fraction * 100, ratio]);
        }
        // The other strategies at the same budget, with a short limit (the baselines ignore it).
        let bestBaseline: { name: string; ratio: number } | undefined;
        const byStrategy: Record<string, CaseResult> = {};
        for (const name of others) {
          const result = await sweepRunner.run({
            graphPath: bench.path,
            options: { budget: { fraction }, strategy: name, timeLimitSeconds: sweepTimeLimit },
          });
          byStrategy[name] = result;
          const value = ratioOf(result);
          if (baselineNames.has(name) && value !== undefined && (!bestBaseline || value < bestBaseline.ratio))
            bestBaseline = { name, ratio: value };
        }
        const local = byStrategy['local-search'];
        for (const name of autos) {
          const auto = portfolios[name];
          const ratio = ratioOf(auto);
          const comparison =
            bestBaseline === undefined
              ? ratio !== undefined
                ? 'yes (no baseline fits)'
                : 'n/a (none fits)'
              : ratio !== undefined && ratio <= bestBaseline.ratio + 1e-12
                ? 'yes'
                : 'NO';
          const row = [
            bench.name,
            String(bench.graph.size),
            percent(fraction),
            name,
            statusOf(auto),
            ratioCell(auto),
            auto.plan?.bound?.source ?? '-',
            auto.plan?.bound ? `${(100 * auto.plan.bound.gap).toFixed(2)} %` : '-',
            auto.timedOut ? `> ${(caseTimeoutMs / 1000).toFixed(0)}` : fixed(auto.wallMs / 1000, 1),
            bestBaseline ? `${bestBaseline.name} ${bestBaseline.ratio.toFixed(4)}` : '-',
            local ? ratioCell(local) : '-',
            comparison,
          ];
          rows.push(row);
          console.log(row.join('  '));
        }
        records.push({
          graph: bench.name,
          nodes: bench.graph.size,
          fraction,
          portfolios: Object.fromEntries(
            Object.entries(portfolios).map(([name, auto]) => [
              name,
              {
                status: statusOf(auto),
                predicted: auto.plan?.predicted,
                bound: auto.plan?.bound,
                wallMs: auto.wallMs,
                replayChecked: auto.replayChecked,
                message: auto.plan?.message,
              },
            ]),
          ),
          others: Object.fromEntries(
            Object.entries(byStrategy).map(([name, result]) => [
              name,
              { status: statusOf(result), ratio: ratioOf(result), wallMs: result.wallMs },
            ]),
          ),
        });
      }
      if (sweep.length) {
        const series: PlotSeries[] = [];
        for (const name of others) {
          const points: [number, number][] = [];
          for (const fraction of sweep) {
            const result = await sweepRunner.run({
              graphPath: bench.path,
              options: { budget: { fraction }, strategy: name, timeLimitSeconds: sweepTimeLimit },
            });
            const value = ratioOf(result);
            if (value !== undefined) points.push([fraction * 100, value]);
          }
          if (points.length) series.push({ name, points });
        }
        for (const [name, points] of autoPoints) series.push({ name: `${name} (${timeLimitSeconds} s)`, points });
        const svg = svgLinePlot({
          title: `${bench.name} (${bench.graph.size} nodes)`,
          xLabel: 'budget, % of the no-remat peak',
          yLabel: 'makespan / baseCost',
          series,
        });
        svgs.push(writeOut(`scale-${bench.name}.svg`, svg));
      }
    }
  } finally {
    await runner.close();
    await sweepRunner.close();
  }
  const table = markdownTable(header, rows);
  const note =
    `portfolios with a ${timeLimitSeconds} s limit; makespan / baseCost; bound: what proved the lower bound; ` +
    'gap = (makespan - bound) / makespan; best baseline and local-search (short limit) at the same budget; "infeasible (< floor)": ' +
    'the budget is below the proven floor, so no plan exists; "!" a plan whose replay did not match.';
  console.log(`\n${table}\n\n${note}`);
  const suffix = single ? `-${graphs[0]?.name ?? 'graph'}` : '';
  const written = [
    writeOut(`scale${suffix}.md`, `# Scale suite\n\n${note}\n\n${table}\n`),
    writeOut(`scale${suffix}.json`, JSON.stringify({ when: new Date().toISOString(), timeLimitSeconds, records }, null, 2)),
    ...svgs,
  ];
  console.log(`written: ${written.map((path) => join('bench/out', path.replace(/^.*\//, ''))).join(', ')}`);
}
