// Standalone dashboard data: an in-memory store, the demo source, alerts from an in-memory SQLite repository.
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { AlertService } from '../alerting/service.ts';
import { FakeClock } from '../clock.ts';
import { buildSources } from '../collect/build-sources.ts';
import type { Source } from '../collect/source.ts';
import { configSchema } from '../config/index.ts';
import { ruleSchema } from '../config/sections/rules.ts';
import { MemoryStore } from '../server/testing/memory-store.ts';
import type { FleetRow } from '../store/fleet.ts';
import { AlertRepository } from '../store/sqlite/alert-repository.ts';
import { localDashboardData } from './local-data.ts';

const T0 = Date.UTC(2026, 2, 2, 12, 0, 0);
const MIN = 60_000;

function setup() {
  const config = configSchema.parse({ sources: [{ type: 'demo', vms: 3, failure_rate: 0 }] });
  const clock = new FakeClock(T0);
  const store = new MemoryStore();
  const repository = new AlertRepository(new DatabaseSync(':memory:'));
  let loads = 0;
  let closed = 0;
  const sources = async (): Promise<readonly Source[]> => {
    loads++;
    const list = buildSources(config, { baseDir: '.', env: {} });
    for (const s of list) {
      const close = s.close?.bind(s);
      s.close = async () => {
        closed++;
        await close?.();
      };
    }
    return list;
  };
  const data = localDashboardData({
    open: () => ({ store, alerts: repository }),
    sources,
    collection: config.collection,
    clock,
  });
  return { data, store, clock, repository, loads: () => loads, closed: () => closed };
}

test('local data: reading does not load the sources; a collecting refresh runs one cycle and stores it', async () => {
  const t = setup();
  assert.equal(t.data.intervalMs, 60_000);
  assert.deepEqual(await t.data.fleet({ collect: false }), []);
  assert.equal(t.loads(), 0, 'the first paint does not wait for the sources');

  const rows = await t.data.fleet({ collect: true });
  assert.deepEqual(
    rows.map((r) => r.vm),
    ['demo-web-01', 'demo-api-01', 'demo-db-01'],
  );
  assert.ok(rows.every((r) => r.success && r.source === 'demo' && typeof r.metrics.cpu_percent === 'number'));
  assert.ok(rows.every((r) => r.ts === T0));

  await t.clock.advance(MIN);
  await t.data.fleet({ collect: true });
  assert.equal(t.loads(), 1, 'the sources are built once');
  assert.equal((await t.store.outcomes({ from: 0, to: T0 + MIN })).length, 6);

  await t.data.close();
  assert.equal(t.closed(), 1, 'close() closes the sources');
});

test('local data: a VM history holds each standard metric, one point per step', async () => {
  const t = setup();
  for (let i = 0; i < 5; i++) {
    await t.data.fleet({ collect: true });
    await t.clock.advance(MIN);
  }
  const h = await t.data.vmHistory('demo-web-01', T0 - MIN);
  assert.deepEqual(Object.keys(h).sort(), [
    'cpu_percent',
    'disk_percent',
    'disk_read_bytes',
    'disk_write_bytes',
    'memory_percent',
    'network_in_bytes',
    'network_out_bytes',
  ]);
  assert.deepEqual(
    h.cpu_percent!.map((p) => p.ts),
    [0, 1, 2, 3, 4].map((i) => T0 + i * MIN),
  );
  assert.deepEqual(await t.data.vmHistory('nope', T0), {});
});

test('local data: active alerts with their acknowledgement, resolved ones left out', async () => {
  const t = setup();
  const alerts = new AlertService({
    repository: t.repository,
    rules: [
      ruleSchema.parse({ name: 'high_cpu', metric: 'cpu_percent', threshold: 80, for: '0s', severity: 'critical' }),
    ],
  });
  const cpu = (vm: string, value: number, ts: number) => ({
    metric: 'cpu_percent',
    labels: { vm, source: 'demo' },
    ts,
    value,
  });
  alerts.ingest([cpu('web-01', 95, T0), cpu('web-02', 97, T0), cpu('web-03', 99, T0)], [], T0);
  const of = (vm: string) => alerts.activeAlerts().find((a) => a.vm === vm)!;
  const first = of('web-01');
  alerts.ack(first.id, 'alice', null, T0 + 1000);
  alerts.resolve(of('web-02').id, 'bob', null, T0 + 2000);

  const list = await t.data.alerts();
  assert.equal(list.length, 2);
  const acked = list.find((a) => a.id === first.id);
  assert.equal(acked?.status, 'acknowledged');
  assert.equal(acked?.severity, 'critical');
  assert.equal(acked?.rule, 'high_cpu');
  assert.equal(acked?.since, T0);
  assert.match(acked?.message ?? '', /CPU is at 9\d/);
  assert.ok(list.some((a) => a.status === 'firing' && a.vm === 'web-03'));
});

test('local data: the first read paints the snapshot without opening the store; the store opens after, and says so', async () => {
  const store = new MemoryStore();
  const repository = new AlertRepository(new DatabaseSync(':memory:'));
  const config = configSchema.parse({});
  let opens = 0;
  const snapshotRow: FleetRow = {
    vm: 'snap-01',
    resourceGroup: null,
    source: null,
    tenant: null,
    labels: { vm: 'snap-01' },
    ts: T0,
    metrics: { cpu_percent: 12 },
    success: true,
    errorMessage: null,
  };
  await store.write([{ metric: 'cpu_percent', labels: { vm: 'store-01' }, ts: T0, value: 34 }], []);
  const data = localDashboardData({
    open: () => {
      opens++;
      return { store, alerts: repository };
    },
    firstPaint: [snapshotRow],
    sources: async () => [],
    collection: config.collection,
    clock: new FakeClock(T0),
  });
  const opened = new Promise<void>((resolve) => data.subscribe?.(resolve));
  const [first, alerts] = await Promise.all([data.fleet({ collect: false }), data.alerts()]);
  assert.deepEqual(first, [snapshotRow]);
  assert.deepEqual(alerts, []);
  assert.equal(opens, 0, 'the first paint does not wait for the store');
  await opened;
  assert.equal(opens, 1);
  assert.deepEqual(
    (await data.fleet({ collect: false })).map((r) => r.vm),
    ['store-01'],
  );
  await data.close();
});
