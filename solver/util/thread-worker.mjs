// The worker side of thread-pool.ts: serveTasks(handler) answers the pool's task messages
// on this thread's port, one task at a time. It is plain JavaScript so that workers that
// start without a TypeScript loader (the HiGHS worker) can use it too.
// Messages in: {type:'task', id, payload, stopFlag} and {type:'cancel', id}. Messages out:
// {type:'progress', id, progress}, {type:'done', id, result} and
// {type:'failed', id, error, fatal}. A task sees its stop flag (a SharedArrayBuffer that a
// blocking loop or HiGHS's interrupt callback can poll) and an AbortSignal that the cancel
// message aborts (for code that yields to the event loop).
import { parentPort } from 'node:worker_threads';

/** True for an error that leaves this thread's WebAssembly instance unusable (a heap abort). */
export function isWasmAbort(error) {
  return error instanceof WebAssembly.RuntimeError || /Aborted\(/.test(error instanceof Error ? error.message : String(error));
}

/** The default description of a failed task: its error's name and message. */
function describe(error) {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Serves the pool's tasks with `handler(payload, context)`; see the module comment. */
export function serveTasks(handler, options = {}) {
  const port = parentPort;
  if (!port) throw new Error('serveTasks runs inside a worker thread');
  const isFatal = options.isFatal ?? isWasmAbort;
  const describeError = options.describeError ?? describe;
  const controllers = new Map();
  port.on('message', async (message) => {
    if (message?.type === 'cancel') {
      controllers.get(message.id)?.abort();
      return;
    }
    if (message?.type !== 'task') return;
    const { id } = message;
    const stopFlag = new Int32Array(message.stopFlag);
    const controller = new AbortController();
    controllers.set(id, controller);
    const context = {
      stopFlag,
      signal: controller.signal,
      stopRequested: () => Atomics.load(stopFlag, 0) !== 0,
      progress: (progress, transfer = []) => port.postMessage({ type: 'progress', id, progress }, transfer),
    };
    try {
      const result = await handler(message.payload, context);
      port.postMessage({ type: 'done', id, result }, options.transferOf?.(result) ?? []);
    } catch (error) {
      const fatal = isFatal(error);
      port.postMessage({ type: 'failed', id, error: describeError(error, fatal), fatal });
    } finally {
      controllers.delete(id);
    }
  });
}
