// The simulator: the one truth for a schedule's legality, peak memory, cost and time.
// It replays the contract's rules (../shared/DESIGN.md, "Schedule and its semantics")
// from an empty device D and host H. Every predicted figure of every plan comes from here.
//
// One deliberate superset of the contract: a free of v also waits for the step that made
// v's current device copy (its compute or swapIn) to end, not only for the steps that
// read v. The contract is silent on a value freed with no reader; freeing a buffer that
// is still being written is not something an executor can do.
//
// Node options ("Node options" in DESIGN.md): the simulator tracks every form, the values
// and each encoding v#e, in one set of arrays (an encoding at its IndexedEncoding.slot).
// encode and decode run on the compute stream and wait, as computes do, for every earlier
// free. Where the contract leaves a choice, it reads: a compute whose input i is on the
// device both as the value and as an encoding the computing node is a reader of reads the
// encoding (the first such one listed), as Gist's backward reads the mask; its timing
// follows that form.
import { MemplanError } from '../errors.js';
import { DEFAULT_IMPLEMENTATION } from '../graph/schema.js';
import type { IndexedEncoding, IndexedGraph } from '../graph/validate.js';
import type { Schedule, Step, StepOp, Transfer } from './types.js';

/** A step with the node as its dense index (strategies build these). */
export interface IndexedStep {
  op: StepOp;
  node: number;
  /** compute: the index of the alternative in graph.alternatives[node]; undefined: the node's own implementation. */
  alt?: number;
  /** encode, decode, and free / swapOut / swapIn of v#e: the index of the encoding in graph.encodings[node]. */
  encoding?: number;
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
  /** The alternative a compute used, when not the node's own. */
  alt?: string;
  /** The encoding the step made, read or moved. */
  encoding?: string;
  /** Device bytes while the step runs (residentBytes and workspace included). */
  bytes: number;
  /** Device bytes after the step (residentBytes included). */
  bytesAfter: number;
  start: number;
  end: number;
}

