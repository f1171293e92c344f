// The benchmark harness: `npm run bench -- --suite NAME [suite arguments]`.
//
// Convention: each suite is a file bench/suites/NAME.ts exporting
//   export async function run(args: string[]): Promise<void>
// which receives every argument except `--suite NAME`, prints markdown tables to stdout
// and writes its tables (and plots, see svgLinePlot) under bench/out/ (ignored by git)
// with writeOut() from bench/lib.ts. Shared helpers (graph loading, `--graphs DIR`,
// timing, planning in a worker with a time-out, markdown tables) live in bench/lib.ts.
// Speed targets are benchmark figures reported here, never timed tests.
//
// Suites: engine (default; baselines and the 60 % table), and those other parts add:
// milp, swap, scale, http. `--suite list` lists the files present.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, argValue } from './lib.js';

const SUITES_DIR = join(REPO_ROOT, 'bench', 'suites');

/** The suite names present in bench/suites. */
function suiteNames(): string[] {
  return readdirSync(SUITES_DIR)
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.slice(0, -3))
    .sort();
}

/** Runs the suite named by --suite (default engine) with the remaining arguments. */
async function main(argv: string[]): Promise<number> {
  const name = argValue(argv, 'suite') ?? 'engine';
  if (name === 'list') {
    console.log(suiteNames().join('\n'));
    return 0;
  }
  const file = join(SUITES_DIR, `${name}.ts`);
  if (!/^[\w-]+$/.test(name) || !existsSync(file)) {
    console.error(`bench: unknown suite "${name}"; known: ${suiteNames().join(', ')}`);
    return 2;
  }
  const rest: string[] = [];
  for (let at = 0; at < argv.length; at++) {
    if (argv[at] === '--suite') at++;
    else if (!argv[at].startsWith('--suite=')) rest.push(argv[at]);
  }
  const suite = (await import(pathToFileURL(file).href)) as { run?: (args: string[]) => Promise<void> };
  if (typeof suite.run !== 'function') {
    console.error(`bench: ${file} does not export run(args)`);
    return 2;
  }
  await suite.run(rest);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
