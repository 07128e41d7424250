// Forecast models over an hourly grid (values may be NaN for missing hours). Each model is fit on a training
// prefix and predicts `steps` hours after its last hour. Pure functions; no I/O.
import { linearFit, median, theilSen } from '../trend.ts';

export type ModelName =
  | 'linear'
  | 'seasonal_trend'
  | 'seasonal_level'
  | 'seasonal_recent'
  | 'holt_winters'
  | 'seasonal_ensemble';
export const MODEL_NAMES: readonly ModelName[] = [
  'linear',
  'seasonal_trend',
  'seasonal_level',
  'seasonal_recent',
  'holt_winters',
  'seasonal_ensemble',
];

/** An hourly series: value[i] is the mean of hour `startHour + i` (hours since the epoch, UTC); NaN = no data. */
export interface HourlyGrid {
  readonly startHour: number;
  readonly values: Float64Array;
}

export type Predictor = (grid: HourlyGrid, steps: number) => Float64Array;

/** The hours of the grid that hold a value: their indexes and values. */
export function observed(grid: HourlyGrid): { xs: number[]; ys: number[] } {
  const xs: number[] = [];
  const ys: number[] = [];
  grid.values.forEach((v, i) => {
    if (!Number.isNaN(v)) {
      xs.push(i);
      ys.push(v);
    }
  });
  return { xs, ys };
}

/** Baseline: least squares line through every observed hour. */
export const predictLinear: Predictor = (grid, steps) => {
  const { xs, ys } = observed(grid);
  const { slope, intercept } = linearFit(xs, ys);
  const n = grid.values.length;
  const out = new Float64Array(steps);
  for (let h = 0; h < steps; h++) out[h] = intercept + slope * (n + h);
  return out;
};

/** Seasonal period in hours: weekly when there are at least two full weeks, else daily. */
function periodFor(grid: HourlyGrid): number {
  return grid.values.length >= 24 * 14 ? 168 : 24;
}

/** Median of residuals per phase (hour of day or hour of week, UTC), centred so the profile sums to ~0. */
function seasonalProfile(grid: HourlyGrid, resid: (i: number) => number, period: number): Float64Array {
  const byPhase: number[][] = Array.from({ length: period }, () => []);
  grid.values.forEach((v, i) => {
    if (!Number.isNaN(v)) byPhase[(grid.startHour + i) % period].push(resid(i));
  });
  const prof = new Float64Array(period);
  for (let p = 0; p < period; p++) prof[p] = byPhase[p].length ? median(byPhase[p]) : Number.NaN;
  const known = [...prof].filter((x) => !Number.isNaN(x));
  const centre = known.length ? median(known) : 0;
  for (let p = 0; p < period; p++) prof[p] = Number.isNaN(prof[p]) ? 0 : prof[p] - centre;
  return prof;
}

/**
 * STL-like decomposition with a robust trend: Theil-Sen line, then the median residual per hour of day (or of week),
 * then the Theil-Sen line refit on the deseasonalised series. Forecast = trend + profile.
 */
export const predictSeasonalTrend: Predictor = (grid, steps) => {
  const { xs, ys } = observed(grid);
  const period = periodFor(grid);
  let fit = theilSen(xs, ys, 20_000);
  const prof = seasonalProfile(grid, (i) => grid.values[i] - (fit.intercept + fit.slope * i), period);
  const des = xs.map((x, k) => ys[k] - prof[(grid.startHour + x) % period]);
  fit = theilSen(xs, des, 20_000);
  const n = grid.values.length;
  const out = new Float64Array(steps);
  for (let h = 0; h < steps; h++)
    out[h] = fit.intercept + fit.slope * (n + h) + prof[(grid.startHour + n + h) % period];
  return out;
};

/**
 * Seasonal profile around the recent level, no trend: level = median of the deseasonalised last 3 days,
 * profile = median per hour of day/week around each day's median. Strong on mean-reverting server load.
 */
export const predictSeasonalLevel: Predictor = (grid, steps) => seasonalAroundLevel(grid, steps, 72);

/** The same with the level of the last day only: follows a level shift (a workload moved away, a job ended) at once. */
export const predictSeasonalRecent: Predictor = (grid, steps) => seasonalAroundLevel(grid, steps, 24);

