// The simulator against hand-computed cases, one rule of the contract's schedule semantics
// at a time (../shared/DESIGN.md, "Schedule and its semantics"). Every expected number is
// worked out by hand in a comment next to it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rng } from '../fixtures/generators.js';
import type { Graph } from '../solver/graph/schema.js';
import { indexGraph } from '../solver/graph/validate.js';
import { simulate, simulateIndexed, type ReplayResult, type ReplayOk } from '../solver/schedule/simulate.js';
import type { Schedule, StepOp, Transfer } from '../solver/schedule/types.js';

/** Parses "compute x, free x, ..." into schedule steps. */
function steps(text: string): Schedule {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [op, node] = part.split(/\s+/);
      return { op: op as StepOp, node };
    });
}

function ok(result: ReplayResult): ReplayOk {
  if (!result.ok) throw new Error(`expected a legal replay, got step ${result.step}: ${result.error.message}`);
  return result;
}

function failure(result: ReplayResult, step: number, code: string, details: Record<string, unknown> = {}): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.step).toBe(step);
  expect(result.error.code).toBe(code);
  expect(result.error.details).toMatchObject({ step, ...details });
}

// x is an input (not recomputable by default); a and b are recomputable; c is a keep node.
const small: Graph = {
  name: 'small',
  residentBytes: 100,
  nodes: [
    { id: 'x', kind: 'input', bytes: 10, cost: 1 },
    { id: 'a', inputs: ['x'], bytes: 20, cost: 2, workspaceBytes: 80 },
    { id: 'b', inputs: ['a'], bytes: 30, cost: 3 },
    { id: 'c', inputs: ['a', 'b'], bytes: 40, cost: 4, keep: true },
  ],
};
const G = indexGraph(small);
const LINK: Transfer = { bandwidth: 10, latency: 1 };

describe('compute legality', () => {
  it('rejects a compute whose input is not on the device, naming the input', () => {
    failure(simulate(G, steps('compute a')), 0, 'MEMPLAN_ERR_STEP_INPUT_MISSING', { node: 'a', input: 'x' });
    // b's input a was freed at step 2, so step 3 fails.
    failure(simulate(G, steps('compute x, compute a, free a, compute b')), 3, 'MEMPLAN_ERR_STEP_INPUT_MISSING', { node: 'b', input: 'a' });
  });

  it('rejects a compute of a value already on the device', () => {
    failure(simulate(G, steps('compute x, compute a, compute a')), 2, 'MEMPLAN_ERR_STEP_ALREADY_RESIDENT', { node: 'a' });
  });

  it('rejects a second compute of a non-recomputable node, accepts one of a recomputable node', () => {
    failure(simulate(G, steps('compute x, free x, compute x')), 2, 'MEMPLAN_ERR_STEP_NOT_RECOMPUTABLE', { node: 'x' });
    const recompute = ok(simulate(G, steps('compute x, compute a, free a, compute a, compute b, compute c')));
    expect(recompute.counts.map((count) => count.computes)).toEqual([1, 2, 1, 1]);
  });

  it('honours an explicit recomputable flag on an input and its absence on a forward node', () => {
    const flags = indexGraph({
      nodes: [
        { id: 'seed', kind: 'input', bytes: 1, cost: 0, recomputable: true },
        { id: 'mask', inputs: ['seed'], bytes: 1, cost: 0, recomputable: false },
      ],
    });
    ok(simulate(flags, steps('compute seed, free seed, compute seed, compute mask')));
    failure(simulate(flags, steps('compute seed, compute mask, free mask, compute mask')), 3, 'MEMPLAN_ERR_STEP_NOT_RECOMPUTABLE', {
      node: 'mask',
    });
  });
});

