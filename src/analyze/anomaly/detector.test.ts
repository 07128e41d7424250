import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AnomalyDetector, anomalyRate, newSeriesState, observe, scoreSeries } from './detector.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5);

/** Daily sine with deterministic pseudo-noise. */
const daily = (i: number) => 50 + 20 * Math.sin((2 * Math.PI * i) / (24 * 12)) + (((i * 7919) % 13) - 6) / 4;

test('a spike in a seasonal series is one anomaly with a high score; normal days are quiet', () => {
  const pts = Array.from({ length: 12 * 24 * 10 }, (_, i) => ({ ts: T0 + i * 5 * MIN, value: daily(i) }));
  const spikeAt = 12 * 24 * 8 + 50;
  for (let k = 0; k < 6; k++) pts[spikeAt + k] = { ts: pts[spikeAt + k].ts, value: 99 };
  const v = scoreSeries(pts);
  const flagged = v.flatMap((x, i) => (x.anomaly ? [i] : []));
  assert.deepEqual(flagged, [spikeAt], `flagged ${flagged}`);
  assert.ok(v[spikeAt].score > 0.9);
  assert.equal(v.slice(spikeAt, spikeAt + 6).filter((x) => x.anomalous).length, 6, 'the whole incident is anomalous');
});

test('the daily profile is learnt: the daily peak is not anomalous, the same value at the trough is', () => {
  // Square wave: 80 from 12:00 to 14:00 UTC each day, else 20 with small noise.
  const value = (ts: number) => {
    const h = new Date(ts).getUTCHours();
    return (h >= 12 && h < 14 ? 80 : 20) + ((ts / MIN) % 7) / 7;
  };
  const s = newSeriesState();
  let peakFlags = 0;
  for (let i = 0; i < 12 * 24 * 8; i++) {
    const ts = T0 + i * 5 * MIN;
    const r = observe(s, ts, value(ts));
    if (i > 12 * 24 * 5 && r.anomalous) peakFlags++;
  }
  assert.equal(peakFlags, 0);
  const night = T0 + 8 * 86_400_000 + 3 * 3_600_000;
  assert.equal(observe(s, night, 80).anomalous, true);
});

test('cooldown: incidents separated by more than the cooldown are separate anomalies', () => {
  const pts = Array.from({ length: 2000 }, (_, i) => ({ ts: T0 + i * MIN, value: 10 + (i % 3) }));
  pts[1000] = { ts: pts[1000].ts, value: 500 };
  pts[1100] = { ts: pts[1100].ts, value: 500 }; // 100 min later: same incident
  pts[1500] = { ts: pts[1500].ts, value: 500 }; // 6 h 40 later: new incident
  const v = scoreSeries(pts, { cooldownMs: 4 * 3_600_000 });
  assert.deepEqual(
    v.flatMap((x, i) => (x.anomaly ? [i] : [])),
    [1000, 1500],
  );
});

test('warm-up, constant series and non-finite values', () => {
  const v = scoreSeries(Array.from({ length: 500 }, (_, i) => ({ ts: T0 + i * MIN, value: 7 })));
  assert.ok(v.every((x) => x.score < 0.5 && !x.anomaly));
  const d = new AnomalyDetector();
  assert.equal(d.observe('a', T0, Number.NaN).score, 0);
  assert.equal(d.observe('a', T0 + MIN, 1).score, 0, 'warm-up scores 0');
  assert.equal(d.size, 1);
  assert.equal(anomalyRate(3, 1500), 2);
  assert.equal(anomalyRate(0, 0), 0);
});

test('a level shift is flagged once, then becomes the new normal', () => {
  const pts = Array.from({ length: 3000 }, (_, i) => ({ ts: T0 + i * 5 * MIN, value: (i < 1500 ? 20 : 60) + (i % 5) }));
  const v = scoreSeries(pts);
  const flagged = v.flatMap((x, i) => (x.anomaly ? [i] : []));
  assert.deepEqual(flagged, [1500]);
  assert.equal(v[2999].anomalous, false);
});

test('property: scores stay in [0, 1] and anomalies are at least the cooldown apart', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 400 }), (vals) => {
      const v = scoreSeries(
        vals.map((value, i) => ({ ts: T0 + i * MIN, value })),
        { cooldownMs: 30 * MIN, warmupSamples: 10 },
      );
      let last = Number.NEGATIVE_INFINITY;
      v.forEach((x, i) => {
        assert.ok(x.score >= 0 && x.score <= 1 && Number.isFinite(x.z));
        if (x.anomaly) {
          assert.ok(i - last > 0);
          last = i;
        }
      });
    }),
  );
});

test('weekly profile: a quiet weekend is normal, weekday-level load on a weekend is not', () => {
  const H = 3_600_000;
  // 2026-01-05 is a Monday. Weekdays 60 %, weekends 10 %, small noise; hourly samples for 5 weeks.
  const value = (ts: number) => {
    const dow = new Date(ts).getUTCDay();
    return (dow === 0 || dow === 6 ? 10 : 60) + ((ts / H) % 3);
  };
  const s = newSeriesState('weekly');
  let weekendFlags = 0;
  for (let ts = T0; ts < T0 + 35 * 86_400_000; ts += H) {
    const r = observe(s, ts, value(ts), { slotWarmup: 3 });
    if (ts > T0 + 21 * 86_400_000 && r.anomalous) weekendFlags++;
  }
  assert.equal(weekendFlags, 0);
  const saturday = T0 + 40 * 86_400_000 + 12 * H; // 2026-02-14, a Saturday
  assert.equal(new Date(saturday).getUTCDay(), 6);
  assert.equal(observe(s, saturday, 60, { slotWarmup: 3 }).anomalous, true);
});
