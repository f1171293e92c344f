// The search worker's bootstrap: registers the tsx loader in this thread, then loads the
// TypeScript task (search-task.ts). Plain JavaScript so it starts without a loader.
import { register } from 'tsx/esm/api';

register();
await import('./search-task.ts');
