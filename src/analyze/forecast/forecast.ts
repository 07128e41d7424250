// The seed forecast contract (S1/S6) over hourly points, with model selection by backtest and 80 % intervals.
import type { Point } from '../../model/sample.ts';
import { DAY_MS, HOUR_MS, linearFit, mannKendallZ, median } from '../trend.ts';
import { type HourlyGrid, MODEL_NAMES, type ModelName, observed, PREDICTORS } from './models.ts';

export type Trend = 'increasing' | 'decreasing' | 'stable';

export interface ForecastOptions {
  /** Percent metrics are clamped to [0, 100]. */
  readonly percent?: boolean;
  /** Default 90. */
  readonly riskThreshold?: number;
  /** Default 30 days. */
  readonly horizonDays?: number;
  /** Default 7. */
  readonly minDays?: number;
  /** Candidate models; default all. `linear` alone reproduces the seed's baseline. */
  readonly models?: readonly ModelName[];
}

export interface ForecastOk {
  readonly vm_name: string;
  readonly metric: string;
  readonly status: 'ok';
  readonly current_value: number;
  readonly predicted_7d: number;
  readonly predicted_30d: number;
  /** 80 % prediction intervals [low, high]. */
  readonly interval_7d: readonly [number, number];
  readonly interval_30d: readonly [number, number];
  /** From `slope_per_day` (seed S1): increasing > 0.5, decreasing < −0.5, else stable. */
  readonly trend: Trend;
  /** Least-squares slope of the hourly history, units per day (percentage points for percent metrics). */
  readonly slope_per_day: number;
  /** Slope of the chosen model's forecast, units per day. */
  readonly model_slope_per_day: number;
  readonly at_risk: boolean;
  /** Days until the point forecast exceeds the threshold; null when not within the horizon. */
  readonly days_until_threshold: number | null;
  /** Days until the upper 80 % bound exceeds the threshold (the earliest plausible date); null when not within the horizon. */
  readonly days_until_threshold_upper: number | null;
  readonly risk_threshold: number;
  readonly horizon_days: number;
  readonly model: ModelName;
  /** Weighted absolute percentage error of the chosen model on its own held-out history. */
  readonly backtest_wape: number | null;
  readonly days_available: number;
}

/** Carries every field of the seed contract too (null / false), so scripts can read them from any row. */
export interface ForecastInsufficient {
  readonly vm_name: string;
  readonly metric: string;
  readonly status: 'insufficient data';
  /** The newest hourly value, when there is one. */
  readonly current_value: number | null;
  readonly predicted_7d: null;
  readonly predicted_30d: null;
  readonly trend: null;
  readonly at_risk: false;
  readonly days_until_threshold: null;
  readonly days_available: number;
  readonly message: string;
}

export type ForecastResult = ForecastOk | ForecastInsufficient;

const Z80 = 1.2816;

/** Puts hourly points (any timestamps; averaged per UTC hour) on a contiguous hourly grid, NaN for missing hours. */
export function toHourlyGrid(points: readonly Point[]): HourlyGrid {
  const finite = points.filter((p) => Number.isFinite(p.value) && Number.isFinite(p.ts));
  if (finite.length === 0) return { startHour: 0, values: new Float64Array(0) };
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const p of finite) {
    const h = Math.floor(p.ts / HOUR_MS);
    if (h < lo) lo = h;
    if (h > hi) hi = h;
  }
  const n = hi - lo + 1;
  const sum = new Float64Array(n);
  const cnt = new Uint32Array(n);
  for (const p of finite) {
    const i = Math.floor(p.ts / HOUR_MS) - lo;
    sum[i] += p.value;
    cnt[i]++;
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = cnt[i] ? sum[i] / cnt[i] : Number.NaN;
  return { startHour: lo, values };
}

/** Days of history a series covers: (newest hour − oldest hour + 1 h) in days. */
export function daysAvailable(points: readonly Point[]): number {
  const g = toHourlyGrid(points);
  return (g.values.length * HOUR_MS) / DAY_MS;
}

/** WAPE = Σ|error| / Σ|actual| over the hours where both exist; null when the actuals sum to 0. */
export function wape(actual: ArrayLike<number>, predicted: ArrayLike<number>): number | null {
  let err = 0;
  let tot = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const p = predicted[i];
    if (Number.isNaN(a) || Number.isNaN(p)) continue;
    err += Math.abs(a - p);
    tot += Math.abs(a);
  }
  return tot > 0 ? err / tot : err === 0 ? 0 : null;
}