describe('free, swapOut and swapIn legality', () => {
  it('rejects a free of a value not on the device', () => {
    failure(simulate(G, steps('free x')), 0, 'MEMPLAN_ERR_STEP_NOT_RESIDENT', { node: 'x', op: 'free' });
    failure(simulate(G, steps('compute x, free x, free x')), 2, 'MEMPLAN_ERR_STEP_NOT_RESIDENT', { node: 'x' });
  });

  it('rejects swaps when no transfer link is given', () => {
    failure(simulate(G, steps('compute x, swapOut x')), 1, 'MEMPLAN_ERR_TRANSFER_REQUIRED', { node: 'x', op: 'swapOut' });
  });

  it('rejects a swapOut of a value not on the device or already on the host', () => {
    failure(simulate(G, steps('swapOut x'), { transfer: LINK }), 0, 'MEMPLAN_ERR_STEP_NOT_RESIDENT', { node: 'x', op: 'swapOut' });
    failure(simulate(G, steps('compute x, swapOut x, swapOut x'), { transfer: LINK }), 2, 'MEMPLAN_ERR_STEP_ALREADY_ON_HOST', {
      node: 'x',
    });
    // The host copy stays after a swapIn, so swapping out again is still illegal.
    failure(
      simulate(G, steps('compute x, swapOut x, free x, swapIn x, swapOut x'), { transfer: LINK }),
      4,
      'MEMPLAN_ERR_STEP_ALREADY_ON_HOST',
      { node: 'x' },
    );
  });

  it('rejects a swapIn of a value not on the host or already on the device', () => {
    failure(simulate(G, steps('compute x, free x, swapIn x'), { transfer: LINK }), 2, 'MEMPLAN_ERR_STEP_NOT_ON_HOST', { node: 'x' });
    failure(simulate(G, steps('compute x, swapOut x, swapIn x'), { transfer: LINK }), 2, 'MEMPLAN_ERR_STEP_ALREADY_RESIDENT', {
      node: 'x',
      op: 'swapIn',
    });
  });

  it('lets a host copy be swapped in more than once, and a swapped-in value feed a compute', () => {
    const replay = ok(
      simulate(G, steps('compute x, swapOut x, free x, swapIn x, free x, swapIn x, compute a, compute b, compute c'), { transfer: LINK }),
    );
    expect(replay.counts[0]).toEqual({ computes: 1, swapOuts: 1, swapIns: 2 });
  });

  it('a swap does not make a non-recomputable value recomputable', () => {
    failure(simulate(G, steps('compute x, swapOut x, free x, compute x'), { transfer: LINK }), 3, 'MEMPLAN_ERR_STEP_NOT_RECOMPUTABLE');
  });
});

describe('the end of the schedule', () => {
  it('requires every node computed at least once', () => {
    // d is never computed; the error sits at the schedule length.
    const withSink = indexGraph({ nodes: [...small.nodes, { id: 'd', inputs: ['x'], bytes: 1, cost: 1 }] });
    failure(simulate(withSink, steps('compute x, compute a, compute b, compute c')), 4, 'MEMPLAN_ERR_SCHEDULE_INCOMPLETE', {
      node: 'd',
    });
    failure(simulate(G, []), 0, 'MEMPLAN_ERR_SCHEDULE_INCOMPLETE', { node: 'x' });
  });

  it('requires every keep node on the device, and only keep nodes', () => {
    failure(simulate(G, steps('compute x, compute a, compute b, compute c, free c')), 5, 'MEMPLAN_ERR_SCHEDULE_INCOMPLETE', {
      node: 'c',
    });
    // Swapped out and freed is not on the device either.
    failure(
      simulate(G, steps('compute x, compute a, compute b, compute c, swapOut c, free c'), { transfer: LINK }),
      6,
      'MEMPLAN_ERR_SCHEDULE_INCOMPLETE',
      { node: 'c' },
    );
    ok(simulate(G, steps('compute x, compute a, compute b, compute c, free a, free b, free x')));
  });
});

describe('unknown node ids', () => {
  it('reports the step naming a node that is not in the graph', () => {
    const result = simulate(G, steps('compute x, compute ghost'));
    failure(result, 1, 'MEMPLAN_ERR_STEP_UNKNOWN_NODE', { node: 'ghost' });
    expect(result).toMatchObject({ error: { status: 422 } });
  });

  it('rejects an indexed step outside the graph', () => {
    failure(
      simulateIndexed(G, [
        { op: 'compute', node: 0 },
        { op: 'free', node: 4 },
      ]),
      1,
      'MEMPLAN_ERR_STEP_UNKNOWN_NODE',
    );
    failure(simulateIndexed(G, [{ op: 'compute', node: -1 }]), 0, 'MEMPLAN_ERR_STEP_UNKNOWN_NODE');
  });
});

