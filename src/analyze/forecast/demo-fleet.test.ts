// Known answer from the demo fleet: its database disk fills at 1 percentage point a day (45 pp over a 45-day cycle).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoFleet, demoReading } from '../../collect/demo/fleet.ts';
import type { Point } from '../../model/sample.ts';
import { type ForecastOk, forecastSeries } from './forecast.ts';

const MIN = 60_000;
const DAY = 86_400_000;

test('demo db disk: slope ~1 pp/day, increasing, threshold date consistent with the slope', () => {
  const db = demoFleet(6).find((v) => v.role === 'db');
  assert.ok(db);
  const seed = 1;
  // Find a 14-day window without the cycle's clean-up drop.
  let points: Point[] = [];
  for (let start = Date.UTC(2026, 0, 1); start < Date.UTC(2026, 3, 1); start += 3 * DAY) {
    points = [];
    for (let ts = start; ts < start + 14 * DAY; ts += 5 * MIN) {
      const r = demoReading(seed, db, ts, 5 * MIN, 0);
      if (r.ok) points.push({ ts, value: r.metrics.disk_percent });
    }
    const drops = points.some((p, i) => i > 0 && points[i - 1].value - p.value > 5);
    if (!drops && points[points.length - 1].value < 85) break;
  }
  const f = forecastSeries(db.name, 'disk_percent', points, { percent: true }) as ForecastOk;
  assert.equal(f.status, 'ok');
  assert.ok(f.slope_per_day > 0.85 && f.slope_per_day < 1.15, `slope ${f.slope_per_day} (${f.model})`);
  assert.equal(f.trend, 'increasing');
  const expectDays = (90 - f.current_value) / 1;
  assert.ok(expectDays > 0 && expectDays <= 30, `window ends at ${f.current_value}%: pick one nearer the limit`);
  if (expectDays <= 30) {
    assert.equal(f.at_risk, true);
    assert.ok(
      Math.abs((f.days_until_threshold ?? -99) - expectDays) < 3,
      `days ${f.days_until_threshold} vs ${expectDays}`,
    );
  }
});
