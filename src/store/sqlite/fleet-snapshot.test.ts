import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { FakeClock } from '../../clock.ts';
import type { CollectionOutcome, Sample } from '../../model/index.ts';
import { readFleet } from '../fleet.ts';
import { openStore } from '../open.ts';
import { DAY_MS, HOUR_MS } from '../store.ts';
import { readFleetSnapshot } from './fleet-snapshot.ts';

const T0 = Date.UTC(2026, 2, 1);
const MIN = 60_000;
const STALE = 15 * MIN;

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-snapshot-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const ok = (vm: string, ts: number): CollectionOutcome => ({
  vm,
  labels: { vm, resource_group: 'rg-a' },
  ts,
  success: true,
  errorMessage: null,
  durationMs: 12,
});

test('the snapshot shows the same fleet rows as the opened store: compacted, head, rewrites, late imports, failures', () =>
  withDir(async (dir) => {
    const path = join(dir, 'metrics.db');
    const clock = new FakeClock(T0 + 6 * HOUR_MS);
    const store = await openStore(
      { path, retention: { raw: 7 * DAY_MS, hourly: 30 * DAY_MS, daily: 90 * DAY_MS } },
      { clock },
    );
    const labels = (vm: string) => ({ vm, resource_group: 'rg-a' });
    // Five hours of minutes for three VMs, then compaction: complete 2-hour blocks move out of the head.
    for (let m = 0; m < 5 * 60; m++) {
      const ts = T0 + m * MIN;
      const samples: Sample[] = [];
      for (const vm of ['web-01', 'web-02', 'db-01']) {
        samples.push({ metric: 'cpu_percent', labels: labels(vm), ts, value: (m % 90) + 1 });
        samples.push({ metric: 'disk_percent', labels: labels(vm), ts, value: 40 + (m % 7) });
        samples.push({ metric: 'load1', labels: labels(vm), ts, value: m / 100 });
      }
      await store.write(
        samples,
        ['web-01', 'web-02', 'db-01'].map((vm) => ok(vm, ts)),
      );
    }
    for (let i = 0; i < 10_000 && (await store.maintain(clock.now(), 50)).more; i++);
    const last = T0 + 299 * MIN;
    // The same instant written again later: the later value wins.
    await store.write([{ metric: 'cpu_percent', labels: labels('web-01'), ts: last, value: 77.5 }], []);
    // An import of old data in a newer batch does not hide the newest point.
    await store.write([{ metric: 'cpu_percent', labels: labels('web-02'), ts: T0 + 10 * MIN, value: 3 }], []);
    // db-01's last collection failed: its metrics give way to the error.
    await store.write([], [{ ...ok('db-01', last + MIN), success: false, errorMessage: 'Connection timeout' }]);
    // A VM known only from its last compacted values: it stopped reporting before the head.
    await store.write([{ metric: 'memory_percent', labels: labels('old-01'), ts: T0, value: 61 }], [ok('old-01', T0)]);
    for (let i = 0; i < 10_000 && (await store.maintain(clock.now(), 50)).more; i++);

    const expected = await readFleet(store, { staleMs: STALE });
    await store.close();
    // Both sources are in play: compacted blocks (series.last_ts) and a head the snapshot has to scan.
    const db = new DatabaseSync(path, { readOnly: true });
    const head = db.prepare('SELECT count(*) AS n FROM head_batches').get() as { n: number };
    const compacted = db.prepare('SELECT count(*) AS n FROM series WHERE last_ts IS NOT NULL').get() as { n: number };
    db.close();
    assert.ok(head.n > 0 && compacted.n > 0, `head batches ${head.n}, compacted series ${compacted.n}`);
    const snapshot = readFleetSnapshot(path, { staleMs: STALE });
    assert.deepEqual(
      snapshot?.map((r) => ({ ...r, labels: {} })),
      expected.map((r) => ({ ...r, labels: {} })),
    );
    const byVm = new Map(snapshot?.map((r) => [r.vm, r]));
    assert.equal(byVm.get('web-01')?.metrics.cpu_percent, 77.5);
    assert.equal(byVm.get('web-02')?.metrics.cpu_percent, (299 % 90) + 1);
    assert.equal(byVm.get('db-01')?.errorMessage, 'Connection timeout');
    assert.equal(byVm.get('old-01')?.metrics.memory_percent, 61);
    assert.deepEqual(
      snapshot?.map((r) => r.labels),
      expected.map((r) => r.labels),
    );
  }));

test('the snapshot of a file not yet created is empty; of a file it cannot read, null (open the store instead)', () =>
  withDir(async (dir) => {
    assert.deepEqual(readFleetSnapshot(join(dir, 'none.db')), []);
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not a database');
    assert.equal(readFleetSnapshot(junk), null);
  }));
