/** Writing simulated history of the demo fleet through any sink with `write(samples, outcomes)` (the Store has it). */
import type { CollectionOutcome, Sample } from '../../model/index.ts';
import type { DemoSource } from './source.ts';

export interface HistoryWriter {
  write(samples: readonly Sample[], outcomes: readonly CollectionOutcome[]): Promise<void>;
}

export interface BackfillProgress {
  /** Timestamps written so far, of `totalSteps`. */
  readonly steps: number;
  readonly totalSteps: number;
  readonly samples: number;
  readonly outcomes: number;
}

export interface BackfillResult {
  readonly samples: number;
  readonly outcomes: number;
  readonly failedCollections: number;
  readonly writes: number;
}

/**
 * Writes the fleet's history from `fromMs` to `toMs` (inclusive, on multiples of `stepMs`) in batches of about
 * `batchSamples` samples, oldest first, one durable write per batch.
 */
export async function backfillDemo(
  source: DemoSource,
  writer: HistoryWriter,
  opts: {
    readonly fromMs: number;
    readonly toMs: number;
    readonly stepMs: number;
    readonly batchSamples?: number;
    readonly onProgress?: (p: BackfillProgress) => void;
  },
): Promise<BackfillResult> {
  const { fromMs, toMs, stepMs } = opts;
  const first = Math.ceil(fromMs / stepMs) * stepMs;
  const totalSteps = toMs >= first ? Math.floor((toMs - first) / stepMs) + 1 : 0;
  let samples = 0;
  let outcomes = 0;
  let failed = 0;
  let writes = 0;
  for (const chunk of source.history({ fromMs, toMs, stepMs, chunkSamples: opts.batchSamples ?? 50_000 })) {
    await writer.write(chunk.samples, chunk.outcomes);
    writes++;
    samples += chunk.samples.length;
    outcomes += chunk.outcomes.length;
    for (const o of chunk.outcomes) if (!o.success) failed++;
    opts.onProgress?.({ steps: Math.floor((chunk.ts - first) / stepMs) + 1, totalSteps, samples, outcomes });
  }
  return { samples, outcomes, failedCollections: failed, writes };
}