describe('peak, cost and transfer figures', () => {
  it('counts residentBytes and the workspace of the computing node', () => {
    // x: D = 10. a: 10 + 20 + workspace 80 = 110 while it runs, 30 after. free x: 20.
    // b: 20 + 30 = 50. c: 50 + 40 = 90. The workspace step is the peak: 100 + 110 = 210.
    const replay = ok(simulate(G, steps('compute x, compute a, free x, compute b, compute c'), { timeline: true }));
    expect(replay.figures.peakBytes).toBe(210);
    expect(replay.timeline!.map((row) => [row.bytes, row.bytesAfter])).toEqual([
      [110, 110], // compute x: 100 + 10
      [210, 130], // compute a: 100 + 10 + 20 + 80, then 100 + 30
      [130, 120], // free x: before 130, after 100 + 20
      [150, 150], // compute b: 100 + 20 + 30
      [190, 190], // compute c: 100 + 20 + 30 + 40 (below the workspace peak)
    ]);
  });

  it('without workspace the peak is the largest live set', () => {
    const plain = indexGraph({ ...small, nodes: small.nodes.map((node) => ({ ...node, workspaceBytes: 0 })) });
    // Same schedule: the largest live set is after c: 20 + 30 + 40 = 90, plus 100 resident.
    expect(ok(simulate(plain, steps('compute x, compute a, free x, compute b, compute c'))).figures.peakBytes).toBe(190);
    // Keeping x to the end adds 10: 200.
    expect(ok(simulate(plain, steps('compute x, compute a, compute b, compute c'))).figures.peakBytes).toBe(200);
  });

  it('sums computeCost over compute steps and baseCost over nodes', () => {
    // computes: x 1, a 2, b 3, a again 2, c 4 = 12; baseCost = 1 + 2 + 3 + 4 = 10.
    const replay = ok(simulate(G, steps('compute x, compute a, compute b, free a, compute a, compute c')));
    expect(replay.figures.computeCost).toBe(12);
    expect(replay.figures.baseCost).toBe(10);
    // One stream, no swaps: x 0-1, a 1-3, b 3-6; free a waits for b (6); a 6-8; c 8-12.
    expect(replay.figures.makespan).toBe(12);
    expect(replay.figures.overheadRatio).toBeCloseTo(12 / 10, 15);
    expect(replay.figures.transferBytes).toBe(0);
  });

  it('counts transferBytes over swapOut and swapIn steps', () => {
    // swapOut a (20), swapIn a (20), swapOut b (30): 70 bytes.
    const replay = ok(
      simulate(G, steps('compute x, compute a, swapOut a, free a, swapIn a, compute b, swapOut b, compute c'), { transfer: LINK }),
    );
    expect(replay.figures.transferBytes).toBe(70);
  });

  it('gives the overhead ratio of a zero-cost graph as 1', () => {
    const free = indexGraph({ nodes: [{ id: 'v', bytes: 3, cost: 0 }] });
    const replay = ok(simulate(free, steps('compute v')));
    expect(replay.figures).toEqual({ peakBytes: 3, computeCost: 0, baseCost: 0, makespan: 0, overheadRatio: 1, transferBytes: 0 });
  });
});

// The two-stream timing graph: x feeds a small y and a long z; c reads y and z.
const timing: Graph = {
  name: 'timing',
  residentBytes: 100,
  nodes: [
    { id: 'x', kind: 'input', bytes: 10, cost: 1 },
    { id: 'y', inputs: ['x'], bytes: 5, cost: 1 },
    { id: 'z', inputs: ['x'], bytes: 40, cost: 10, workspaceBytes: 7 },
    { id: 'c', inputs: ['y', 'z'], bytes: 8, cost: 2, keep: true },
  ],
};
const T = indexGraph(timing);

