// The store conformance suite (test/store-conformance.ts) on the embedded SQLite store,
// in memory and in a file (WAL mode, as processes sharing a data directory use it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { Store } from '../src/jobs/store.js';
import { storeConformance } from './store-conformance.js';

storeConformance('SQLite (memory)', async () => new Store(':memory:'));

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
storeConformance('SQLite (file)', async () => {
  const directory = mkdtempSync(join(tmpdir(), 'memplan-store-'));
  directories.push(directory);
  return new Store(directory);
});
