// The simulator: the one truth for a schedule's legality, peak memory, cost and time.
// It replays the contract's rules (../shared/DESIGN.md, "Schedule and its semantics")
// from an empty device D and host H. Every predicted figure of every plan comes from here.
//
// One deliberate superset of the contract: a free of v also waits for the step that made
// v's current device copy (its compute or swapIn) to end, not only for the steps that
// read v. The contract is silent on a value freed with no reader; freeing a buffer that
// is still being written is not something an executor can do.
import { MemplanError } from '../errors.js';
import type { IndexedGraph } from '../graph/validate.js';
import type { Schedule, StepOp, Transfer } from './types.js';

/** A step with the node as its dense index (strategies build these). */
export interface IndexedStep {
  op: StepOp;
  node: number;
}

/** The figures a replay gives; the `predicted` block of a plan. */
export interface Figures {
  peakBytes: number;
  computeCost: number;
  baseCost: number;
  makespan: number;
  overheadRatio: number;
  transferBytes: number;
}

/** One row of the per-step timeline. */
export interface TimelineRow {
  step: number;
  op: StepOp;
  node: string;
  /** Device bytes while the step runs (residentBytes and workspace included). */
  bytes: number;
  /** Device bytes after the step (residentBytes included). */
  bytesAfter: number;
  start: number;
  end: number;
}

export interface NodeCounts {
  computes: number;
  swapOuts: number;
  swapIns: number;
}

export interface ReplayOk {
  ok: true;
  figures: Figures;
  /** Per node, in graph order. */
  counts: NodeCounts[];
  timeline?: TimelineRow[];
}

export interface ReplayFailed {
  ok: false;
  /** Index of the offending step, or the schedule length for an end-of-schedule problem. */
  step: number;
  error: MemplanError;
}

export type ReplayResult = ReplayOk | ReplayFailed;

export interface SimulateOptions {
  transfer?: Transfer;
  /** Record the per-step timeline (costs memory on long schedules). */
  timeline?: boolean;
  /** With timeline: the first step recorded (default 0). */
  timelineFrom?: number;
  /** With timeline: the most rows recorded (default all). */
  timelineLimit?: number;
}

/** Ratio of makespan to baseCost; 1 for an empty step (both zero). */
export function overheadRatio(makespan: number, baseCost: number): number {
  if (baseCost > 0) return makespan / baseCost;
  return makespan > 0 ? Number.MAX_VALUE : 1;
}

/** Converts a client schedule (node ids) to indexed steps; unknown ids are reported. */
export function indexSchedule(graph: IndexedGraph, schedule: Schedule): { steps: IndexedStep[] } | ReplayFailed {
  const steps: IndexedStep[] = new Array(schedule.length);
  for (let position = 0; position < schedule.length; position++) {
    const step = schedule[position];
    const node = graph.index.get(step.node);
    if (node === undefined) {
      return {
        ok: false,
        step: position,
        error: new MemplanError('MEMPLAN_ERR_STEP_UNKNOWN_NODE', { step: position, node: step.node, op: step.op }),
      };
    }
    steps[position] = { op: step.op, node };
  }
  return { steps };
}

/** Converts indexed steps back to the contract's id form. */
export function toSchedule(graph: IndexedGraph, steps: readonly IndexedStep[]): Schedule {
  return steps.map((step) => ({ op: step.op, node: graph.ids[step.node] }));
}

/** Replays a client schedule (node ids). */
export function simulate(graph: IndexedGraph, schedule: Schedule, options: SimulateOptions = {}): ReplayResult {
  const indexed = indexSchedule(graph, schedule);
  if ('ok' in indexed) return indexed;
  return simulateIndexed(graph, indexed.steps, options);
}

