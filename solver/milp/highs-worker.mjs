// The HiGHS worker thread: one WASM instance, one solve at a time, through the
// persistent API (createModel / setSolution / run with callbacks / info). It is plain
// JavaScript so it starts without a TypeScript loader, under node and under vitest. It
// serves the thread pool's tasks (solver/util/thread-worker.mjs): a task is
// {arrays | lpText, options}, where the options carry the backend's limits
// (solver/limits.ts) too, as this file cannot import TypeScript; progress reports are
// {type:'incumbent'|'bound', ...}; the result is the solve's figures and values. HiGHS's
// interrupt callbacks poll the task's stop flag and the flags linked to it (the stop flag
// of the job that runs the solve), so a cancel reaches a running solve without passing
// through any event loop. A fatal error (the WASM heap aborted) leaves this instance
// unusable: the pool replaces the thread.
import { threadId } from 'node:worker_threads';
import loadHighs from 'highs';
import { serveTasks } from '../util/thread-worker.mjs';

const highsPromise = loadHighs();

function toHighsBound(value, infinity) {
  if (value === Infinity) return infinity;
  if (value === -Infinity) return -infinity;
  return value;
}

function numberOrUndefined(value) {
  if (typeof value === 'bigint') return Number(value);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function safeInfo(model, name) {
  try {
    return model.info.get(name);
  } catch {
    return undefined;
  }
}

/** The answer of a solve stopped before HiGHS ran (the callbacks cannot see a stop during loading). */
function stoppedEarly(highs, started) {
  return {
    code: highs.constants.modelStatus.interrupted,
    hasSolution: false,
    nodes: 0,
    wallSeconds: (Date.now() - started) / 1000,
    threadId,
    heapBytes: highs.memoryBytes,
  };
}

async function solve(message, task) {
  const highs = await highsPromise;
  const { options } = message;
  const { stopFlags } = task;
  const started = Date.now();
  if (task.stopRequested()) return stoppedEarly(highs, started);
  const infinity = highs.infinity;
  let model;
  if (message.lpText !== undefined) {
    model = highs.createModel({ format: 'lp', data: message.lpText });
    if (options.relaxation) model.clearIntegrality();
  } else {
    const arrays = message.arrays;
    const map = (values) => Float64Array.from(values, (value) => toHighsBound(value, infinity));
    model = highs.createModel({
      numCols: arrays.numCols,
      numRows: arrays.numRows,
      offset: arrays.offset,
      colCost: arrays.colCost,
      colLower: map(arrays.colLower),
      colUpper: map(arrays.colUpper),
      rowLower: map(arrays.rowLower),
      rowUpper: map(arrays.rowUpper),
      matrix: {
        format: 'csr',
        numRows: arrays.numRows,
        numCols: arrays.numCols,
        starts: arrays.rowStart,
        indices: arrays.colIndex,
        values: arrays.value,
      },
      ...(options.relaxation ? {} : { integrality: arrays.integrality }),
    });
  }
  try {
    const settings = { output_flag: false, time_limit: Math.max(options.minSeconds, options.timeLimitSeconds) };
    if (options.relativeGap !== undefined) settings.mip_rel_gap = options.relativeGap;
    // A solve kept for its bound skips the sub-MIP heuristics: on vgg_unet at 55 %, started
    // from the optimal plan, they took 11 s of the root node and found nothing better. Set
    // either way, so that nothing carries over to the next solve of this instance.
    const heuristics = options.heuristics !== false;
    settings.mip_heuristic_run_rins = heuristics;
    settings.mip_heuristic_run_rens = heuristics;
    settings.mip_heuristic_run_root_reduced_cost = heuristics;
    settings.mip_pscost_minreliable = options.pseudoCostReliable;
    model.options.set(settings);
    if (options.start) {
      try {
        model.setSolution({ colValue: Float64Array.from(options.start) });
      } catch {
        // A rejected start is not an error: the solve simply starts cold.
      }
    }
    if (task.stopRequested()) return stoppedEarly(highs, started);
    let lastBound = -Infinity;
    let lastBoundAt = 0;
    const types = highs.constants.callbackType;
    const interruptIfAsked = (event) => {
      if (stopFlags.some((flag) => Atomics.load(flag, 0) !== 0)) event.interrupt();
    };
    const callbacks = {
      [types.simplexInterrupt]: interruptIfAsked,
      [types.ipmInterrupt]: interruptIfAsked,
      [types.mipInterrupt](event) {
        interruptIfAsked(event);
        const bound = event.data.mip_dual_bound;
        const now = (Date.now() - started) / 1000;
        if (
          typeof bound === 'number' &&
          Number.isFinite(bound) &&
          bound > lastBound + options.boundStep &&
          now - lastBoundAt >= options.boundEverySeconds
        ) {
          lastBound = bound;
          lastBoundAt = now;
          task.progress({ type: 'bound', elapsedSeconds: now, bound, gap: numberOrUndefined(event.data.mip_gap) });
        }
      },
    };
    if (!options.relaxation) {
      callbacks[types.mipImprovingSolution] = (event) => {
        const values = event.data.mip_solution;
        if (!values) return;
        task.progress({
          type: 'incumbent',
          elapsedSeconds: (Date.now() - started) / 1000,
          objective: numberOrUndefined(event.data.objective_function_value),
          bound: numberOrUndefined(event.data.mip_dual_bound),
          gap: numberOrUndefined(event.data.mip_gap),
          values,
        });
      };
    }
    const run = model.run(callbacks);
    const code = run.modelStatus;
    const primalStatus = safeInfo(model, 'primal_solution_status');
    const hasSolution = primalStatus === highs.constants.solutionStatus.feasible;
    const isMip = !options.relaxation && Array.prototype.some.call(message.arrays?.integrality ?? [1], (flag) => flag !== 0);
    let values;
    let objective;
    if (hasSolution) {
      values = Float64Array.from(model.getSolution().colValue);
      objective = numberOrUndefined(safeInfo(model, 'objective_function_value'));
    }
    let bound;
    let gap;
    let nodes = 0;
    if (isMip) {
      bound = numberOrUndefined(safeInfo(model, 'mip_dual_bound'));
      gap = numberOrUndefined(safeInfo(model, 'mip_gap'));
      nodes = numberOrUndefined(safeInfo(model, 'mip_node_count')) ?? 0;
    } else if (code === highs.constants.modelStatus.optimal) {
      bound = objective;
      gap = 0;
    }
    return {
      code,
      hasSolution,
      objective,
      bound,
      gap,
      values,
      nodes,
      wallSeconds: (Date.now() - started) / 1000,
      threadId,
      heapBytes: highs.memoryBytes,
    };
  } finally {
    try {
      model.dispose();
    } catch {
      // Disposing after a WASM abort fails; the worker is replaced anyway.
    }
  }
}

serveTasks(solve, {
  // Any abort or memory fault of the WASM instance poisons it.
  isFatal: (error) => error instanceof WebAssembly.RuntimeError || /Aborted|out of memory|memory access/i.test(describe(error)),
  describeError: describe,
  transferOf: (result) => (result.values ? [result.values.buffer] : []),
});

function describe(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
