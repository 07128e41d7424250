import type { Point } from '../model/sample.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Ordinary least squares fit y = intercept + slope·x. With fewer than 2 distinct x the slope is 0. */
export function linearFit(xs: ArrayLike<number>, ys: ArrayLike<number>): { slope: number; intercept: number } {
  const n = xs.length;
  if (n === 0) return { slope: 0, intercept: 0 };
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i];
    sy += ys[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx;
    sxx += dx * dx;
    sxy += dx * (ys[i] - my);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { slope, intercept: my - slope * mx };
}

/** Median in O(n) expected time (quickselect on a copy); NaN for no values. */
export function median(values: ArrayLike<number>): number {
  const a = Float64Array.from(values as ArrayLike<number>);
  const n = a.length;
  if (n === 0) return Number.NaN;
  const hi = select(a, n >> 1);
  if (n % 2 === 1) return hi;
  // The lower middle is the largest value left of position n/2 after selection.
  let lo = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n >> 1; i++) if (a[i] > lo) lo = a[i];
  return (lo + hi) / 2;
}

/** Hoare quickselect: rearranges `a` so a[k] is the k-th smallest, smaller-or-equal values left of it. */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (left < right) {
    const pivot = a[(left + right) >> 1];
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return a[k];
}

/**
 * Theil-Sen robust slope: the median of pairwise slopes (subsampled to at most ~`maxPairs` pairs so it stays cheap),
 * intercept = median(y − slope·x). Outliers up to ~29 % of the points do not move it.
 */
export function theilSen(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  maxPairs = 200_000,
): { slope: number; intercept: number } {
  const n = xs.length;
  if (n < 2) return { slope: 0, intercept: n === 1 ? ys[0] : 0 };
  const total = (n * (n - 1)) / 2;
  const stride = Math.max(1, Math.ceil(total / maxPairs));
  // With a stride, each i pairs with every stride-th later point (offset by i so all lags are covered).
  const slopes = new Float64Array(Math.ceil(total / stride) + n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1 + (i % stride); j < n; j += stride) {
      const dx = xs[j] - xs[i];
      if (dx !== 0) slopes[k++] = (ys[j] - ys[i]) / dx;
    }
  }
  const slope = k ? median(slopes.subarray(0, k)) : 0;
  const resid = new Float64Array(n);
  for (let i = 0; i < n; i++) resid[i] = ys[i] - slope * xs[i];
  return { slope, intercept: median(resid) };
}

/**
 * Seed O1 `calculate_trend`: "up" if the last value is greater than the first, otherwise "down" (equal → "down"),
 * plus avg, min, max; no points → "no_data" with zeros.
 */
export function calculateTrend(points: readonly Point[]): {
  trend: 'up' | 'down' | 'no_data';
  avg: number;
  min: number;
  max: number;
} {
  if (points.length === 0) return { trend: 'no_data', avg: 0, min: 0, max: 0 };
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const p of points) {
    sum += p.value;
    if (p.value < min) min = p.value;
    if (p.value > max) max = p.value;
  }
  const trend = points[points.length - 1].value > points[0].value ? 'up' : 'down';
  return { trend, avg: sum / points.length, min, max };
}

/** Averages points into hourly buckets aligned to the hour (epoch ms), sorted by time; empty hours are absent. */
export function hourlyMeans(points: readonly Point[]): Point[] {
  const buckets = new Map<number, { sum: number; n: number }>();
  for (const p of points) {
    if (!Number.isFinite(p.value)) continue;
    const h = Math.floor(p.ts / HOUR_MS) * HOUR_MS;
    const b = buckets.get(h);
    if (b) {
      b.sum += p.value;
      b.n++;
    } else buckets.set(h, { sum: p.value, n: 1 });
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([ts, b]) => ({ ts, value: b.sum / b.n }));
}

/**
 * Mann-Kendall trend test: the normal score Z of S = Σ sign(x[j] - x[i]) over all pairs i < j (no tie
 * correction). |Z| > 1.96 is a monotonic trend at the 5 % level, whatever the noise's distribution.
 */
export function mannKendallZ(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 3) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += Math.sign(xs[j]! - xs[i]!);
  const variance = (n * (n - 1) * (2 * n + 5)) / 18;
  return s === 0 ? 0 : (s - Math.sign(s)) / Math.sqrt(variance);
}
