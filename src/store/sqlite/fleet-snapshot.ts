/**
 * The fleet's latest values read straight from a store file, without opening the store: no migrations, no
 * in-memory head. Opening replays every durable head batch into per-series heads (about 100-200 ms for 1,000 VMs
 * with two hours of head); this only keeps the newest point per series, in flat arrays, so a dashboard can paint
 * before the store is open. Same rows as `readFleet` on the opened store.
 */
import { existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { isStandardMetric } from '../../model/index.ts';
import { type FleetRow, fleetRows } from '../fleet.ts';
import type { LatestValue } from '../store.ts';
import { readVmStatuses } from './vm-status.ts';

type SeriesTuple = [number, string, string | null, number | null, number | null, number, number];

interface SeriesRow {
  id: number;
  metric: string;
  vm: string | null;
  last_ts: number | null;
  last_value: number | null;
  compacted_below: number;
  compacted_batch: number;
}

/**
 * `[]` when the file or its tables do not exist yet (nothing collected); null when the file cannot be read this way
 * (an older schema the store's open migrates, a file SQLite refuses read-only): open the store instead.
 */
export function readFleetSnapshot(path: string, opts: { staleMs?: number } = {}): FleetRow[] | null {
  if (!existsSync(path)) return [];
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch {
    return null;
  }
  try {
    const tables = db
      .prepare(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('series', 'head_batches', 'vms', 'outcomes')",
      )
      .get() as { n: number };
    if (tables.n < 4) return [];
    // One read transaction: series, head and VMs as of one moment, whatever a running `vigil up` commits meanwhile.
    db.exec('BEGIN');
    try {
      return snapshot(db, opts.staleMs);
    } finally {
      db.exec('COMMIT');
    }
  } catch {
    return null;
  } finally {
    db.close();
  }
}

function snapshot(db: DatabaseSync, staleMs: number | undefined): FleetRow[] {
  // Rows as arrays: a few times faster than objects for the thousands of series a fleet has.
  const select = db.prepare('SELECT id, metric, vm, last_ts, last_value, compacted_below, compacted_batch FROM series');
  select.setReturnArrays(true);
  const series = (select.all() as unknown as SeriesTuple[]).map(
    ([id, metric, vm, last_ts, last_value, compacted_below, compacted_batch]): SeriesRow => ({
      id,
      metric,
      vm,
      last_ts,
      last_value,
      compacted_below,
      compacted_batch,
    }),
  );
  let maxId = 0;
  for (const s of series) if (s.id > maxId) maxId = s.id;
  const lastTs = new Float64Array(maxId + 1).fill(Number.NEGATIVE_INFINITY);
  const lastValue = new Float64Array(maxId + 1);
  const below = new Float64Array(maxId + 1).fill(Number.NEGATIVE_INFINITY);
  const belowBatch = new Float64Array(maxId + 1);
  for (const s of series) {
    if (s.last_ts !== null) {
      lastTs[s.id] = s.last_ts;
      lastValue[s.id] = s.last_value ?? 0;
    }
    below[s.id] = s.compacted_below;
    belowBatch[s.id] = s.compacted_batch;
  }
  // Which batch each series' value came from: on equal timestamps the later write wins, as in the store's replay.
  const fromBatch = belowBatch.slice();
  // Only the series of listed VMs reach a fleet row; the scan stops once no batch left can hold a newer point for
  // any of them (batches newest first by their newest point: usually one or two batches, not the whole head).
  const listed = new Set((db.prepare('SELECT vm FROM vms').all() as { vm: string }[]).map((r) => r.vm));
  const watched = series.filter((s) => s.vm !== null && listed.has(s.vm)).map((s) => s.id);
  const oldestWatched = (): number => {
    let m = Number.POSITIVE_INFINITY;
    for (const id of watched) if (lastTs[id]! < m) m = lastTs[id]!;
    return m;
  };
  // The order comes from the small columns alone: sorting whole rows would copy every blob through the sorter.
  const order = db.prepare('SELECT id, max_ts FROM head_batches ORDER BY max_ts DESC, id DESC').all() as {
    id: number;
    max_ts: number;
  }[];
  const blob = db.prepare('SELECT data FROM head_batches WHERE id = ?');
  for (const r of order) {
    if (r.max_ts < oldestWatched()) break;
    const bytes = (blob.get(r.id) as { data: Uint8Array }).data;
    const triples =
      bytes.byteOffset % 8 === 0
        ? new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8)
        : new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    for (let i = 0; i < triples.length; i += 3) {
      const id = triples[i]! | 0;
      const ts = triples[i + 1]!;
      // A series committed after our series read (cannot happen inside the transaction, but a bad id must not write).
      if (id > maxId) continue;
      // Already compacted (and counted in series.last_ts), as the replay skips it.
      if (ts < below[id]! && r.id <= belowBatch[id]!) continue;
      if (ts > lastTs[id]! || (ts === lastTs[id]! && r.id >= fromBatch[id]!)) {
        lastTs[id] = ts;
        lastValue[id] = triples[i + 2]!;
        fromBatch[id] = r.id;
      }
    }
  }
  const lastSampleByVm = new Map<string, number>();
  const values: LatestValue[] = [];
  for (const s of series) {
    const ts = lastTs[s.id]!;
    if (s.vm === null || ts === Number.NEGATIVE_INFINITY) continue;
    if (ts > (lastSampleByVm.get(s.vm) ?? Number.NEGATIVE_INFINITY)) lastSampleByVm.set(s.vm, ts);
    // fleetRows reads only the VM label of a value.
    if (isStandardMetric(s.metric))
      values.push({ metric: s.metric, labels: { vm: s.vm }, ts, value: lastValue[s.id]! });
  }
  return fleetRows(readVmStatuses(db, lastSampleByVm), values, staleMs);
}
