// The incumbent (solver/strategies/incumbent.ts), the bound-source table and the clock, on
// a four-node graph whose schedules are worked out by hand.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Graph } from '../solver/graph/schema.js';
import { indexGraph } from '../solver/graph/validate.js';
import { BOUND_HOLDS_WITH_SWAPS, BOUND_SCOPES, BOUND_SOURCES, boundScope } from '../solver/plan-schema.js';
import type { IndexedStep } from '../solver/schedule/simulate.js';
import type { StepOp } from '../solver/schedule/types.js';
import { Incumbent } from '../solver/strategies/incumbent.js';
import type { ProgressEvent, StrategyContext } from '../solver/strategies/types.js';
import { Clock } from '../solver/util/clock.js';

// x (input, cost 0) feeds a and b; y reads a and b. Every value is 10 bytes; baseCost = 3.
const fork: Graph = {
  name: 'fork',
  nodes: [
    { id: 'x', kind: 'input', bytes: 10, cost: 0 },
    { id: 'a', inputs: ['x'], bytes: 10, cost: 1 },
    { id: 'b', inputs: ['x'], bytes: 10, cost: 1 },
    { id: 'y', inputs: ['a', 'b'], bytes: 10, cost: 1, keep: true },
  ],
};
const graph = indexGraph(fork);
const index = (id: string) => graph.index.get(id)!;

/** Parses "compute x, free x, ..." into indexed steps. */
function steps(text: string): IndexedStep[] {
  return text.split(',').map((part) => {
    const [op, node] = part.trim().split(/\s+/);
    return { op: op as StepOp, node: index(node) };
  });
}

// Lean, in the listed order: peak 30 (x, a, b while b is computed; a, b, y while y is), makespan 3.
const LEAN = steps('compute x, compute a, compute b, free x, compute y, free a, free b');
// Fat, in the listed order: x is still there while y is computed, peak 40, makespan 3.
const FAT = steps('compute x, compute a, compute b, compute y, free x, free a, free b');
// Lean, b before a (not the listed order): peak 30, makespan 3.
const SWAPPED = steps('compute x, compute b, compute a, free x, compute y, free a, free b');
// In the listed order, a computed twice: makespan 4, peak 30 (x, b, a at the recomputation).
const SLOW = steps('compute x, compute a, free a, compute b, compute a, free x, compute y, free a, free b');

function context(budgetBytes: number, extra: Partial<StrategyContext> = {}): StrategyContext {
  return { graph, budgetBytes, timeLimitSeconds: 10, relativeGap: 0, formulation: 'tight', startedAt: Date.now(), ...extra };
}

