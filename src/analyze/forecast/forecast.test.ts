import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Point } from '../../model/sample.ts';
import {
  classifyTrend,
  describeThreshold,
  type ForecastOk,
  forecastSeries,
  formatDaysShort,
  toHourlyGrid,
} from './forecast.ts';
import { predictHoltWinters, predictSeasonalLevel, predictSeasonalTrend } from './models.ts';

const H = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);
const hourly = (days: number, f: (h: number) => number, from = T0): Point[] =>
  Array.from({ length: Math.round(days * 24) }, (_, h) => ({ ts: from + h * H, value: f(h) }));
const ok = (r: ReturnType<typeof forecastSeries>): ForecastOk => {
  assert.equal(r.status, 'ok', JSON.stringify(r));
  return r as ForecastOk;
};

test('a line with a known slope gives that slope, predictions and the threshold date', () => {
  // 50 % rising 1 pp/day for 14 days: now 50 + 13.958 = 63.96; reaches > 90 after ~26 more days.
  const pts = hourly(14, (h) => 50 + h / 24);
  const f = ok(forecastSeries('web-01', 'disk_percent', pts, { percent: true }));
  assert.ok(Math.abs(f.slope_per_day - 1) < 1e-6, `slope ${f.slope_per_day}`);
  assert.equal(f.trend, 'increasing');
  const last = 50 + (14 * 24 - 1) / 24;
  assert.ok(Math.abs(f.predicted_7d - (last + 7)) < 0.02, `7d ${f.predicted_7d}`);
  assert.ok(Math.abs(f.predicted_30d - Math.min(100, last + 30)) < 0.02);
  assert.equal(f.at_risk, true);
  // first hour h with last + h/24 > 90 → h = floor((90-last)*24)+1
  // (90 - last) days = 26.04; hourly steps round to one decimal (26.0 or 26.1 depending on float rounding at 90 exactly)
  assert.ok(Math.abs((f.days_until_threshold ?? 0) - (90 - last)) <= 0.1, `days ${f.days_until_threshold}`);
  assert.ok(f.days_until_threshold_upper !== null && f.days_until_threshold_upper <= f.days_until_threshold!);
  assert.ok(describeThreshold(f)?.startsWith('could reach 90%'));
});

test('a flat series is stable, not at risk, days_until_threshold null', () => {
  const f = ok(
    forecastSeries(
      'vm',
      'cpu_percent',
      hourly(10, () => 40),
      { percent: true },
    ),
  );
  assert.equal(f.trend, 'stable');
  assert.equal(f.at_risk, false);
  assert.equal(f.days_until_threshold, null);
  assert.equal(f.days_until_threshold_upper, null);
  assert.equal(f.predicted_7d, 40);
  assert.equal(f.predicted_30d, 40);
  assert.deepEqual(f.interval_7d, [40, 40]);
});

test('trend boundaries: ±0.5 pp/day is stable', () => {
  assert.equal(classifyTrend(0.5), 'stable');
  assert.equal(classifyTrend(-0.5), 'stable');
  assert.equal(classifyTrend(0.5001), 'increasing');
  assert.equal(classifyTrend(-0.5001), 'decreasing');
});

test('table days: now, under a day, days', () => {
  assert.equal(formatDaysShort(0), 'now');
  assert.equal(formatDaysShort(0.3), '<1 d');
  assert.equal(formatDaysShort(12.5), '12.5 d');
  assert.equal(formatDaysShort(null), '-');
});

test('insufficient-data rows carry every contract field (null / false)', () => {
  const r = forecastSeries(
    'vm',
    'cpu_percent',
    hourly(3, (h) => 10 + h / 100),
  );
  assert.equal(r.status, 'insufficient data');
  const json = JSON.parse(JSON.stringify(r));
  for (const k of [
    'vm_name',
    'metric',
    'current_value',
    'predicted_7d',
    'predicted_30d',
    'trend',
    'at_risk',
    'days_until_threshold',
  ])
    assert.ok(k in json, k);
  assert.equal(json.trend, null);
  assert.equal(json.at_risk, false);
  assert.equal(json.days_until_threshold, null);
  assert.equal(json.current_value, 10.71);
  assert.equal((forecastSeries('vm', 'cpu_percent', []) as { current_value: null }).current_value, null);
});

