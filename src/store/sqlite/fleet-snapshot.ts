/**
 * The fleet's latest values read straight from a store file, without opening the store: no migrations, no
 * in-memory head. Opening replays every durable head batch into per-series heads (about 100-200 ms for 1,000 VMs
 * with two hours of head); this only keeps the newest point per series, in flat arrays, so a dashboard can paint
 * before the store is open. Same rows as `readFleet` on the opened store.
 */
import { existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { STANDARD_METRICS } from '../../model/metrics.ts';
import { type FleetRow, fleetRows } from '../fleet.ts';
import type { LatestValue } from '../store.ts';
import { batchTriples } from './head.ts';
import { readVmStatuses } from './vm-status.ts';

/** A series of a listed VM: [id, VM rowid, standard metric index or -1, last_ts, last_value, below, batch]. */
type SeriesTuple = [number, number, number, number | null, number | null, number, number];

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
  // Numbers only, as arrays: no metric or VM name strings per series (the VM comes as its row id in `vms`, the
  // metric as its index among the standard ones), which is most of the cost of reading thousands of series. Only the
  // series of listed VMs: fleet rows are built for those alone.
  const metricIndex = STANDARD_METRICS.map((m, i) => `WHEN '${m}' THEN ${i}`).join(' ');
  const select = db.prepare(
    `SELECT s.id, v.rowid, CASE s.metric ${metricIndex} ELSE -1 END, s.last_ts, s.last_value, s.compacted_below,
       s.compacted_batch FROM series s JOIN vms v ON v.vm = s.vm`,
  );
  select.setReturnArrays(true);
  const series = select.all() as unknown as SeriesTuple[];
  const vmNames = new Map<number, string>();
  for (const r of db.prepare('SELECT rowid AS id, vm FROM vms').all() as { id: number; vm: string }[])
    vmNames.set(r.id, r.vm);
  // Indexed loops, not destructuring for-of: this runs once, cold (interpreted), before a first paint.
  let maxId = 0;
  for (let i = 0; i < series.length; i++) if (series[i]![0] > maxId) maxId = series[i]![0];
  const lastTs = new Float64Array(maxId + 1).fill(Number.NEGATIVE_INFINITY);
  const lastValue = new Float64Array(maxId + 1);
  const below = new Float64Array(maxId + 1).fill(Number.NEGATIVE_INFINITY);
  const belowBatch = new Float64Array(maxId + 1);
  for (let i = 0; i < series.length; i++) {
    const r = series[i]!;
    const id = r[0];
    if (r[3] !== null) {
      lastTs[id] = r[3];
      lastValue[id] = r[4] ?? 0;
    }
    below[id] = r[5];
    belowBatch[id] = r[6];
  }
  // Which batch each series' value came from: on equal timestamps the later write wins, as in the store's replay.
  const fromBatch = belowBatch.slice();
  // The scan stops once no batch left can hold a newer point for any of these series (batches newest first by their
  // newest point: usually one or two batches, not the whole head).
  const oldestWatched = (): number => {
    let m = Number.POSITIVE_INFINITY;
    for (let i = 0; i < series.length; i++) if (lastTs[series[i]![0]]! < m) m = lastTs[series[i]![0]]!;
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
    const triples = batchTriples((blob.get(r.id) as { data: Uint8Array }).data);
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
  for (let i = 0; i < series.length; i++) {
    const [id, vmId, metric] = series[i]!;
    const ts = lastTs[id]!;
    const vm = vmNames.get(vmId);
    if (vm === undefined || ts === Number.NEGATIVE_INFINITY) continue;
    if (ts > (lastSampleByVm.get(vm) ?? Number.NEGATIVE_INFINITY)) lastSampleByVm.set(vm, ts);
    // fleetRows reads only the VM label of a value.
    if (metric >= 0) values.push({ metric: STANDARD_METRICS[metric]!, labels: { vm }, ts, value: lastValue[id]! });
  }
  return fleetRows(readVmStatuses(db, lastSampleByVm), values, staleMs);
}
