import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FakeClock } from '../clock.ts';
import { MemoryStore } from '../server/testing/memory-store.ts';
import { csvHeader, parseCsvLine, snapshotToCsv } from './csv.ts';
import { openStore } from './open.ts';
import { readSnapshots } from './snapshots.ts';
import { HOUR_MS } from './store.ts';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

test('readSnapshots merges metrics by timestamp and turns failed attempts into success=false rows', async () => {
  const store = new MemoryStore();
  const labels = { vm: 'web-01', resource_group: 'rg-prod', source: 'demo' };
  await store.write(
    [
      { metric: 'cpu_percent', labels, ts: T0, value: 42.5 },
      { metric: 'memory_percent', labels, ts: T0, value: 60 },
      { metric: 'cpu_percent', labels, ts: T0 + 60_000, value: 50 },
      { metric: 'cpu_percent', labels: { ...labels, vm: 'web-02' }, ts: T0, value: 99 },
    ],
    [
      { vm: 'web-01', labels: { resource_group: 'rg-prod' }, ts: T0, success: true, errorMessage: null, durationMs: 5 },
      {
        vm: 'web-01',
        labels: { resource_group: 'rg-prod' },
        ts: T0 + 120_000,
        success: false,
        errorMessage: 'timeout, "ssh"',
        durationMs: 5,
      },
    ],
  );
  const rows = await readSnapshots(store, { vm: 'web-01', from: T0, to: T0 + 3_600_000, resolution: 'raw' });
  assert.deepEqual(
    rows.map((r) => [r.ts - T0, r.cpu_percent, r.memory_percent, r.success, r.errorMessage, r.resourceGroup]),
    [
      [0, 42.5, 60, true, null, 'rg-prod'],
      [60_000, 50, null, true, null, 'rg-prod'],
      [120_000, null, null, false, 'timeout, "ssh"', 'rg-prod'],
    ],
  );
  const header = csvHeader(true);
  assert.equal(
    header,
    'timestamp,vm_name,cpu_percent,memory_percent,disk_percent,disk_read_bytes,disk_write_bytes,network_in_bytes,network_out_bytes,success,error_message,resource_group',
  );
  const last = snapshotToCsv(rows[2]!, true);
  assert.equal(last, '2026-01-01T12:02:00.000Z,web-01,,,,,,,,false,"timeout, ""ssh""",rg-prod');
  assert.deepEqual(parseCsvLine(last), [
    '2026-01-01T12:02:00.000Z',
    'web-01',
    '',
    '',
    '',
    '',
    '',
    '',
    '',
    'false',
    'timeout, "ssh"',
    'rg-prod',
  ]);
});

test('parseCsvLine: RFC 4180 quoting and malformed lines', () => {
  assert.deepEqual(parseCsvLine('a,"b,c","d""e",'), ['a', 'b,c', 'd"e', '']);
  assert.equal(parseCsvLine('a,"unclosed'), null);
  assert.equal(parseCsvLine('a,"x"y'), null);
});

test('from the hourly tier, failed attempts fold into their hour: one row per hour, the last error and the count', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-snapshots-'));
  const store = await openStore({ path: join(dir, 'm.db') }, { clock: new FakeClock(T0 + 3 * HOUR_MS) });
  try {
    const labels = { vm: 'web-01' };
    const fail = (ts: number, errorMessage: string) => ({
      vm: 'web-01',
      labels: {},
      ts,
      success: false,
      errorMessage,
      durationMs: 1,
    });
    await store.write(
      [0, 10, 20].map((m) => ({ metric: 'cpu_percent', labels, ts: T0 + m * 60_000, value: m })),
      [
        { vm: 'web-01', labels: {}, ts: T0, success: true, errorMessage: null, durationMs: 1 },
        fail(T0 + 30 * 60_000, 'refused'),
        fail(T0 + 40 * 60_000, 'Connection timeout'),
        fail(T0 + HOUR_MS + 5 * 60_000, 'Connection timeout'),
      ],
    );
    const rows = await readSnapshots(store, {
      vm: 'web-01',
      from: T0,
      to: T0 + 2 * HOUR_MS,
      resolution: 'hourly',
    });
    assert.deepEqual(
      rows.map((r) => [r.ts - T0, r.cpu_percent, r.success, r.errorMessage]),
      [
        [0, 10, false, 'Connection timeout (2 failed attempts)'],
        [HOUR_MS, null, false, 'Connection timeout'],
      ],
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