test('fewer than 7 days is insufficient data with the days available', () => {
  const r = forecastSeries(
    'vm',
    'cpu_percent',
    hourly(5, () => 10),
  );
  assert.equal(r.status, 'insufficient data');
  assert.equal(r.days_available, 5);
  assert.match((r as { message: string }).message, /insufficient data: 5 days of history, need 7/);
  assert.equal(forecastSeries('vm', 'cpu_percent', []).status, 'insufficient data');
  assert.equal(
    forecastSeries(
      'vm',
      'cpu_percent',
      hourly(7, () => 10),
    ).status,
    'ok',
  );
});

test('daily seasonality is recovered: the seasonal model beats the line and predicts the cycle', () => {
  const f = (h: number) => 50 + 20 * Math.sin((2 * Math.PI * h) / 24) + 0.1 * (h / 24);
  const pts = hourly(14, f);
  const grid = toHourlyGrid(pts);
  for (const predict of [predictSeasonalTrend, predictSeasonalLevel, predictHoltWinters]) {
    const pred = predict(grid, 48);
    for (let k = 0; k < 48; k++) assert.ok(Math.abs(pred[k] - f(14 * 24 + k)) < 3, `${predict.name} step ${k}`);
  }
  const r = ok(forecastSeries('vm', 'cpu_percent', pts, { percent: true }));
  assert.notEqual(r.model, 'linear');
  assert.equal(r.trend, 'stable');
});

test('gaps: missing hours do not break the forecast', () => {
  const pts = hourly(14, (h) => 30 + h / 24).filter((_, i) => i % 5 !== 0 && (i < 100 || i > 130));
  const f = ok(forecastSeries('vm', 'memory_percent', pts, { percent: true }));
  assert.ok(Math.abs(f.slope_per_day - 1) < 0.05);
});

test('percent metrics are clamped to [0, 100]; already above threshold is at risk now', () => {
  const f = ok(
    forecastSeries(
      'vm',
      'disk_percent',
      hourly(8, (h) => 80 + h / 12),
      { percent: true },
    ),
  );
  assert.equal(f.predicted_30d, 100);
  assert.ok(f.interval_30d[1] <= 100);
  assert.equal(f.days_until_threshold, 0);
  const down = ok(
    forecastSeries(
      'vm',
      'disk_percent',
      hourly(8, (h) => 20 - h / 12),
      { percent: true },
    ),
  );
  assert.equal(down.predicted_30d, 0);
  assert.equal(down.trend, 'decreasing');
});

test('property: any series of ≥ 7 days gives finite, ordered, clamped outputs', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.constant(Number.NaN)), {
        minLength: 168,
        maxLength: 400,
      }),
      fc.boolean(),
      (vals, constant) => {
        const pts = vals
          .map((v, i) => ({ ts: T0 + i * H, value: constant ? 42 : v }))
          .filter((p) => !Number.isNaN(p.value));
        const r = forecastSeries(
          'vm',
          'cpu_percent',
          [...pts, { ts: T0, value: 1 }, { ts: T0 + (vals.length - 1) * H, value: 2 }],
          {
            percent: true,
          },
        );
        const f = ok(r);
        for (const x of [f.predicted_7d, f.predicted_30d, ...f.interval_7d, ...f.interval_30d]) {
          assert.ok(Number.isFinite(x) && x >= 0 && x <= 100);
        }
        assert.ok(f.interval_7d[0] <= f.predicted_7d && f.predicted_7d <= f.interval_7d[1]);
        if (f.days_until_threshold !== null) assert.ok(f.days_until_threshold_upper !== null);
      },
    ),
    { numRuns: 40 },
  );
});

