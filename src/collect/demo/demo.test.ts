import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../../clock.ts';
import { demoSourceSchema } from '../../config/sections/sources.ts';
import { STANDARD_METRICS } from '../../model/index.ts';
import { runCycle } from '../scheduler.ts';
import { DEMO_ERRORS, demoFleet, demoReading, hash01 } from './fleet.ts';
import { DemoSource } from './source.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2); // a Monday
const cfg = (over: Record<string, unknown> = {}) => demoSourceSchema.parse({ type: 'demo', ...over });

test('fleet names, roles and resource groups', () => {
  const fleet = demoFleet(12);
  assert.deepEqual(
    fleet.map((v) => v.name),
    [
      'demo-web-01',
      'demo-api-01',
      'demo-db-01',
      'demo-cache-01',
      'demo-worker-01',
      'demo-batch-01',
      'demo-web-02',
      'demo-api-02',
      'demo-db-02',
      'demo-cache-02',
      'demo-worker-02',
      'demo-batch-02',
    ],
  );
  assert.deepEqual([...new Set(fleet.map((v) => v.resourceGroup))].sort(), ['rg-data', 'rg-prod', 'rg-staging']);
  assert.equal(new Set(demoFleet(600).map((v) => v.name)).size, 600);
  assert.equal(demoFleet(600)[599]!.name, 'demo-batch-100');
});

test('hash01 is deterministic, in [0, 1), and spreads large timestamps', () => {
  assert.equal(hash01(1, 2, T0), hash01(1, 2, T0));
  assert.notEqual(hash01(1, 2, T0), hash01(1, 2, T0 + 60_000));
  assert.notEqual(hash01(1, 2, T0), hash01(1, 2, T0 + 2 ** 32));
  let sum = 0;
  for (let i = 0; i < 10_000; i++) {
    const v = hash01(42, i);
    assert.ok(v >= 0 && v < 1);
    sum += v;
  }
  assert.ok(Math.abs(sum / 10_000 - 0.5) < 0.02);
});

test('readings are a pure function of (seed, vm, ts): two sources agree, other seeds differ', async () => {
  const a = new DemoSource(cfg({ seed: 7 }));
  const b = new DemoSource(cfg({ seed: 7 }));
  const c = new DemoSource(cfg({ seed: 8 }));
  const ctx = { now: T0 + 13 * 3_600_000, intervalMs: 60_000, signal: new AbortController().signal };
  const ra = await a.collect(await a.discover(), ctx);
  const rb = await b.collect(await b.discover(), ctx);
  const rc = await c.collect(await c.discover(), ctx);
  assert.deepEqual(ra, rb);
  assert.notDeepEqual(
    ra.map((r) => r.samples),
    rc.map((r) => r.samples),
  );
});

test('backfill history equals live collection through the scheduler at the same timestamps', async () => {
  const source = new DemoSource(cfg({ vms: 8, failure_rate: 0.2 }));
  const history = [...source.history({ fromMs: T0, toMs: T0 + 10 * 60_000, stepMs: 60_000, chunkSamples: 100 })];
  assert.ok(history.length > 1, 'chunked');
  const histSamples = history.flatMap((h) => h.samples);
  const histOutcomes = history.flatMap((h) => h.outcomes);
  assert.equal(histOutcomes.length, 8 * 11);
  const clock = new FakeClock(T0);
  const live = [];
  const liveOutcomes = [];
  for (let ts = T0; ts <= T0 + 10 * 60_000; ts += 60_000) {
    const r = await runCycle([source], { now: ts, clock, intervalMs: 60_000, timeoutMs: 30_000, maxWorkers: 4 });
    live.push(...r.samples);
    liveOutcomes.push(...r.outcomes.map((o) => ({ ...o, durationMs: 0 })));
  }
  const key = (s: { metric: string; ts: number; labels: object }) => `${s.metric}|${s.ts}|${JSON.stringify(s.labels)}`;
  const sortBy = <T extends { metric: string; ts: number; labels: object }>(xs: T[]) =>
    [...xs].sort((x, y) => (key(x) < key(y) ? -1 : 1));
  assert.deepEqual(sortBy(live), sortBy(histSamples));
  const norm = (xs: { vm: string; ts: number; labels: object; success: boolean; errorMessage: string | null }[]) =>
    xs.map((o) => `${o.vm}|${o.ts}|${o.success}|${o.errorMessage}|${JSON.stringify(o.labels)}`).sort();
  assert.deepEqual(norm(liveOutcomes), norm(histOutcomes));
});

