// The solver-neutral model, the LP writer, the status table and the HiGHS backend: what
// the backend promises (runs off the main thread, time limit with an incumbent and a
// gap, stop on request, warm start, LP relaxation) checked on small models whose answers
// are known by hand.
import { afterAll, describe, expect, it } from 'vitest';
import { HighsBackend, shutdownHighsWorkers } from '../solver/milp/highs-backend.js';
import { lpSafeName, uniqueLpNames, writeLp } from '../solver/milp/lp-writer.js';
import { Model } from '../solver/milp/model.js';
import { HIGHS_STATUS, statusMeaning } from '../solver/milp/status.js';

afterAll(async () => {
  await shutdownHighsWorkers();
});

/** min x + 2y, x + y in [1.5, 4], y - x >= -2, integers in [0, 10]: optimum 2 at (2, 0); LP optimum 1.5. */
function smallModel(): Model {
  const model = new Model();
  const x = model.addVariable('x', { ub: 10, integer: true, cost: 1 });
  const y = model.addVariable('y', { ub: 10, integer: true, cost: 2 });
  model.addRow(
    'cover',
    [
      [x, 1],
      [y, 1],
    ],
    1.5,
    4,
  );
  model.addRow(
    'slope',
    [
      [x, -1],
      [y, 1],
    ],
    -2,
    Infinity,
  );
  return model;
}

/**
 * A market-split instance (Cornuejols and Dawande): binaries whose weighted sums must hit
 * targets, with slack paid in the objective. Branch and bound cannot close it in seconds;
 * the all-zero point is a feasible start.
 */
function marketSplit(items = 60, rows = 5): { model: Model; zero: Float64Array } {
  const model = new Model();
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const xs = Array.from({ length: items }, (_, item) => model.addBinary(`x${item}`));
  for (let row = 0; row < rows; row++) {
    const weights = xs.map(() => Math.floor(random() * 100));
    const target = Math.floor(weights.reduce((sum, weight) => sum + weight, 0) / 2);
    const over = model.addVariable(`over${row}`, { cost: 1 });
    const under = model.addVariable(`under${row}`, { cost: 1 });
    model.addRow(`split${row}`, [...xs.map((x, item): [number, number] => [x, weights[item]]), [over, -1], [under, 1]], target, target);
  }
  const zero = new Float64Array(model.variableCount);
  for (let row = 0; row < rows; row++) {
    // At x = 0 the whole target is slack "under".
    const split = model.row(row);
    zero[items + 2 * row + 1] = split.lb;
  }
  return { model, zero };
}

describe('model', () => {
  it('merges repeated terms, evaluates objectives and measures violations', () => {
    const model = smallModel();
    expect(model.variableCount).toBe(2);
    expect(model.rowCount).toBe(2);
    expect(model.objectiveOf([2, 0])).toBe(2);
    expect(model.violation([2, 0])).toBe(0);
    expect(model.violation([0, 0])).toBeCloseTo(1.5);
    expect(model.violation([0.5, 1])).toBeCloseTo(0.5);
    const row = model.addRow(
      'twice',
      [
        [0, 1],
        [0, 2],
        [1, 1],
      ],
      -Infinity,
      3,
    );
    expect(model.row(row).terms).toEqual([
      [0, 3],
      [1, 1],
    ]);
    expect(() => model.addRow('bad', [[7, 1]], 0, 1)).toThrow(/unknown variable/);
    expect(() => model.addVariable('inverted', { lb: 2, ub: 1 })).toThrow(/exceeds/);
  });
});

