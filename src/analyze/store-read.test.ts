// The thin store-reading layer, against a small in-memory Store (the real backends pass the same contract).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CollectionOutcome } from '../model/outcome.ts';
import type { Sample } from '../model/sample.ts';
import type { OutcomeQuery, SeriesQuery, SeriesResult, Store } from '../store/store.ts';
import { scanAnomalies } from './anomaly/scan.ts';
import { forecastFleet } from './forecast/fleet-forecast.ts';
import { readFleetPatterns } from './patterns/read.ts';

function memoryStore(samples: Sample[], outcomes: CollectionOutcome[] = []): Store {
  const unsupported = () => {
    throw new Error('not used by analyze/');
  };
  return {
    async query(q: SeriesQuery): Promise<SeriesResult[]> {
      const series = new Map<string, { labels: Sample['labels']; points: { ts: number; value: number }[] }>();
      for (const s of samples) {
        if (q.selector.metric && s.metric !== q.selector.metric) continue;
        if (s.ts < q.from || s.ts > q.to) continue;
        if (!(q.selector.matchers ?? []).every((m) => s.labels[m.name] === m.value)) continue;
        const labels = q.groupBy ? Object.fromEntries(q.groupBy.map((k) => [k, s.labels[k] ?? ''])) : s.labels;
        const key = JSON.stringify(labels);
        const e = series.get(key) ?? { labels, points: [] };
        e.points.push({ ts: s.ts, value: s.value });
        series.set(key, e);
      }
      return [...series.values()].map((e) => {
        let points = e.points.sort((a, b) => a.ts - b.ts);
        if (q.stepMs) {
          const step = q.stepMs;
          const b = new Map<number, number[]>();
          for (const p of points) {
            const k = Math.floor(p.ts / step) * step;
            b.set(k, [...(b.get(k) ?? []), p.value]);
          }
          points = [...b.entries()].map(([ts, vs]) => ({ ts, value: vs.reduce((x, y) => x + y, 0) / vs.length }));
        }
        return { metric: q.selector.metric ?? '', labels: e.labels, tier: q.stepMs ? 'hourly' : 'raw', points };
      });
    },
    async outcomes(q: OutcomeQuery) {
      return outcomes.filter((o) => o.ts >= q.from && o.ts <= q.to && (!q.vm || o.vm === q.vm));
    },
    append: unsupported,
    recordOutcomes: unsupported,
    write: unsupported,
    latest: unsupported,
    listVms: unsupported,
    series: unsupported,
    maintain: unsupported,
    stats: unsupported,
    close: async () => {},
  };
}

const H = 3_600_000;
const NOW = Date.UTC(2026, 1, 1);

test('forecastFleet: at-risk VM first with a recommendation; short history is insufficient data', async () => {
  const samples: Sample[] = [];
  for (let h = 0; h < 14 * 24; h++) {
    const ts = NOW - (14 * 24 - h) * H;
    samples.push({ metric: 'disk_percent', labels: { vm: 'db-01' }, ts, value: 70 + h / 24 });
    samples.push({ metric: 'cpu_percent', labels: { vm: 'web-01' }, ts, value: 30 });
    if (h >= 11 * 24) samples.push({ metric: 'cpu_percent', labels: { vm: 'new-01' }, ts, value: 30 });
  }
  const rows = await forecastFleet(memoryStore(samples), { now: NOW });
  assert.equal(rows[0].vm_name, 'db-01');
  assert.equal(rows[0].metric, 'disk_percent');
  assert.ok(rows[0].status === 'ok' && rows[0].at_risk);
  assert.match(rows[0].recommendation ?? '', /^Clean disk/);
  const fresh = rows.find((r) => r.vm_name === 'new-01');
  assert.equal(fresh?.status, 'insufficient data');
  assert.equal(fresh?.days_available, 3);
  const web = rows.find((r) => r.vm_name === 'web-01');
  assert.ok(web?.status === 'ok' && web.trend === 'stable' && !web.at_risk && web.recommendation === null);
  const one = await forecastFleet(memoryStore(samples), { now: NOW, vmName: 'web-01', metric: 'cpu_percent' });
  assert.deepEqual(
    one.map((r) => r.vm_name),
    ['web-01'],
  );
});

test('scanAnomalies: one spike is one anomaly, reported with the per-VM rate', async () => {
  const samples: Sample[] = [];
  const M5 = 300_000;
  for (let i = 0; i < 4 * 288; i++) {
    const ts = NOW - (4 * 288 - i) * M5;
    const value = i === 4 * 288 - 20 ? 98 : 40 + (i % 4);
    samples.push({ metric: 'cpu_percent', labels: { vm: 'web-01' }, ts, value });
  }
  const scan = await scanAnomalies(memoryStore(samples), { now: NOW, days: 1 });
  assert.equal(scan.anomalies.length, 1);
  assert.equal(scan.anomalies[0].value, 98);
  assert.equal(scan.vms[0].vm, 'web-01');
  assert.equal(scan.vms[0].anomalies, 1);
  assert.equal(scan.vms[0].samples, 288);
  assert.ok(scan.vms[0].anomaly_rate > 0 && scan.vms[0].anomaly_rate < 0.01);
});

test('readFleetPatterns: a resource group down while the rest is fine', async () => {
  const outcomes: CollectionOutcome[] = ['a1', 'a2', 'b1', 'b2', 'b3'].map((vm) => ({
    vm,
    labels: { resource_group: vm.startsWith('a') ? 'rg-a' : 'rg-b' },
    ts: NOW - 60_000,
    success: !vm.startsWith('a'),
    errorMessage: vm.startsWith('a') ? 'Connection timeout' : null,
    durationMs: 50,
  }));
  const found = await readFleetPatterns(memoryStore([], outcomes), NOW);
  assert.equal(found[0].pattern, 'network_partition');
  assert.deepEqual(found[0].affectedVms, ['a1', 'a2']);
});

test('readFleetPatterns reads back as far as the longest configured window (cascading, network partition)', async () => {
  // Three VMs failed 90 min ago: outside every default window, inside a 2 h cascading window.
  const outcomes: CollectionOutcome[] = ['a', 'b', 'c'].flatMap((vm, k) =>
    [0, 1].map((i) => ({
      vm,
      labels: { resource_group: `rg-${vm}` },
      ts: NOW - 90 * 60_000 + k * 10_000 + i * 30_000,
      success: false,
      errorMessage: 'Connection timeout',
      durationMs: 50,
    })),
  );
  const store = memoryStore([], outcomes);
  assert.deepEqual(await readFleetPatterns(store, NOW), []);
  const wide = await readFleetPatterns(store, NOW, { cascading: { windowMs: 2 * 3_600_000 } });
  assert.deepEqual(
    wide.map((p) => p.pattern),
    ['cascading_failures'],
  );
  assert.deepEqual(await readFleetPatterns(store, NOW, { cascading: { windowMs: 2 * 3_600_000, enabled: false } }), []);
});
