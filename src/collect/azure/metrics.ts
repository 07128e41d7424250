/** Azure Monitor metric requests (batch and per-resource) and turning their responses into standard samples. */
import type { Labels, Sample } from '../../model/index.ts';

export const BATCH_API_VERSION = '2023-10-01';
export const ARM_METRICS_API_VERSION = '2018-01-01';
export const VM_NAMESPACE = 'Microsoft.Compute/virtualMachines';

export const METRIC = {
  cpu: 'Percentage CPU',
  availableBytes: 'Available Memory Bytes',
  availablePercent: 'Available Memory Percentage',
  diskRead: 'Disk Read Bytes',
  diskWrite: 'Disk Write Bytes',
  networkIn: 'Network In Total',
  networkOut: 'Network Out Total',
} as const;

/** Supported query grains (ISO-8601 duration, ms), smallest first. */
const GRAINS: readonly [string, number][] = [
  ['PT1M', 60_000],
  ['PT5M', 300_000],
  ['PT15M', 900_000],
  ['PT30M', 1_800_000],
  ['PT1H', 3_600_000],
];

export interface QueryWindow {
  readonly startMs: number;
  readonly endMs: number;
  readonly grain: string;
  readonly grainMs: number;
  /** The collection interval: bytes samples are totals per interval (the model's rule). */
  readonly intervalMs: number;
  /**
   * How a grain's byte totals become per-interval totals: `sum` the interval/grain buckets of each interval (the
   * grain divides the interval), or `scale` each bucket by interval/grain (no supported grain divides it, e.g.
   * 10 s or 90 s: the bucket's average per interval).
   */
  readonly bytes: 'sum' | 'scale';
}

/**
 * The window a cycle asks for: complete buckets only (end = now floored to the grain), reaching `windowMs` back so
 * points that arrive late (Azure's 1-3 min ingestion lag) or were missed by a failed cycle are still picked up.
 * The grain is the largest supported one that divides the collection interval (PT1M when none does); the window
 * starts on an interval boundary, so each interval's buckets are all inside it.
 */
export function queryWindow(now: number, intervalMs: number, windowMs: number): QueryWindow {
  let [grain, grainMs] = GRAINS[0]!;
  let divides = false;
  for (const [g, ms] of GRAINS) {
    if (ms <= intervalMs && intervalMs % ms === 0) {
      [grain, grainMs] = [g, ms];
      divides = true;
    }
  }
  const endMs = Math.floor(now / grainMs) * grainMs;
  const spanMs = Math.max(grainMs * 3, Math.ceil(windowMs / grainMs) * grainMs);
  const startMs = divides ? Math.floor((endMs - spanMs) / intervalMs) * intervalMs : endMs - spanMs;
  return { startMs, endMs, grain, grainMs, intervalMs, bytes: divides ? 'sum' : 'scale' };
}

export function metricNames(withPercent: boolean): string[] {
  return Object.values(METRIC).filter((n) => withPercent || n !== METRIC.availablePercent);
}

/** Query string of a `metrics:getBatch` call. */
export function batchQuery(w: QueryWindow, names: readonly string[]): string {
  return [
    `starttime=${new Date(w.startMs).toISOString()}`,
    `endtime=${new Date(w.endMs).toISOString()}`,
    `interval=${w.grain}`,
    `metricnamespace=${encodeURIComponent(VM_NAMESPACE)}`,
    `metricnames=${names.map(encodeURIComponent).join(',')}`,
    'aggregation=average,total',
    `api-version=${BATCH_API_VERSION}`,
  ].join('&');
}

/** Query string of a per-resource ARM metrics call. */
export function resourceQuery(w: QueryWindow, names: readonly string[]): string {
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  return [
    `api-version=${ARM_METRICS_API_VERSION}`,
    `metricnames=${names.map(encodeURIComponent).join(',')}`,
    `timespan=${iso(w.startMs)}/${iso(w.endMs)}`,
    `interval=${w.grain}`,
    'aggregation=Average,Total',
  ].join('&');
}

interface MetricValue {
  timeStamp?: string;
  average?: number;
  total?: number;
}

export interface ApiMetric {
  name?: { value?: string };
  errorCode?: string;
  errorMessage?: string;
  timeseries?: { data?: MetricValue[] }[];
}

export interface SeriesPoints {
  /** ts → value; a bucket with only a timeStamp (no data yet) is absent, never 0. */
  readonly average: Map<number, number>;
  readonly total: Map<number, number>;
  readonly errorCode?: string;
}

/** Indexes a response's metrics by lower-cased name. */
export function indexMetrics(value: readonly ApiMetric[] | undefined): Map<string, SeriesPoints> {
  const out = new Map<string, SeriesPoints>();
  for (const m of value ?? []) {
    const name = m.name?.value?.toLowerCase();
    if (!name) continue;
    const average = new Map<number, number>();
    const total = new Map<number, number>();
    for (const ts of m.timeseries ?? []) {
      for (const p of ts.data ?? []) {
        const t = p.timeStamp ? Date.parse(p.timeStamp) : Number.NaN;
        if (!Number.isFinite(t)) continue;
        if (typeof p.average === 'number' && Number.isFinite(p.average)) average.set(t, p.average);
        if (typeof p.total === 'number' && Number.isFinite(p.total)) total.set(t, p.total);
      }
    }
    const errorCode = m.errorCode && m.errorCode !== 'Success' ? m.errorCode : undefined;
    out.set(name, errorCode ? { average, total, errorCode } : { average, total });
  }
  return out;
}