/** Replays indexed steps under the contract's rules. */
export function simulateIndexed(graph: IndexedGraph, steps: readonly IndexedStep[], options: SimulateOptions = {}): ReplayResult {
  const size = graph.size;
  const onDevice = new Uint8Array(size);
  const onHost = new Uint8Array(size);
  const counts: NodeCounts[] = Array.from({ length: size }, () => ({ computes: 0, swapOuts: 0, swapIns: 0 }));
  // Time state: when each value's current device copy and host copy are complete, when
  // the last step reading or writing it ends, and when the latest free has happened.
  const deviceReady = new Float64Array(size);
  const hostReady = new Float64Array(size);
  const lastTouch = new Float64Array(size);
  let computeFree = 0;
  let copyFree = 0;
  let freesDone = 0;
  let live = 0;
  let peak = 0;
  let computeCost = 0;
  let transferBytes = 0;
  const timeline: TimelineRow[] | undefined = options.timeline ? [] : undefined;
  const timelineFrom = options.timelineFrom ?? 0;
  const timelineEnd = timelineFrom + (options.timelineLimit ?? Number.POSITIVE_INFINITY);
  const transfer = options.transfer;
  const fail = (position: number, code: ConstructorParameters<typeof MemplanError>[0], params: Record<string, unknown>): ReplayFailed => ({
    ok: false,
    step: position,
    error: new MemplanError(code, { step: position, ...params }),
  });

  for (let position = 0; position < steps.length; position++) {
    const { op, node } = steps[position];
    if (!(node >= 0 && node < size)) return fail(position, 'MEMPLAN_ERR_STEP_UNKNOWN_NODE', { node: String(node), op });
    const id = graph.ids[node];
    const bytes = graph.bytes[node];
    let during = live;
    let start = 0;
    let end = 0;
    switch (op) {
      case 'compute': {
        if (onDevice[node]) return fail(position, 'MEMPLAN_ERR_STEP_ALREADY_RESIDENT', { node: id, op });
        if (counts[node].computes > 0 && !graph.recomputable[node]) {
          return fail(position, 'MEMPLAN_ERR_STEP_NOT_RECOMPUTABLE', { node: id, op });
        }
        start = Math.max(computeFree, freesDone);
        for (const input of graph.inputs[node]) {
          if (!onDevice[input]) return fail(position, 'MEMPLAN_ERR_STEP_INPUT_MISSING', { node: id, op, input: graph.ids[input] });
          if (deviceReady[input] > start) start = deviceReady[input];
        }
        end = start + graph.cost[node];
        for (const input of graph.inputs[node]) if (end > lastTouch[input]) lastTouch[input] = end;
        computeFree = end;
        deviceReady[node] = end;
        lastTouch[node] = end;
        onDevice[node] = 1;
        during = live + bytes + graph.workspace[node];
        live += bytes;
        computeCost += graph.cost[node];
        counts[node].computes++;
        break;
      }
      case 'free': {
        if (!onDevice[node]) return fail(position, 'MEMPLAN_ERR_STEP_NOT_RESIDENT', { node: id, op });
        start = end = lastTouch[node];
        if (end > freesDone) freesDone = end;
        onDevice[node] = 0;
        live -= bytes;
        break;
      }
      case 'swapOut': {
        if (!transfer) return fail(position, 'MEMPLAN_ERR_TRANSFER_REQUIRED', { node: id, op });
        if (!onDevice[node]) return fail(position, 'MEMPLAN_ERR_STEP_NOT_RESIDENT', { node: id, op });
        if (onHost[node]) return fail(position, 'MEMPLAN_ERR_STEP_ALREADY_ON_HOST', { node: id, op });
        start = Math.max(copyFree, deviceReady[node]);
        end = start + transfer.latency + bytes / transfer.bandwidth;
        copyFree = end;
        hostReady[node] = end;
        if (end > lastTouch[node]) lastTouch[node] = end;
        onHost[node] = 1;
        transferBytes += bytes;
        counts[node].swapOuts++;
        break;
      }
      case 'swapIn': {
        if (!transfer) return fail(position, 'MEMPLAN_ERR_TRANSFER_REQUIRED', { node: id, op });
        if (!onHost[node]) return fail(position, 'MEMPLAN_ERR_STEP_NOT_ON_HOST', { node: id, op });
        if (onDevice[node]) return fail(position, 'MEMPLAN_ERR_STEP_ALREADY_RESIDENT', { node: id, op });
        start = Math.max(copyFree, hostReady[node], freesDone);
        end = start + transfer.latency + bytes / transfer.bandwidth;
        copyFree = end;
        deviceReady[node] = end;
        lastTouch[node] = end;
        onDevice[node] = 1;
        live += bytes;
        during = live;
        transferBytes += bytes;
        counts[node].swapIns++;
        break;
      }
      default:
        return fail(position, 'MEMPLAN_ERR_STEP_UNKNOWN_NODE', { node: id, op: String(op) });
    }
    if (during > peak) peak = during;
    if (position >= timelineFrom && position < timelineEnd)
      timeline?.push({
        step: position,
        op,
        node: id,
        bytes: graph.residentBytes + during,
        bytesAfter: graph.residentBytes + live,
        start,
        end,
      });
  }

  for (let node = 0; node < size; node++) {
    if (counts[node].computes === 0) {
      return fail(steps.length, 'MEMPLAN_ERR_SCHEDULE_INCOMPLETE', { node: graph.ids[node], detail: 'never computed' });
    }
    if (graph.keep[node] && !onDevice[node]) {
      return fail(steps.length, 'MEMPLAN_ERR_SCHEDULE_INCOMPLETE', { node: graph.ids[node], detail: 'a keep node not on the device' });
    }
  }
  const makespan = Math.max(computeFree, copyFree);
  return {
    ok: true,
    figures: {
      peakBytes: graph.residentBytes + peak,
      computeCost,
      baseCost: graph.baseCost,
      makespan,
      overheadRatio: overheadRatio(makespan, graph.baseCost),
      transferBytes,
    },
    counts,
    timeline,
  };
}
