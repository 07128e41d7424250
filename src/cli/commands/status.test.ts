// `vigil status` from the database and from a running server (the in-process test server), and its error messages.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FakeClock } from '../../clock.ts';
import type { CollectionOutcome, Sample } from '../../model/index.ts';
import { testServer } from '../../server/testing/harness.ts';
import { openStore } from '../../store/open.ts';
import { vigilIn as vigil } from '../testing/run-cli.ts';
import { countVms, formatStatus, type StatusReport, serverStatus } from './status.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-status-'));
  writeFileSync(
    join(dir, 'vigil.yaml'),
    `storage:
  retention: { raw: 2d, hourly: 20d, daily: 60d }
collection:
  interval: 1m
sources:
  - type: demo
    vms: 3
  - name: lab
    type: host
`,
  );
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

function report(vm: string, source: string, ts: number, error: string | null): [Sample[], CollectionOutcome[]] {
  const labels = { source, resource_group: 'rg-test' };
  return [
    error ? [] : [{ metric: 'cpu_percent', labels: { ...labels, vm }, ts, value: 42 }],
    [{ vm, labels, ts, success: error === null, errorMessage: error, durationMs: 120 }],
  ];
}

test('countVms: up and failed by the last collection; silent when no report within two intervals and a minute', () => {
  const vm = (ts: number | null, success = true) => ({ ts, success, errorMessage: null, source: 'demo' });
  assert.deepEqual(
    countVms([vm(T0), vm(T0 - 30_000, false), vm(T0 - 3 * MIN + 1), vm(T0 - 3 * MIN - 1), vm(null)], MIN),
    { total: 5, up: 2, failed: 1, silent: 2 },
  );
  assert.deepEqual(countVms([], MIN), { total: 0, up: 0, failed: 0, silent: 0 });
});

test('vigil status (store): last cycle, VMs up/failed/silent, sources with their types, retention, --json', () =>
  withDir(async (dir) => {
    const store = await openStore({ path: join(dir, 'metrics.db') });
    const t = Date.now() - 5 * MIN;
    for (const [s, o] of [
      report('demo-web-01', 'demo', t, null),
      report('demo-db-01', 'demo', t + 2000, 'Connection timeout'),
      report('lab-box', 'lab', t + 1000, null),
      report('gone-01', 'demo', t - 60 * MIN, null),
    ])
      await store.write(s, o);
    await store.close();

    const json = await vigil(dir, 'status', '--json');
    assert.equal(json.code, 0, json.err);
    const r = JSON.parse(json.out) as StatusReport;
    assert.equal(r.from, 'store');
    assert.deepEqual(r.vms, { total: 4, up: 2, failed: 1, silent: 1 });
    assert.deepEqual(r.lastCycle, { at: t + 2000, durationMs: null, targets: 3, failures: 1, samples: null });
    assert.deepEqual(r.sources, [
      { name: 'demo', type: 'demo', targets: 2, failures: 1, lastError: 'Connection timeout' },
      { name: 'lab', type: 'host', targets: 1, failures: 0, lastError: null },
    ]);
    assert.deepEqual(r.store.retentionDays, { raw: 2, hourly: 20, daily: 60 });
    assert.equal(r.store.path, join(dir, 'metrics.db'));
    assert.ok(r.store.bytes > 0 && r.store.series >= 1);
    assert.deepEqual(r.alerts, {});

    const text = await vigil(dir, 'status');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /^Last collection: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ min ago\): 3 VMs, 1 failed\n/);
    assert.match(text.out, /VMs: 4 known, 2 up, 1 failed, 1 no longer reporting/);
    assert.match(text.out, /Active alerts: 0 \(emergency 0, critical 0, warning 0, info 0\)/);
    assert.match(text.out, /retention raw 2 d, hourly 20 d, daily 60 d/);
    assert.match(
      text.out,
      /SOURCE\s+TYPE\s+VMS\s+FAILED\s+LAST ERROR\ndemo\s+demo\s+2\s+1\s+Connection timeout\nlab\s+host\s+1\s+0/,
    );
  }));

