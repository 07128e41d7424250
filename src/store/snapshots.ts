import { STANDARD_METRICS, type StandardMetric } from '../model/metrics.ts';
import type { VmSnapshot } from '../model/snapshot.ts';
import type { Resolution, Store } from './store.ts';

export interface SnapshotQuery {
  readonly vm: string;
  /** Inclusive range, epoch ms. */
  readonly from: number;
  readonly to: number;
  readonly resolution?: Resolution;
  /** Which standard metrics to read (default all seven); the others are null in every row. */
  readonly metrics?: readonly StandardMetric[];
}

type Row = { -readonly [K in keyof VmSnapshot]: VmSnapshot[K] };

/**
 * Builds the seed-compatible per-timestamp view of one VM: the standard metrics merged by timestamp,
 * plus collection outcomes (a failed attempt with no samples yields a row with success=false and its error).
 * Rows are sorted by timestamp.
 */
export async function readSnapshots(store: Store, q: SnapshotQuery): Promise<VmSnapshot[]> {
  const metrics = q.metrics ?? STANDARD_METRICS;
  const rows = new Map<number, Row>();
  let resourceGroup: string | null = null;
  let source: string | null = null;
  const row = (ts: number): Row => {
    let r = rows.get(ts);
    if (!r) {
      r = { vm: q.vm, ts, resourceGroup: null, source: null, success: true, errorMessage: null } as Row;
      for (const m of STANDARD_METRICS) r[m] = null;
      rows.set(ts, r);
    }
    return r;
  };
  for (const metric of metrics) {
    const results = await store.query({
      selector: { metric, matchers: [{ name: 'vm', op: '=', value: q.vm }] },
      from: q.from,
      to: q.to,
      resolution: q.resolution ?? 'auto',
    });
    for (const res of results) {
      resourceGroup ??= res.labels.resource_group ?? null;
      source ??= res.labels.source ?? null;
      for (const p of res.points) row(p.ts)[metric] = p.value;
    }
  }
  for (const o of await store.outcomes({ vm: q.vm, from: q.from, to: q.to })) {
    resourceGroup ??= o.labels.resource_group ?? null;
    source ??= o.labels.source ?? null;
    if (o.success && !rows.has(o.ts)) continue; // a success without samples adds nothing to show
    const r = row(o.ts);
    r.success = o.success;
    r.errorMessage = o.errorMessage;
  }
  const out = [...rows.values()].sort((a, b) => a.ts - b.ts);
  for (const r of out) {
    r.resourceGroup = resourceGroup;
    r.source = source;
  }
  return out;
}