interface Backtest {
  readonly model: ModelName;
  readonly mae: number;
  readonly rmse: number;
  readonly wape: number | null;
  readonly holdout: number;
}

/**
 * Backtests each model on the series' own history by rolling origin: three folds whose origins are 3, 2 and 1 days
 * before the end (fewer on short series), each forecasting to the end of the series. Errors are pooled over folds.
 */
export function backtest(grid: HourlyGrid, models: readonly ModelName[] = MODEL_NAMES): Backtest[] {
  const n = grid.values.length;
  const longest = Math.min(72, Math.floor(n / 3));
  const origins: number[] = [];
  for (let back = longest; back >= Math.min(24, longest) && back > 0; back -= 24) origins.push(n - back);
  if (origins.length === 0) origins.push(n - 1);
  // One fit per (fold, model); the ensemble reuses its members' forecasts instead of refitting them.
  const folds = origins.map((origin) => {
    const train: HourlyGrid = { startHour: grid.startHour, values: grid.values.subarray(0, origin) };
    const cache = new Map<ModelName, Float64Array>();
    const get = (m: ModelName): Float64Array => {
      let p = cache.get(m);
      if (!p) {
        if (m === 'seasonal_ensemble') {
          const a = get('seasonal_trend');
          const b = get('seasonal_level');
          const c = get('holt_winters');
          p = a.map((x, i) => (x + b[i] + c[i]) / 3);
        } else p = PREDICTORS[m](train, n - origin);
        cache.set(m, p);
      }
      return p;
    };
    return { origin, get };
  });
  return models.map((model) => {
    let abs = 0;
    let sq = 0;
    let act = 0;
    let k = 0;
    for (const { origin, get } of folds) {
      const pred = get(model);
      for (let i = origin; i < n; i++) {
        const a = grid.values[i];
        if (Number.isNaN(a)) continue;
        const e = a - pred[i - origin];
        abs += Math.abs(e);
        sq += e * e;
        act += Math.abs(a);
        k++;
      }
    }
    return {
      model,
      mae: k ? abs / k : Number.POSITIVE_INFINITY,
      rmse: k ? Math.sqrt(sq / k) : 0,
      wape: act > 0 ? abs / act : abs === 0 ? 0 : null,
      holdout: n - origins[0],
    };
  });
}

/**
 * The seed's trend slope: least squares through every observed hour of the history, in units (percentage points)
 * per day; `trend` is classified from it, whichever model forecasts. The daily cycle is taken out first (the mean
 * residual per hour of day, UTC): a daily sine is not orthogonal to time even over whole days, and on 8 days with a
 * ±8 pp cycle it tilts the plain least-squares slope by up to ±0.24 pp/day, half the ±0.5 band. A series without a
 * daily cycle gets exactly the plain least-squares slope.
 */
export function historySlopePerDay(grid: HourlyGrid): number {
  const { xs, ys } = observed(grid);
  if (xs.length < 2) return 0;
  let fit = linearFit(xs, ys);
  if (grid.values.length >= 48) {
    const sum = new Float64Array(24);
    const cnt = new Uint32Array(24);
    xs.forEach((x, k) => {
      const phase = (grid.startHour + x) % 24;
      sum[phase] += ys[k] - (fit.intercept + fit.slope * x);
      cnt[phase]++;
    });
    const des = xs.map((x, k) => {
      const phase = (grid.startHour + x) % 24;
      return ys[k] - (cnt[phase] ? sum[phase] / cnt[phase] : 0);
    });
    fit = linearFit(xs, des);
  }
  return fit.slope * 24;
}

/** A forecast's slope per day: 7 days apart at the same hour of day, so the seasonal part cancels. */
function forecastSlopePerDay(pred: Float64Array): number {
  return (pred[7 * 24] - pred[0]) / 7;
}

/**
 * Chooses the model with the lowest backtest MAE, handicapped: backtest horizons (1-3 days) are much shorter than
 * the forecast horizon (7-30 days), and a straight line fitted to spiky or level-shifting series extrapolates
 * badly far out. When the series has a clear trend (the daily medians rise or fall monotonically and the
 * least-squares slope is beyond ±0.5 per day), only models whose forecast keeps at least half of that slope, in the
 * same direction, are eligible: a few days of backtest cannot tell a flat forecast from a trend that reaches the
 * threshold in three weeks.
 */