describe('two-stream timing', () => {
  it('replays swaps on the copy stream with latency + bytes / bandwidth, and the free rules', () => {
    // Link: bandwidth 10, latency 1; a swap of y (5 bytes) takes 1 + 5/10 = 1.5.
    const replay = ok(
      simulate(T, steps('compute x, compute y, swapOut y, free y, compute z, free x, swapIn y, compute c'), {
        transfer: LINK,
        timeline: true,
      }),
    );
    const rows = replay.timeline!.map((row) => [row.op, row.node, row.start, row.end]);
    expect(rows).toEqual([
      ['compute', 'x', 0, 1],
      ['compute', 'y', 1, 2],
      // swapOut y starts when the copy stream is free (0) and y is complete (2): 2 + 1.5.
      ['swapOut', 'y', 2, 3.5],
      // free y waits for its reader, the swapOut, on the copy stream.
      ['free', 'y', 3.5, 3.5],
      // z could start at 2 on the compute stream but must wait for the earlier free (3.5).
      ['compute', 'z', 3.5, 13.5],
      // free x waits for its last reader z (13.5).
      ['free', 'x', 13.5, 13.5],
      // swapIn y: copy stream free at 3.5, host copy at 3.5, but the earlier free of x
      // happens only at 13.5, when z (on the other stream) ends: 13.5 + 1.5 = 15.
      ['swapIn', 'y', 13.5, 15],
      // c waits for its swapped-in input y (15), not only for the compute stream (13.5).
      ['compute', 'c', 15, 17],
    ]);
    // Both streams are done at 17; computeCost = baseCost = 1 + 1 + 10 + 2 = 14.
    expect(replay.figures).toEqual({
      peakBytes: 157, // during z: 100 + x 10 + z 40 + workspace 7 (y is on the host only)
      computeCost: 14,
      baseCost: 14,
      makespan: 17,
      overheadRatio: 17 / 14,
      transferBytes: 10, // y out and in: 5 + 5
    });
    expect(replay.timeline!.map((row) => row.bytesAfter)).toEqual([
      110, // x
      115, // y
      115, // swapOut keeps the device copy
      110, // free y
      150, // z
      140, // free x
      145, // swapIn y
      153, // c
    ]);
    expect(replay.counts[1]).toEqual({ computes: 1, swapOuts: 1, swapIns: 1 });
  });

  it('makes swapIn wait for the host copy and swaps queue on the copy stream', () => {
    // Link: bandwidth 2, latency 0.5. swapOut x (10 bytes) = 0.5 + 5 = 5.5; y (5 bytes) = 3.
    const slow: Transfer = { bandwidth: 2, latency: 0.5 };
    const replay = ok(
      simulate(T, steps('compute x, swapOut x, compute y, swapOut y, free y, swapIn y, compute z, compute c'), {
        transfer: slow,
        timeline: true,
      }),
    );
    expect(replay.timeline!.map((row) => [row.start, row.end])).toEqual([
      [0, 1], // compute x
      [1, 6.5], // swapOut x: x complete at 1, 1 + 5.5
      [1, 2], // compute y runs meanwhile on the compute stream
      [6.5, 9.5], // swapOut y queues behind swapOut x: 6.5 + 3
      [9.5, 9.5], // free y waits for its swapOut
      [9.5, 12.5], // swapIn y: host copy complete at 9.5 (and the free at 9.5), + 3
      [9.5, 19.5], // compute z waits for the earlier free of y (9.5), + 10
      [19.5, 21.5], // compute c: z ready at 19.5, y at 12.5
    ]);
    expect(replay.figures.makespan).toBe(21.5);
    expect(replay.figures.transferBytes).toBe(20); // 10 + 5 + 5
  });

  it('makes a compute wait for a swapped-in input that arrives late', () => {
    // Link: bandwidth 1, latency 0: swapping y takes 5.
    const crawl: Transfer = { bandwidth: 1, latency: 0 };
    const replay = ok(
      simulate(T, steps('compute x, compute y, compute z, swapOut y, free y, swapIn y, compute c'), { transfer: crawl, timeline: true }),
    );
    // x 0-1, y 1-2, z 2-12; swapOut y 2-7; free y at 7; swapIn y 7-12 (no earlier free is later);
    // c: the compute stream is free at 12 and y arrives at 12: 12-14.
    expect(replay.timeline!.map((row) => [row.start, row.end])).toEqual([
      [0, 1],
      [1, 2],
      [2, 12],
      [2, 7],
      [7, 7],
      [7, 12],
      [12, 14],
    ]);
    // A slower link (bandwidth 0.5: 10 per swap): swapOut 2-12, swapIn 12-22, c 22-24.
    const slower = ok(
      simulate(T, steps('compute x, compute y, compute z, swapOut y, free y, swapIn y, compute c'), {
        transfer: { bandwidth: 0.5, latency: 0 },
      }),
    );
    expect(slower.figures.makespan).toBe(24);
  });

  it('makes makespan the later of the two streams', () => {
    // x 0-1, y 1-2, z 2-12, c 12-14; swapOut z after it completes: 12 + 1 + 40/10 = 17.
    const replay = ok(simulate(T, steps('compute x, compute y, compute z, compute c, swapOut z'), { transfer: LINK }));
    expect(replay.figures.makespan).toBe(17);
    expect(replay.figures.computeCost).toBe(14);
  });

  it('makes a free wait for the step that wrote the value (the documented superset)', () => {
    // x 0-1, y 1-2; swapOut y 2-3.5; free y at 3.5; swapIn y 3.5-5; free y with no reader
    // after the swapIn still waits for the swapIn's write: 5. z then waits for that free: 5-15.
    const replay = ok(
      simulate(T, steps('compute x, compute y, swapOut y, free y, swapIn y, free y, compute z, swapIn y, compute c'), {
        transfer: LINK,
        timeline: true,
      }),
    );
    const rows = replay.timeline!.map((row) => [row.op, row.node, row.start, row.end]);
    expect(rows[5]).toEqual(['free', 'y', 5, 5]);
    expect(rows[6]).toEqual(['compute', 'z', 5, 15]);
    // swapIn y again: copy stream free at 5, every earlier free done at 5: 5-6.5; c: 15-17.
    expect(rows[7]).toEqual(['swapIn', 'y', 5, 6.5]);
    expect(rows[8]).toEqual(['compute', 'c', 15, 17]);
    // A freshly computed value freed with no reader: free at its compute's end.
    const computed = ok(simulate(T, steps('compute x, compute y, free y, compute y, compute z, compute c'), { timeline: true }));
    // x 0-1, y 1-2, free y at 2, y again 2-3, z 3-13, c 13-15.
    expect(computed.timeline!.map((row) => row.end)).toEqual([1, 2, 2, 3, 13, 15]);
  });

  it('does not make a compute wait for a later free or for unrelated swaps', () => {
    // x 0-1; swapOut x 1-3 (1 + 10/10); y 1-2 and z 2-12 do not wait for the swap; c 12-14.
    const replay = ok(
      simulate(T, steps('compute x, swapOut x, compute y, compute z, compute c, free x'), { transfer: LINK, timeline: true }),
    );
    expect(replay.timeline!.map((row) => [row.start, row.end])).toEqual([
      [0, 1],
      [1, 3],
      [1, 2],
      [2, 12],
      [12, 14],
      [12, 12], // free x: its readers y (2), z (12) and the swapOut (3) are done at 12
    ]);
    expect(replay.figures.makespan).toBe(14);
  });
});

