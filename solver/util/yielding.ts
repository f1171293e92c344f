// Long synchronous searches written as generators that pause after each unit of work, run
// on the event loop so that a stop request, a worker's message or a timer can come in.
import { SEARCH_YIELD_MS } from '../limits.js';

/** Runs a generator to its end, handing the event loop back every SEARCH_YIELD_MS between its pauses; its return value. */
export async function runYielding<T>(steps: Generator<void, T>): Promise<T> {
  let lastYield = Date.now();
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value;
    if (Date.now() - lastYield >= SEARCH_YIELD_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      lastYield = Date.now();
    }
  }
}
