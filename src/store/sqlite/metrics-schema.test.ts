// Upgrading a metrics database written by the first schema (v1: head_batches without AUTOINCREMENT, one global
// watermark) with data in every table, the way v1's code laid it out, to the current schema.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { FakeClock } from '../../clock.ts';
import { encodeChunk } from '../codec/chunk.ts';
import { openStore } from '../open.ts';
import { DAY_MS, HOUR_MS } from '../store.ts';
import { METRICS_MIGRATIONS } from './metrics-schema.ts';
import { migrate } from './migrate.ts';
import { BLOCK_MS } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-schema-v1-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 2, 1);
const MIN = 60_000;
const NOW = T0 + 10 * DAY_MS + 30 * MIN;
/** Packed (series id, ts, value) triples, as a head batch stores them. */
const batch = (...triples: [number, number, number][]) => new Uint8Array(new Float64Array(triples.flat()).buffer);

test('a v1 database with data opens with the current schema and reads back the same', async () => {
  const path = join(dir, 'v1.db');
  const v1 = new DatabaseSync(path);
  migrate(v1, 'metrics', METRICS_MIGRATIONS.slice(0, 1));
  const watermark = T0 + 10 * DAY_MS - BLOCK_MS; // what v1's last maintenance round reached
  v1.exec(`INSERT INTO series (id, key, metric, labels, vm, last_ts, last_value) VALUES
    (1, 'cpu_percent{vm="old"}', 'cpu_percent', '{"vm":"old"}', 'old', ${T0 + 50 * MIN}, 30),
    (2, 'cpu_percent{vm="new"}', 'cpu_percent', '{"vm":"new"}', 'new', ${watermark - 10 * MIN}, 7)`);
  // Series 1: an hour compacted 10 days ago; raw past retention, so only its rollups are left.
  v1.exec(`INSERT INTO rollup_hourly VALUES (1, ${T0}, 6, 105, 10, 30, 30, ${T0 + 50 * MIN})`);
  v1.exec(`INSERT INTO rollup_daily VALUES (1, ${T0}, 6, 105, 10, 30, 30, ${T0 + 50 * MIN})`);
  // Series 2: a compacted block in a chunk, with its rollups.
  const chunkTs = [0, 1, 2].map((i) => watermark - BLOCK_MS + i * 50 * MIN);
  v1.prepare('INSERT INTO chunks VALUES (2, ?, ?, 3, ?)').run(
    watermark - BLOCK_MS,
    chunkTs[2]!,
    encodeChunk(chunkTs, [5, 6, 7]),
  );
  const h0 = watermark - BLOCK_MS;
  v1.exec(`INSERT INTO rollup_hourly VALUES (2, ${h0}, 2, 11, 5, 6, 6, ${chunkTs[1]}),
    (2, ${h0 + HOUR_MS}, 1, 7, 7, 7, 7, ${chunkTs[2]})`);
  v1.exec(`INSERT INTO rollup_daily VALUES (2, ${Math.floor(h0 / DAY_MS) * DAY_MS}, 3, 18, 5, 7, 7, ${chunkTs[2]})`);
  // One head batch straddling the watermark, kept whole by v1: two samples already compacted (one of them only in
  // the rollups of series 1's past-retention hour), and one above the watermark.
  v1.prepare('INSERT INTO head_batches (id, min_ts, max_ts, data) VALUES (?, ?, ?, ?)').run(
    7,
    T0 + 50 * MIN,
    watermark + 5 * MIN,
    batch([1, T0 + 50 * MIN, 30], [2, chunkTs[2]!, 7], [2, watermark + 5 * MIN, 8]),
  );
  v1.exec(`INSERT INTO store_meta VALUES ('watermark', ${watermark})`);
  v1.exec(`INSERT INTO outcomes (id, vm, ts, success, error, duration_ms, labels) VALUES
    (1, 'new', ${watermark + 5 * MIN}, 0, 'Connection timeout', 30000, '{}')`);
  v1.exec(`INSERT INTO vms VALUES ('old', '{}', NULL), ('new', '{}', 1)`);
  v1.close();

  const clock = new FakeClock(NOW);
  let store = await openStore({ path }, { clock });
  const version = store.db.prepare("SELECT version FROM schema_migrations WHERE component = 'metrics'").get() as {
    version: number;
  };
  assert.equal(version.version, METRICS_MIGRATIONS.length);
  const check = async (what: string, later: number[]) => {
    const raw = await store.query({ selector: { metric: 'cpu_percent' }, from: 0, to: NOW, resolution: 'raw' });
    // Series 1's sample is past raw retention and already in its rollups: not back in the head.
    assert.deepEqual(
      raw.filter((r) => r.points.length > 0).map((r) => [r.labels.vm, r.points.map((p) => p.value)]),
      [['new', [5, 6, 7, 8, ...later]]],
      `raw ${what}`,
    );
    const daily = await store.query({
      selector: { metric: 'cpu_percent', matchers: [{ name: 'vm', op: '=', value: 'old' }] },
      from: T0,
      to: NOW,
      resolution: 'daily',
      aggregation: 'count',
    });
    assert.deepEqual(daily[0]?.points, [{ ts: T0, value: 6 }], `series 1's day counted once ${what}`);
    const hourly = await store.query({
      selector: { metric: 'cpu_percent', matchers: [{ name: 'vm', op: '=', value: 'new' }] },
      from: watermark - BLOCK_MS,
      to: NOW,
      resolution: 'hourly',
      aggregation: 'sum',
    });
    assert.equal(
      hourly[0]?.points.reduce((a, p) => a + p.value, 0),
      [5, 6, 7, 8, ...later].reduce((a, b) => a + b),
      `series 2's hours ${what}`,
    );
    const vms = await store.listVms();
    assert.equal(vms.find((v) => v.vm === 'new')?.lastOutcome?.errorMessage, 'Connection timeout', what);
    assert.deepEqual(
      (await store.latest({ metric: 'cpu_percent' })).map((l) => [l.labels.vm, l.value]).sort(),
      [
        ['new', later.at(-1) ?? 8],
        ['old', 30],
      ],
      what,
    );
  };
  await check('right after the upgrade', []);
  // New batches get ids above v1's, and maintenance then reopening count nothing twice.
  await store.append([{ metric: 'cpu_percent', labels: { vm: 'new' }, ts: NOW - MIN, value: 9 }]);
  const ids = store.db.prepare('SELECT id FROM head_batches ORDER BY id').all() as { id: number }[];
  assert.deepEqual(
    ids.map((r) => r.id),
    [7, 8],
  );
  for (let i = 0; i < 1000 && (await store.maintain(NOW)).more; i++);
  await store.close();
  store = await openStore({ path }, { clock });
  for (let i = 0; i < 1000 && (await store.maintain(NOW)).more; i++);
  await check('after maintenance and a reopen', [9]);
  await store.close();
});
