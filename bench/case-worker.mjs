// Bootstrap of the benchmark case worker: workers do not inherit tsx's loader hooks, so
// this registers tsx in the thread, then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./case-worker.ts');