export function chooseModel(grid: HourlyGrid, models: readonly ModelName[] = MODEL_NAMES): Backtest {
  const results = backtest(grid, models);
  const trending = hasTrend(grid);
  const preferred = trending ? 'seasonal_trend' : 'seasonal_recent';
  const score = (r: Backtest) => handicapped(r, preferred, results.length);
  const ranked = [...results].sort((a, b) => score(a) - score(b));
  const slope = historySlopePerDay(grid);
  if (!trending || classifyTrend(slope) === 'stable' || results.length === 1) return ranked[0];
  const steps = 7 * 24 + 1;
  const keepsTrend = (r: Backtest) => {
    const s = forecastSlopePerDay(PREDICTORS[r.model](grid, steps));
    return Math.sign(s) === Math.sign(slope) && Math.abs(s) >= 0.5 * Math.abs(slope);
  };
  return ranked.find(keepsTrend) ?? ranked.find((r) => r.model === 'seasonal_trend') ?? ranked[0];
}

/**
 * Backtests over a few days are noisy, so the choice leans on a preferred model: the seasonal profile around the
 * last day's level, which follows level shifts (the commonest change in server load), or, when the daily medians
 * rise or fall monotonically (Mann-Kendall, 5 %), the seasonal profile on a robust trend, so a noisy disk that
 * fills up keeps its trend. Another model must beat the preferred one by 10 % in backtest error to be chosen;
 * linear, which extrapolates hardest, by 20 %.
 */
function handicapped(r: Backtest, preferred: ModelName, candidates: number): number {
  if (candidates === 1 || r.model === preferred) return r.mae;
  return r.model === 'linear' ? r.mae / 0.8 : r.mae / 0.9;
}

/**
 * A clear trend over the whole days of the grid: their medians rise or fall monotonically (Mann-Kendall, 5 %), or
 * the least-squares line through their means has |t| > 3 (the rank test misses a steady trend under heavy noise
 * on 7-9 days; the day means average the noise down and absorb the daily cycle).
 */
export function hasTrend(grid: HourlyGrid): boolean {
  const medians: number[] = [];
  const means: number[] = [];
  const index: number[] = [];
  for (let d = 0; (d + 1) * 24 <= grid.values.length; d++) {
    const day = [...grid.values.subarray(d * 24, d * 24 + 24)].filter((v) => !Number.isNaN(v));
    if (day.length < 12) continue;
    medians.push(median(day));
    means.push(day.reduce((a, b) => a + b, 0) / day.length);
    index.push(d);
  }
  if (Math.abs(mannKendallZ(medians)) > 1.96) return true;
  const n = means.length;
  if (n < 5) return false;
  const { slope, intercept } = linearFit(index, means);
  const mx = index.reduce((a, b) => a + b, 0) / n;
  let sse = 0;
  let sxx = 0;
  for (let k = 0; k < n; k++) {
    sse += (means[k] - intercept - slope * index[k]) ** 2;
    sxx += (index[k] - mx) ** 2;
  }
  const se = Math.sqrt(sse / (n - 2) / sxx);
  return se > 0 ? Math.abs(slope / se) > 3 : slope !== 0;
}

/** Half-width of the 80 % interval `h + 1` hours out: grows with the square root of the horizon in backtest lengths. */
export function intervalHalfWidth(bt: { readonly rmse: number; readonly holdout: number }, h: number): number {
  return Z80 * bt.rmse * Math.sqrt(1 + (h + 1) / Math.max(1, bt.holdout));
}

const round = (x: number, digits = 2) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

export function classifyTrend(slopePerDay: number): Trend {
  if (slopePerDay > 0.5) return 'increasing';
  if (slopePerDay < -0.5) return 'decreasing';
  return 'stable';
}

/**
 * Forecasts one series from its hourly points. Needs `minDays` (7) of history, else `insufficient data`.
 * `now` is the forecast origin; it defaults to the newest point's hour.
 */
