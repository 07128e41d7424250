// scanAnomalies against the real SQLite store: long periods read raw samples, never the hourly tier.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Sample } from '../../model/sample.ts';
import { openStore } from '../../store/open.ts';
import type { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { scanAnomalies } from './scan.ts';

const MIN = 60_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 4, 20, 12);
let dir: string;
let store: SqliteStore;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-scan-'));
  store = await openStore({ path: join(dir, 'm.db') });
  // 9 days of minute CPU samples (40-43 %) with one spike 2 days ago.
  const samples: Sample[] = [];
  const n = 9 * 1440;
  for (let i = 0; i < n; i++) {
    const ts = NOW - (n - 1 - i) * MIN;
    samples.push({
      metric: 'cpu_percent',
      labels: { vm: 'web-01' },
      ts,
      value: ts === NOW - 2 * DAY ? 98 : 40 + (i % 4),
    });
  }
  await store.append(samples);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('--days 5 (period + warm-up beyond the 7-day raw retention) still scans every minute sample', async () => {
  const scan = await scanAnomalies(store, { now: NOW, days: 5, metrics: ['cpu_percent'] });
  assert.equal(scan.resolution, 'raw');
  assert.equal(scan.vms[0]?.samples, 5 * 1440 + 1, JSON.stringify(scan.vms)); // inclusive range
  assert.deepEqual(
    scan.anomalies.map((a) => [a.ts, a.value]),
    [[NOW - 2 * DAY, 98]],
  );
  assert.equal(scan.raw_from, NOW - 7 * DAY);
  assert.match(scan.note ?? '', /raw samples are kept 7 days: the baseline warm-up starts at 2026-05-13 12:00 UTC/);
});

test('a period longer than raw retention says what was not scanned', async () => {
  const scan = await scanAnomalies(store, { now: NOW, days: 8, metrics: ['cpu_percent'], rawRetentionMs: 7 * DAY });
  assert.match(scan.note ?? '', /only 2026-05-13 12:00 UTC onwards was scanned/);
  assert.match(scan.note ?? '', /hourly rollups/);
});

test('a short period inside raw retention has no note', async () => {
  const scan = await scanAnomalies(store, { now: NOW, days: 1, metrics: ['cpu_percent'] });
  assert.equal(scan.note, null);
  assert.equal(scan.vms[0]?.samples, 1441);
});
