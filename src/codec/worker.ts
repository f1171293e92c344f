// A codec worker: runs src/codec/tasks.ts off the main thread, one message at a time. A
// MemplanError crosses back as its wire form; anything else is reported as internal.
import { parentPort } from 'node:worker_threads';
import { isMemplanError, MemplanError } from '../../solver/errors.js';
import type { CodecTask, FromCodec, ToCodec } from './protocol.js';
import { analyze, planProblem, preparePlan, prepareSweep, renderSvg, simulateRequest } from './tasks.js';

const port = parentPort;
if (!port) throw new Error('src/codec/worker.ts runs inside a worker thread');
const decoder = new TextDecoder('utf-8');

function run(task: CodecTask): unknown {
  switch (task.kind) {
    case 'preparePlan':
      return preparePlan(decoder.decode(task.body), task.settings);
    case 'prepareSweep':
      return prepareSweep(decoder.decode(task.body), task.settings);
    case 'analyze':
      return analyze(decoder.decode(task.body), task.settings);
    case 'simulate':
      return simulateRequest(decoder.decode(task.body), task.settings);
    case 'checkPlan':
      return { problem: planProblem(task.planText) };
    case 'renderSvg':
      return renderSvg(task.planText, task.graphText);
  }
}

port.on('message', ({ id, task }: ToCodec) => {
  let reply: FromCodec;
  try {
    reply = { id, ok: true, result: run(task) };
  } catch (error) {
    const wire = isMemplanError(error)
      ? error.toJSON()
      : new MemplanError('MEMPLAN_ERR_INTERNAL', {
          detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        }).toJSON();
    reply = { id, ok: false, error: wire };
  }
  port.postMessage(reply);
});