export function forecastSeries(
  vmName: string,
  metric: string,
  points: readonly Point[],
  opts: ForecastOptions = {},
): ForecastResult {
  const minDays = opts.minDays ?? 7;
  const threshold = opts.riskThreshold ?? 90;
  const horizonDays = opts.horizonDays ?? 30;
  const grid = toHourlyGrid(points);
  const days = (grid.values.length * HOUR_MS) / DAY_MS;
  if (grid.values.length === 0 || days < minDays - 1e-9) {
    const d = round(days, 1);
    let last = Number.NaN;
    for (let i = grid.values.length - 1; i >= 0 && Number.isNaN(last); i--) last = grid.values[i];
    return {
      vm_name: vmName,
      metric,
      status: 'insufficient data',
      current_value: Number.isNaN(last) ? null : round(last),
      predicted_7d: null,
      predicted_30d: null,
      trend: null,
      at_risk: false,
      days_until_threshold: null,
      days_available: d,
      message: `insufficient data: ${d} day${d === 1 ? '' : 's'} of history, need ${minDays}`,
    };
  }
  const bt = chooseModel(grid, opts.models ?? MODEL_NAMES);
  const steps = Math.max(30, horizonDays) * 24;
  const raw = PREDICTORS[bt.model](grid, steps);
  const clamp = (x: number) => (opts.percent ? Math.min(100, Math.max(0, x)) : x);
  const half = (h: number) => intervalHalfWidth(bt, h);
  let current = Number.NaN;
  for (let i = grid.values.length - 1; i >= 0 && Number.isNaN(current); i--) current = grid.values[i];
  const at = (h: number) => clamp(raw[h]);
  const i7 = 7 * 24 - 1;
  const i30 = 30 * 24 - 1;
  const modelSlopePerDay = forecastSlopePerDay(raw);
  const slopePerDay = historySlopePerDay(grid);
  const horizonSteps = horizonDays * 24;
  let daysPoint: number | null = null;
  let daysUpper: number | null = null;
  if (current > threshold) {
    daysPoint = 0;
    daysUpper = 0;
  } else {
    for (let h = 0; h < horizonSteps; h++) {
      if (daysUpper === null && raw[h] + half(h) > threshold) daysUpper = round((h + 1) / 24, 1);
      if (raw[h] > threshold) {
        daysPoint = round((h + 1) / 24, 1);
        break;
      }
    }
  }
  return {
    vm_name: vmName,
    metric,
    status: 'ok',
    current_value: round(current),
    predicted_7d: round(at(i7)),
    predicted_30d: round(at(i30)),
    interval_7d: [round(clamp(raw[i7] - half(i7))), round(clamp(raw[i7] + half(i7)))],
    interval_30d: [round(clamp(raw[i30] - half(i30))), round(clamp(raw[i30] + half(i30)))],
    trend: classifyTrend(slopePerDay),
    slope_per_day: round(slopePerDay, 3),
    model_slope_per_day: round(modelSlopePerDay, 3),
    at_risk: daysPoint !== null,
    days_until_threshold: daysPoint,
    days_until_threshold_upper: daysUpper,
    risk_threshold: threshold,
    horizon_days: horizonDays,
    model: bt.model,
    backtest_wape: bt.wape === null ? null : round(bt.wape, 4),
    days_available: round(days, 1),
  };
}

/**
 * "could reach 90% in 9-16 days" ("in about 12 days" when both bounds agree, "within a day", "within a day to 8
 * days" when only the point forecast is a day or more away, "above 90% now").
 */
export function describeThreshold(f: ForecastOk): string | null {
  const lo = f.days_until_threshold_upper;
  const hi = f.days_until_threshold;
  if (lo === null) return null;
  const t = `${f.risk_threshold}${f.metric.endsWith('_percent') ? '%' : ''}`;
  if (f.current_value > f.risk_threshold) return `above ${t} now`;
  if (hi === null) return lo < 1 ? `could reach ${t} within a day` : `could reach ${t} in ${Math.round(lo)}+ days`;
  if (hi < 1) return `could reach ${t} within a day`;
  if (lo < 1)
    return Math.round(hi) <= 1
      ? `could reach ${t} within about a day`
      : `could reach ${t} within a day to ${Math.round(hi)} days`;
  if (Math.round(lo) === Math.round(hi))
    return `could reach ${t} in about ${Math.round(hi)} day${Math.round(hi) === 1 ? '' : 's'}`;
  return `could reach ${t} in ${Math.round(lo)}-${Math.round(hi)} days`;
}

/** Days for tables: "now" (already above), "<1 d" (within a day), "12.5 d"; "-" when not reached. */
export function formatDaysShort(days: number | null): string {
  if (days === null) return '-';
  if (days === 0) return 'now';
  if (days < 1) return '<1 d';
  return `${days} d`;
}