describe('Incumbent: candidates', () => {
  it('replays each candidate: figures, fit, smallest peak, best and best in the listed order', () => {
    const incumbent = new Incumbent(context(30));
    expect(incumbent.offer(FAT, 'fat')).toMatchObject({ makespan: 3, peakBytes: 40, fits: false });
    expect(incumbent.best).toBeNull();
    expect(incumbent.smallestPeakBytes).toBe(40);
    expect(incumbent.offer(SLOW, 'slow')).toMatchObject({ makespan: 4, peakBytes: 30, fits: true });
    expect(incumbent.best?.from).toBe('slow');
    expect(incumbent.inOrder?.from).toBe('slow');
    incumbent.offer(SWAPPED, 'swapped');
    // Faster, but b comes before a: the best plan, not the best in the listed order.
    expect(incumbent.best?.from).toBe('swapped');
    expect(incumbent.inOrder?.from).toBe('slow');
    incumbent.offer(LEAN, 'lean');
    // As fast as the best: the first one stays (default ties); the listed-order one improves.
    expect(incumbent.best?.from).toBe('swapped');
    expect(incumbent.inOrder?.from).toBe('lean');
    expect(incumbent.smallestPeakBytes).toBe(30);
    expect(incumbent.tried).toBe(4);
  });

  it('breaks ties by the lower peak only when asked (the baselines sweeps)', () => {
    const first = new Incumbent(context(40));
    const lower = new Incumbent(context(40), { ties: 'lower-peak' });
    for (const incumbent of [first, lower]) {
      incumbent.offer(FAT, 'fat');
      incumbent.offer(LEAN, 'lean');
    }
    expect(first.best?.from).toBe('fat');
    expect(lower.best?.from).toBe('lean');
    expect(lower.best?.peakBytes).toBe(30);
  });

  it('throws on an illegal candidate, naming where it came from', () => {
    const incumbent = new Incumbent(context(30));
    expect(() => incumbent.offer(steps('compute a'), 'broken')).toThrow(/broken: candidate schedule is illegal/);
  });

  it('counts candidates given up and says so when nothing fits', () => {
    const incumbent = new Incumbent(context(20));
    incumbent.giveUp();
    incumbent.giveUp();
    expect(incumbent.givenUpInARow).toBe(2);
    incumbent.offer(LEAN, 'lean');
    expect(incumbent.givenUpInARow).toBe(0);
    const outcome = incumbent.sweepOutcome('sweep');
    expect(outcome).toEqual({
      kind: 'infeasible',
      smallestPeakBytes: 30,
      message: 'sweep: no candidate within the budget (3 tried, 2 given up as too long)',
    });
    const fits = new Incumbent(context(30));
    fits.offer(LEAN, 'lean');
    expect(fits.sweepOutcome('sweep')).toEqual({ kind: 'schedule', steps: LEAN, message: '1 candidates tried' });
  });

  it('runs strategies, skipping swap strategies without a link, and returns the fitting plans in order', async () => {
    const incumbent = new Incumbent(context(30));
    const ran: string[] = [];
    const strategy = (name: string, outcome: () => ReturnType<typeof incumbent.sweepOutcome>, usesTransfer = false) => ({
      name,
      description: name,
      options: [],
      usesTransfer,
      run: () => {
        ran.push(name);
        return outcome();
      },
    });
    const fitting = await incumbent.runEach([
      strategy('fat', () => ({ kind: 'schedule', steps: FAT })),
      strategy('none', () => ({ kind: 'infeasible', smallestPeakBytes: 35, message: 'no' })),
      strategy('swapper', () => ({ kind: 'schedule', steps: LEAN }), true),
      strategy('slow', () => ({ kind: 'schedule', steps: SLOW })),
      strategy('lean', () => ({ kind: 'schedule', steps: LEAN })),
    ]);
    expect(ran).toEqual(['fat', 'none', 'slow', 'lean']);
    expect(fitting.map((candidate) => [candidate.from, candidate.makespan])).toEqual([
      ['slow', 4],
      ['lean', 3],
    ]);
    expect(incumbent.smallestPeakBytes).toBe(30);
  });
});

