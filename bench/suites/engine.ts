// The [engine] benchmark. Run: npm run bench -- --suite engine [--graphs DIR]
// [--repeat 3] [--fraction 0.6] [--time-limit S] [--case-timeout S] [--only a|b]
//  (a) every baseline on random_layered_n1000 at 90 % and 80 % of the no-remat peak: wall
//      milliseconds of plan() (median of --repeat runs), status, makespan / baseCost;
//      the target is under 1 s per baseline.
//  (b) makespan / baseCost per strategy (every baseline and auto) at --fraction (60 %) of
//      the no-remat peak on every graph of the directory.
// Each case runs in a worker thread with a hard time-out, so a strategy that runs away
// shows as "timeout" instead of stalling the suite. Every plan is re-checked by replaying
// its schedule in the simulator; a cell marked "!" failed that check.
import { basename, join } from 'node:path';
import { BASELINES } from '../../solver/strategies/baselines.js';
import { CaseRunner, argValue, fixed, graphDir, loadGraphDir, markdownTable, median, writeOut, type CaseResult } from '../lib.js';

const N1000 = 'random_layered_n1000.json';

function statusOf(result: CaseResult): string {
  if (result.timedOut) return 'timeout';
  if (result.error) return 'error';
  return result.plan!.status;
}

/** makespan / baseCost of a case, "< floor", "infeasible", "timeout" or "error"; "!" marks a failed replay check. */
function overheadCell(result: CaseResult): string {
  const status = statusOf(result);
  const predicted = result.plan?.predicted;
  const plan = result.plan;
  if (plan && !predicted && plan.floorBytes !== undefined && plan.budgetBytes < plan.floorBytes) return '< floor';
  if (!predicted) return status;
  return `${predicted.overheadRatio.toFixed(3)}${result.replayChecked === false ? '!' : ''}`;
}

/** Runs the engine suite. */
export async function run(args: string[]): Promise<void> {
  const dir = graphDir(args);
  const repeat = Math.max(1, Number(argValue(args, 'repeat') ?? 3));
  const fraction = Number(argValue(args, 'fraction') ?? 0.6);
  const timeLimitSeconds = Number(argValue(args, 'time-limit') ?? 10);
  const caseTimeoutMs = 1000 * Number(argValue(args, 'case-timeout') ?? Math.max(30, 2 * timeLimitSeconds + 10));
  const only = argValue(args, 'only');
  const runner = new CaseRunner(caseTimeoutMs);
  const raw: Record<string, unknown> = { dir, repeat, fraction, timeLimitSeconds, caseTimeoutMs, when: new Date().toISOString() };
  const outputs: string[] = [];
  try {
    if (only !== 'b') {
      const graphPath = join(dir, N1000);
      const rows: string[][] = [];
      const records: unknown[] = [];
      console.log(`\n## (a) Baselines on ${N1000} (median of ${repeat} plan() wall times; target < 1000 ms)\n`);
      for (const strategy of BASELINES) {
        for (const budgetFraction of [0.9, 0.8]) {
          const results: CaseResult[] = [];
          for (let attempt = 0; attempt < repeat; attempt++) {
            const result = await runner.run({
              graphPath,
              options: { budget: { fraction: budgetFraction }, strategy: strategy.name, timeLimitSeconds },
            });
            results.push(result);
            if (result.timedOut || result.error) break;
          }
          const last = results[results.length - 1];
          const ms = last.timedOut ? `> ${caseTimeoutMs}` : fixed(median(results.map((result) => result.wallMs)), 0);
          const row = [
            strategy.name,
            `${Math.round(budgetFraction * 100)} %`,
            ms,
            statusOf(last),
            overheadCell(last),
            last.plan?.smallestPeakBytes !== undefined && last.plan.noRematPeakBytes
              ? `${((100 * last.plan.smallestPeakBytes) / last.plan.noRematPeakBytes).toFixed(1)} %`
              : '',
          ];
          rows.push(row);
          records.push({
            strategy: strategy.name,
            fraction: budgetFraction,
            wallMs: results.map((result) => result.wallMs),
            status: statusOf(last),
            plan: last.plan,
            error: last.error,
          });
          console.error(`  ${row.join('  ')}`);
        }
      }
      const table = markdownTable(['baseline', 'budget', 'wall ms', 'status', 'makespan / baseCost', 'smallest peak (infeasible)'], rows);
      console.log(table);
      outputs.push(
        writeOut(
          'engine-baselines-n1000.md',
          `# Baselines on ${N1000}\n\nmedian of ${repeat} plan() wall times, ms; target < 1000 ms\n\n${table}\n`,
        ),
      );
      raw.baselines = records;
    }
    if (only !== 'a') {
      const graphs = loadGraphDir(dir);
      const strategies = [...BASELINES.map((strategy) => strategy.name), 'auto'];
      const rows: string[][] = [];
      const records: unknown[] = [];
      console.log(`\n## (b) makespan / baseCost at ${Math.round(fraction * 100)} % of the no-remat peak\n`);
      for (const bench of graphs) {
        const stats = { nodes: bench.graph.size };
        const row: string[] = [bench.name, String(stats.nodes)];
        let floorPercent = '';
        for (const strategy of strategies) {
          const result = await runner.run({ graphPath: bench.path, options: { budget: { fraction }, strategy, timeLimitSeconds } });
          if (result.plan?.floorBytes !== undefined && result.plan.noRematPeakBytes) {
            floorPercent = `${((100 * result.plan.floorBytes) / result.plan.noRematPeakBytes).toFixed(1)} %`;
          }
          row.push(overheadCell(result));
          records.push({
            graph: bench.name,
            strategy,
            fraction,
            wallMs: result.wallMs,
            status: statusOf(result),
            predicted: result.plan?.predicted,
            error: result.error,
          });
        }
        row.splice(2, 0, floorPercent);
        rows.push(row);
        console.error(`  ${row.join('  ')}`);
      }
      const table = markdownTable(['graph', 'nodes', 'floor', ...strategies], rows);
      console.log(table);
      const note =
        `makespan / baseCost at ${Math.round(fraction * 100)} % of the no-remat peak; "< floor": the budget is below the ` +
        `proven floor, so no plan exists; "infeasible": the strategy found no plan within the budget; "timeout": no answer within the ` +
        `case time-out; floor: the proven lower bound on any peak, as a share of the no-remat peak.`;
      outputs.push(
        writeOut(
          `engine-table-${Math.round(fraction * 100)}.md`,
          `# Strategies at ${Math.round(fraction * 100)} %\n\n${note}\n\n${table}\n`,
        ),
      );
      raw.table = records;
    }
    outputs.push(writeOut('engine.json', JSON.stringify(raw, null, 2)));
    console.log(`\nwritten: ${outputs.map((path) => join('bench/out', basename(path))).join(', ')}`);
  } finally {
    await runner.close();
  }
}