test('property: fewer than 7 days is always insufficient', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 167 }), (n) => {
      const r = forecastSeries(
        'vm',
        'cpu_percent',
        hourly(n / 24, () => 5),
      );
      assert.equal(r.status, 'insufficient data');
    }),
  );
});

test('a level shift at the end of the history: the forecast follows the new level', () => {
  // A week at ~60 % with a daily cycle, then the workload moves away: the last 30 hours at ~20 %.
  const n = 8 * 24;
  const f = ok(
    forecastSeries(
      'vm',
      'cpu_percent',
      hourly(8, (h) => (h < n - 30 ? 60 : 20) + 5 * Math.sin((2 * Math.PI * h) / 24) + ((h * 7919) % 7) / 7),
      { percent: true },
    ),
  );
  assert.equal(f.model, 'seasonal_recent');
  assert.ok(Math.abs(f.predicted_7d - 20) < 6, `7d ${f.predicted_7d}`);
  // The contract's trend is the history's least-squares slope: a 40 pp drop over 8 days is decreasing, though the
  // forecast (rightly) stays at the new level.
  assert.equal(f.trend, 'decreasing');
  assert.ok(f.slope_per_day < -0.5 && Math.abs(f.model_slope_per_day) < 0.5, JSON.stringify(f));
});

test('a noisy disk filling 1 pp/day still shows its trend: the level default does not hide it', () => {
  // ±4 pp of noise and a daily cycle on top of a steady rise; 14 days of history from 40 %.
  let s = 7;
  const noise = () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31 - 0.5) * 8;
  };
  const f = ok(
    forecastSeries(
      'db',
      'disk_percent',
      hourly(14, (h) => 40 + h / 24 + 3 * Math.sin((2 * Math.PI * h) / 24) + noise()),
      { percent: true, riskThreshold: 80 },
    ),
  );
  assert.notEqual(f.model, 'seasonal_recent');
  assert.equal(f.trend, 'increasing');
  assert.ok(Math.abs(f.slope_per_day - 1) < 0.25, `slope ${f.slope_per_day}`);
  // Now ~54 % on the trend; the daily peak (+3) first crosses 80 % in ~23 days.
  assert.equal(f.at_risk, true);
  assert.ok(Math.abs((f.days_until_threshold ?? 0) - 23) < 3, `days ${f.days_until_threshold}`);
});

test('threshold wording: a range, about N days, within a day, above now', () => {
  const base = ok(
    forecastSeries(
      'vm',
      'disk_percent',
      hourly(10, (h) => 50 + h / 24),
      { percent: true },
    ),
  );
  const say = (over: Partial<ForecastOk>) => describeThreshold({ ...base, ...over });
  assert.equal(say({ days_until_threshold_upper: 9, days_until_threshold: 16 }), 'could reach 90% in 9-16 days');
  assert.equal(say({ days_until_threshold_upper: 1.2, days_until_threshold: 1.4 }), 'could reach 90% in about 1 day');
  assert.equal(say({ days_until_threshold_upper: 0.1, days_until_threshold: 0.2 }), 'could reach 90% within a day');
  // The upper bound under a day, the point forecast later: no "0-8 days".
  assert.equal(
    say({ days_until_threshold_upper: 0.4, days_until_threshold: 8.2 }),
    'could reach 90% within a day to 8 days',
  );
  assert.equal(
    say({ days_until_threshold_upper: 0.4, days_until_threshold: 1.2 }),
    'could reach 90% within about a day',
  );
  assert.equal(say({ days_until_threshold_upper: 12, days_until_threshold: null }), 'could reach 90% in 12+ days');
  assert.equal(say({ current_value: 93, days_until_threshold_upper: 0, days_until_threshold: 0 }), 'above 90% now');
  assert.equal(say({ days_until_threshold_upper: null, days_until_threshold: null }), null);
});

