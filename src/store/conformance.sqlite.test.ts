// The Store conformance suite against the SQLite backend, opened the way Vigil opens it: through openStore with a
// full storage config (default retention), plus what only the SQLite backend promises: schema migrations applied to
// an empty file, retention taken from `storage.retention`, compaction into compressed chunks.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FakeClock } from '../clock.ts';
import type { StorageConfig } from '../config/sections/storage.ts';
import type { Sample } from '../model/index.ts';
import { storeConformance } from './conformance.ts';
import { openStore } from './open.ts';
import { METRICS_MIGRATIONS } from './sqlite/metrics-schema.ts';
import { DAY_MS, HOUR_MS } from './store.ts';

const storage = (
  path: string,
  retention = { raw: 7 * DAY_MS, hourly: 30 * DAY_MS, daily: 90 * DAY_MS },
): StorageConfig => ({
  path,
  retention,
  maintenance_interval: 60_000,
});

storeConformance('sqlite', (clock, dir) => openStore(storage(join(dir, 'm.db')), { clock }));

const T0 = Date.UTC(2026, 5, 1);
const dir = mkdtempSync(join(tmpdir(), 'vigil-sqlite-conformance-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function drain(store: { maintain(now: number, budgetMs?: number): Promise<{ more: boolean }> }, now: number) {
  for (let i = 0; i < 20_000; i++) if (!(await store.maintain(now, 50)).more) return;
  throw new Error('maintenance still reports more work after 20,000 steps');
}

describe('SQLite store specifics', () => {
  it('opens an empty file, applies every metrics migration once, and keeps the version on reopen', async () => {
    const path = join(dir, 'empty.db');
    closeSync(openSync(path, 'w')); // a zero-byte file
    const clock = new FakeClock(T0 + HOUR_MS);
    const store = await openStore(storage(path), { clock });
    const version = () =>
      store.db.prepare("SELECT version, applied_at FROM schema_migrations WHERE component = 'metrics'").get() as {
        version: number;
        applied_at: number;
      };
    const first = version();
    assert.equal(first.version, METRICS_MIGRATIONS.length);
    assert.equal((store.db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
    await store.append([{ metric: 'cpu_percent', labels: { vm: 'a' }, ts: T0, value: 1 }]);
    await store.close();
    const again = await openStore(storage(path), { clock });
    const row = again.db
      .prepare("SELECT version, applied_at FROM schema_migrations WHERE component = 'metrics'")
      .get() as { version: number; applied_at: number };
    assert.deepEqual({ ...row }, { ...first }, 'no migration re-applied');
    assert.equal(
      (again.db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
      'ok',
    );
    const r = await again.query({ selector: { metric: 'cpu_percent' }, from: T0, to: T0, resolution: 'raw' });
    assert.deepEqual(r[0]?.points, [{ ts: T0, value: 1 }]);
    await again.close();
  });

  it('takes retention per tier from storage.retention', async () => {
    const path = join(dir, 'retention.db');
    const now = T0 + 20 * DAY_MS;
    const clock = new FakeClock(now);
    const store = await openStore(storage(path, { raw: DAY_MS, hourly: 3 * DAY_MS, daily: 10 * DAY_MS }), { clock });
    const labels = { vm: 'r' };
    const ages = [HOUR_MS * 5, 2 * DAY_MS, 6 * DAY_MS, 15 * DAY_MS];
    await store.append(ages.map((age, i) => ({ metric: 'm', labels, ts: now - age, value: i })));
    await drain(store, now);
    const tier = async (from: number) => (await store.query({ selector: { metric: 'm' }, from, to: now }))[0]?.tier;
    assert.equal(await tier(now - 20 * HOUR_MS), 'raw');
    assert.equal(await tier(now - 2 * DAY_MS), 'hourly');
    assert.equal(await tier(now - 5 * DAY_MS), 'daily');
    const values = async (resolution: 'raw' | 'hourly' | 'daily') =>
      (await store.query({ selector: { metric: 'm' }, from: 0, to: now, resolution })).flatMap((r) =>
        r.points.map((p) => p.value),
      );
    assert.deepEqual(await values('raw'), [0], 'raw keeps 1 day');
    assert.deepEqual(await values('hourly'), [1, 0], 'hourly keeps 3 days');
    assert.deepEqual(await values('daily'), [2, 1, 0], 'daily keeps 10 days');
    await store.close();
  });

  it('compacts complete blocks into compressed chunks and keeps only the open block in the head', async () => {
    const path = join(dir, 'chunks.db');
    const clock = new FakeClock(T0);
    const store = await openStore(storage(path), { clock });
    const samples: Sample[] = [];
    for (let v = 0; v < 10; v++) {
      for (let m = 0; m < 12 * 60; m++) {
        const ts = T0 + m * 60_000;
        const wave = 40 + 20 * Math.sin((m / 720) * Math.PI + v);
        samples.push({ metric: 'cpu_percent', labels: { vm: `vm-${v}` }, ts, value: Math.round(wave * 100) / 100 });
      }
    }
    for (let i = 0; i < samples.length; i += 600) await store.append(samples.slice(i, i + 600));
    clock.set(T0 + 11 * HOUR_MS); // blocks 0-2h .. 8-10h are complete (and past the grace); 10-12h is open
    await drain(store, clock.now());
    const stats = await store.stats();
    assert.equal(stats.chunkSamples, 10 * 10 * 60);
    assert.equal(stats.headSamples, 10 * 2 * 60);
    const { bytes, n } = store.db.prepare('SELECT sum(length(data)) AS bytes, sum(count) AS n FROM chunks').get() as {
      bytes: number;
      n: number;
    };
    assert.equal(n, stats.chunkSamples);
    assert.ok(bytes / n < 4, `chunks take ${(bytes / n).toFixed(2)} bytes per sample (raw samples take 16)`);
    await store.close();
  });
});
