// Online, per-series anomaly detection with a robust baseline: O(1) time and a few hundred bytes of state per series.
//
// For each series we track a robust level (a streaming median: a sign-gradient step scaled by the spread) and a
// spread (an exponentially weighted mean absolute deviation with Huber clipping, so outliers barely move it), both
// overall and per hour-of-day slot (the daily profile). A value's deviation is measured against the overall
// baseline until the hour-of-day slot has learnt enough (`slotWarmup` samples); from then on the slot baseline
// replaces the overall one. The deviation in robust standard
// deviations becomes a 0-1 score through a logistic; a score at or above the threshold opens an incident, and
// further anomalous samples join that incident until `cooldownMs` passes without one (one incident = one anomaly).

export interface AnomalyOptions {
  /** Samples before any score (the baseline warms up). Default 60. */
  readonly warmupSamples?: number;
  /** Robust z at which the score is 0.5. Default 5. */
  readonly zMid?: number;
  /** Score at or above which a sample is anomalous. Default 0.5. */
  readonly threshold?: number;
  /** A new anomaly needs this long without anomalous samples since the last one. Default 4 h (see docs/analytics.md for how it was chosen). */
  readonly cooldownMs?: number;
  /** Adaptation rate of the level (fraction of the spread per sample). Default 0.05. */
  readonly levelRate?: number;
  /** Adaptation rate of the spread. Default 0.01. */
  readonly spreadRate?: number;
  /** Samples a hour-of-day slot needs before its profile is used. Default 24. */
  readonly slotWarmup?: number;
}

/** Profile slots: 24 (hour of day) or 168 (hour of week, for series whose weekends differ). */
export type ProfilePeriod = 'daily' | 'weekly';

export interface AnomalyVerdict {
  /** 0-1; 0 during warm-up. */
  readonly score: number;
  /** Robust deviation in standard deviations (signed: + above the baseline). */
  readonly z: number;
  readonly expected: number;
  /** True for the first anomalous sample of an incident only. */
  readonly anomaly: boolean;
  /** True for every sample at or above the threshold (including those inside an open incident). */
  readonly anomalous: boolean;
}

interface Baseline {
  level: number;
  spread: number;
  n: number;
}

/** The state of one series; plain data, so it can be persisted. */
export interface SeriesState {
  readonly all: Baseline;
  readonly slots: Baseline[];
  lastAnomalousTs: number;
  incidents: number;
  samples: number;
}

export function newSeriesState(period: ProfilePeriod = 'daily'): SeriesState {
  return {
    all: { level: 0, spread: 0, n: 0 },
    slots: Array.from({ length: period === 'weekly' ? 168 : 24 }, () => ({ level: 0, spread: 0, n: 0 })),
    lastAnomalousTs: Number.NEGATIVE_INFINITY,
    incidents: 0,
    samples: 0,
  };
}

const SIGMA_PER_MEAN_ABS_DEV = 1.2533;

function deviation(b: Baseline, x: number): number {
  const sd = Math.max(b.spread * SIGMA_PER_MEAN_ABS_DEV, 1e-9, Math.abs(b.level) * 1e-3);
  return (x - b.level) / sd;
}

function learn(b: Baseline, x: number, warmup: number, levelRate: number, spreadRate: number): void {
  b.n++;
  if (b.n === 1) {
    b.level = x;
    b.spread = 0;
    return;
  }
  if (b.n <= warmup) {
    // Exact running mean and mean absolute deviation while warming up.
    const prev = b.level;
    b.level += (x - prev) / b.n;
    b.spread += (Math.abs(x - b.level) - b.spread) / b.n;
    return;
  }
  const dev = x - b.level;
  const scale = Math.max(b.spread, 1e-9, Math.abs(b.level) * 1e-3);
  b.level += levelRate * scale * Math.sign(dev);
  b.spread += spreadRate * (Math.min(Math.abs(dev), 4 * scale) - b.spread);
}

/** Scores `x` at `ts` against the series' baseline, then learns it. Mutates `state`. */
export function observe(state: SeriesState, ts: number, x: number, opts: AnomalyOptions = {}): AnomalyVerdict {
  const warmup = opts.warmupSamples ?? 60;
  const zMid = opts.zMid ?? 5;
  const threshold = opts.threshold ?? 0.5;
  const cooldownMs = opts.cooldownMs ?? 4 * 3_600_000;
  const levelRate = opts.levelRate ?? 0.05;
  const spreadRate = opts.spreadRate ?? 0.01;
  const slotWarmup = opts.slotWarmup ?? 24;
  if (!Number.isFinite(x)) return { score: 0, z: 0, expected: state.all.level, anomaly: false, anomalous: false };
  const slot = state.slots[Math.floor(ts / 3_600_000) % state.slots.length];
  let z = 0;
  let expected = state.all.level;
  if (state.all.n >= warmup) {
    z = deviation(state.all, x);
    if (slot.n >= slotWarmup) {
      z = deviation(slot, x);
      expected = slot.level;
    }
  }
  const score = state.all.n >= warmup ? 1 / (1 + Math.exp(-(Math.abs(z) - zMid) * 1.5)) : 0;
  const anomalous = score >= threshold;
  let anomaly = false;
  if (anomalous) {
    anomaly = ts - state.lastAnomalousTs > cooldownMs;
    state.lastAnomalousTs = ts;
    if (anomaly) state.incidents++;
  }
  learn(state.all, x, warmup, levelRate, spreadRate);
  learn(slot, x, Math.min(warmup, slotWarmup), levelRate, spreadRate);
  state.samples++;
  return { score, z, expected, anomaly, anomalous };
}

export interface DetectedAnomaly {
  readonly metric: string;
  readonly vm: string;
  readonly ts: number;
  readonly value: number;
  readonly expected: number;
  readonly score: number;
}

/** Many series by key: one state each. */
export class AnomalyDetector {
  readonly #states = new Map<string, SeriesState>();
  readonly #opts: AnomalyOptions;
  readonly #period: ProfilePeriod;
  constructor(opts: AnomalyOptions = {}, period: ProfilePeriod = 'daily') {
    this.#opts = opts;
    this.#period = period;
  }
  observe(key: string, ts: number, value: number): AnomalyVerdict {
    let s = this.#states.get(key);
    if (!s) {
      s = newSeriesState(this.#period);
      this.#states.set(key, s);
    }
    return observe(s, ts, value, this.#opts);
  }
  get size(): number {
    return this.#states.size;
  }
}

/** Runs the detector over a whole series (sorted by time) and returns the verdict per point. */
export function scoreSeries(
  points: readonly { ts: number; value: number }[],
  opts: AnomalyOptions = {},
  period: ProfilePeriod = 'daily',
): AnomalyVerdict[] {
  const s = newSeriesState(period);
  return points.map((p) => observe(s, p.ts, p.value, opts));
}

/** Anomaly rate of a VM: incidents per 1,000 samples over its series. */
export function anomalyRate(incidents: number, samples: number): number {
  return samples > 0 ? (1000 * incidents) / samples : 0;
}