describe('the timeline', () => {
  it('has one row per step with the node id, only when asked', () => {
    const schedule = steps('compute x, compute y, compute z, free x, compute c, free y, free z');
    expect(ok(simulate(T, schedule)).timeline).toBeUndefined();
    const replay = ok(simulate(T, schedule, { timeline: true }));
    expect(replay.timeline!.map((row) => [row.step, row.op, row.node])).toEqual(
      schedule.map((step, position) => [position, step.op, step.node]),
    );
    // Memory while each step runs, resident 100 included:
    // x 110; y 115; z 115 + 40 + 7 = 162; free x 155 (before); c 145 + 8 = 153; free y 153; free z 148.
    expect(replay.timeline!.map((row) => row.bytes)).toEqual([110, 115, 162, 155, 153, 153, 148]);
    expect(replay.timeline!.map((row) => row.bytesAfter)).toEqual([110, 115, 155, 145, 153, 148, 108]);
    expect(replay.figures.peakBytes).toBe(162);
  });
});

/** A random legal schedule with swaps over an all-recomputable graph without keep nodes. */
function randomWalk(graph: ReturnType<typeof indexGraph>, seed: number): Schedule {
  const random = rng(seed);
  const onDevice = new Set<number>();
  const onHost = new Set<number>();
  const computed = new Set<number>();
  const out: Schedule = [];
  const push = (op: StepOp, node: number) => out.push({ op, node: graph.ids[node] });
  const bring = (node: number): void => {
    for (const input of graph.inputs[node]) {
      if (onDevice.has(input)) continue;
      if (onHost.has(input) && random() < 0.5) {
        push('swapIn', input);
        onDevice.add(input);
      } else bring(input);
    }
    push('compute', node);
    onDevice.add(node);
    computed.add(node);
  };
  let next = 0;
  while (next < graph.size) {
    const roll = random();
    const resident = [...onDevice];
    if (roll < 0.35 || resident.length === 0) {
      if (!onDevice.has(next)) bring(next);
      next++;
    } else if (roll < 0.6) {
      const victim = resident[Math.floor(random() * resident.length)];
      push('free', victim);
      onDevice.delete(victim);
    } else if (roll < 0.8) {
      const candidates = resident.filter((node) => !onHost.has(node));
      if (candidates.length) {
        const node = candidates[Math.floor(random() * candidates.length)];
        push('swapOut', node);
        onHost.add(node);
      }
    } else {
      const candidates = [...onHost].filter((node) => !onDevice.has(node));
      if (candidates.length) {
        const node = candidates[Math.floor(random() * candidates.length)];
        push('swapIn', node);
        onDevice.add(node);
      }
    }
  }
  return out;
}

