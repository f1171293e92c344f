// A worker for test/thread-pool.test.ts: each task kind exercises one promise of the pool.
import { threadId } from 'node:worker_threads';
import { serveTasks } from '../../solver/util/thread-worker.mjs';

serveTasks(async (task, context) => {
  switch (task.kind) {
    case 'echo':
      return { echo: task.value, threadId };
    case 'progress':
      for (let step = 0; step < task.count; step++) context.progress(step);
      return 'reported';
    case 'cooperative':
      // Yields to the event loop until the cancel message aborts the signal.
      await new Promise((resolve) => {
        if (context.signal.aborted) resolve();
        context.signal.addEventListener('abort', resolve);
      });
      return 'cooperated';
    case 'poll':
      // Blocks the thread, as a WASM solve does, but polls the stop flag.
      while (!context.stopRequested()) {
        // busy on purpose
      }
      return 'polled';
    case 'spin':
      // Blocks the thread and never looks at the flag.
      for (;;) {
        // busy on purpose
      }
    case 'abort':
      throw new WebAssembly.RuntimeError('Aborted()');
    case 'throw':
      throw new TypeError('a bug');
    case 'exit':
      process.exit(3);
      break;
    case 'heap':
      return { heap: task.heap };
    default:
      throw new Error(`unknown task ${task.kind}`);
  }
});
