// Metrics store benchmark (the foundation issue's workload): a deterministic fleet of N VMs x 6 metrics, one sample
// per minute for D days, appended in time order one fleet-minute per append, with maintenance (compaction, rollups)
// run every simulated hour as `vigil up` would. Reports ingest rate (append only, and with maintenance), bytes per
// sample on disk, and median/p95 latency of the four reference queries.
// Flags: --vms N (1000) --days D (7) --runs R (20 per query). `--vms 100 --days 2` is a quick run.
// Every query's answer is checked for its expected shape before it is timed: a fast wrong answer is not a figure.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../src/clock.ts';
import type { Labels, Sample } from '../src/model/index.ts';
import { openStore } from '../src/store/open.ts';
import { DAY_MS, HOUR_MS, type SeriesResult } from '../src/store/store.ts';

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}

const METRICS = [
  'cpu_percent',
  'memory_percent',
  'disk_percent',
  'disk_read_bytes',
  'network_in_bytes',
  'network_out_bytes',
] as const;

/** Percentages with 2 decimals on smooth diurnal curves plus noise; byte counters as integers. */
function fleetMinute(labels: readonly Labels[], minute: number, ts: number, rnd: () => number): Sample[] {
  const out: Sample[] = [];
  const day = (minute / 1440) * 2 * Math.PI;
  for (let v = 0; v < labels.length; v++) {
    const l = labels[v]!;
    // Each VM has its own base load (10-59 %), so the fleet has a real top 10; a daily cycle and a faster wobble on top.
    const load = 10 + ((v * 37) % 50) + 20 * Math.sin(day + v) + 8 * Math.sin(day * 7 + v * 3);
    const pct = (x: number) => Math.round(Math.min(100, Math.max(0, x)) * 100) / 100;
    out.push(
      { metric: 'cpu_percent', labels: l, ts, value: pct(load + rnd() * 6) },
      { metric: 'memory_percent', labels: l, ts, value: pct(50 + (v % 30) + 5 * Math.sin(day) + rnd()) },
      { metric: 'disk_percent', labels: l, ts, value: pct(30 + (v % 40) + minute / 2880) },
      { metric: 'disk_read_bytes', labels: l, ts, value: Math.floor(load * 80_000 + rnd() * 400_000) },
      { metric: 'network_in_bytes', labels: l, ts, value: Math.floor(load * 150_000 + rnd() * 600_000) },
      { metric: 'network_out_bytes', labels: l, ts, value: Math.floor(load * 90_000 + rnd() * 300_000) },
    );
  }
  return out;
}