/**
 * Buckets younger than this (from their start to the window's end) may still grow: Azure answers a partial value
 * for a bucket it is still ingesting. Such a bucket is sent again when its value changes (the store replaces a
 * sample with the same series and timestamp); older ones are final and sent once.
 */
export const SETTLE_MS = 5 * 60_000;

/** The value stored for each (metric, timestamp) of one VM, so overlapping windows store each point once. */
export class StoredPoints {
  private readonly seen = new Map<string, Map<number, number>>();

  get(metric: string, ts: number): number | undefined {
    return this.seen.get(metric)?.get(ts);
  }

  has(metric: string, ts: number): boolean {
    return this.seen.get(metric)?.has(ts) ?? false;
  }

  add(metric: string, ts: number, value: number): void {
    let s = this.seen.get(metric);
    if (!s) {
      s = new Map();
      this.seen.set(metric, s);
    }
    s.set(ts, value);
  }

  /** Drops timestamps older than the current window: they can no longer come back. */
  prune(beforeMs: number): void {
    for (const s of this.seen.values()) for (const ts of s.keys()) if (ts < beforeMs) s.delete(ts);
  }
}

export interface VmSamples {
  readonly samples: Sample[];
  /** True when the window held at least one value (new or already stored). */
  readonly hasData: boolean;
  /** Per-metric error codes, when every metric failed. */
  readonly errorCode?: string;
}

/**
 * Converts one VM's metrics into samples: points not stored yet, and points younger than `SETTLE_MS` whose value
 * changed since they were stored (a partial bucket that grew).
 */
export function vmSamples(
  metrics: Map<string, SeriesPoints>,
  memoryGiB: number | undefined,
  labels: Labels,
  stored: StoredPoints,
  window: QueryWindow,
): VmSamples {
  const samples: Sample[] = [];
  const get = (name: string) => metrics.get(name.toLowerCase());
  const emit = (metric: string, ts: number, value: number) => {
    if (ts < window.startMs) return;
    const before = stored.get(metric, ts);
    if (before !== undefined && (before === value || ts < window.endMs - SETTLE_MS)) return;
    stored.add(metric, ts, value);
    samples.push({ metric, labels, ts, value });
  };
  let hasData = false;
  const cpu = get(METRIC.cpu);
  for (const [ts, v] of cpu?.average ?? []) {
    hasData = true;
    emit('cpu_percent', ts, round2(clamp(v)));
  }
  const pct = get(METRIC.availablePercent);
  const bytes = get(METRIC.availableBytes);
  const memoryTs = new Set<number>([...(pct?.average.keys() ?? []), ...(bytes?.average.keys() ?? [])]);
  for (const ts of memoryTs) {
    const availPct = pct?.average.get(ts);
    const availBytes = bytes?.average.get(ts);
    hasData = true;
    if (availPct !== undefined) emit('memory_percent', ts, round2(clamp(100 - availPct)));
    else if (availBytes !== undefined && memoryGiB) {
      emit('memory_percent', ts, round2(clamp(100 * (1 - availBytes / (memoryGiB * 2 ** 30)))));
    }
  }
  const counters: [string, string][] = [
    [METRIC.diskRead, 'disk_read_bytes'],
    [METRIC.diskWrite, 'disk_write_bytes'],
    [METRIC.networkIn, 'network_in_bytes'],
    [METRIC.networkOut, 'network_out_bytes'],
  ];
  for (const [azureName, metric] of counters) {
    const totals = get(azureName)?.total ?? new Map<number, number>();
    if (totals.size > 0) hasData = true;
    for (const [ts, v] of bytesPerInterval(totals, window)) emit(metric, ts, Math.round(v));
  }
  samples.sort((a, b) => a.ts - b.ts);
  const errors = [...metrics.values()].map((m) => m.errorCode).filter((c): c is string => c !== undefined);
  const allFailed = metrics.size > 0 && errors.length === metrics.size;
  return allFailed ? { samples, hasData, errorCode: errors[0]! } : { samples, hasData };
}

/**
 * A grain's byte totals as totals per collection interval (the model: bytes metrics are per interval). `sum`: each
 * interval (aligned to the epoch, as the scheduler's cycles are) whose buckets all have data becomes one sample at
 * the interval's start; an interval still missing a bucket waits for a later cycle. `scale`: each bucket × interval
 * / grain, at the bucket's time.
 */
export function bytesPerInterval(totals: ReadonlyMap<number, number>, w: QueryWindow): Map<number, number> {
  const out = new Map<number, number>();
  if (w.bytes === 'scale') {
    for (const [ts, v] of totals) out.set(ts, (v * w.intervalMs) / w.grainMs);
    return out;
  }
  const per = w.intervalMs / w.grainMs;
  const sums = new Map<number, { sum: number; n: number }>();
  for (const [ts, v] of totals) {
    const start = Math.floor(ts / w.intervalMs) * w.intervalMs;
    const s = sums.get(start) ?? { sum: 0, n: 0 };
    s.sum += v;
    s.n++;
    sums.set(start, s);
  }
  for (const [start, s] of sums) if (s.n === per) out.set(start, s.sum);
  return out;
}

function clamp(v: number): number {
  return Math.min(100, Math.max(0, v));
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
