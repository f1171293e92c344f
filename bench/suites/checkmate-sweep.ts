// The [quality] sweep of Checkmate's public graphs: every graph of at most 100 nodes, every
// budget from the proven floor (rounded up to the step) to 100 % of the no-remat peak in
// 5 % steps, auto with a 5 s limit. The target: proven optimal (gap <= 0.1 %) within 5 s.
//   npm run bench -- --suite checkmate-sweep [--graphs DIR] [--time-limit 5] [--step 0.05]
//     [--max-nodes 100] [--gap 0.001] [--only a,b]
// Prints status, makespan / baseCost, gap, bound source and scope, seconds and whether the
// case meets the target; every plan is re-checked by replaying it ('!' marks a failure).
// Writes bench/out/checkmate-sweep.md and .json.
import { basename, join } from 'node:path';
import { peakFloor } from '../../solver/graph/analysis.js';
import { noRematPeak } from '../../solver/schedule/no-remat.js';
import { CaseRunner, argValue, graphDir, loadGraphDir, markdownTable, writeOut } from '../lib.js';

/** Checkmate's graphs (Moccasin's random layered graphs are not Checkmate's). */
function isCheckmate(name: string): boolean {
  return !name.startsWith('random_layered');
}

/** Runs the suite. */
export async function run(args: string[]): Promise<void> {
  const timeLimitSeconds = Number(argValue(args, 'time-limit') ?? 5);
  const step = Number(argValue(args, 'step') ?? 0.05);
  const maxNodes = Number(argValue(args, 'max-nodes') ?? 100);
  const targetGap = Number(argValue(args, 'gap') ?? 0.001);
  const only = argValue(args, 'only')?.split(',');
  let graphs = loadGraphDir(graphDir(args)).filter((entry) => isCheckmate(entry.name) && entry.graph.size <= maxNodes);
  if (only) graphs = graphs.filter((entry) => only.some((part) => entry.name.includes(part)));
  const runner = new CaseRunner(1000 * (timeLimitSeconds * 3 + 30));
  const header = ['graph', 'nodes', 'budget', 'status', 'ratio', 'gap', 'bound (scope)', 's', 'target'];
  const rows: string[][] = [];
  const records: unknown[] = [];
  let met = 0;
  console.log(`checkmate sweep: auto at ${timeLimitSeconds} s; target gap <= ${100 * targetGap} % within ${timeLimitSeconds} s`);
  try {
    for (const entry of graphs) {
      const peak = noRematPeak(entry.graph);
      const floor = peakFloor(entry.graph) / peak;
      const first = Math.ceil(floor / step - 1e-9);
      for (let index = first; index * step <= 1 + 1e-9; index++) {
        const fraction = Math.round(index * step * 1e6) / 1e6;
        const result = await runner.run({ graphPath: entry.path, options: { budget: { fraction }, strategy: 'auto', timeLimitSeconds } });
        const plan = result.plan;
        const seconds = result.wallMs / 1000;
        const gap = plan?.bound?.gap;
        const ok = gap !== undefined && gap <= targetGap && seconds <= timeLimitSeconds && result.replayChecked !== false;
        if (ok) met++;
        const row = [
          entry.name,
          String(entry.graph.size),
          `${(100 * fraction).toFixed(0)} %`,
          result.timedOut ? 'timeout' : result.error ? `error: ${result.error}` : (plan?.status ?? '-'),
          plan?.predicted ? `${plan.predicted.overheadRatio.toFixed(4)}${result.replayChecked === false ? '!' : ''}` : '-',
          gap === undefined ? '-' : `${(100 * gap).toFixed(3)} %`,
          plan?.bound?.source ? `${plan.bound.source} (${plan.bound.scope})` : '-',
          seconds.toFixed(1),
          ok ? 'met' : 'MISSED',
        ];
        rows.push(row);
        console.log(row.join(' | '));
        records.push({ graph: entry.name, fraction, status: plan?.status, predicted: plan?.predicted, bound: plan?.bound, seconds });
      }
    }
  } finally {
    await runner.close();
  }
  const table = markdownTable(header, rows);
  const note = `auto with a ${timeLimitSeconds} s limit on Checkmate's graphs of at most ${maxNodes} nodes; target: gap <= ${100 * targetGap} % within ${timeLimitSeconds} s; met ${met} of ${rows.length}.`;
  console.log(`\n${table}\n\n${note}`);
  const written = [
    writeOut('checkmate-sweep.md', `# Checkmate sweep\n\n${note}\n\n${table}\n`),
    writeOut('checkmate-sweep.json', JSON.stringify({ when: new Date().toISOString(), timeLimitSeconds, records }, null, 1)),
  ];
  console.log(`written: ${written.map((path) => join('bench/out', basename(path))).join(', ')}`);
}