describe('LP writer', () => {
  it('makes names LP-safe and unique, deterministically', () => {
    expect(lpSafeName('R[3,4]', 'v_')).toBe('R_3_4_');
    expect(lpSafeName('2y', 'v_')).toBe('v_2y');
    expect(lpSafeName('e12', 'v_')).toBe('v_e12');
    expect(lpSafeName('end', 'v_')).toBe('v_end');
    expect(lpSafeName('', 'v_')).toBe('v_');
    const names = uniqueLpNames(['a b', 'a_b', 'a-b', 'A_B'], 'v_');
    expect(names).toEqual(['a_b', 'a_b_2', 'a_b_3', 'A_B_4']);
    for (const name of names) expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_.]*$/);
  });

  it('writes ranged rows as two rows, bounds and integers, the same text every time', () => {
    const model = smallModel();
    model.offset = 3;
    const text = writeLp(model);
    expect(text).toBe(writeLp(model));
    expect(text).toContain('cover_lo: + 1 x + 1 y >= 1.5');
    expect(text).toContain('cover_hi: + 1 x + 1 y <= 4');
    expect(text).toContain('slope: - 1 x + 1 y >= -2');
    expect(text).toContain('obj: + 1 x + 2 y + 3');
    expect(text).toMatch(/Generals\n x y\n/);
  });

  it('gives the same optimum through LP text as through arrays', async () => {
    const backend = new HighsBackend();
    const model = smallModel();
    model.offset = 3;
    const viaArrays = await backend.solve(model, { timeLimitSeconds: 10 });
    const viaText = await backend.solve(model, { timeLimitSeconds: 10, viaLpText: true });
    expect(viaArrays.stop).toBe('optimal');
    expect(viaArrays.objective).toBeCloseTo(5, 9);
    expect(viaText.objective).toBeCloseTo(5, 9);
    expect(Array.from(viaText.values!)).toEqual(Array.from(viaArrays.values!));
  });
});

describe('status table', () => {
  it('maps every HiGHS model status', async () => {
    // highs ships ESM at runtime but CommonJS-flavoured types: take the loader either way.
    const loaded = (await import('highs')) as unknown as { default: (() => Promise<unknown>) | { default: () => Promise<unknown> } };
    const loader = typeof loaded.default === 'function' ? loaded.default : loaded.default.default;
    const highs = (await loader()) as { constants: { modelStatus: Record<string, number> } };
    const codes = Object.values(highs.constants.modelStatus) as number[];
    for (const code of codes) expect(HIGHS_STATUS[code], `status ${code}`).toBeDefined();
    expect(Object.keys(HIGHS_STATUS).length).toBe(codes.length);
    expect(statusMeaning(highs.constants.modelStatus.optimal)).toMatchObject({ stop: 'optimal', solution: 'optimal' });
    expect(statusMeaning(highs.constants.modelStatus.timeLimit)).toMatchObject({ stop: 'timeLimit', solution: 'incumbent' });
    expect(statusMeaning(highs.constants.modelStatus.infeasible)).toMatchObject({ stop: 'infeasible', solution: 'none' });
    expect(statusMeaning(99).stop).toBe('error');
  });
});

