import { z } from 'zod';
import { COLLECTION_INTERVAL_BOUNDS_MS, DEFAULT_COLLECTION_INTERVAL_MS } from '../defaults.ts';
import { durationMs } from '../duration.ts';

export const collectionSchema = z
  .object({
    interval: durationMs(COLLECTION_INTERVAL_BOUNDS_MS).default(DEFAULT_COLLECTION_INTERVAL_MS),
    /** Per-VM (per batch) timeout. */
    timeout: durationMs({ min: 1000, max: 300_000 }).default(30_000),
    max_workers: z.number().int().min(1).max(200).default(10),
  })
  .strict();

export type CollectionConfig = z.output<typeof collectionSchema>;
