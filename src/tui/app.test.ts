import assert from 'node:assert/strict';
import { test } from 'node:test';
import { render } from 'ink-testing-library';
import { createElement as h } from 'react';
import { recommend } from '../analyze/forecast/fleet-forecast.ts';
import { type ForecastOk, forecastSeries } from '../analyze/forecast/forecast.ts';
import type { FleetRow } from '../store/fleet.ts';
import { App, nextRefresh } from './app.ts';
import type { DashboardData } from './data.ts';

function fleetData(rows: FleetRow[]): DashboardData & { calls: { collect: boolean }[] } {
  const calls: { collect: boolean }[] = [];
  return {
    intervalMs: 60_000,
    calls,
    async fleet(opts) {
      calls.push(opts);
      return rows;
    },
    async vmHistory() {
      return { cpu_percent: [0, 25, 50, 75, 100].map((value, i) => ({ ts: i, value })) };
    },
    async alerts() {
      return [
        {
          id: '1',
          vm: 'web-01',
          rule: 'high_cpu',
          severity: 'warning',
          status: 'firing',
          message: 'CPU is at 92.0% on web-01',
          since: 0,
        },
      ];
    },
    async forecasts(vm) {
      // A disk filling 1 pp/day from 60 % (at risk), and CPU with two days of history only.
      const disk = forecastSeries(
        vm,
        'disk_percent',
        Array.from({ length: 14 * 24 }, (_, h) => ({ ts: h * 3_600_000, value: 60 + h / 24 })),
        { percent: true },
      ) as ForecastOk;
      const cpu = forecastSeries(
        vm,
        'cpu_percent',
        Array.from({ length: 48 }, (_, h) => ({ ts: h * 3_600_000, value: 40 })),
      );
      return [
        { ...disk, recommendation: recommend(disk) },
        { ...cpu, recommendation: null },
      ];
    },
    async close() {},
  };
}

const rows: FleetRow[] = [
  {
    vm: 'web-01',
    resourceGroup: 'rg-prod',
    source: 'demo',
    tenant: 'default',
    labels: {},
    ts: 0,
    metrics: { cpu_percent: 92, memory_percent: 40, disk_percent: 71 },
    success: true,
    errorMessage: null,
  },
  {
    vm: 'db-01',
    resourceGroup: 'rg-data',
    source: 'demo',
    tenant: 'default',
    labels: {},
    ts: 0,
    metrics: {},
    success: false,
    errorMessage: 'Connection timeout',
  },
];

const settle = () => new Promise((r) => setTimeout(r, 50));

test('refresh interval steps stay within 10 s and 5 min', () => {
  assert.equal(nextRefresh(60, true), 45);
  assert.equal(nextRefresh(60, false), 120);
  assert.equal(nextRefresh(10, true), 10);
  assert.equal(nextRefresh(300, false), 300);
});

test('dashboard renders the fleet, reacts to keys and quits on q', async (t) => {
  const data = fleetData(rows);
  const app = render(h(App, { data, refreshS: 60, color: false, now: () => Date.UTC(2026, 0, 1) }));
  t.after(() => app.unmount());
  await settle();
  let frame = app.lastFrame() ?? '';
  assert.match(frame, /Updated: 2026-01-01 00:00:00 UTC/);
  assert.match(frame, /web-01\s+92\.0%\s+40\.0%\s+71\.0%/);
  assert.match(frame, /db-01\s+----\s+ERROR: Connection timeout/);
  assert.match(frame, /Press 'q' to quit \| 'r' to refresh \| Next auto-refresh in 60s/);

  app.stdin.write('r');
  await settle();
  assert.deepEqual(data.calls.at(-1), { collect: true });

  app.stdin.write('+');
  await settle();
  assert.match(app.lastFrame() ?? '', /interval \(45s\)/);

  app.stdin.write('a');
  await settle();
  assert.match(app.lastFrame() ?? '', /Active alerts \(1\)/);
  app.stdin.write('a');
  await settle();

  app.stdin.write('\r');
  await settle();
  frame = app.lastFrame() ?? '';
  assert.match(frame, /CPU %/);
  assert.match(frame, /▁/);
  assert.match(frame, /Forecast \(30 days\)/);
  assert.match(frame, /Disk %\s+74\.0% → 7d 81\.0% → 30d 100\.0% \(increasing\)\s+AT RISK: could reach 90%/);
  assert.match(frame, /Clean disk \(logs, temp files, old snapshots\) or grow the disk: 90% in ~16 days/);
  assert.match(frame, /CPU %\s+insufficient data: 2 days of history, need 7/);

  app.stdin.write('q');
  await settle();
});

test('filter narrows the table to matching VMs', async (t) => {
  const app = render(h(App, { data: fleetData(rows), refreshS: 60, color: false, now: () => 0 }));
  t.after(() => app.unmount());
  await settle();
  app.stdin.write('/');
  await settle();
  for (const ch of 'db') app.stdin.write(ch);
  app.stdin.write('\r');
  await settle();
  const frame = app.lastFrame() ?? '';
  assert.match(frame, /db-01/);
  assert.doesNotMatch(frame, /web-01/);
});

test('a failing alerts read keeps the fleet on screen and marks alerts unavailable', async (t) => {
  const data = fleetData(rows);
  let fail = true;
  const alerts = data.alerts.bind(data);
  data.alerts = async () => {
    if (fail) throw new Error('alert service timed out');
    return alerts();
  };
  const app = render(h(App, { data, refreshS: 60, color: false, now: () => Date.UTC(2026, 0, 1) }));
  t.after(() => app.unmount());
  await settle();
  let frame = app.lastFrame() ?? '';
  assert.match(frame, /web-01\s+92\.0%/);
  assert.match(frame, /Updated: 2026-01-01 00:00:00 UTC/);
  assert.match(frame, /Alerts unavailable: alert service timed out/);
  assert.doesNotMatch(frame, /^Error:/m);
  app.stdin.write('a');
  await settle();
  assert.match(app.lastFrame() ?? '', /Active alerts \(unavailable\)/);
  app.stdin.write('a');
  // The next refresh succeeds: the mark goes away.
  fail = false;
  app.stdin.write('r');
  await settle();
  frame = app.lastFrame() ?? '';
  assert.doesNotMatch(frame, /Alerts unavailable/);
  assert.match(frame, /web-01/);
});