/** Seeded xorshift + Box-Muller: reproducible Gaussian noise. */
function gaussian(seed: number): () => number {
  let x = (seed * 2654435761) >>> 0 || 1;
  const u = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
}

test('known answer: a noisy line rising 2 pp/day is increasing and at risk near its true date (8 and 30 days)', () => {
  // CPU = start + 2 pp/day + a ±8 pp daily cycle + N(0, 6) noise, clamped; 10 seeds per history length.
  const amp = 8;
  for (const [days, start] of [
    [8, 40],
    [30, 20],
  ] as const) {
    const truth = (h: number) => start + (2 * h) / 24 + amp * Math.sin((2 * Math.PI * h) / 24);
    const n = days * 24;
    let first = n;
    while (truth(first) <= 90) first++;
    const trueDays = (first - (n - 1)) / 24; // first hour after the newest one at which the noiseless series is > 90
    for (let seed = 1; seed <= 10; seed++) {
      const g = gaussian(seed);
      const f = ok(
        forecastSeries(
          'vm',
          'cpu_percent',
          hourly(days, (h) => Math.min(100, Math.max(0, truth(h) + 6 * g()))),
          { percent: true },
        ),
      );
      const what = `${days} d, seed ${seed}: ${f.model} slope ${f.slope_per_day} days ${f.days_until_threshold} (truth ${trueDays.toFixed(1)})`;
      assert.equal(f.trend, 'increasing', what);
      assert.ok(Math.abs(f.slope_per_day - 2) < 0.5, what);
      assert.equal(f.at_risk, true, what);
      if (f.current_value <= 90) assert.ok(Math.abs((f.days_until_threshold ?? 99) - trueDays) <= 3, what);
      // A model that forecasts the trend, not a flat line that contradicts `trend`.
      assert.ok(f.model_slope_per_day > 1, what);
    }
  }
});

test('trend comes from the history, not from a flat chosen model: 0.7 pp/day over 8 noisy days is increasing', () => {
  let increasing = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const g = gaussian(seed);
    const f = ok(
      forecastSeries(
        'vm',
        'cpu_percent',
        hourly(8, (h) => 40 + (0.7 * h) / 24 + 8 * Math.sin((2 * Math.PI * h) / 24) + 6 * g()),
        { percent: true },
      ),
    );
    if (f.trend === 'increasing') increasing++;
    assert.equal(f.at_risk, false); // 45 % + 0.7 pp/day reaches 90 % in ~60 days: beyond the 30-day horizon
  }
  // The slope's standard error here is ~0.19 pp/day, so 0.7 is above 0.5 in ~85 % of draws.
  assert.ok(increasing >= 15, `${increasing}/20 increasing`);
});

test('the trend slope ignores a daily cycle: a flat series with a ±10 pp cycle is stable with slope ~0', () => {
  for (const days of [7, 8, 9.5, 12]) {
    const f = ok(
      forecastSeries(
        'vm',
        'cpu_percent',
        hourly(days, (h) => 50 + 10 * Math.sin((2 * Math.PI * h) / 24)),
        { percent: true },
      ),
    );
    assert.equal(f.trend, 'stable');
    assert.ok(Math.abs(f.slope_per_day) < 0.05, `${days} d: slope ${f.slope_per_day}`);
  }
});

test('Holt-Winters keeps a trend beyond two days (damped per day, not per hour)', () => {
  const pts = hourly(10, (h) => 20 + (2 * h) / 24 + 5 * Math.sin((2 * Math.PI * h) / 24));
  const pred = predictHoltWinters(toHourlyGrid(pts), 30 * 24);
  const slope7 = (pred[7 * 24] - pred[0]) / 7;
  assert.ok(slope7 > 1.6, `7-day slope ${slope7}`);
  assert.ok(pred[30 * 24 - 1] - pred[23] > 40, `30-day rise ${pred[30 * 24 - 1] - pred[23]}`);
});
