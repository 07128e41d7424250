/** Aggregation of raw points and of rollup buckets, shared by every Store backend. */
import type { Aggregation } from './store.ts';

/** One rollup bucket: enough to answer avg, min, max, sum, count and last exactly. */
export interface Bucket {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  lastTs: number;
}

export const PERCENTILES: Readonly<Record<string, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };

/** Percentile by linear interpolation between closest ranks (R-7, numpy's default) of sorted values. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Aggregates raw points given in time order (so `last` is the latest). */
export function aggregatePoints(agg: Aggregation, values: number[]): number {
  const n = values.length;
  switch (agg) {
    case 'count':
      return n;
    case 'last':
      return values[n - 1]!;
    case 'sum':
    case 'avg': {
      let s = 0;
      for (let i = 0; i < n; i++) s += values[i]!;
      return agg === 'sum' ? s : s / n;
    }
    case 'min': {
      let m = Number.POSITIVE_INFINITY;
      for (let i = 0; i < n; i++) if (values[i]! < m) m = values[i]!;
      return m;
    }
    case 'max': {
      let m = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < n; i++) if (values[i]! > m) m = values[i]!;
      return m;
    }
    default:
      return percentileSorted(
        values.slice().sort((a, b) => a - b),
        PERCENTILES[agg]!,
      );
  }
}

export function emptyBucket(): Bucket {
  return {
    count: 0,
    sum: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    last: Number.NaN,
    lastTs: Number.NEGATIVE_INFINITY,
  };
}

export function addPoint(b: Bucket, ts: number, value: number): void {
  b.count++;
  b.sum += value;
  if (value < b.min) b.min = value;
  if (value > b.max) b.max = value;
  if (ts >= b.lastTs) {
    b.lastTs = ts;
    b.last = value;
  }
}

export function mergeBucket(into: Bucket, b: Bucket): void {
  into.count += b.count;
  into.sum += b.sum;
  if (b.min < into.min) into.min = b.min;
  if (b.max > into.max) into.max = b.max;
  if (b.lastTs >= into.lastTs) {
    into.lastTs = b.lastTs;
    into.last = b.last;
  }
}

/**
 * The value of merged rollup buckets. Rollups keep no distribution, so a percentile over rollup data is the
 * percentile of the buckets' means (exact percentiles need the raw tier).
 */
export function bucketValue(agg: Aggregation, b: Bucket, means?: number[]): number {
  switch (agg) {
    case 'count':
      return b.count;
    case 'sum':
      return b.sum;
    case 'min':
      return b.min;
    case 'max':
      return b.max;
    case 'last':
      return b.last;
    case 'avg':
      return b.sum / b.count;
    default:
      return means && means.length > 0
        ? percentileSorted(
            means.slice().sort((x, y) => x - y),
            PERCENTILES[agg]!,
          )
        : b.sum / b.count;
  }
}