test('vigil status (store): an empty database says collection never ran', () =>
  withDir(async (dir) => {
    const r = await vigil(dir, 'status');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Last collection: never \(start collecting with `vigil up`\)/);
    assert.match(r.out, /VMs: 0 known, 0 up, 0 failed\n/);
  }));

test('vigil status --server: from the API of a running server, with retention and alerts by severity', async () => {
  const clock = new FakeClock(T0);
  const h = testServer({ clock, withAlerts: true });
  const listening = await h.server.listen('127.0.0.1', 0);
  try {
    const ingest = h.ingestor();
    for (const [vm, cpu] of [
      ['web-01', 95],
      ['web-02', 20],
    ] as const) {
      const labels = { source: 'push' };
      await ingest.ingest(
        [{ metric: 'cpu_percent', labels: { ...labels, vm }, ts: T0, value: cpu }],
        [{ vm, labels, ts: T0, success: true, errorMessage: null, durationMs: 0 }],
        'push',
      );
    }
    const r = await serverStatus(`${listening.url}/`, undefined);
    assert.equal(r.from, 'server');
    assert.deepEqual(r.vms, { total: 2, up: 2, failed: 0, silent: 0 });
    assert.deepEqual(r.alerts, { critical: 1 });
    assert.deepEqual(r.store.retentionDays, { raw: 7, hourly: 30, daily: 90 });
    assert.equal(r.store.path, null);
    assert.match(formatStatus(r, T0), /Active alerts: 1 \(emergency 0, critical 1, warning 0, info 0\)/);
    assert.match(formatStatus(r, T0), /Store: of the server, [\d.]+ MB, \d+ series; retention raw 7 d/);

    // Once tokens exist the API wants one; the message says how to pass it, never the token.
    const { token } = h.auth.create({ role: 'viewer' }, T0);
    await assert.rejects(serverStatus(listening.url, undefined), /refused the request \(401\): pass an API token/);
    await assert.rejects(serverStatus(listening.url, 'vgl_wrong'), (e: Error) => !e.message.includes('vgl_wrong'));
    assert.equal((await serverStatus(listening.url, token)).vms.total, 2);
  } finally {
    await listening.close();
  }
});

test('vigil status --server: an address where nothing listens is a one-line error, exit 1', () =>
  withDir(async (dir) => {
    // A port that was just free: nothing listens there.
    const probe = createNetServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as { port: number };
    await new Promise((r) => probe.close(r));
    const r = await vigil(dir, 'status', '--server', `http://127.0.0.1:${port}`);
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      `vigil: cannot reach Vigil at http://127.0.0.1:${port} (ECONNREFUSED); is \`vigil up\` running there?\n`,
    );
    assert.equal(r.out, '');
  }));

test('formatStatus: the sources table fits the terminal width, the last error is cut first', () => {
  const r: StatusReport = {
    from: 'store',
    sources: [
      {
        name: 'azure-prod',
        type: 'azure',
        targets: 120,
        failures: 3,
        lastError: 'Azure Monitor answered 429 Too Many Requests for 3 VMs; retried after 60 s, still throttled',
      },
    ],
    lastCycle: null,
    vms: { total: 120, up: 117, failed: 3, silent: 0 },
    alerts: {},
    store: { path: '/x/m.db', bytes: 1e6, series: 10, retentionDays: null },
  };
  const narrow = formatStatus(r, T0, 60).split('\n');
  const table = narrow.slice(narrow.findIndex((l) => l.startsWith('SOURCE')));
  for (const l of table) assert.ok(l.length <= 60, `${l.length}: ${l}`);
  assert.equal(table[1], 'azure-prod  azure  120       3  Azure Monitor answered 429 …');
  assert.match(formatStatus(r, T0), /still throttled$/m);
});