function seasonalAroundLevel(grid: HourlyGrid, steps: number, levelHours: number): Float64Array {
  const n = grid.values.length;
  const period = periodFor(grid);
  const dayMedian = new Float64Array(n);
  for (let d = 0; d * 24 < n; d++) {
    const slice = [...grid.values.subarray(d * 24, Math.min(n, d * 24 + 24))].filter((v) => !Number.isNaN(v));
    const m = slice.length ? median(slice) : Number.NaN;
    for (let i = d * 24; i < Math.min(n, d * 24 + 24); i++) dayMedian[i] = m;
  }
  const prof = seasonalProfile(grid, (i) => grid.values[i] - dayMedian[i], period);
  const recent: number[] = [];
  for (let i = Math.max(0, n - levelHours); i < n; i++) {
    const v = grid.values[i];
    if (!Number.isNaN(v)) recent.push(v - prof[(grid.startHour + i) % period]);
  }
  const level = recent.length ? median(recent) : 0;
  const out = new Float64Array(steps);
  for (let h = 0; h < steps; h++) out[h] = level + prof[(grid.startHour + n + h) % period];
  return out;
}

interface HwState {
  level: number;
  trend: number;
  season: Float64Array;
  sse: number;
}

function runHoltWinters(grid: HourlyGrid, alpha: number, beta: number, gamma: number, phi: number): HwState {
  const m = 24;
  const v = grid.values;
  const n = v.length;
  // Initialise from the first two days: level = mean of day 1, season = day-1 deviations.
  const first = [...v.subarray(0, m)].filter((x) => !Number.isNaN(x));
  let level = first.length ? first.reduce((a, b) => a + b, 0) / first.length : 0;
  const season = new Float64Array(m);
  for (let i = 0; i < m && i < n; i++) if (!Number.isNaN(v[i])) season[(grid.startHour + i) % m] = v[i] - level;
  let trend = 0;
  let sse = 0;
  for (let i = m; i < n; i++) {
    const s = (grid.startHour + i) % m;
    const predicted = level + phi * trend + season[s];
    const y = v[i];
    if (Number.isNaN(y)) {
      level += phi * trend;
      trend *= phi;
      continue;
    }
    const err = y - predicted;
    sse += err * err;
    const prevLevel = level;
    level = alpha * (y - season[s]) + (1 - alpha) * (level + phi * trend);
    trend = beta * (level - prevLevel) + (1 - beta) * phi * trend;
    season[s] = gamma * (y - level) + (1 - gamma) * season[s];
  }
  return { level, trend, season, sse };
}

/**
 * Damping of the Holt-Winters trend per hourly step: 0.98 per day. (0.98 per hour would stop any trend after about
 * two days: Σ 0.98^h ≈ 49 hours of slope in total, so a disk filling up 2 pp/day would be forecast flat.)
 */
export const HW_PHI_PER_HOUR = 0.98 ** (1 / 24);

/** Additive Holt-Winters with a damped trend and a daily period; smoothing parameters by grid search on one-step SSE. */
export const predictHoltWinters: Predictor = (grid, steps) => {
  const phi = HW_PHI_PER_HOUR;
  let best: HwState | null = null;
  for (const alpha of [0.05, 0.15, 0.4])
    for (const beta of [0, 0.01, 0.05])
      for (const gamma of [0.05, 0.2, 0.4]) {
        const st = runHoltWinters(grid, alpha, beta, gamma, phi);
        if (!best || st.sse < best.sse) best = st;
      }
  const st = best as HwState;
  const n = grid.values.length;
  const out = new Float64Array(steps);
  let damp = 0;
  let pow = 1;
  for (let h = 0; h < steps; h++) {
    pow *= phi;
    damp += pow;
    out[h] = st.level + damp * st.trend + st.season[(grid.startHour + n + h) % 24];
  }
  return out;
};

/** Mean of the three seasonal models: averaging forecasts with different failure modes is usually more robust. */
export const predictSeasonalEnsemble: Predictor = (grid, steps) => {
  const a = predictSeasonalTrend(grid, steps);
  const b = predictSeasonalLevel(grid, steps);
  const c = predictHoltWinters(grid, steps);
  const out = new Float64Array(steps);
  for (let h = 0; h < steps; h++) out[h] = (a[h] + b[h] + c[h]) / 3;
  return out;
};

export const PREDICTORS: Readonly<Record<ModelName, Predictor>> = {
  linear: predictLinear,
  seasonal_trend: predictSeasonalTrend,
  seasonal_level: predictSeasonalLevel,
  seasonal_recent: predictSeasonalRecent,
  holt_winters: predictHoltWinters,
  seasonal_ensemble: predictSeasonalEnsemble,
};
