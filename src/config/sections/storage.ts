import { z } from 'zod';
import { DEFAULT_STORAGE_PATH } from '../defaults.ts';
import { durationMs } from '../duration.ts';

const DAY = 86_400_000;

export const storageSchema = z
  .object({
    /** SQLite file; `~` expands to the home directory. */
    path: z.string().min(1).default(DEFAULT_STORAGE_PATH),
    /** A `postgres://` URL selects the PostgreSQL backend instead of SQLite. */
    url: z.string().optional(),
    retention: z
      .object({
        raw: durationMs({ min: 3_600_000 }).default(7 * DAY),
        hourly: durationMs({ min: DAY }).default(30 * DAY),
        daily: durationMs({ min: DAY }).default(90 * DAY),
      })
      .strict()
      .prefault({}),
    /** How often background maintenance (compaction, rollups, retention) runs. */
    maintenance_interval: durationMs({ min: 1000 }).default(60_000),
  })
  .strict();

export type StorageConfig = z.output<typeof storageSchema>;
