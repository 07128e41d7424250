// Server-mode dashboard data against the real HTTP API (the in-process test server): fleet, history, alerts, the live
// event stream, and the errors a user sees when the server is missing or wants a token.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClock } from '../clock.ts';
import type { Ingestor } from '../engine/ingest.ts';
import { ApiError } from '../server/client.ts';
import { testServer } from '../server/testing/harness.ts';
import { remoteDashboardData } from './remote-data.ts';

const T0 = Date.UTC(2026, 2, 2, 12, 0, 0);
const MIN = 60_000;
const clock = new FakeClock(T0);
const h = testServer({ clock, withAlerts: true });
let url = '';
let close: () => Promise<void>;
let ingestor: Ingestor;

function snapshot(vm: string, ts: number, cpu: number, error: string | null = null) {
  const labels = { source: 'push', resource_group: 'rg-a' };
  return ingestor.ingest(
    error ? [] : [{ metric: 'cpu_percent', labels: { ...labels, vm }, ts, value: cpu }],
    [{ vm, labels, ts, success: error === null, errorMessage: error, durationMs: 5 }],
    'push',
  );
}

before(async () => {
  ({ url, close } = await h.server.listen('127.0.0.1', 0));
  ingestor = h.ingestor();
  for (let i = 0; i < 3; i++) {
    await snapshot('web-01', T0 - (2 - i) * MIN, 50 + i);
    await snapshot('web-02', T0 - (2 - i) * MIN, 95);
  }
  await snapshot('db-01', T0, 0, 'Connection timeout');
});
after(() => close());

test('remote data: fleet rows, a VM history, active alerts', async () => {
  const data = await remoteDashboardData(`${url}/`, undefined, clock);
  try {
    assert.equal(data.intervalMs, 60_000);
    const rows = await data.fleet({ collect: true });
    const byVm = new Map(rows.map((r) => [r.vm, r]));
    assert.deepEqual([...byVm.keys()].sort(), ['db-01', 'web-01', 'web-02']);
    assert.equal(byVm.get('web-01')!.metrics.cpu_percent, 52);
    assert.equal(byVm.get('db-01')!.success, false);
    assert.equal(byVm.get('db-01')!.errorMessage, 'Connection timeout');

    const history = await data.vmHistory('web-01', T0 - 10 * MIN);
    assert.deepEqual(
      history.cpu_percent?.map((p) => [p.ts, p.value]),
      [
        [T0 - 2 * MIN, 50],
        [T0 - MIN, 51],
        [T0, 52],
      ],
    );
    assert.equal(history.memory_percent, undefined, 'metrics without data are left out');

    const alerts = await data.alerts();
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.vm, 'web-02');
    assert.equal(alerts[0]!.rule, 'high_cpu');
    assert.equal(alerts[0]!.severity, 'critical');
    assert.equal(alerts[0]!.status, 'firing');
    assert.equal(alerts[0]!.since, T0 - 2 * MIN);

    // Three minutes of history: the server's forecast says so, per metric.
    const forecasts = await data.forecasts('web-01');
    assert.deepEqual(
      forecasts.map((f) => [f.vm_name, f.metric, f.status]),
      [['web-01', 'cpu_percent', 'insufficient data']],
    );
  } finally {
    await data.close();
  }
});

test('remote data: new data on the live event stream triggers a refresh; unsubscribing stops it', async () => {
  const data = await remoteDashboardData(url, undefined, clock);
  try {
    let changes = 0;
    const unsubscribe = data.subscribe!(() => {
      changes++;
    });
    // The stream connects asynchronously: keep pushing until a change arrives (bounded).
    const deadline = Date.now() + 5000;
    for (let i = 1; changes === 0; i++) {
      assert.ok(Date.now() < deadline, 'no change notification within 5 s');
      await snapshot('web-01', T0 + i * 1000, 40);
      await new Promise((r) => setTimeout(r, 50));
    }
    unsubscribe();
    await new Promise((r) => setTimeout(r, 50));
    const seen = changes;
    await snapshot('web-01', T0 + 30 * MIN, 40);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(changes, seen, 'no refresh after unsubscribing');
  } finally {
    await data.close();
  }
});

test('remote data: a missing server or a refused token fails before the first paint, with the reason', async () => {
  const gone = testServer({ clock });
  const listening = await gone.server.listen('127.0.0.1', 0);
  await listening.close();
  await assert.rejects(
    remoteDashboardData(listening.url, undefined, clock),
    (e: Error) =>
      e instanceof ApiError &&
      e.message === `cannot reach Vigil at ${listening.url} (ECONNREFUSED); is \`vigil up\` running there?`,
  );

  const secured = testServer({ clock });
  secured.auth.create({ role: 'viewer' }, T0);
  const s = await secured.server.listen('127.0.0.1', 0);
  try {
    await assert.rejects(
      remoteDashboardData(s.url, 'vgl_not_a_token', clock),
      (e: Error) =>
        e instanceof ApiError &&
        /refused the request \(401\): pass an API token/.test(e.message) &&
        !e.message.includes('vgl_not_a_token'),
    );
  } finally {
    await s.close();
  }
});