test('percentages stay in [0, 100], bytes are non-negative integers, all seven metrics present', () => {
  const fleet = demoFleet(24);
  for (let ts = T0; ts < T0 + 60 * DAY; ts += 37 * 60_000) {
    for (const vm of fleet) {
      const r = demoReading(42, vm, ts, 60_000, 0);
      assert.ok(r.ok);
      assert.deepEqual(Object.keys(r.metrics).sort(), [...STANDARD_METRICS].sort());
      for (const m of ['cpu_percent', 'memory_percent', 'disk_percent'] as const) {
        const v = r.metrics[m];
        assert.ok(v >= 0 && v <= 100, `${vm.name} ${m}=${v}`);
      }
      for (const m of ['disk_read_bytes', 'disk_write_bytes', 'network_in_bytes', 'network_out_bytes'] as const) {
        const v = r.metrics[m];
        assert.ok(Number.isInteger(v) && v >= 0, `${vm.name} ${m}=${v}`);
      }
    }
  }
});

test('failure rate is roughly as configured, with readable errors', () => {
  const fleet = demoFleet(12);
  for (const rate of [0, 0.01, 0.1, 0.5]) {
    let failed = 0;
    let total = 0;
    for (let ts = T0; ts < T0 + 2 * DAY; ts += 60_000) {
      for (const vm of fleet) {
        const r = demoReading(42, vm, ts, 60_000, rate);
        total++;
        if (!r.ok) {
          failed++;
          assert.ok((DEMO_ERRORS as readonly string[]).includes(r.error));
        }
      }
    }
    const observed = failed / total;
    assert.ok(Math.abs(observed - rate) <= Math.max(0.002, rate * 0.1), `rate ${rate}: observed ${observed}`);
  }
});

function dailyMean(vmIndex: number, metric: 'cpu_percent' | 'memory_percent' | 'disk_percent', dayStart: number) {
  const vm = demoFleet(12)[vmIndex]!;
  let sum = 0;
  let n = 0;
  for (let ts = dayStart; ts < dayStart + DAY; ts += 10 * 60_000) {
    const r = demoReading(42, vm, ts, 60_000, 0);
    if (r.ok) {
      sum += r.metrics[metric];
      n++;
    }
  }
  return sum / n;
}

test('trends: a db disk fills about 1 %/day until cleaned up; a worker leaks memory', () => {
  // demo-db-01 is index 2, demo-worker-01 index 4.
  const diskSteps: number[] = [];
  for (let d = 0; d < 60; d++)
    diskSteps.push(dailyMean(2, 'disk_percent', T0 + (d + 1) * DAY) - dailyMean(2, 'disk_percent', T0 + d * DAY));
  const growthDays = diskSteps.filter((s) => s > 0.7 && s < 1.3).length;
  assert.ok(growthDays >= 50, `db disk grew ~1 %/day on ${growthDays} of 60 days`);
  assert.ok(
    diskSteps.some((s) => s < -20),
    'and was cleaned up once',
  );
  const memSteps: number[] = [];
  for (let d = 0; d < 30; d++)
    memSteps.push(dailyMean(4, 'memory_percent', T0 + (d + 1) * DAY) - dailyMean(4, 'memory_percent', T0 + d * DAY));
  assert.ok(
    memSteps.filter((s) => s > 3).length >= 20,
    `worker memory grows most days: ${memSteps.map((s) => s.toFixed(1))}`,
  );
  assert.ok(
    memSteps.some((s) => s < -20),
    'and drops at a restart',
  );
});

test('daily and weekly patterns: afternoons busier than nights, weekends quieter', () => {
  const web = demoFleet(12)[0]!;
  const avgCpu = (from: number, hours: number) => {
    let sum = 0;
    let n = 0;
    for (let ts = from; ts < from + hours * 3_600_000; ts += 5 * 60_000) {
      const r = demoReading(42, web, ts, 60_000, 0);
      if (r.ok) {
        sum += r.metrics.cpu_percent;
        n++;
      }
    }
    return sum / n;
  };
  let afternoons = 0;
  let nights = 0;
  for (let d = 0; d < 5; d++) {
    afternoons += avgCpu(T0 + d * DAY + 14 * 3_600_000, 4);
    nights += avgCpu(T0 + d * DAY + 2 * 3_600_000, 4);
  }
  assert.ok(afternoons > nights * 2, `afternoon ${afternoons / 5} vs night ${nights / 5}`);
  const weekday = avgCpu(T0 + 2 * DAY, 24); // Wednesday
  const saturday = avgCpu(T0 + 5 * DAY, 24);
  assert.ok(saturday < weekday * 0.85, `saturday ${saturday} vs weekday ${weekday}`);
});

test('incidents: CPU spikes lasting tens of minutes happen across the fleet', () => {
  const fleet = demoFleet(12);
  const spikes: number[] = [];
  for (const vm of fleet) {
    let run = 0;
    for (let ts = T0; ts < T0 + 14 * DAY; ts += 60_000) {
      const r = demoReading(42, vm, ts, 60_000, 0);
      const hot = r.ok && r.metrics.cpu_percent >= 90;
      if (hot) run++;
      else if (run > 0) {
        spikes.push(run);
        run = 0;
      }
    }
  }
  const long = spikes.filter((m) => m >= 15);
  assert.ok(long.length >= 5, `spikes of 15+ minutes at >= 90 % CPU in two weeks: ${long.length}`);
});
