import { z } from 'zod';
import { durationMs } from '../duration.ts';

export const collectionSchema = z
  .object({
    interval: durationMs({ min: 10_000, max: 3_600_000 }).default(60_000),
    /** Per-VM (per batch) timeout. */
    timeout: durationMs({ min: 1000, max: 300_000 }).default(30_000),
    max_workers: z.number().int().min(1).max(200).default(10),
  })
  .strict();

export type CollectionConfig = z.output<typeof collectionSchema>;
