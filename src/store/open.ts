import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Clock, systemClock } from '../clock.ts';
import type { StorageConfig } from '../config/sections/storage.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import { DEFAULT_RETENTION } from './store.ts';
import { resolveStorePath } from './store-path.ts';

/**
 * Opens the metrics store the storage config names. The database file and its directory are created private
 * to the user (0600 / 0700): they hold everything Vigil knows about the fleet.
 */
export async function openStore(
  storage: Pick<StorageConfig, 'path'> & Partial<StorageConfig>,
  opts: { clock?: Clock } = {},
): Promise<SqliteStore> {
  if (storage.url) {
    throw new Error(
      `storage.url (${redactUrl(storage.url)}) selects the PostgreSQL backend, which this build does not include yet; remove storage.url to use the embedded SQLite store`,
    );
  }
  const path = resolveStorePath(storage.path);
  const dir = dirname(path);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!existsSync(path)) {
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
  }
  const retention = storage.retention
    ? { rawMs: storage.retention.raw, hourlyMs: storage.retention.hourly, dailyMs: storage.retention.daily }
    : DEFAULT_RETENTION;
  try {
    return new SqliteStore({ path, retention, clock: opts.clock ?? systemClock });
  } catch (e) {
    throw new Error(`cannot open the metrics store ${path}: ${(e as Error).message}`);
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
