import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../../clock.ts';
import type { Sample } from '../../model/index.ts';
import { openStore } from '../open.ts';
import { DAY_MS, HOUR_MS, type SeriesQuery } from '../store.ts';
import { BLOCK_MS, type SqliteStore } from './sqlite-store.ts';

const T0 = Date.UTC(2026, 2, 1);
const storage = (path: string) => ({
  path,
  retention: { raw: 7 * DAY_MS, hourly: 30 * DAY_MS, daily: 90 * DAY_MS },
  maintenance_interval: 60_000,
});

async function drain(store: SqliteStore, now: number): Promise<void> {
  for (let i = 0; i < 10_000; i++) if (!(await store.maintain(now, 50)).more) return;
  throw new Error('maintenance never finished');
}

function fleetSamples(vms: number, from: number, minutes: number, rand: () => number): Sample[] {
  const out: Sample[] = [];
  for (let v = 0; v < vms; v++) {
    const labels = { vm: `vm-${v}`, resource_group: `rg-${v % 2}` };
    for (let m = 0; m < minutes; m++) {
      const ts = from + m * 60_000;
      out.push({ metric: 'cpu_percent', labels, ts, value: Math.round(rand() * 10_000) / 100 });
      out.push({ metric: 'network_in_bytes', labels, ts, value: Math.floor(rand() * 5e6) });
    }
  }
  return out;
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('SqliteStore', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-sqlite-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('checkpoints its WAL outside COMMITs: everything written reads back after close, which leaves no WAL', async () => {
    const clock = new FakeClock(T0 + 2 * DAY_MS);
    const path = join(dir, 'wal.db');
    const store = (await openStore(storage(path), { clock })) as SqliteStore;
    await store.maintain(clock.now()); // starts the background checkpointer
    const samples = fleetSamples(20, T0, 24 * 60, lcg(3));
    for (let i = 0; i < samples.length; i += 2000) await store.append(samples.slice(i, i + 2000));
    assert.ok(statSync(`${path}-wal`).size > 0, 'the writes sit in the WAL');
    await store.close();
    assert.throws(() => statSync(`${path}-wal`), 'the last connection checkpointed and removed the WAL');
    const reopened = await openStore(storage(path), { clock });
    const r = await reopened.query({
      selector: { metric: 'cpu_percent' },
      from: T0,
      to: T0 + DAY_MS,
      resolution: 'raw',
    });
    assert.equal(
      r.reduce((n, x) => n + x.points.length, 0),
      20 * 24 * 60,
    );
    await reopened.close();
  });

  it('answers every query the same before and after compaction, and after a reopen', async () => {
    const clock = new FakeClock(T0 + 2 * DAY_MS);
    const path = join(dir, 'same.db');
    const store = await openStore(storage(path), { clock });
    const samples = fleetSamples(4, T0, 36 * 60, lcg(7));
    for (let i = 0; i < samples.length; i += 1000) await store.append(samples.slice(i, i + 1000));
    const queries: SeriesQuery[] = [
      {
        selector: { metric: 'cpu_percent', matchers: [{ name: 'vm', op: '=', value: 'vm-1' }] },
        from: T0,
        to: T0 + DAY_MS,
        resolution: 'raw',
      },
      {
        selector: { metric: 'cpu_percent' },
        from: T0 + 3_600_000,
        to: T0 + 30 * HOUR_MS,
        resolution: 'raw',
        stepMs: 5 * 60_000,
        aggregation: 'p95',
      },
      {
        selector: { metric: 'network_in_bytes' },
        from: T0,
        to: T0 + 2 * DAY_MS,
        resolution: 'hourly',
        aggregation: 'max',
        groupBy: ['resource_group'],
      },
      { selector: { metric: 'cpu_percent' }, from: T0, to: T0 + 2 * DAY_MS, resolution: 'daily', aggregation: 'avg' },
      {
        selector: { metric: 'cpu_percent' },
        from: T0,
        to: T0 + 2 * DAY_MS,
        resolution: 'hourly',
        stepMs: 6 * HOUR_MS,
        aggregation: 'sum',
      },
    ];
    const beforeCompaction = await Promise.all(queries.map((q) => store.query(q)));
    await drain(store, clock.now());
    const st = await store.stats();
    assert.ok(st.chunkSamples > 0, 'compaction wrote chunks');
    assert.ok(st.headSamples < samples.length, 'compaction emptied the head');
    const afterCompaction = await Promise.all(queries.map((q) => store.query(q)));
    assertClose(afterCompaction, beforeCompaction);
    await store.close();
    const again = await openStore(storage(path), { clock });
    assertClose(await Promise.all(queries.map((q) => again.query(q))), beforeCompaction);
    await again.close();
  });

  it('merges a late sample into an already compacted block and its rollups', async () => {
    const clock = new FakeClock(T0 + DAY_MS);
    const store = await openStore(storage(join(dir, 'late.db')), { clock });
    const labels = { vm: 'a' };
    await store.append([0, 1, 2, 3].map((i) => ({ metric: 'cpu_percent', labels, ts: T0 + i * 60_000, value: 10 })));
    await drain(store, clock.now());
    await store.append([
      { metric: 'cpu_percent', labels, ts: T0 + 60_000, value: 50 },
      { metric: 'cpu_percent', labels, ts: T0 + 30_000, value: 30 },
    ]);
    const q: SeriesQuery = { selector: { metric: 'cpu_percent' }, from: T0, to: T0 + HOUR_MS, resolution: 'raw' };
    const expected = [10, 30, 50, 10, 10];
    assert.deepEqual(
      (await store.query(q))[0]!.points.map((p) => p.value),
      expected,
    );
    await drain(store, clock.now());
    assert.deepEqual(
      (await store.query(q))[0]!.points.map((p) => p.value),
      expected,
    );
    const hourly = await store.query({ ...q, resolution: 'hourly', aggregation: 'sum' });
    assert.deepEqual(hourly[0]!.points, [{ ts: T0, value: 110 }]);
    const daily = await store.query({ ...q, resolution: 'daily', aggregation: 'count' });
    assert.deepEqual(daily[0]!.points, [{ ts: T0, value: 5 }]);
    assert.equal((await store.stats()).headSamples, 0);
    await store.close();
  });

  it('drops compacted head batches, keeps uncompacted ones, and replays them after a restart', async () => {
    const clock = new FakeClock(T0 + 3 * HOUR_MS);
    const path = join(dir, 'replay.db');
    const store = await openStore(storage(path), { clock });
    const labels = { vm: 'b' };
    await store.append([{ metric: 'memory_percent', labels, ts: T0 + 10 * 60_000, value: 1.5 }]);
    await store.append([{ metric: 'memory_percent', labels, ts: T0 + BLOCK_MS + 60_000, value: 2.5 }]);
    await drain(store, clock.now());
    await store.close();
    const db = new DatabaseSync(path);
    assert.equal((db.prepare('SELECT count(*) AS n FROM head_batches').get() as { n: number }).n, 1);
    assert.equal((db.prepare('SELECT count(*) AS n FROM chunks').get() as { n: number }).n, 1);
    db.close();
    const again = await openStore(storage(path), { clock });
    assert.equal((await again.stats()).headSamples, 1);
    const latest = await again.latest({ metric: 'memory_percent' });
    assert.deepEqual(
      latest.map((l) => [l.ts, l.value]),
      [[T0 + BLOCK_MS + 60_000, 2.5]],
    );
    assert.equal((await again.listVms())[0]!.lastSampleTs, T0 + BLOCK_MS + 60_000);
    await again.close();
  });

  it('applies retention per tier and picks the tier that covers the range', async () => {
    const clock = new FakeClock(T0);
    const store = await openStore(storage(join(dir, 'retention.db')), { clock });
    const labels = { vm: 'c' };
    const samples: Sample[] = [];
    for (let d = 0; d < 40; d++) samples.push({ metric: 'disk_percent', labels, ts: T0 + d * DAY_MS, value: d });
    await store.append(samples);
    clock.set(T0 + 40 * DAY_MS);
    const now = T0 + 40 * DAY_MS;
    await drain(store, now);
    const raw = await store.query({ selector: { metric: 'disk_percent' }, from: 0, to: now, resolution: 'raw' });
    assert.deepEqual(
      raw[0]!.points.map((p) => p.value),
      [33, 34, 35, 36, 37, 38, 39],
    );
    const hourly = await store.query({ selector: { metric: 'disk_percent' }, from: 0, to: now, resolution: 'hourly' });
    assert.equal(hourly[0]!.points[0]!.value, 10);
    const daily = await store.query({ selector: { metric: 'disk_percent' }, from: 0, to: now, resolution: 'daily' });
    assert.equal(daily[0]!.points.length, 40);
    await store.close();
  });

  it('sees series another process added to the same file', async () => {
    const clock = new FakeClock(T0 + DAY_MS);
    const path = join(dir, 'shared.db');
    const a = await openStore(storage(path), { clock });
    const b = await openStore(storage(path), { clock });
    await b.append([{ metric: 'cpu_percent', labels: { vm: 'imported' }, ts: T0, value: 5 }]);
    await drain(b, clock.now());
    const r = await a.query({ selector: { metric: 'cpu_percent' }, from: T0 - 1, to: T0 + 1, resolution: 'raw' });
    assert.deepEqual(
      r.map((x) => x.points),
      [[{ ts: T0, value: 5 }]],
    );
    assert.deepEqual(
      (await a.listVms()).map((v) => v.vm),
      ['imported'],
    );
    await a.close();
    await b.close();
  });

  it("sees another process's uncompacted samples at once and counts them once after that process compacts", async () => {
    const clock = new FakeClock(T0 + 3 * HOUR_MS);
    const path = join(dir, 'shared-head.db');
    const up = await openStore(storage(path), { clock });
    const importer = await openStore(storage(path), { clock });
    const labels = { vm: 'web-1' };
    // The running process has its own samples; the importer adds others, interleaved in time, in several batches.
    await up.append([{ metric: 'cpu_percent', labels, ts: T0, value: 10 }]);
    await importer.append([{ metric: 'cpu_percent', labels, ts: T0 + 60_000, value: 20 }]);
    await importer.append([{ metric: 'mem_percent', labels: { vm: 'db-1' }, ts: T0 + 120_000, value: 50 }]);
    await up.append([{ metric: 'cpu_percent', labels, ts: T0 + 180_000, value: 30 }]);
    const hourly: SeriesQuery = {
      selector: { metric: 'cpu_percent' },
      from: T0,
      to: T0 + HOUR_MS - 1,
      stepMs: HOUR_MS,
    };
    const raw = async () =>
      (await up.query({ selector: { metric: 'cpu_percent' }, from: T0, to: T0 + HOUR_MS, resolution: 'raw' }))[0]
        ?.points;
    assert.deepEqual(await raw(), [
      { ts: T0, value: 10 },
      { ts: T0 + 60_000, value: 20 },
      { ts: T0 + 180_000, value: 30 },
    ]);
    assert.deepEqual(
      (await up.latest({ metric: 'mem_percent' })).map((l) => l.value),
      [50],
    );
    // The importer compacts the block it knows (its samples and the up process's first one, replayed at open).
    await drain(importer, clock.now());
    await importer.close();
    assert.deepEqual(
      (await up.query(hourly)).map((r) => [r.tier, r.points]),
      [['hourly', [{ ts: T0, value: 20 }]]],
    );
    assert.deepEqual((await up.query({ ...hourly, aggregation: 'count' }))[0]?.points, [{ ts: T0, value: 3 }]);
    await drain(up, clock.now());
    assert.deepEqual((await up.query({ ...hourly, aggregation: 'count' }))[0]?.points, [{ ts: T0, value: 3 }]);
    assert.equal((await raw())?.length, 3);
    await up.close();
  });

  /** 30 days of one series every 10 minutes, ending in the block still open at `now` (like an imported CSV). */
  function monthOfSamples(now: number): Sample[] {
    const out: Sample[] = [];
    const start = Math.floor((now - 30 * DAY_MS) / 600_000) * 600_000;
    for (let ts = start, i = 0; ts < now - 600_000; ts += 600_000, i++) {
      out.push({ metric: 'cpu_percent', labels: { vm: 'imp' }, ts, value: (i % 97) + 0.5 });
    }
    return out;
  }

  /** count and sum per hourly and per daily bucket, computed from the samples themselves. */
  function expectedBuckets(samples: readonly Sample[], width: number, from: number): Map<number, [number, number]> {
    const m = new Map<number, [number, number]>();
    for (const s of samples) {
      const k = Math.floor(s.ts / width) * width;
      if (k < from) continue;
      const e = m.get(k) ?? [0, 0];
      e[0]++;
      e[1] += s.value;
      m.set(k, e);
    }
    return m;
  }

  async function storedBuckets(store: SqliteStore, tier: 'hourly' | 'daily', from: number, to: number) {
    const q: SeriesQuery = { selector: { metric: 'cpu_percent' }, from, to, resolution: tier };
    const count = (await store.query({ ...q, aggregation: 'count' }))[0]?.points ?? [];
    const sum = (await store.query({ ...q, aggregation: 'sum' }))[0]?.points ?? [];
    return new Map(count.map((p, i) => [p.ts, [p.value, Math.round(sum[i]!.value * 1e6) / 1e6] as [number, number]]));
  }

  function rounded(m: Map<number, [number, number]>): Map<number, [number, number]> {
    return new Map([...m].map(([k, [c, s]]) => [k, [c, Math.round(s * 1e6) / 1e6]]));
  }

  it('counts every sample once in the rollups across reopens and maintenance, and raw retention holds', async () => {
    const now = T0 + 40 * DAY_MS + 5 * HOUR_MS + 17 * 60_000;
    const clock = new FakeClock(now);
    const path = join(dir, 'reopen-rollups.db');
    const samples = monthOfSamples(now);
    let store = await openStore(storage(path), { clock });
    for (let i = 0; i < samples.length; i += 5000) await store.append(samples.slice(i, i + 5000));
    await drain(store, now);
    // A late sample for a block past raw retention (so no chunk holds it), written after the compaction.
    const late: Sample = { metric: 'cpu_percent', labels: { vm: 'imp' }, ts: samples[100]!.ts + 60_000, value: 1000 };
    await store.append([late]);
    const all = [...samples, late];
    const dayFrom = Math.floor((now - 30 * DAY_MS) / DAY_MS) * DAY_MS;
    for (let round = 0; round < 4; round++) {
      await store.close();
      store = await openStore(storage(path), { clock });
      await drain(store, clock.now());
      const what = `after reopen ${round + 1}`;
      // Hourly retention (30 d) moves with the clock; the daily tier keeps the whole month.
      const hourFrom = Math.floor((clock.now() - 29 * DAY_MS) / HOUR_MS) * HOUR_MS;
      assert.deepEqual(
        await storedBuckets(store, 'hourly', hourFrom, clock.now()),
        rounded(expectedBuckets(all, HOUR_MS, hourFrom)),
        `hourly ${what}`,
      );
      assert.deepEqual(
        await storedBuckets(store, 'daily', dayFrom, clock.now()),
        rounded(expectedBuckets(all, DAY_MS, dayFrom)),
        `daily ${what}`,
      );
      const raw = (
        await store.query({ selector: { metric: 'cpu_percent' }, from: 0, to: clock.now(), resolution: 'raw' })
      )[0]!.points;
      const horizon = clock.now() - 7 * DAY_MS;
      assert.ok(
        raw[0]!.ts >= horizon - 2 * BLOCK_MS,
        `raw starts ${(horizon - raw[0]!.ts) / HOUR_MS} h before the horizon`,
      );
      assert.ok(raw[0]!.ts <= horizon, 'raw still covers its 7 days');
      assert.deepEqual(
        raw,
        all.filter((s) => s.ts >= raw[0]!.ts).map((s) => ({ ts: s.ts, value: s.value })),
        `raw ${what}`,
      );
      // The next round moves the watermark past the batch that straddled it.
      clock.advance(BLOCK_MS);
    }
    await store.close();
  });

  it('a process that replayed batches another process then compacted does not count them again', async () => {
    const now = T0 + 40 * DAY_MS + 5 * HOUR_MS;
    const clock = new FakeClock(now);
    const path = join(dir, 'shared-rollups.db');
    const samples = monthOfSamples(now);
    const up = await openStore(storage(path), { clock });
    const importer = await openStore(storage(path), { clock });
    for (let i = 0; i < samples.length; i += 1000) await importer.append(samples.slice(i, i + 1000));
    const dayFrom = Math.floor((now - 30 * DAY_MS) / DAY_MS) * DAY_MS;
    const expected = rounded(expectedBuckets(samples, DAY_MS, dayFrom));
    // The running process reads the import before it is compacted: it now holds the samples in its head.
    assert.deepEqual(await storedBuckets(up, 'daily', dayFrom, now), expected, 'before compaction');
    await drain(importer, now);
    await importer.close();
    assert.deepEqual(await storedBuckets(up, 'daily', dayFrom, now), expected, 'after the importer compacted');
    await drain(up, now);
    assert.deepEqual(await storedBuckets(up, 'daily', dayFrom, now), expected, 'after the running process compacted');
    await up.close();
    const again = await openStore(storage(path), { clock });
    await drain(again, now);
    assert.deepEqual(await storedBuckets(again, 'daily', dayFrom, now), expected, 'after a reopen');
    await again.close();
  });

  it('a failed append leaves no series behind, even for a labels object used again afterwards', async () => {
    const clock = new FakeClock(T0 + DAY_MS);
    const store = await openStore(storage(join(dir, 'rollback.db')), { clock });
    // Push ingest and collectors reuse one labels object across writes: the store caches series by it.
    const labels = { vm: 'fresh', resource_group: 'rg-1' };
    store.db.exec(
      "CREATE TEMP TRIGGER refuse BEFORE INSERT ON head_batches BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    );
    await assert.rejects(store.append([{ metric: 'cpu_percent', labels, ts: T0, value: 1 }]), /disk full/);
    const none = await store.query({
      selector: { metric: 'cpu_percent' },
      from: T0 - 1,
      to: T0 + 1,
      resolution: 'raw',
    });
    assert.deepEqual(none, []);
    store.db.exec('DROP TRIGGER refuse');
    await store.append([{ metric: 'cpu_percent', labels, ts: T0 + 1000, value: 2 }]);
    const r = await store.query({
      selector: { metric: 'cpu_percent' },
      from: T0 - 1,
      to: T0 + 2000,
      resolution: 'raw',
    });
    assert.deepEqual(
      r.map((x) => [x.labels, x.points]),
      [[labels, [{ ts: T0 + 1000, value: 2 }]]],
    );
    const rows = store.db.prepare('SELECT count(*) AS n FROM series').get() as { n: number };
    assert.equal(rows.n, 1);
    await store.close();
  });

  it('creates the database private to the user and refuses a PostgreSQL URL with the password masked', async () => {
    const path = join(dir, 'sub', 'private.db');
    const store = await openStore(storage(path));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'sub')).mode & 0o777, 0o700);
    await store.close();
    await assert.rejects(openStore({ ...storage(path), url: 'postgres://u:secret@h/db' }), (e: Error) => {
      assert.doesNotMatch(e.message, /secret/);
      return true;
    });
  });
});

function assertClose(actual: unknown, expected: unknown): void {
  assert.deepEqual(JSON.parse(JSON.stringify(actual, round)), JSON.parse(JSON.stringify(expected, round)));
}
function round(_k: string, v: unknown): unknown {
  return typeof v === 'number' ? Math.round(v * 1e6) / 1e6 : v;
}
