// Opens the store a process is configured for: PostgreSQL when MEMPLAN_DATABASE_URL (or
// `databaseUrl`) is a postgres:// URL, else the SQLite file in the data directory.
import { MemplanError } from '../../solver/errors.js';
import type { JobStore } from './job-store.js';
import { Store } from './store.js';

/** Where the store is: a PostgreSQL URL, or a data directory (or ':memory:') for SQLite. */
export interface StoreLocation {
  databaseUrl?: string;
  dataDir: string;
}

/** True for a URL the PostgreSQL store takes. */
export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//.test(url);
}

/** Opens the store; PostgreSQL's module is loaded only when it is used. */
export async function openStore(location: StoreLocation): Promise<JobStore> {
  if (location.databaseUrl !== undefined && location.databaseUrl !== '') {
    if (!isPostgresUrl(location.databaseUrl)) {
      throw new MemplanError('MEMPLAN_ERR_INVALID_REQUEST', {
        path: 'MEMPLAN_DATABASE_URL',
        detail: 'expected postgres://user:password@host:port/database',
      });
    }
    const { PgStore } = await import('./pg-store.js');
    return PgStore.open(location.databaseUrl);
  }
  return new Store(location.dataDir);
}