/** Throws unless the answer has `series` results of `points` points each. */
function expectShape(name: string, r: readonly SeriesResult[], series: number, points: number): void {
  const bad = r.find((x) => x.points.length !== points);
  if (r.length !== series || bad) {
    throw new Error(
      `${name}: expected ${series} series of ${points} points, got ${r.length} series${bad ? ` (one with ${bad.points.length} points)` : ''}`,
    );
  }
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function timed(runs: number, f: () => Promise<unknown>): Promise<{ medianMs: number; p95Ms: number }> {
  await f();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await f();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    medianMs: r(t[Math.floor(t.length / 2)]!),
    p95Ms: r(t[Math.min(t.length - 1, Math.floor(t.length * 0.95))]!),
  };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const vms = flag(args, 'vms', 1000);
  const days = flag(args, 'days', 7);
  const runs = flag(args, 'runs', 20);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-store-'));
  const path = join(dir, 'metrics.db');
  const minutes = days * 1440;
  const range = Math.min(days, 7) * DAY_MS;
  // The data starts so that the last `range` begins at a multiple of `range`: q3's one step then covers it whole
  // (step buckets are aligned to multiples of the step).
  const lead = minutes * 60_000 - range;
  const T0 = Math.ceil((Date.UTC(2026, 0, 1) + lead) / range) * range - lead;
  const clock = new FakeClock(T0);
  const store = await openStore({ path }, { clock });
  try {
    const labels = Array.from({ length: vms }, (_, i) => ({
      vm: `vm-${String(i).padStart(5, '0')}`,
      resource_group: `rg-${i % 10}`,
      source: 'bench',
    }));
    const rnd = lcg(42);
    let samples = 0;
    let appendMs = 0;
    let maintainMs = 0;
    let maxMaintainStepMs = 0;
    // Steps run with the production budget (the default of maintain(), as `vigil up` runs them).
    const stepMs: number[] = [];
    const maintainAll = async (now: number) => {
      for (let i = 0; i < 1_000_000; i++) {
        const s = performance.now();
        const r = await store.maintain(now);
        const d = performance.now() - s;
        maintainMs += d;
        if (d > maxMaintainStepMs) maxMaintainStepMs = d;
        stepMs.push(d);
        if (!r.more) return;
      }
    };
    for (let m = 0; m < minutes; m++) {
      const ts = T0 + m * 60_000;
      const batch = fleetMinute(labels, m, ts, rnd);
      const s = performance.now();
      await store.append(batch);
      appendMs += performance.now() - s;
      samples += batch.length;
      if (m % 60 === 59) {
        clock.set(ts);
        await maintainAll(ts);
      }
    }
    const end = T0 + minutes * 60_000;
    clock.set(end + 3 * HOUR_MS);
    await maintainAll(clock.now());
    store.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const hasChunks = store.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'chunks'").get();
    const chunk = hasChunks
      ? (store.db.prepare('SELECT sum(length(data)) AS bytes, sum(count) AS n FROM chunks').get() as {
          bytes: number;
          n: number;
        })
      : null;
    const pageSize = (store.db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
    const freePages = (store.db.prepare('PRAGMA freelist_count').get() as { freelist_count: number }).freelist_count;
    const fileBytes = statSync(path).size + (existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0);

    const vm = labels[Math.floor(vms / 2)]!.vm;
    const q1Query = () =>
      store.query({
        selector: { metric: 'cpu_percent', matchers: [{ name: 'vm', op: '=', value: vm }] },
        from: end - range,
        to: end,
        stepMs: HOUR_MS,
        aggregation: 'avg',
      });
    const q1Answer = await q1Query();
    expectShape('q1', q1Answer, 1, range / HOUR_MS);
    const q1 = await timed(runs, q1Query);

    const q2Answer = await store.latest({ matchers: [] });
    if (q2Answer.length !== vms * METRICS.length) throw new Error(`q2: ${q2Answer.length} latest values`);
    const q2 = await timed(runs, () => store.latest({ matchers: [] }));

    const q3Query = async () => {
      const r = await store.query({
        selector: { metric: 'cpu_percent' },
        from: end - range,
        to: end,
        stepMs: range,
        aggregation: 'avg',
      });
      return {
        r,
        top: r
          .map((x) => ({ vm: x.labels.vm!, avg: x.points[0]!.value }))
          .sort((a, b) => b.avg - a.avg)
          .slice(0, 10),
      };
    };
    const q3Answer = await q3Query();
    expectShape('q3', q3Answer.r, vms, 1);
    const q3 = await timed(runs, q3Query);

    const q4Query = () =>
      store.query({
        selector: { matchers: [{ name: 'vm', op: '=', value: vm }] },
        from: end - DAY_MS,
        to: end,
        resolution: 'raw',
      });
    expectShape('q4', await q4Query(), METRICS.length, 1440);
    const q4 = await timed(runs, q4Query);
    const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
    return {
      workload: { vms, metrics: METRICS.length, days, samples },
      ingest: {
        appendSamplesPerSec: Math.round(samples / (appendMs / 1000)),
        withMaintenanceSamplesPerSec: Math.round(samples / ((appendMs + maintainMs) / 1000)),
        maintenanceLongestStepMs: round(maxMaintainStepMs),
        maintenanceStepMs: (() => {
          const sorted = stepMs.slice().sort((a, b) => a - b);
          const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0);
          return { steps: sorted.length, p50: at(0.5), p99: at(0.99), max: round(maxMaintainStepMs) };
        })(),
        target: '>= 1,000,000 samples/s',
      },
      disk: {
        chunkBytesPerSample: chunk ? round(chunk.bytes / chunk.n, 3) : null,
        fileBytesPerSample: round(fileBytes / samples, 3),
        fileBytesPerSampleExcludingFreePages: round((fileBytes - freePages * pageSize) / samples, 3),
        fileBytes,
        target: '<= 2 bytes/sample raw',
      },
      queries: {
        q1_oneVmCpu7dHourlyAvg: { ...q1, tier: q1Answer[0]!.tier, target: '<= 10 ms' },
        q2_latestEverySeries: { ...q2, target: '<= 50 ms' },
        q3_top10VmsBy7dAvgCpu: {
          ...q3,
          tier: q3Answer.r[0]!.tier,
          target: '<= 100 ms',
          top3: q3Answer.top.slice(0, 3).map((x) => `${x.vm} ${round(x.avg)}`),
        },
        q4_oneVmAllMetricsRaw1d: { ...q4, target: '<= 20 ms' },
      },
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
