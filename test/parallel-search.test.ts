// auto's second search (solver/scale/parallel-search.ts): the scale search on a worker
// thread, from the plans it is given, stopped early on request. Its plans are replayed in
// the simulator here, as auto does when it takes one.
import { afterAll, describe, expect, it } from 'vitest';
import { transformer } from '../fixtures/generators.js';
import { indexGraph } from '../solver/graph/validate.js';
import { startSecondSearch, shutdownSearchWorkers } from '../solver/scale/parallel-search.js';
import { scaleSearch } from '../solver/scale/multistart.js';
import { noRematPeak } from '../solver/schedule/no-remat.js';
import { simulateIndexed } from '../solver/schedule/simulate.js';

afterAll(async () => {
  await shutdownSearchWorkers();
});

describe('startSecondSearch', () => {
  const graph = indexGraph(transformer({ layers: 3 }));
  const budget = Math.floor(0.7 * noRematPeak(graph));

  it('finds a plan on its own thread that replays within the budget, no dearer than the plan it starts from', async () => {
    const start = await scaleSearch(graph, budget, { deadline: Date.now() + 2000, restarts: false });
    expect(start.found).toBe(true);
    if (!start.found) return;
    const pending = startSecondSearch(graph, budget, { seconds: 3, starts: [start.steps], round: 1000, climb: true });
    expect(pending).toBeDefined();
    const found = await pending!.result;
    expect(found).toBeDefined();
    const replay = simulateIndexed(graph, found!.steps);
    if (!replay.ok) throw new Error(replay.error.message);
    expect(replay.figures.peakBytes).toBeLessThanOrEqual(budget);
    expect(replay.figures.computeCost).toBeCloseTo(found!.cost, 6);
    expect(found!.cost).toBeLessThanOrEqual(start.cost);
  });

  it('answers soon after a stop, with the plan it has', async () => {
    const pending = startSecondSearch(graph, budget, { seconds: 60, starts: [], round: 1000, climb: true });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const asked = Date.now();
    pending!.stop();
    const found = await pending!.result;
    // Within the pool's grace (2 s), long before the 60 s it was given.
    expect(Date.now() - asked).toBeLessThan(5000);
    if (found) {
      const replay = simulateIndexed(graph, found.steps);
      if (!replay.ok) throw new Error(replay.error.message);
      expect(replay.figures.peakBytes).toBeLessThanOrEqual(budget);
    }
  });
});
