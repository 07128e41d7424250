import type { CollectionOutcome, Labels, Point, Sample, SeriesSelector, VmStatus } from '../model/index.ts';

/** Storage tiers. `auto` picks the finest tier whose retention covers the whole query range. */
export type Tier = 'raw' | 'hourly' | 'daily';
export type Resolution = Tier | 'auto';
export type Aggregation = 'avg' | 'min' | 'max' | 'sum' | 'count' | 'last' | 'p50' | 'p90' | 'p95' | 'p99';

export const AGGREGATIONS: readonly Aggregation[] = [
  'avg',
  'min',
  'max',
  'sum',
  'count',
  'last',
  'p50',
  'p90',
  'p95',
  'p99',
];

export interface SeriesQuery {
  readonly selector: SeriesSelector;
  /** Inclusive range, epoch ms. */
  readonly from: number;
  readonly to: number;
  /** Default `auto`. */
  readonly resolution?: Resolution;
  /**
   * Bucket width in ms. Without a step, raw queries return every stored point and rollup queries
   * one point per tier bucket. With a step, points are aggregated into buckets aligned to multiples of step.
   */
  readonly stepMs?: number;
  /** How points are combined inside a bucket and across grouped series. Default `avg`. */
  readonly aggregation?: Aggregation;
  /** Merge matching series that share these label values (one result per distinct combination). */
  readonly groupBy?: readonly string[];
}

export interface SeriesResult {
  readonly metric: string;
  readonly labels: Labels;
  /** The tier the points were read from. */
  readonly tier: Tier;
  readonly points: readonly Point[];
}

export interface LatestValue {
  readonly metric: string;
  readonly labels: Labels;
  readonly ts: number;
  readonly value: number;
}

/** Retention per tier in ms. */
export interface Retention {
  readonly rawMs: number;
  readonly hourlyMs: number;
  readonly dailyMs: number;
}

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
export const DEFAULT_RETENTION: Retention = { rawMs: 7 * DAY_MS, hourlyMs: 30 * DAY_MS, dailyMs: 90 * DAY_MS };

export interface MaintenanceReport {
  readonly chunksWritten: number;
  readonly rollupBuckets: number;
  readonly deleted: number;
  /** True when there is still work left (the step ran out of its time budget). */
  readonly more: boolean;
}

export interface StoreStats {
  readonly series: number;
  readonly vms: number;
  readonly headSamples: number;
  readonly chunkSamples: number;
  readonly fileBytes: number;
}

export interface OutcomeQuery {
  readonly vm?: string;
  readonly from: number;
  readonly to: number;
}

/**
 * The storage contract every backend implements and the conformance suite checks.
 * A promise that resolves means the data is durable (survives `kill -9`).
 */
export interface Store {
  /** Appends samples. A duplicate (same series and timestamp) replaces the earlier value. */
  append(samples: readonly Sample[]): Promise<void>;
  /** Records collection outcomes (one per VM per attempt). */
  recordOutcomes(outcomes: readonly CollectionOutcome[]): Promise<void>;
  /** Appends samples and outcomes in one durable transaction. */
  write(samples: readonly Sample[], outcomes: readonly CollectionOutcome[]): Promise<void>;

  query(q: SeriesQuery): Promise<SeriesResult[]>;
  /** Latest value of every series matching the selector (optionally no older than `since`). */
  latest(selector: SeriesSelector, since?: number): Promise<LatestValue[]>;
  /** Every VM seen, with its labels, last sample time and last collection outcome. */
  listVms(): Promise<VmStatus[]>;
  outcomes(q: OutcomeQuery): Promise<CollectionOutcome[]>;
  /** Distinct series (metric + labels) matching the selector. */
  series(selector: SeriesSelector): Promise<{ metric: string; labels: Labels }[]>;

  /** One bounded step of compaction, rollup and retention; call repeatedly while `more`. */
  maintain(now: number, budgetMs?: number): Promise<MaintenanceReport>;
  stats(): Promise<StoreStats>;
  close(): Promise<void>;
}
