// The dependency rules of .dependency-cruiser.cjs (run by `npm run lint`): the repository
// passes them, and a deliberate cycle, an upward import between solver's folders and an
// import of src/ from solver/ each make them fail, on small trees written to a temporary
// directory.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const scratch: string[] = [];

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** Runs the rule set on `folders` of `cwd`; the exit status and the report. */
function cruise(cwd: string, folders: string[]): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [DEPCRUISE, ...folders, '--config', CONFIG], { cwd, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** A temporary tree of TypeScript files (path -> source), with a tsconfig like the repository's. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'memplan-layering-'));
  scratch.push(dir);
  const all = {
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
    // An entry point that imports every module of the tree, so none is an orphan.
    'src/server.ts': Object.keys(files)
      .filter((path) => path.endsWith('.ts') && path !== 'src/server.ts')
      .map((path) => `import '../${path.replace(/\.ts$/, '.js')}';`)
      .join('\n'),
    ...files,
  };
  for (const [path, source] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), `${source}\n`);
  }
  return dir;
}

describe('dependency rules', () => {
  it('hold for the repository', () => {
    const { status, output } = cruise(ROOT, ['solver', 'src', 'bench', 'fixtures', 'scripts', 'bin']);
    expect(output).toMatch(/no dependency violations found/);
    expect(status).toBe(0);
  });

  it('a clean tree passes (the trees below fail for the reason named, not for their shape)', () => {
    const dir = tree({
      'solver/limits.ts': 'export const LIMIT = 1;',
      'solver/graph/a.ts': "import { LIMIT } from '../limits.js';\nexport const A = LIMIT;",
      'solver/strategies/b.ts': "import { A } from '../graph/a.js';\nexport const B = A;",
    });
    const { status, output } = cruise(dir, ['solver', 'src']);
    expect(output).toMatch(/no dependency violations found/);
    expect(status).toBe(0);
  });

  it('fail on an import cycle', () => {
    const dir = tree({
      'solver/util/a.ts': "import { B } from './b.js';\nexport const A = () => B;",
      'solver/util/b.ts': "import { A } from './a.js';\nexport const B = () => A;",
    });
    const { status, output } = cruise(dir, ['solver', 'src']);
    expect(status).not.toBe(0);
    expect(output).toMatch(/no-circular: solver\/util\/a\.ts/);
  });

  it('fail on an upward import between solver folders', () => {
    const dir = tree({
      'solver/strategies/types.ts': 'export type Strategy = { name: string };',
      'solver/graph/a.ts': "import type { Strategy } from '../strategies/types.js';\nexport const A: Strategy = { name: 'a' };",
    });
    const { status, output } = cruise(dir, ['solver', 'src']);
    expect(status).not.toBe(0);
    expect(output).toMatch(/solver-layer-graph: solver\/graph\/a\.ts → solver\/strategies\/types\.ts/);
  });

  it('fail when solver/ imports src/, or a solver folder belongs to no layer', () => {
    const dir = tree({
      'src/app.ts': 'export const APP = 1;',
      'solver/graph/a.ts': "import { APP } from '../../src/app.js';\nexport const A = APP;",
      'solver/extra/b.ts': "import { A } from '../graph/a.js';\nexport const B = A;",
    });
    const { status, output } = cruise(dir, ['solver', 'src']);
    expect(status).not.toBe(0);
    expect(output).toMatch(/solver-stays-below: solver\/graph\/a\.ts → src\/app\.ts/);
    expect(output).toMatch(/solver-layer-unknown: solver\/extra\/b\.ts/);
  });

  it('fail on an orphan module', () => {
    const dir = tree({ 'solver/graph/a.ts': 'export const A = 1;' });
    writeFileSync(join(dir, 'solver/graph/unused.ts'), 'export const UNUSED = 1;\n');
    const { status, output } = cruise(dir, ['solver', 'src']);
    expect(status).not.toBe(0);
    expect(output).toMatch(/no-orphans: solver\/graph\/unused\.ts/);
  });
});