describe('HiGHS backend', () => {
  const backend = new HighsBackend();

  it('solves the MILP and its LP relaxation, with bounds', async () => {
    const milp = await backend.solve(smallModel(), { timeLimitSeconds: 10 });
    expect(milp).toMatchObject({ stop: 'optimal', hasSolution: true, optimal: true });
    expect(milp.objective).toBeCloseTo(2, 9);
    expect(milp.bound).toBeCloseTo(2, 9);
    const lp = await backend.solve(smallModel(), { timeLimitSeconds: 10, relaxation: true });
    expect(lp.stop).toBe('optimal');
    expect(lp.objective).toBeCloseTo(1.5, 9);
    expect(lp.bound).toBeCloseTo(1.5, 9);
  });

  it('solves with the sub-MIP heuristics off and pseudo-costs trusted sooner (HiGHS knows the option names: an unknown one throws)', async () => {
    for (const viaLpText of [false, true]) {
      const milp = await backend.solve(smallModel(), { timeLimitSeconds: 10, heuristics: false, pseudoCostReliable: 2, viaLpText });
      expect(milp).toMatchObject({ stop: 'optimal', hasSolution: true });
      expect(milp.error).toBeUndefined();
      expect(milp.objective).toBeCloseTo(2, 9);
      expect(milp.bound).toBeCloseTo(2, 9);
    }
    // A hard instance from a start: the time limit with the start (or better) and a bound.
    const { model, zero } = marketSplit();
    const limited = await backend.solve(model, { timeLimitSeconds: 1, start: zero, heuristics: false, pseudoCostReliable: 2 });
    expect(limited.stop).toBe('timeLimit');
    expect(limited.hasSolution).toBe(true);
    expect(limited.objective!).toBeLessThanOrEqual(model.objectiveOf(zero) + 1e-9);
    expect(limited.bound!).toBeLessThanOrEqual(limited.objective! + 1e-9);
  });

  it('reports infeasibility', async () => {
    const model = new Model();
    const x = model.addBinary('x');
    const y = model.addBinary('y');
    model.addRow(
      'both',
      [
        [x, 1],
        [y, 1],
      ],
      3,
      Infinity,
    );
    const result = await backend.solve(model, { timeLimitSeconds: 10 });
    expect(result.stop).toBe('infeasible');
    expect(result.hasSolution).toBe(false);
  });

  it('returns the best solution with its gap at the time limit, off the main thread, keeping the main thread live', async () => {
    const { model, zero } = marketSplit();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    const improving: number[] = [];
    const started = Date.now();
    const result = await backend.solve(model, {
      timeLimitSeconds: 1.5,
      start: zero,
      onProgress: (progress) => {
        if (progress.kind === 'incumbent' && progress.objective !== undefined) improving.push(progress.objective);
      },
    });
    clearInterval(timer);
    const seconds = (Date.now() - started) / 1000;
    expect(result.stop).toBe('timeLimit');
    expect(result.hasSolution).toBe(true);
    expect(result.values).toBeDefined();
    expect(model.violation(result.values!)).toBeLessThan(1e-6);
    expect(result.objective).toBeCloseTo(model.objectiveOf(result.values!), 6);
    expect(result.gap!).toBeGreaterThan(0);
    expect(result.bound!).toBeLessThanOrEqual(result.objective!);
    expect(result.threadId).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(1.5 + 5);
    // The main thread ran its timer while HiGHS worked: the solve did not block it.
    expect(ticks).toBeGreaterThanOrEqual(Math.floor((seconds * 1000) / 20 / 4));
    expect(improving.length).toBeGreaterThan(0);
    for (let at = 1; at < improving.length; at++) expect(improving[at]).toBeLessThanOrEqual(improving[at - 1]);
  });

  it('stops on request within a second, keeping the incumbent', async () => {
    const { model, zero } = marketSplit();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 700);
    const started = Date.now();
    const result = await backend.solve(model, { timeLimitSeconds: 60, start: zero, signal: controller.signal });
    const afterAbort = (Date.now() - started) / 1000 - 0.7;
    expect(afterAbort).toBeLessThan(1);
    expect(result.stop).toBe('interrupted');
    expect(result.hasSolution).toBe(true);
    expect(model.violation(result.values!)).toBeLessThan(1e-6);
  });

  it('replaces a worker whose WASM instance aborted', async () => {
    // HiGHS's LP reader aborts the WASM instance on a double-sided row.
    const broken = await backend.solveLpText('Minimize\n obj: x\nSubject To\n c: 1 <= x + y <= 4\nEnd\n', { timeLimitSeconds: 10 });
    expect(broken.stop).toBe('error');
    expect(broken.error).toMatch(/Abort/);
    const after = await backend.solve(smallModel(), { timeLimitSeconds: 10 });
    expect(after.objective).toBeCloseTo(2, 9);
    expect(after.threadId).not.toBe(broken.threadId);
  });

  it('runs two solves at once in two workers', async () => {
    const [first, second] = await Promise.all([
      backend.solve(smallModel(), { timeLimitSeconds: 10 }),
      backend.solve(smallModel(), { timeLimitSeconds: 10, relaxation: true }),
    ]);
    expect(first.objective).toBeCloseTo(2, 9);
    expect(second.objective).toBeCloseTo(1.5, 9);
    expect(first.threadId).not.toBe(second.threadId);
  });
});
