// The store conformance suite (test/store-conformance.ts) on PostgreSQL, each case on a
// fresh database, and the migrations: applied once, in order, by processes opening at once.
import { describe, expect, it } from 'vitest';
import { isMemplanError } from '../../solver/errors.js';
import { MIGRATIONS, PgStore } from '../../src/jobs/pg-store.js';
import { storeConformance } from '../store-conformance.js';
import { freshDatabase } from '../../bench/services.js';

storeConformance('PostgreSQL', async () => {
  const database = await freshDatabase();
  const store = await PgStore.open(database.url);
  // The database goes with the store.
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    await database.drop();
  };
  return store;
});

describe('PostgreSQL going away', () => {
  it('is a typed 503 error (MEMPLAN_ERR_STORE_UNAVAILABLE), never a crash', async () => {
    const database = await freshDatabase();
    const store = await PgStore.open(database.url);
    try {
      await database.drop();
      const failed = await Promise.resolve(store.getJob('x', 'y')).catch((error: unknown) => error);
      expect(isMemplanError(failed) && failed.code).toBe('MEMPLAN_ERR_STORE_UNAVAILABLE');
      expect(isMemplanError(failed) && failed.status).toBe(503);
    } finally {
      await store.close();
    }
  });
});

describe('PostgreSQL migrations', () => {
  it('bring a new database to the latest schema once, however many processes open it at once', async () => {
    const database = await freshDatabase();
    try {
      const stores = await Promise.all([1, 2, 3].map(() => PgStore.open(database.url)));
      for (const store of stores) expect(await store.schemaVersion()).toBe(MIGRATIONS.length);
      const applied = await stores[0].pool.query('SELECT version FROM memplan_schema ORDER BY version');
      expect(applied.rows.map((row) => row.version)).toEqual(MIGRATIONS.map((migration) => migration.version));
      await Promise.all(stores.map((store) => store.close()));
      // Opening an up-to-date database changes nothing.
      const again = await PgStore.open(database.url);
      expect(await again.schemaVersion()).toBe(MIGRATIONS.length);
      await again.close();
    } finally {
      await database.drop();
    }
  });
});
