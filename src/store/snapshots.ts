import { STANDARD_METRICS, type StandardMetric } from '../model/metrics.ts';
import type { VmSnapshot } from '../model/snapshot.ts';
import { DAY_MS, HOUR_MS, type Resolution, type Store, type Tier } from './store.ts';

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
 * From a rollup tier, rows are one per hour or day and outcomes are folded into the bucket they fall in: a
 * bucket with failed attempts is success=false with the last error and how many attempts failed.
 * Rows are sorted by timestamp.
 */
export async function readSnapshots(store: Store, q: SnapshotQuery): Promise<VmSnapshot[]> {
  const metrics = q.metrics ?? STANDARD_METRICS;
  const rows = new Map<number, Row>();
  let resourceGroup: string | null = null;
  let source: string | null = null;
  let tier: Tier | null = q.resolution === undefined || q.resolution === 'auto' ? null : q.resolution;
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
      tier ??= res.tier;
      resourceGroup ??= res.labels.resource_group ?? null;
      source ??= res.labels.source ?? null;
      for (const p of res.points) row(p.ts)[metric] = p.value;
    }
  }
  const width = tier === 'hourly' ? HOUR_MS : tier === 'daily' ? DAY_MS : null;
  const failures = new Map<number, number>();
  for (const o of await store.outcomes({ vm: q.vm, from: q.from, to: q.to })) {
    resourceGroup ??= o.labels.resource_group ?? null;
    source ??= o.labels.source ?? null;
    if (width === null) {
      if (o.success && !rows.has(o.ts)) continue; // a success without samples adds nothing to show
      const r = row(o.ts);
      r.success = o.success;
      r.errorMessage = o.errorMessage;
      continue;
    }
    if (o.success) continue; // a bucket is ok unless an attempt in it failed
    const bucket = Math.floor(o.ts / width) * width;
    const n = (failures.get(bucket) ?? 0) + 1;
    failures.set(bucket, n);
    const r = row(bucket);
    r.success = false;
    const error = o.errorMessage ?? 'collection failed';
    r.errorMessage = n === 1 ? error : `${error} (${n} failed attempts)`;
  }
  const out = [...rows.values()].sort((a, b) => a.ts - b.ts);
  for (const r of out) {
    r.resourceGroup = resourceGroup;
    r.source = source;
  }
  return out;
}
