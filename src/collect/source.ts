import type { Labels, Sample } from '../model/index.ts';

/** One thing a source collects: usually a VM. `labels` carry resource_group, source, tenant and any others. */
export interface Target {
  readonly vm: string;
  readonly labels: Labels;
  /** Source-specific addressing (resource id, host, URL...). */
  readonly address?: string;
}

export interface CollectContext {
  /** The cycle's timestamp (epoch ms), read once from the scheduler's clock. */
  readonly now: number;
  readonly intervalMs: number;
  /** Aborted when the per-batch timeout elapses or Vigil shuts down. */
  readonly signal: AbortSignal;
}

export interface TargetResult {
  readonly target: Target;
  readonly samples: readonly Sample[];
  /** Set when collection of this target failed: a short, user-facing reason (no secrets). */
  readonly error?: string;
}

/**
 * A metrics source. The scheduler calls `discover` when due, then `collect` with groups of up to
 * `batchSize` targets (default 1), in parallel up to max workers, each group under the per-VM timeout.
 * A target missing from the returned results is recorded as failed.
 */
export interface Source {
  readonly name: string;
  readonly type: string;
  readonly batchSize?: number;
  /** How often to re-run discovery; default: every cycle. */
  readonly discoverEveryMs?: number;
  /**
   * Lists the targets. On failure the scheduler keeps the previous list and retries with backoff; an error with a
   * numeric `retryAtMs` (epoch ms) is not retried before then.
   */
  discover(ctx: CollectContext): Promise<Target[]>;
  collect(targets: readonly Target[], ctx: CollectContext): Promise<TargetResult[]>;
  /**
   * A problem of the whole source met in the last `collect` calls (e.g. its credentials are gone), reported once
   * as the source's error while it lasts; its VMs then carry a short message pointing at it. Null when none.
   */
  problem?(): string | null;
  /** One-time notes for the log (e.g. "falling back to per-resource calls"), drained by the scheduler each cycle. */
  takeNotices?(): string[];
  /** Source self-metrics (API calls, throttling waits, ...) for status and /metrics. */
  stats?(): Record<string, number>;
  close?(): Promise<void>;
}
