import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { calculateTrend, hourlyMeans, linearFit, median, theilSen } from './trend.ts';

test('linearFit and theilSen recover a known line; Theil-Sen ignores outliers', () => {
  const xs = Array.from({ length: 50 }, (_, i) => i);
  const ys = xs.map((x) => 3 + 2 * x);
  assert.deepEqual(linearFit(xs, ys), { slope: 2, intercept: 3 });
  const noisy = ys.map((y, i) => (i % 10 === 0 ? y + 1000 : y));
  const ts = theilSen(xs, noisy);
  assert.equal(ts.slope, 2);
  assert.equal(ts.intercept, 3);
  assert.notEqual(linearFit(xs, noisy).slope, 2);
});

test('seed O1 calculate_trend: no data, up, equal is down', () => {
  assert.deepEqual(calculateTrend([]), { trend: 'no_data', avg: 0, min: 0, max: 0 });
  assert.equal(
    calculateTrend([
      { ts: 0, value: 1 },
      { ts: 1, value: 2 },
    ]).trend,
    'up',
  );
  assert.deepEqual(
    calculateTrend([
      { ts: 0, value: 2 },
      { ts: 1, value: 0 },
      { ts: 2, value: 2 },
    ]),
    {
      trend: 'down',
      avg: 4 / 3,
      min: 0,
      max: 2,
    },
  );
});

test('hourlyMeans averages per UTC hour and skips empty hours', () => {
  const H = 3_600_000;
  const r = hourlyMeans([
    { ts: 0, value: 1 },
    { ts: 60_000, value: 3 },
    { ts: 2 * H + 5, value: 7 },
  ]);
  assert.deepEqual(r, [
    { ts: 0, value: 2 },
    { ts: 2 * H, value: 7 },
  ]);
});

test('property: median equals the sorted middle', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: true, min: -1e9, max: 1e9 }), { minLength: 1, maxLength: 200 }), (xs) => {
      const s = [...xs].sort((a, b) => a - b);
      const n = s.length;
      const expected = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
      assert.equal(median(xs), expected);
    }),
  );
  assert.ok(Number.isNaN(median([])));
});