export interface NodeCounts {
  computes: number;
  /** Swaps out of the value or of any of its encodings. */
  swapOuts: number;
  swapIns: number;
  /** Encode steps (only on graphs with node options). */
  encodes?: number;
  /** Decode steps (only on graphs with node options). */
  decodes?: number;
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

/** Converts a client schedule (node ids, option names) to indexed steps; unknown ids and names are reported. */
export function indexSchedule(graph: IndexedGraph, schedule: Schedule): { steps: IndexedStep[] } | ReplayFailed {
  const steps: IndexedStep[] = new Array(schedule.length);
  const failed = (
    position: number,
    code: ConstructorParameters<typeof MemplanError>[0],
    params: Record<string, unknown>,
  ): ReplayFailed => ({
    ok: false,
    step: position,
    error: new MemplanError(code, { step: position, ...params }),
  });
  for (let position = 0; position < schedule.length; position++) {
    const step = schedule[position];
    const node = graph.index.get(step.node);
    if (node === undefined) return failed(position, 'MEMPLAN_ERR_STEP_UNKNOWN_NODE', { node: step.node, op: step.op });
    const indexed: IndexedStep = { op: step.op, node };
    if (step.alt !== undefined) {
      if (step.op !== 'compute') {
        return failed(position, 'MEMPLAN_ERR_STEP_INVALID_FIELD', {
          node: step.node,
          op: step.op,
          detail: '"alt" is a field of compute steps only',
        });
      }
      if (step.alt !== DEFAULT_IMPLEMENTATION) {
        const at = graph.alternatives[node].findIndex((alternative) => alternative.name === step.alt);
        if (at < 0)
          return failed(position, 'MEMPLAN_ERR_STEP_UNKNOWN_OPTION', { node: step.node, op: step.op, field: 'alt', name: step.alt });
        indexed.alt = at;
      }
    }
    if (step.encoding !== undefined) {
      const at = graph.encodings[node].findIndex((encoding) => encoding.name === step.encoding);
      if (at < 0)
        return failed(position, 'MEMPLAN_ERR_STEP_UNKNOWN_OPTION', {
          node: step.node,
          op: step.op,
          field: 'encoding',
          name: step.encoding,
        });
      indexed.encoding = at;
    }
    steps[position] = indexed;
  }
  return { steps };
}

/** Converts indexed steps back to the contract's id form (option fields only where a step has them). */
export function toSchedule(graph: IndexedGraph, steps: readonly IndexedStep[]): Schedule {
  return steps.map((step) => {
    const out: Step = { op: step.op, node: graph.ids[step.node] };
    if (step.alt !== undefined) out.alt = graph.alternatives[step.node][step.alt].name;
    if (step.encoding !== undefined) out.encoding = graph.encodings[step.node][step.encoding].name;
    return out;
  });
}

/** Replays a client schedule (node ids). */
export function simulate(graph: IndexedGraph, schedule: Schedule, options: SimulateOptions = {}): ReplayResult {
  const indexed = indexSchedule(graph, schedule);
  if ('ok' in indexed) return indexed;
  return simulateIndexed(graph, indexed.steps, options);
}

/**
 * The form a compute of `user` reads input `input` from: an encoding it is a reader of when
 * one is on the device, else the value; -1 when neither is there.
 */
function readFrom(graph: IndexedGraph, onDevice: Uint8Array, input: number, user: number): number {
  for (const encoding of graph.encodings[input]) if (onDevice[encoding.slot] && encoding.readers.includes(user)) return encoding.slot;
  return onDevice[input] ? input : -1;
}

/** The failure of a step whose form (the value or v#e) is, or is not, already in a place. */
function misplaced(
  position: number,
  step: IndexedStep,
  id: string,
  encoding: IndexedEncoding | undefined,
  problem: 'absent' | 'present',
  place: 'device' | 'host',
): ReplayFailed {
  const op = step.op;
  let error: MemplanError;
  if (encoding) {
    const code = problem === 'absent' ? 'MEMPLAN_ERR_STEP_ENCODING_ABSENT' : 'MEMPLAN_ERR_STEP_ENCODING_PRESENT';
    error = new MemplanError(code, { step: position, node: id, op, encoding: encoding.name, place });
  } else if (problem === 'absent') {
    error = new MemplanError(place === 'device' ? 'MEMPLAN_ERR_STEP_NOT_RESIDENT' : 'MEMPLAN_ERR_STEP_NOT_ON_HOST', {
      step: position,
      node: id,
      op,
    });
  } else {
    error = new MemplanError(place === 'device' ? 'MEMPLAN_ERR_STEP_ALREADY_RESIDENT' : 'MEMPLAN_ERR_STEP_ALREADY_ON_HOST', {
      step: position,
      node: id,
      op,
    });
  }
  return { ok: false, step: position, error };
}

/** Replays indexed steps under the contract's rules. */
export function simulateIndexed(graph: IndexedGraph, steps: readonly IndexedStep[], options: SimulateOptions = {}): ReplayResult {
  const size = graph.size;
  const forms = graph.formCount;
  const withOptions = graph.hasOptions;
  // Values and encodings, each at its slot (a value at its node index).
  const onDevice = new Uint8Array(forms);
  const onHost = new Uint8Array(forms);
  const counts: NodeCounts[] = Array.from({ length: size }, () =>
    withOptions ? { computes: 0, swapOuts: 0, swapIns: 0, encodes: 0, decodes: 0 } : { computes: 0, swapOuts: 0, swapIns: 0 },
  );
  // Time state: when each form's current device copy and host copy are complete, when
  // the last step reading or writing it ends, and when the latest free has happened.
  const deviceReady = new Float64Array(forms);
  const hostReady = new Float64Array(forms);
  const lastTouch = new Float64Array(forms);
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
  const reads: number[] = [];

  for (let position = 0; position < steps.length; position++) {
    const step = steps[position];
    const { op, node } = step;
    if (!(node >= 0 && node < size)) return fail(position, 'MEMPLAN_ERR_STEP_UNKNOWN_NODE', { node: String(node), op });
    const id = graph.ids[node];
    let encoding: IndexedEncoding | undefined;
    if (withOptions) {
      if (step.encoding !== undefined) {
        if (op === 'compute')
          return fail(position, 'MEMPLAN_ERR_STEP_INVALID_FIELD', { node: id, op, detail: 'a compute step names no "encoding"' });
        encoding = graph.encodings[node][step.encoding];
        if (!encoding)
          return fail(position, 'MEMPLAN_ERR_STEP_UNKNOWN_OPTION', { node: id, op, field: 'encoding', name: String(step.encoding) });
      }
      if (step.alt !== undefined && op !== 'compute') {
        return fail(position, 'MEMPLAN_ERR_STEP_INVALID_FIELD', { node: id, op, detail: '"alt" is a field of compute steps only' });
      }
    } else if (step.encoding !== undefined || step.alt !== undefined) {
      const field = step.encoding !== undefined ? 'encoding' : 'alt';
      return fail(position, 'MEMPLAN_ERR_STEP_UNKNOWN_OPTION', { node: id, op, field, name: String(step[field]) });
    }
    if (encoding === undefined && (op === 'encode' || op === 'decode')) {
      return fail(position, 'MEMPLAN_ERR_STEP_INVALID_FIELD', {
        node: id,
        op,
        detail: `an ${op} step names the "encoding" it makes or reads`,
      });
    }
    // The form the step acts on: the value, or v#e.
    const slot = encoding ? encoding.slot : node;
    const bytes = encoding ? encoding.bytes : graph.bytes[node];
    let during = live;
    let start = 0;
    let end = 0;
    switch (op) {
      case 'compute': {
        let cost = graph.cost[node];
        let workspace = graph.workspace[node];
        if (step.alt !== undefined) {
          const alternative = graph.alternatives[node][step.alt];
          if (!alternative)
            return fail(position, 'MEMPLAN_ERR_STEP_UNKNOWN_OPTION', { node: id, op, field: 'alt', name: String(step.alt) });
          cost = alternative.cost;
          workspace = alternative.workspace;
        }
        if (onDevice[node]) return fail(position, 'MEMPLAN_ERR_STEP_ALREADY_RESIDENT', { node: id, op });
        if (counts[node].computes > 0 && !graph.recomputable[node]) {
          return fail(position, 'MEMPLAN_ERR_STEP_NOT_RECOMPUTABLE', { node: id, op });
        }
        start = Math.max(computeFree, freesDone);
        const inputs = graph.inputs[node];
        if (withOptions) {
          reads.length = 0;
          for (const input of inputs) {
            const from = readFrom(graph, onDevice, input, node);
            if (from < 0) {
              const held = graph.encodings[input].find((form) => onDevice[form.slot]);
              if (held)
                return fail(position, 'MEMPLAN_ERR_STEP_NOT_A_READER', { node: id, op, input: graph.ids[input], encoding: held.name });
              return fail(position, 'MEMPLAN_ERR_STEP_INPUT_MISSING', { node: id, op, input: graph.ids[input] });
            }
            reads.push(from);
            if (deviceReady[from] > start) start = deviceReady[from];
          }
        } else {
          for (const input of inputs) {
            if (!onDevice[input]) return fail(position, 'MEMPLAN_ERR_STEP_INPUT_MISSING', { node: id, op, input: graph.ids[input] });
            if (deviceReady[input] > start) start = deviceReady[input];
          }
        }
        end = start + cost;
        if (withOptions) {
          for (const from of reads) if (end > lastTouch[from]) lastTouch[from] = end;
        } else for (const input of inputs) if (end > lastTouch[input]) lastTouch[input] = end;
        computeFree = end;
        deviceReady[node] = end;
        lastTouch[node] = end;
        onDevice[node] = 1;
        during = live + bytes + workspace;
        live += bytes;
        computeCost += cost;
        counts[node].computes++;
        break;
      }
      case 'free': {
        if (!onDevice[slot]) return misplaced(position, step, id, encoding, 'absent', 'device');
        start = end = lastTouch[slot];
        if (end > freesDone) freesDone = end;
        onDevice[slot] = 0;
        live -= bytes;
        break;
      }
      case 'swapOut': {
        if (!transfer) return fail(position, 'MEMPLAN_ERR_TRANSFER_REQUIRED', { node: id, op });
        if (!onDevice[slot]) return misplaced(position, step, id, encoding, 'absent', 'device');
        if (onHost[slot]) return misplaced(position, step, id, encoding, 'present', 'host');
        start = Math.max(copyFree, deviceReady[slot]);
        end = start + transfer.latency + bytes / transfer.bandwidth;
        copyFree = end;
        hostReady[slot] = end;
        if (end > lastTouch[slot]) lastTouch[slot] = end;
        onHost[slot] = 1;
        transferBytes += bytes;
        counts[node].swapOuts++;
        break;
      }
      case 'swapIn': {
        if (!transfer) return fail(position, 'MEMPLAN_ERR_TRANSFER_REQUIRED', { node: id, op });
        if (!onHost[slot]) return misplaced(position, step, id, encoding, 'absent', 'host');
        if (onDevice[slot]) return misplaced(position, step, id, encoding, 'present', 'device');
        start = Math.max(copyFree, hostReady[slot], freesDone);
        end = start + transfer.latency + bytes / transfer.bandwidth;
        copyFree = end;
        deviceReady[slot] = end;
        lastTouch[slot] = end;
        onDevice[slot] = 1;
        live += bytes;
        during = live;
        transferBytes += bytes;
        counts[node].swapIns++;
        break;
      }
      case 'encode': {
        const form = encoding!;
        if (!onDevice[node]) return fail(position, 'MEMPLAN_ERR_STEP_NOT_RESIDENT', { node: id, op });
        if (onDevice[slot]) return misplaced(position, step, id, encoding, 'present', 'device');
        start = Math.max(computeFree, freesDone, deviceReady[node]);
        end = start + form.encodeCost;
        if (end > lastTouch[node]) lastTouch[node] = end;
        computeFree = end;
        deviceReady[slot] = end;
        lastTouch[slot] = end;
        onDevice[slot] = 1;
        live += bytes;
        during = live;
        computeCost += form.encodeCost;
        counts[node].encodes!++;
        break;
      }
      case 'decode': {
        const form = encoding!;
        if (form.decodeCost === undefined) return fail(position, 'MEMPLAN_ERR_STEP_NOT_DECODABLE', { node: id, op, encoding: form.name });
        if (!onDevice[slot]) return misplaced(position, step, id, encoding, 'absent', 'device');
        if (onDevice[node]) return fail(position, 'MEMPLAN_ERR_STEP_ALREADY_RESIDENT', { node: id, op });
        start = Math.max(computeFree, freesDone, deviceReady[slot]);
        end = start + form.decodeCost;
        if (end > lastTouch[slot]) lastTouch[slot] = end;
        computeFree = end;
        deviceReady[node] = end;
        lastTouch[node] = end;
        onDevice[node] = 1;
        live += graph.bytes[node];
        during = live;
        computeCost += form.decodeCost;
        counts[node].decodes!++;
        break;
      }
      default:
        return fail(position, 'MEMPLAN_ERR_STEP_UNKNOWN_NODE', { node: id, op: String(op) });
    }
    if (during > peak) peak = during;
    if (timeline && position >= timelineFrom && position < timelineEnd) {
      const row: TimelineRow = {
        step: position,
        op,
        node: id,
        bytes: graph.residentBytes + during,
        bytesAfter: graph.residentBytes + live,
        start,
        end,
      };
      if (step.alt !== undefined) row.alt = graph.alternatives[node][step.alt].name;
      if (encoding) row.encoding = encoding.name;
      timeline.push(row);
    }
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

/** Whether a schedule copies to or from the host. */
export function hasSwaps(steps: readonly IndexedStep[]): boolean {
  return steps.some((step) => step.op === 'swapIn' || step.op === 'swapOut');
}