describe('Incumbent: bounds and progress', () => {
  it('keeps the best bound, floors it at baseCost, and closes the gap', () => {
    const events: ProgressEvent[] = [];
    const incumbent = new Incumbent(context(30, { onProgress: (event) => events.push(event) }));
    incumbent.offerBound(1, 'baseCost');
    expect(incumbent.bound).toEqual({ makespan: 3, source: 'baseCost' });
    incumbent.offerBound(2, 'recompute-bound');
    expect(incumbent.bound?.source).toBe('baseCost');
    incumbent.offer(SLOW, 'slow');
    expect(incumbent.gap()).toBeCloseTo(0.25, 12);
    expect(incumbent.closed()).toBe(false);
    incumbent.offer(LEAN, 'lean');
    expect(incumbent.gap()).toBe(0);
    expect(incumbent.closed()).toBe(true);
    expect(events.map((event) => [event.kind, event.strategy, event.makespan, event.bound])).toEqual([
      ['bound', 'baseCost', undefined, 3],
      ['incumbent', 'slow', 4, 3],
      ['incumbent', 'lean', 3, 3],
    ]);
  });

  it("drops a bound of Checkmate's class once a plan from outside the class beats it", () => {
    const incumbent = new Incumbent(context(30));
    incumbent.offerBound(3, 'baseCost');
    incumbent.offer(SLOW, 'slow');
    // The costs are integers: a bound rounds up to the next integer (bounds/integral.ts).
    incumbent.offerBound(3.5, 'milp');
    expect(incumbent.bound).toEqual({ makespan: 4, source: 'milp' });
    // The swapped plan (b before a) is outside the class of the listed order and beats 4.
    incumbent.offer(SWAPPED, 'swapped');
    expect(incumbent.bound).toEqual({ makespan: 3, source: 'baseCost' });
    // A class bound above the best plan says nothing of it.
    incumbent.offerBound(3.8, 'lp');
    expect(incumbent.bound).toEqual({ makespan: 3, source: 'baseCost' });
  });

  it('takes no remat-only bound with a host link, and reports nothing when quiet; a label prefixes the source', () => {
    const events: ProgressEvent[] = [];
    const transfer = { bandwidth: 1, latency: 0 };
    const linked = new Incumbent(context(30, { transfer, onProgress: (event) => events.push(event) }), { label: 'swap-milp' });
    linked.offerBound(3, 'recompute-bound');
    linked.offerBound(3, 'closure-bound');
    expect(linked.bound).toBeUndefined();
    linked.offer(LEAN, 'vdnn-all');
    expect(events.map((event) => event.strategy)).toEqual(['swap-milp (vdnn-all)']);
    const quiet = new Incumbent(context(30, { onProgress: (event) => events.push(event) }), { progress: false });
    quiet.offerBound(3, 'baseCost');
    quiet.offer(LEAN, 'lean');
    expect(events).toHaveLength(1);
  });
});

describe('bound sources', () => {
  it('every source has a scope, and only the stage formulations are class-only', () => {
    for (const scope of Object.values(BOUND_SOURCES)) expect(BOUND_SCOPES).toContain(scope);
    expect(
      Object.keys(BOUND_SOURCES).filter((source) => BOUND_SOURCES[source as keyof typeof BOUND_SOURCES] === 'checkmate-class'),
    ).toEqual(['lp', 'milp']);
    expect(boundScope('recompute-bound')).toBe('all-schedules');
    // Only baseCost, the fitting costs and the closure bound that prices swaps hold with swaps; the remat arguments do not.
    expect(Object.keys(BOUND_HOLDS_WITH_SWAPS).sort()).toEqual(Object.keys(BOUND_SOURCES).sort());
    expect(
      Object.entries(BOUND_HOLDS_WITH_SWAPS)
        .filter(([, holds]) => holds)
        .map(([source]) => source),
    ).toEqual(['baseCost', 'closure-swap-bound', 'fitting-cost']);
    expect(boundScope('closure-swap-bound')).toBe('all-schedules');
    // @ts-expect-error A source missing from the table is not a BoundSource: it cannot get a scope by default.
    expect(boundScope('new-bound')).toBeUndefined();
  });
});

describe('Clock', () => {
  afterEach(() => vi.useRealTimers());

  it('gives elapsed and remaining seconds less its margin, and named shares', () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
    const clock = new Clock(10, Date.now(), 1);
    vi.setSystemTime(1_002_000);
    expect(clock.elapsed()).toBe(2);
    expect(clock.left()).toBe(7);
    // covering: 0.1 of the limit; lp: 0.4 of what is left.
    expect(clock.ofLimit('covering')).toBeCloseTo(1, 12);
    expect(clock.ofLeft('lp')).toBeCloseTo(2.8, 12);
    const deadline = Clock.deadline(3);
    vi.setSystemTime(1_004_000);
    expect(Clock.secondsTo(deadline)).toBe(1);
    vi.setSystemTime(1_009_000);
    expect(Clock.secondsTo(deadline)).toBe(0);
  });
});