describe('the timing rules on random legal schedules', () => {
  const graphArb = fc
    .array(
      fc.record({
        skips: fc.array(fc.nat({ max: 50 }), { maxLength: 3 }),
        bytes: fc.integer({ min: 0, max: 100 }),
        cost: fc.integer({ min: 0, max: 20 }),
        workspace: fc.integer({ min: 0, max: 30 }),
      }),
      { minLength: 1, maxLength: 25 },
    )
    .map(
      (specs): Graph => ({
        residentBytes: 5,
        nodes: specs.map((spec, at) => ({
          id: `v${at}`,
          inputs: at ? [...new Set(spec.skips.map((skip) => `v${at - 1 - (skip % at)}`))] : [],
          bytes: spec.bytes,
          cost: spec.cost,
          workspaceBytes: spec.workspace,
        })),
      }),
    );

  it('every step obeys the contract: streams, swap durations, waits for inputs and earlier frees, frees after readers', () => {
    fc.assert(
      fc.property(
        graphArb,
        fc.integer(),
        fc.constantFrom<Transfer>({ bandwidth: 10, latency: 1 }, { bandwidth: 3, latency: 0 }),
        (raw, seed, link) => {
          const graph = indexGraph(raw);
          const schedule = randomWalk(graph, seed);
          const replay = ok(simulate(graph, schedule, { transfer: link, timeline: true }));
          const rows = replay.timeline!;
          let computeEnd = 0;
          let copyEnd = 0;
          let latestFree = 0;
          let live = 0;
          let computeCost = 0;
          let transferBytes = 0;
          const written = new Map<string, number>(); // end of the step that made the current device copy
          const hostWritten = new Map<string, number>();
          const reads = new Map<string, number>(); // latest end of a step reading the value
          for (const row of rows) {
            const node = graph.index.get(row.node)!;
            const bytes = graph.bytes[node];
            if (row.op === 'compute') {
              // The compute starts exactly when its stream, its inputs and every earlier free allow.
              let ready = Math.max(computeEnd, latestFree);
              for (const input of graph.inputs[node]) ready = Math.max(ready, written.get(graph.ids[input])!);
              expect(row.start).toBe(ready);
              expect(row.end).toBe(row.start + graph.cost[node]);
              for (const input of graph.inputs[node]) reads.set(graph.ids[input], Math.max(reads.get(graph.ids[input]) ?? 0, row.end));
              computeEnd = row.end;
              written.set(row.node, row.end);
              expect(row.bytes).toBe(graph.residentBytes + live + bytes + graph.workspace[node]);
              live += bytes;
              computeCost += graph.cost[node];
            } else if (row.op === 'free') {
              // A free happens when every earlier reader (and the writer) has ended.
              expect(row.start).toBe(Math.max(written.get(row.node)!, reads.get(row.node) ?? 0));
              latestFree = Math.max(latestFree, row.start);
              expect(row.bytes).toBe(graph.residentBytes + live);
              live -= bytes;
            } else if (row.op === 'swapOut') {
              expect(row.start).toBe(Math.max(copyEnd, written.get(row.node)!));
              expect(row.end).toBeCloseTo(row.start + link.latency + bytes / link.bandwidth, 9);
              reads.set(row.node, Math.max(reads.get(row.node) ?? 0, row.end));
              hostWritten.set(row.node, row.end);
              copyEnd = row.end;
              transferBytes += bytes;
            } else {
              expect(row.start).toBe(Math.max(copyEnd, hostWritten.get(row.node)!, latestFree));
              expect(row.end).toBeCloseTo(row.start + link.latency + bytes / link.bandwidth, 9);
              written.set(row.node, row.end);
              copyEnd = row.end;
              live += bytes;
              transferBytes += bytes;
              expect(row.bytes).toBe(graph.residentBytes + live);
            }
            expect(row.bytesAfter).toBe(graph.residentBytes + live);
          }
          expect(replay.figures.peakBytes).toBe(Math.max(...rows.map((row) => row.bytes)));
          expect(replay.figures.makespan).toBe(Math.max(computeEnd, copyEnd));
          expect(replay.figures.computeCost).toBe(computeCost);
          expect(replay.figures.transferBytes).toBe(transferBytes);
          expect(replay.figures.baseCost).toBe(graph.cost.reduce((sum, cost) => sum + cost, 0));
        },
      ),
      { numRuns: 300 },
    );
  });
});
