/**
 * The Store conformance suite: the contract of src/store/store.ts, written once and run against every backend
 * (`storeConformance('sqlite', open)`).
 *
 * Expected values are either written out by hand (small datasets, the arithmetic in comments) or computed by the
 * brute-force oracle in this file over exactly the samples the test wrote. Nothing here comes from a backend's code,
 * not even src/store/aggregate.ts: a mistake shared by the store and its tests would otherwise go unseen.
 *
 * The backend under test is opened with the default retention (raw 7 d, hourly 30 d, daily 90 d) and reads `now`
 * from the FakeClock it is given (for `auto` resolution). A series with no point in a query's range may be returned
 * with no points or left out; the suite treats both alike. `last` is only asked of buckets without timestamp ties.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FakeClock } from '../clock.ts';
import type { CollectionOutcome, Labels, Point, Sample, SeriesSelector } from '../model/index.ts';
import {
  type Aggregation,
  DAY_MS,
  HOUR_MS,
  type SeriesQuery,
  type SeriesResult,
  type Store,
  type Tier,
} from './store.ts';

/** Opens the backend on files under `dir` (a fresh empty directory per case; the same `dir` again reopens). */
export type OpenStore = (clock: FakeClock, dir: string) => Promise<Store>;

/** What a backend implements; everything defaults to true. A backend without a feature skips its cases. */
export interface ConformanceOptions {
  /** Hourly and daily rollup tiers, `auto` tier choice, retention per tier. */
  readonly tiers?: boolean;
  /** Exact p50/p90/p95/p99 on raw data. */
  readonly percentiles?: boolean;
  /** Data survives `close()` and a new `open()` on the same directory. */
  readonly durable?: boolean;
}

const T0 = Date.UTC(2026, 5, 1); // a UTC midnight
const MIN = 60_000;
const BASIC: readonly Aggregation[] = ['avg', 'min', 'max', 'sum', 'count', 'last'];
const PERCENTILE: readonly Aggregation[] = ['p50', 'p90', 'p95', 'p99'];

// ---------------------------------------------------------------------------------------------------------------
// The oracle

/** R-7 (numpy's default): linear interpolation between the closest ranks of the sorted values. */
export function percentileR7(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * p;
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (rank - below) * (sorted[above]! - sorted[below]!);
}

const QUANTILE: Readonly<Record<string, number>> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99 };

function expectedAggregate(agg: Aggregation, points: readonly Point[]): number {
  const values = points.map((p) => p.value);
  switch (agg) {
    case 'count':
      return values.length;
    case 'sum':
      return values.reduce((a, b) => a + b, 0);
    case 'avg':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'min':
      return values.reduce((a, b) => (b < a ? b : a));
    case 'max':
      return values.reduce((a, b) => (b > a ? b : a));
    case 'last': {
      const latest = Math.max(...points.map((p) => p.ts));
      const at = points.filter((p) => p.ts === latest);
      if (at.length > 1) throw new Error('oracle: `last` asked of a bucket with a timestamp tie');
      return at[0]!.value;
    }
    default:
      return percentileR7(values, QUANTILE[agg]!);
  }
}

function labelsMatch(selector: SeriesSelector, metric: string, labels: Labels): boolean {
  if (selector.metric !== undefined && selector.metric !== metric) return false;
  return (selector.matchers ?? []).every((m) => {
    const v = labels[m.name] ?? '';
    if (m.op === '=') return v === m.value;
    if (m.op === '!=') return v !== m.value;
    const matches = new RegExp(`^(?:${m.value})$`).test(v);
    return m.op === '=~' ? matches : !matches;
  });
}

function keyOf(metric: string, labels: Labels): string {
  return metric + JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1))));
}

interface OracleSeries {
  readonly metric: string;
  readonly labels: Labels;
  readonly points: Map<number, number>;
}

/** Every sample the test wrote; a later write of the same series and timestamp replaces the earlier one. */
class Oracle {
  readonly series = new Map<string, OracleSeries>();

  add(samples: readonly Sample[]): void {
    for (const s of samples) {
      const k = keyOf(s.metric, s.labels);
      let e = this.series.get(k);
      if (!e) {
        e = { metric: s.metric, labels: { ...s.labels }, points: new Map() };
        this.series.set(k, e);
      }
      e.points.set(s.ts, s.value);
    }
  }

  get size(): number {
    let n = 0;
    for (const e of this.series.values()) n += e.points.size;
    return n;
  }

  /**
   * The answer of the raw tier, or of a rollup tier when `bucketMs` (the tier width) is given and the range is
   * aligned to it: points bucketed by `floor(ts / step) * step` (exact timestamps without a step), series pooled per
   * group, aggregated. Series with no point in range are left out.
   */
  answer(q: SeriesQuery, bucketMs?: number): Map<string, Point[]> {
    const agg = q.aggregation ?? 'avg';
    const step = q.stepMs ?? bucketMs;
    const groups = new Map<string, Map<number, Point[]>>();
    for (const e of this.series.values()) {
      if (!labelsMatch(q.selector, e.metric, e.labels)) continue;
      const labels = q.groupBy ? Object.fromEntries(q.groupBy.map((n) => [n, e.labels[n] ?? ''])) : e.labels;
      const key = keyOf(e.metric, labels);
      for (const [ts, value] of e.points) {
        if (ts < q.from || ts > q.to) continue;
        const bucket = step ? Math.floor(ts / step) * step : ts;
        let g = groups.get(key);
        if (!g) {
          g = new Map();
          groups.set(key, g);
        }
        const list = g.get(bucket) ?? [];
        list.push({ ts, value });
        g.set(bucket, list);
      }
    }
    const out = new Map<string, Point[]>();
    for (const [key, g] of groups) {
      out.set(
        key,
        [...g.entries()]
          .sort(([a], [b]) => a - b)
          .map(([ts, points]) => ({ ts, value: expectedAggregate(agg, points) })),
      );
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Assertions

/** The store's answer keyed like the oracle's; results with no points are dropped (see the header). */
function keyed(results: readonly SeriesResult[]): Map<string, Point[]> {
  const out = new Map<string, Point[]>();
  for (const r of results) {
    if (r.points.length === 0) continue;
    const k = keyOf(r.metric, r.labels);
    assert.ok(!out.has(k), `two results for ${k}`);
    out.set(k, [...r.points]);
  }
  return out;
}

function near(actual: number, expected: number): boolean {
  return Object.is(actual, expected) || Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}

/** Compares answers point by point; `exact` demands bit-identical values (raw points, no aggregation). */
function assertAnswer(
  actual: readonly SeriesResult[],
  expected: Map<string, Point[]>,
  what: string,
  exact = false,
): void {
  const got = keyed(actual);
  assert.deepEqual([...got.keys()].sort(), [...expected.keys()].sort(), `${what}: which series`);
  for (const [k, want] of expected) {
    const have = got.get(k)!;
    assert.deepEqual(
      have.map((p) => p.ts),
      want.map((p) => p.ts),
      `${what}: timestamps of ${k}`,
    );
    for (let i = 0; i < want.length; i++) {
      const ok = exact ? Object.is(have[i]!.value, want[i]!.value) : near(have[i]!.value, want[i]!.value);
      assert.ok(
        ok,
        `${what}: ${k} at ${new Date(want[i]!.ts).toISOString()}: got ${have[i]!.value}, expected ${want[i]!.value}`,
      );
    }
  }
}

function assertTier(results: readonly SeriesResult[], tier: Tier, what: string): void {
  for (const r of results) assert.equal(r.tier, tier, `${what}: tier of ${keyOf(r.metric, r.labels)}`);
}

async function drain(store: Store, now: number, budgetMs = 50): Promise<number> {
  for (let calls = 1; calls <= 20_000; calls++) if (!(await store.maintain(now, budgetMs)).more) return calls;
  throw new Error('maintenance still reports more work after 20,000 steps');
}

/** The points of the one series with points in an answer (failing when there are none or several). */
function only(results: readonly SeriesResult[]): Point[] {
  const r = results.filter((x) => x.points.length > 0);
  assert.equal(r.length, 1, `expected one series with points, got ${r.length}`);
  return [...r[0]!.points];
}

// ---------------------------------------------------------------------------------------------------------------
// Datasets

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const FLEET_VMS: readonly Labels[] = Array.from({ length: 6 }, (_, i) => ({
  vm: `vm-${i}`,
  resource_group: `rg-${i % 3}`,
  source: 'test',
  ...(i === 4 ? { tenant: 't1' } : {}),
}));

/**
 * 26 hours of a six-VM fleet (cpu_percent with 2 decimals, network_in_bytes integers, memory_percent on some VMs),
 * with gaps, duplicates inside a batch and across batches, and batches held back and appended out of order.
 * Timestamps never tie across VMs (each VM has its own second within the minute), so grouped `last` is defined.
 */
function randomFleet(seed: number): { inOrder: Sample[][]; heldBack: Sample[][] } {
  const rnd = lcg(seed);
  const inOrder: Sample[][] = [];
  const heldBack: Sample[][] = [];
  const written: Sample[] = [];
  for (let m = 0; m < 26 * 60; m += 1 + Math.floor(rnd() * 3)) {
    const batch: Sample[] = [];
    FLEET_VMS.forEach((labels, v) => {
      if (rnd() < 0.1) return; // a missed collection
      const base = T0 + m * MIN + v * 1000;
      batch.push({
        metric: 'cpu_percent',
        labels,
        ts: base + Math.floor(rnd() * 900),
        value: Math.round(rnd() * 1e4) / 100,
      });
      batch.push({ metric: 'network_in_bytes', labels, ts: base, value: Math.floor(rnd() * 1e7) });
      if (v % 2 === 0) batch.push({ metric: 'memory_percent', labels, ts: base, value: Math.round(rnd() * 1e4) / 100 });
    });
    if (batch.length === 0) continue;
    if (rnd() < 0.05) batch.push({ ...batch[0]!, value: 42 }); // a duplicate inside the batch: the later one counts
    if (rnd() < 0.05 && written.length > 0) {
      const old = written[Math.floor(rnd() * written.length)]!; // a re-sent sample with a corrected value
      batch.push({ ...old, value: old.value + 0.5 });
    }
    written.push(...batch);
    (rnd() < 0.08 ? heldBack : inOrder).push(batch);
  }
  return { inOrder, heldBack };
}

/** Late samples after compaction: new points in closed blocks, replacements of compacted points, one in the open block. */
function lateSamples(oracle: Oracle): Sample[] {
  const vm1 = FLEET_VMS[1]!;
  const cpu = oracle.series.get(keyOf('cpu_percent', vm1))!;
  const compactedTs = [...cpu.points.keys()].filter((ts) => ts < T0 + 4 * HOUR_MS).sort((a, b) => a - b);
  return [
    { metric: 'cpu_percent', labels: vm1, ts: T0 + 5 * HOUR_MS + 7, value: 99.99 },
    { metric: 'cpu_percent', labels: vm1, ts: compactedTs[3]!, value: 0.25 },
    { metric: 'network_in_bytes', labels: FLEET_VMS[2]!, ts: T0 + HOUR_MS + 2000 + 1, value: 123 },
    { metric: 'cpu_percent', labels: FLEET_VMS[0]!, ts: T0 + 25 * HOUR_MS + 59 * MIN + 999, value: 1.5 },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The suite

export function storeConformance(name: string, open: OpenStore, options: ConformanceOptions = {}): void {
  const tiers = options.tiers ?? true;
  const percentiles = options.percentiles ?? true;
  const durable = options.durable ?? true;
  const aggs = percentiles ? [...BASIC, ...PERCENTILE] : BASIC;
  const test = (title: string, fn: () => Promise<void>) => it(title, fn);

  /** A fresh store in its own directory, closed and removed afterwards; `reopen` closes and opens the same files. */
  async function withStore(
    now: number,
    body: (s: { clock: FakeClock; store: Store; reopen(): Promise<Store> }) => Promise<void>,
  ): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-conformance-'));
    const clock = new FakeClock(now);
    let store = await open(clock, dir);
    try {
      await body({
        clock,
        get store() {
          return store;
        },
        async reopen() {
          await store.close();
          store = await open(clock, dir);
          return store;
        },
      });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Loads the random fleet; returns its oracle. */
  async function loadFleet(store: Store, seed: number): Promise<Oracle> {
    const oracle = new Oracle();
    const { inOrder, heldBack } = randomFleet(seed);
    for (const batch of [...inOrder, ...heldBack]) {
      await store.append(batch);
      oracle.add(batch);
    }
    return oracle;
  }

  /**
   * Runs `check` at every stage of a store's life: head only, after compaction, after late samples and
   * replacements landed in compacted blocks, after those were compacted, and after a reopen.
   */
  async function throughLifecycle(seed: number, check: (store: Store, oracle: Oracle, stage: string) => Promise<void>) {
    const failures: string[] = [];
    const stage = async (store: Store, oracle: Oracle, name: string) => {
      try {
        await check(store, oracle, name);
      } catch (e) {
        if (!(e instanceof assert.AssertionError)) throw e;
        failures.push(e.message);
      }
    };
    await withStore(T0 + 2 * DAY_MS, async (s) => {
      const oracle = await loadFleet(s.store, seed);
      await stage(s.store, oracle, 'head only');
      await drain(s.store, s.clock.now());
      await stage(s.store, oracle, 'after compaction');
      const late = lateSamples(oracle);
      await s.store.append(late);
      oracle.add(late);
      await stage(s.store, oracle, 'after late samples');
      await drain(s.store, s.clock.now());
      await stage(s.store, oracle, 'after the late samples were compacted');
      if (durable) await stage(await s.reopen(), oracle, 'after a reopen');
    });
    // Every stage ran; all that failed are reported together.
    assert.deepEqual(failures, []);
  }

  describe(`Store conformance: ${name}`, () => {
    describe('writes and raw reads', () => {
      test('reads back an append as soon as it resolves; a duplicate replaces; out-of-order samples are accepted', async () => {
        await withStore(T0 + HOUR_MS, async ({ store }) => {
          const a = { vm: 'a', resource_group: 'rg' };
          const raw = {
            selector: { metric: 'cpu_percent' },
            from: T0 - DAY_MS,
            to: T0 + DAY_MS,
            resolution: 'raw',
          } as const;
          await store.append([
            { metric: 'cpu_percent', labels: a, ts: T0 + 2 * MIN, value: 2 },
            { metric: 'cpu_percent', labels: a, ts: T0, value: 0 },
            { metric: 'cpu_percent', labels: a, ts: T0 + MIN, value: 1 },
            { metric: 'cpu_percent', labels: a, ts: T0 + MIN, value: 1.25 }, // same batch: the later one counts
          ]);
          assert.deepEqual(only(await store.query(raw)), [
            { ts: T0, value: 0 },
            { ts: T0 + MIN, value: 1.25 },
            { ts: T0 + 2 * MIN, value: 2 },
          ]);
          await store.append([{ metric: 'cpu_percent', labels: a, ts: T0 + MIN, value: 1.5 }]); // replaces
          await store.append([{ metric: 'cpu_percent', labels: a, ts: T0 - 5 * HOUR_MS, value: -3 }]); // earlier block
          const r = await store.query(raw);
          assert.equal(r.length, 1);
          assert.equal(r[0]!.metric, 'cpu_percent');
          assert.deepEqual(r[0]!.labels, a);
          assert.equal(r[0]!.tier, 'raw');
          assert.deepEqual(r[0]!.points, [
            { ts: T0 - 5 * HOUR_MS, value: -3 },
            { ts: T0, value: 0 },
            { ts: T0 + MIN, value: 1.5 },
            { ts: T0 + 2 * MIN, value: 2 },
          ]);
        });
      });

      test('treats the range as inclusive at both ends', async () => {
        await withStore(T0 + HOUR_MS, async ({ store }) => {
          const labels = { vm: 'a' };
          await store.append([0, 1, 2, 3].map((i) => ({ metric: 'm', labels, ts: T0 + i * MIN, value: i })));
          const values = async (from: number, to: number) =>
            (await store.query({ selector: { metric: 'm' }, from, to, resolution: 'raw' })).flatMap((r) =>
              r.points.map((p) => p.value),
            );
          assert.deepEqual(await values(T0 + MIN, T0 + 2 * MIN), [1, 2]);
          assert.deepEqual(await values(T0 + MIN, T0 + MIN), [1]);
          assert.deepEqual(await values(T0 + MIN + 1, T0 + 2 * MIN - 1), []);
          assert.deepEqual(await values(T0 + 4 * MIN, T0 + 9 * MIN), []);
        });
      });

      test('keeps every double bit-exact through compaction', async () => {
        const special = [0.1, 0.1 + 0.2, -0, 0, 5e-324, 1e-300, 2 ** 53 + 2, -1.5, 1e308, 123456789.123, 99.99, 1 / 3];
        await withStore(T0 + DAY_MS, async ({ store, clock }) => {
          const labels = { vm: 'x' };
          const samples = special.map((value, i) => ({ metric: 'odd', labels, ts: T0 + i * MIN, value }));
          await store.append(samples);
          const q = { selector: { metric: 'odd' }, from: T0, to: T0 + HOUR_MS, resolution: 'raw' } as const;
          const expected = samples.map((s) => ({ ts: s.ts, value: s.value }));
          assert.deepEqual(only(await store.query(q)), expected, 'from the head');
          await drain(store, clock.now());
          assert.deepEqual(only(await store.query(q)), expected, 'from chunks');
        });
      });

      test('selects series by metric and by =, !=, =~ (fully anchored) and !~ matchers; a missing label is ""', async () => {
        await withStore(T0 + HOUR_MS, async ({ store }) => {
          const vms: Labels[] = [
            { vm: 'vm-1', resource_group: 'web' },
            { vm: 'vm-10', resource_group: 'web', tenant: 'acme' },
            { vm: 'db-1', resource_group: 'data' },
          ];
          await store.append(
            vms.flatMap((labels, i) => [
              { metric: 'cpu_percent', labels, ts: T0 + i, value: i },
              { metric: 'memory_percent', labels, ts: T0 + i, value: 10 + i },
            ]),
          );
          const cases: [SeriesSelector, string[]][] = [
            [{ metric: 'cpu_percent' }, ['cpu_percent/db-1', 'cpu_percent/vm-1', 'cpu_percent/vm-10']],
            [{ matchers: [{ name: 'vm', op: '=', value: 'vm-1' }] }, ['cpu_percent/vm-1', 'memory_percent/vm-1']],
            [{ metric: 'cpu_percent', matchers: [{ name: 'vm', op: '=~', value: 'vm-1' }] }, ['cpu_percent/vm-1']],
            [
              { metric: 'cpu_percent', matchers: [{ name: 'vm', op: '=~', value: 'vm-.*' }] },
              ['cpu_percent/vm-1', 'cpu_percent/vm-10'],
            ],
            [
              { metric: 'cpu_percent', matchers: [{ name: 'vm', op: '!~', value: 'vm-1' }] },
              ['cpu_percent/db-1', 'cpu_percent/vm-10'],
            ],
            [
              { metric: 'cpu_percent', matchers: [{ name: 'resource_group', op: '!=', value: 'web' }] },
              ['cpu_percent/db-1'],
            ],
            [
              { metric: 'cpu_percent', matchers: [{ name: 'tenant', op: '=', value: '' }] },
              ['cpu_percent/db-1', 'cpu_percent/vm-1'],
            ],
            [{ metric: 'cpu_percent', matchers: [{ name: 'tenant', op: '!=', value: '' }] }, ['cpu_percent/vm-10']],
            [
              {
                metric: 'memory_percent',
                matchers: [
                  { name: 'resource_group', op: '=', value: 'web' },
                  { name: 'vm', op: '!=', value: 'vm-10' },
                ],
              },
              ['memory_percent/vm-1'],
            ],
            [{ metric: 'disk_percent' }, []],
          ];
          const names = (xs: { metric: string; labels: Labels }[]) =>
            xs.map((x) => `${x.metric}/${x.labels.vm}`).sort();
          for (const [selector, want] of cases) {
            const what = JSON.stringify(selector);
            assert.deepEqual(names(await store.series(selector)), want, `series ${what}`);
            assert.deepEqual(names(await store.latest(selector)), want, `latest ${what}`);
            const r = await store.query({ selector, from: T0, to: T0 + MIN, resolution: 'raw' });
            assert.deepEqual(names(r.filter((x) => x.points.length > 0)), want, `query ${what}`);
          }
          // Labels come back whole, as written.
          const [one] = await store.series({
            matchers: [
              { name: 'tenant', op: '=', value: 'acme' },
              { name: 'vm', op: '=', value: 'vm-10' },
            ],
            metric: 'cpu_percent',
          });
          assert.deepEqual(one, { metric: 'cpu_percent', labels: vms[1] });
        });
      });
    });

    describe('aggregation', () => {
      // One series; the query starts mid-bucket so the first bucket holds only part of its samples.
      //   T0+0m 10 | T0+3m 20 | T0+7m 60 || T0+10m 5 || T0+21m 3 | T0+25m 1 | T0+29m59.999s 2 (after `to`)
      // from T0+3m to T0+25m, step 10 min: buckets T0 [20, 60], T0+10m [5], T0+20m [3, 1].
      const handExpected: Record<Aggregation, number[]> = {
        avg: [40, 5, 2],
        min: [20, 5, 1],
        max: [60, 5, 3],
        sum: [80, 5, 4],
        count: [2, 1, 2],
        last: [60, 5, 1],
        p50: [40, 5, 2], // [20,60]: rank 0.5 -> 40; [1,3]: rank 0.5 -> 2
        p90: [56, 5, 2.8], // 20 + 0.9 * 40; 1 + 0.9 * 2
        p95: [58, 5, 2.9],
        p99: [59.6, 5, 2.98],
      };
      for (const agg of aggs) {
        test(`step buckets start at multiples of the step: ${agg}`, async () => {
          await withStore(T0 + HOUR_MS, async ({ store, clock }) => {
            const labels = { vm: 's' };
            const at = (m: number, value: number, extraMs = 0) => ({
              metric: 'cpu_percent',
              labels,
              ts: T0 + m * MIN + extraMs,
              value,
            });
            await store.append([at(25, 1), at(0, 10), at(3, 20)]);
            await store.append([at(7, 60), at(10, 5), at(29, 2, 59_999), at(21, 3)]);
            const q: SeriesQuery = {
              selector: { metric: 'cpu_percent' },
              from: T0 + 3 * MIN,
              to: T0 + 25 * MIN,
              resolution: 'raw',
              stepMs: 10 * MIN,
              aggregation: agg,
            };
            const want = [T0, T0 + 10 * MIN, T0 + 20 * MIN].map((ts, i) => ({ ts, value: handExpected[agg][i]! }));
            assertAnswer(await store.query(q), new Map([[keyOf('cpu_percent', labels), want]]), `${agg} from the head`);
            clock.set(T0 + DAY_MS);
            await drain(store, clock.now());
            assertAnswer(await store.query(q), new Map([[keyOf('cpu_percent', labels), want]]), `${agg} from chunks`);
          });
        });
      }

      test('aggregates with avg when no aggregation is given, and aligns odd steps to the epoch', async () => {
        await withStore(T0 + HOUR_MS, async ({ store }) => {
          const labels = { vm: 's' };
          const step = 7 * MIN;
          const ts = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((m) => T0 + 13 * MIN + m * 97_000);
          await store.append(ts.map((t, i) => ({ metric: 'm', labels, ts: t, value: i * 10 })));
          const expected = new Map<number, number[]>();
          ts.forEach((t, i) => {
            const b = Math.floor(t / step) * step;
            expected.set(b, [...(expected.get(b) ?? []), i * 10]);
          });
          assert.ok(expected.size >= 2);
          const r = await store.query({
            selector: { metric: 'm' },
            from: T0,
            to: T0 + HOUR_MS,
            resolution: 'raw',
            stepMs: step,
          });
          assert.deepEqual(
            only(r),
            [...expected].map(([b, vs]) => ({ ts: b, value: vs.reduce((x, y) => x + y, 0) / vs.length })),
          );
        });
      });

      if (percentiles) {
        test('computes percentiles exactly on raw data (R-7, linear between closest ranks)', async () => {
          await withStore(T0 + HOUR_MS, async ({ store }) => {
            const put = (vm: string, values: number[]) =>
              store.append(values.map((value, i) => ({ metric: 'lat', labels: { vm }, ts: T0 + i * 1000, value })));
            await put('five', [40, 15, 50, 35, 20]);
            await put('ten', [7, 3, 10, 1, 9, 2, 8, 4, 6, 5]);
            await put('one', [42]);
            await put('two', [3, 1]);
            // numpy.percentile(x, [50, 90, 95, 99]):
            const want: Record<string, number[]> = {
              five: [35, 46, 48, 49.6], // sorted 15 20 35 40 50: ranks 2, 3.6, 3.8, 3.96
              ten: [5.5, 9.1, 9.55, 9.91],
              one: [42, 42, 42, 42],
              two: [2, 2.8, 2.9, 2.98],
            };
            for (const [i, agg] of PERCENTILE.entries()) {
              const r = await store.query({
                selector: { metric: 'lat' },
                from: T0,
                to: T0 + HOUR_MS,
                resolution: 'raw',
                stepMs: HOUR_MS,
                aggregation: agg,
              });
              assertAnswer(
                r,
                new Map(Object.entries(want).map(([vm, v]) => [keyOf('lat', { vm }), [{ ts: T0, value: v[i]! }]])),
                agg,
              );
            }
          });
        });
      }

      test('merges series by groupBy labels; results carry only the group labels', async () => {
        await withStore(T0 + HOUR_MS, async ({ store }) => {
          const a = { vm: 'a', resource_group: 'rg-1', source: 's' };
          const b = { vm: 'b', resource_group: 'rg-1', source: 's' };
          const c = { vm: 'c', resource_group: 'rg-2', source: 's' };
          await store.append([
            { metric: 'mem', labels: a, ts: T0, value: 10 },
            { metric: 'mem', labels: b, ts: T0 + 1000, value: 30 },
            { metric: 'mem', labels: a, ts: T0 + MIN, value: 20 },
            { metric: 'mem', labels: c, ts: T0 + 2000, value: 7 },
            { metric: 'mem', labels: c, ts: T0 + MIN + 2000, value: 9 },
            { metric: 'other', labels: a, ts: T0, value: 1000 },
          ]);
          // rg-1 pools [10 @0s, 30 @1s, 20 @60s]; rg-2 pools [7 @2s, 9 @62s]; all five: [10, 30, 20, 7, 9].
          const want: Partial<Record<Aggregation, [number, number, number]>> = {
            avg: [20, 8, 15.2],
            min: [10, 7, 7],
            max: [30, 9, 30],
            sum: [60, 16, 76],
            count: [3, 2, 5],
            last: [20, 9, 9],
            ...(percentiles
              ? { p50: [20, 8, 10] as [number, number, number], p90: [28, 8.8, 26] as [number, number, number] }
              : {}),
          };
          for (const [agg, [rg1, rg2, all]] of Object.entries(want) as [Aggregation, [number, number, number]][]) {
            const q = {
              selector: { metric: 'mem' },
              from: T0,
              to: T0 + HOUR_MS,
              resolution: 'raw',
              stepMs: 10 * MIN,
              aggregation: agg,
            } as const;
            const r = await store.query({ ...q, groupBy: ['resource_group'] });
            for (const x of r) assert.equal(x.metric, 'mem');
            assertAnswer(
              r,
              new Map([
                [keyOf('mem', { resource_group: 'rg-1' }), [{ ts: T0, value: rg1 }]],
                [keyOf('mem', { resource_group: 'rg-2' }), [{ ts: T0, value: rg2 }]],
              ]),
              `groupBy resource_group ${agg}`,
            );
            assertAnswer(
              await store.query({ ...q, groupBy: [] }),
              new Map([[keyOf('mem', {}), [{ ts: T0, value: all }]]]),
              `groupBy [] ${agg}`,
            );
            assertAnswer(
              await store.query({ ...q, groupBy: ['source', 'resource_group'] }),
              new Map([
                [keyOf('mem', { source: 's', resource_group: 'rg-1' }), [{ ts: T0, value: rg1 }]],
                [keyOf('mem', { source: 's', resource_group: 'rg-2' }), [{ ts: T0, value: rg2 }]],
              ]),
              `groupBy source, resource_group ${agg}`,
            );
          }
          // Without a step, grouped points are pooled per timestamp.
          assertAnswer(
            await store.query({
              selector: { metric: 'mem' },
              from: T0,
              to: T0 + HOUR_MS,
              resolution: 'raw',
              aggregation: 'sum',
              groupBy: ['resource_group'],
            }),
            new Map([
              [
                keyOf('mem', { resource_group: 'rg-1' }),
                [
                  { ts: T0, value: 10 },
                  { ts: T0 + 1000, value: 30 },
                  { ts: T0 + MIN, value: 20 },
                ],
              ],
              [
                keyOf('mem', { resource_group: 'rg-2' }),
                [
                  { ts: T0 + 2000, value: 7 },
                  { ts: T0 + MIN + 2000, value: 9 },
                ],
              ],
            ]),
            'groupBy without a step',
          );
        });
      });
    });

    describe('compaction and the oracle', () => {
      test('answers raw queries like the oracle through compaction, late samples, replacements and a reopen', async () => {
        const queries: SeriesQuery[] = [];
        for (const aggregation of aggs) {
          queries.push({
            selector: { metric: 'cpu_percent' },
            from: T0 + 3 * HOUR_MS + 17_000,
            to: T0 + 20 * HOUR_MS + 5,
            resolution: 'raw',
            stepMs: 10 * MIN,
            aggregation,
          });
          queries.push({
            selector: {
              metric: 'network_in_bytes',
              matchers: [{ name: 'resource_group', op: '=~', value: 'rg-[01]' }],
            },
            from: T0,
            to: T0 + DAY_MS,
            resolution: 'raw',
            stepMs: 37 * MIN,
            aggregation,
            groupBy: ['resource_group'],
          });
          queries.push({
            selector: { metric: 'cpu_percent' },
            from: T0,
            to: T0 + 26 * HOUR_MS,
            resolution: 'raw',
            stepMs: 3 * HOUR_MS,
            aggregation,
            groupBy: [],
          });
        }
        const exact: SeriesQuery[] = [
          {
            selector: { metric: 'cpu_percent', matchers: [{ name: 'vm', op: '!=', value: 'vm-2' }] },
            from: T0,
            to: T0 + 26 * HOUR_MS,
            resolution: 'raw',
          },
          {
            selector: { matchers: [{ name: 'vm', op: '=', value: 'vm-1' }] },
            from: T0 + HOUR_MS,
            to: T0 + 25 * HOUR_MS,
            resolution: 'raw',
          },
          {
            selector: { metric: 'memory_percent', matchers: [{ name: 'tenant', op: '=', value: '' }] },
            from: T0 + 90 * MIN,
            to: T0 + 7 * HOUR_MS,
            resolution: 'raw',
          },
        ];
        const grouped: SeriesQuery = {
          selector: { metric: 'cpu_percent', matchers: [{ name: 'vm', op: '!~', value: 'vm-[0-3]' }] },
          from: T0,
          to: T0 + 26 * HOUR_MS,
          resolution: 'raw',
          groupBy: ['source'],
          aggregation: 'max',
        };
        await throughLifecycle(2026, async (store, oracle, stage) => {
          for (const q of queries) {
            const r = await store.query(q);
            assertTier(r, 'raw', stage);
            assertAnswer(r, oracle.answer(q), `${stage}: ${JSON.stringify(q)}`);
          }
          for (const q of exact)
            assertAnswer(await store.query(q), oracle.answer(q), `${stage}: ${JSON.stringify(q)}`, true);
          assertAnswer(await store.query(grouped), oracle.answer(grouped), `${stage}: ${JSON.stringify(grouped)}`);
        });
      });

      test('counts every distinct sample once in stats, in the head or in chunks', async () => {
        await withStore(T0 + 2 * DAY_MS, async ({ store, clock }) => {
          const oracle = await loadFleet(store, 7);
          const count = async () => {
            const s = await store.stats();
            return s.headSamples + s.chunkSamples;
          };
          assert.equal(await count(), oracle.size, 'head only');
          await drain(store, clock.now());
          const s = await store.stats();
          assert.equal(s.headSamples + s.chunkSamples, oracle.size, 'after compaction');
          assert.equal(s.series, oracle.series.size);
          assert.equal(s.vms, FLEET_VMS.length);
        });
      });

      test('finishes maintenance in 1 ms steps and answers the same as before', async () => {
        await withStore(T0 + 2 * DAY_MS, async ({ store, clock }) => {
          const oracle = await loadFleet(store, 11);
          await drain(store, clock.now(), 1);
          const q: SeriesQuery = { selector: {}, from: T0, to: T0 + 26 * HOUR_MS, resolution: 'raw' };
          assertAnswer(await store.query(q), oracle.answer(q), 'every series, raw', true);
        });
      });
    });

    if (tiers) {
      describe('rollup tiers', () => {
        // Head-only, compacted and reopened: the same hand-made series.
        //   T0+10m 1 | T0+50m 3 || T0+1h05m 10 | T0+1h59m59.999s 2 || (next day) T0+25h 7
        const labels = { vm: 'h' };
        const samples: Sample[] = [
          [10 * MIN, 1],
          [50 * MIN, 3],
          [65 * MIN, 10],
          [2 * HOUR_MS - 1, 2],
          [25 * HOUR_MS, 7],
        ].map(([dt, value]) => ({ metric: 'disk_percent', labels, ts: T0 + dt!, value: value! }));
        const key = keyOf('disk_percent', labels);
        const hourly: Record<string, number[]> = {
          avg: [2, 6, 7],
          min: [1, 2, 7],
          max: [3, 10, 7],
          sum: [4, 12, 7],
          count: [2, 2, 1],
          last: [3, 2, 7],
        };
        const daily: Record<string, number[]> = {
          avg: [4, 7],
          min: [1, 7],
          max: [10, 7],
          sum: [16, 7],
          count: [4, 1],
          last: [2, 7],
        };
        const check = async (store: Store, stage: string) => {
          for (const agg of BASIC) {
            const base = { selector: { metric: 'disk_percent' }, from: T0, to: T0 + 2 * DAY_MS - 1, aggregation: agg };
            const h = await store.query({ ...base, resolution: 'hourly' });
            assertTier(h, 'hourly', stage);
            assertAnswer(
              h,
              new Map([[key, [T0, T0 + HOUR_MS, T0 + 25 * HOUR_MS].map((ts, i) => ({ ts, value: hourly[agg]![i]! }))]]),
              `${stage} hourly ${agg}`,
            );
            const h2 = await store.query({ ...base, resolution: 'hourly', stepMs: 2 * HOUR_MS });
            assertAnswer(
              h2,
              new Map([[key, [T0, T0 + 24 * HOUR_MS].map((ts, i) => ({ ts, value: daily[agg]![i]! }))]]),
              `${stage} hourly, 2 h step, ${agg}`,
            );
            const d = await store.query({ ...base, resolution: 'daily' });
            assertTier(d, 'daily', stage);
            assertAnswer(
              d,
              new Map([[key, [T0, T0 + DAY_MS].map((ts, i) => ({ ts, value: daily[agg]![i]! }))]]),
              `${stage} daily ${agg}`,
            );
          }
        };

        test('returns one point per bucket at the bucket start, exact for count/sum/min/max/last/avg', async () => {
          await withStore(T0 + 3 * DAY_MS, async (s) => {
            await s.store.append(samples.slice(2));
            await s.store.append(samples.slice(0, 2));
            await check(s.store, 'head only');
            await drain(s.store, s.clock.now());
            await check(s.store, 'after compaction');
            if (durable) await check(await s.reopen(), 'after a reopen');
          });
        });

        test('updates the rollups for a late sample and a replaced value in a compacted block', async () => {
          await withStore(T0 + 3 * DAY_MS, async (s) => {
            await s.store.append(samples);
            await drain(s.store, s.clock.now());
            await s.store.append([
              { metric: 'disk_percent', labels, ts: T0 + 90 * MIN, value: 4 }, // new point in hour 1
              { metric: 'disk_percent', labels, ts: T0 + 10 * MIN, value: 5 }, // replaces 1 in hour 0
            ]);
            // hour 0 [5, 3]; hour 1 [10, 4, 2] (2 is still the latest); day 0 [5, 3, 10, 4, 2]; day 1 [7].
            const wantHourly: Record<string, number[]> = {
              avg: [4, 16 / 3, 7],
              min: [3, 2, 7],
              max: [5, 10, 7],
              sum: [8, 16, 7],
              count: [2, 3, 1],
              last: [3, 2, 7],
            };
            const wantDaily: Record<string, number[]> = {
              avg: [4.8, 7],
              min: [2, 7],
              max: [10, 7],
              sum: [24, 7],
              count: [5, 1],
              last: [2, 7],
            };
            const verify = async (stage: string) => {
              const raw = only(
                await s.store.query({
                  selector: { metric: 'disk_percent' },
                  from: T0,
                  to: T0 + 2 * DAY_MS,
                  resolution: 'raw',
                }),
              );
              assert.deepEqual(
                raw.map((p) => p.value),
                [5, 3, 10, 4, 2, 7],
                `${stage}: raw`,
              );
              for (const agg of BASIC) {
                const base = {
                  selector: { metric: 'disk_percent' },
                  from: T0,
                  to: T0 + 2 * DAY_MS - 1,
                  aggregation: agg,
                };
                const h = wantHourly[agg]!;
                const d = wantDaily[agg]!;
                assertAnswer(
                  await s.store.query({ ...base, resolution: 'hourly' }),
                  new Map([[key, [T0, T0 + HOUR_MS, T0 + 25 * HOUR_MS].map((ts, i) => ({ ts, value: h[i]! }))]]),
                  `${stage}: hourly ${agg}`,
                );
                assertAnswer(
                  await s.store.query({ ...base, resolution: 'daily' }),
                  new Map([[key, [T0, T0 + DAY_MS].map((ts, i) => ({ ts, value: d[i]! }))]]),
                  `${stage}: daily ${agg}`,
                );
              }
            };
            await verify('before maintenance');
            await drain(s.store, s.clock.now());
            await verify('after maintenance');
            if (durable) {
              await s.reopen();
              await verify('after a reopen');
            }
          });
        });

        test('answers hourly and daily queries like the oracle through compaction, late samples and a reopen', async () => {
          await throughLifecycle(2027, async (store, oracle, stage) => {
            for (const aggregation of BASIC) {
              // A step of whole days over hourly data, also from mid-day: whole days and edge hours combined.
              for (const [resolution, width, stepMs, from] of [
                ['hourly', HOUR_MS, undefined, T0],
                ['hourly', HOUR_MS, 3 * HOUR_MS, T0],
                ['hourly', HOUR_MS, DAY_MS, T0],
                ['hourly', HOUR_MS, DAY_MS, T0 + 5 * HOUR_MS],
                ['daily', DAY_MS, undefined, T0],
              ] as const) {
                for (const groupBy of [undefined, ['resource_group']]) {
                  const q: SeriesQuery = {
                    selector: { metric: 'cpu_percent' },
                    from,
                    to: T0 + 2 * DAY_MS - 1,
                    resolution,
                    aggregation,
                    stepMs,
                    groupBy,
                  };
                  const r = await store.query(q);
                  assertTier(r, resolution, stage);
                  assertAnswer(r, oracle.answer(q, width), `${stage}: ${JSON.stringify(q)}`);
                }
              }
            }
          });
        });

        test('auto picks the finest tier whose retention covers `from`', async () => {
          const now = T0 + 60 * DAY_MS + 5 * HOUR_MS;
          await withStore(now, async ({ store }) => {
            const sel = { metric: 'disk_percent' };
            const day = (ts: number) => Math.floor(ts / DAY_MS) * DAY_MS;
            const hour = (ts: number) => Math.floor(ts / HOUR_MS) * HOUR_MS;
            const at = [now - DAY_MS, now - 20 * DAY_MS, now - 50 * DAY_MS];
            await store.append(
              at.map((ts, i) => ({ metric: 'disk_percent', labels: { vm: 'x' }, ts, value: 50 - 10 * i })),
            );
            await drain(store, now);
            const q = async (from: number) => store.query({ selector: sel, from, to: now });
            const recent = await q(now - 2 * DAY_MS);
            assertTier(recent, 'raw', 'from 2 days ago');
            // A caller's `now - 7 days`, computed a few milliseconds before the store reads its clock, is still raw.
            assertTier(await q(now - 7 * DAY_MS - 5), 'raw', 'from 7 days and 5 ms ago');
            assertTier(await q(now - 7 * DAY_MS - 2 * HOUR_MS), 'hourly', 'from 7 days and 2 hours ago');
            assert.deepEqual(only(recent), [{ ts: at[0]!, value: 50 }]);
            const month = await q(now - 25 * DAY_MS);
            assertTier(month, 'hourly', 'from 25 days ago');
            assert.deepEqual(only(month), [
              { ts: hour(at[1]!), value: 40 },
              { ts: hour(at[0]!), value: 50 },
            ]);
            const older = await q(now - 55 * DAY_MS);
            assertTier(older, 'daily', 'from 55 days ago');
            assert.deepEqual(
              only(older),
              [day(at[2]!), day(at[1]!), day(at[0]!)].map((ts, i) => ({ ts, value: 30 + 10 * i })),
            );
          });
        });

        test('auto with a whole-hour step over a recent range answers exactly like raw (range edges mid-hour)', async () => {
          await throughLifecycle(2028, async (store, oracle, stage) => {
            for (const aggregation of BASIC) {
              for (const stepMs of [HOUR_MS, 3 * HOUR_MS]) {
                const q: SeriesQuery = {
                  selector: { metric: 'cpu_percent' },
                  from: T0 + 2 * HOUR_MS + 17 * MIN,
                  to: T0 + 23 * HOUR_MS + 41 * MIN,
                  stepMs,
                  aggregation,
                };
                assertAnswer(await store.query(q), oracle.answer(q), `${stage}: ${JSON.stringify(q)}`);
              }
            }
          });
        });

        test('applies the default retention per tier as time passes (raw 7 d, hourly 30 d, daily 90 d)', async () => {
          await withStore(T0, async ({ store, clock }) => {
            const labels = { vm: 'r' };
            const written: Sample[] = [];
            for (let d = 0; d < 100; d++) {
              const batch = [0, 1, 2, 3].map((k) => ({
                metric: 'disk_percent',
                labels,
                ts: T0 + d * DAY_MS + k * 6 * HOUR_MS,
                value: d * 4 + k,
              }));
              await store.append(batch);
              written.push(...batch);
              clock.set(T0 + (d + 1) * DAY_MS);
              await drain(store, clock.now());
            }
            const now = clock.now();
            const read = async (resolution: Tier) =>
              only(
                await store.query({
                  selector: { metric: 'disk_percent' },
                  from: 0,
                  to: now,
                  resolution,
                  aggregation: 'avg',
                }),
              );
            const raw = await read('raw');
            const keptRaw = written.filter((s) => s.ts >= now - 7 * DAY_MS).map((s) => ({ ts: s.ts, value: s.value }));
            assert.deepEqual(
              raw.filter((p) => p.ts >= now - 7 * DAY_MS),
              keptRaw,
              'raw within 7 days is all there',
            );
            assert.ok(
              raw.every((p) => p.ts >= now - 8 * DAY_MS),
              `raw older than 8 days is gone (oldest ${new Date(raw[0]!.ts).toISOString()})`,
            );
            const hourly = await read('hourly');
            const keptHourly = written
              .filter((s) => s.ts >= now - 30 * DAY_MS)
              .map((s) => ({ ts: s.ts, value: s.value }));
            assert.deepEqual(
              hourly.filter((p) => p.ts >= now - 30 * DAY_MS),
              keptHourly,
              'hourly within 30 days is all there',
            );
            assert.ok(
              hourly.every((p) => p.ts >= now - 31 * DAY_MS),
              'hourly older than 31 days is gone',
            );
            const daily = await read('daily');
            const keptDaily = Array.from({ length: 90 }, (_, i) => 10 + i).map((d) => ({
              ts: T0 + d * DAY_MS,
              value: d * 4 + 1.5,
            }));
            assert.deepEqual(
              daily.filter((p) => p.ts >= now - 90 * DAY_MS),
              keptDaily,
              'daily within 90 days is all there',
            );
            assert.ok(
              daily.every((p) => p.ts >= now - 91 * DAY_MS),
              'daily older than 91 days is gone',
            );
          });
        });

        test('feeds the rollups from samples older than raw retention, incrementally', async () => {
          const now = T0 + 60 * DAY_MS;
          await withStore(now, async ({ store }) => {
            const labels = { vm: 'old' };
            const hourAgo20d = now - 20 * DAY_MS + 3 * HOUR_MS; // an hour start, 20 days back
            const dayAgo40d = now - 40 * DAY_MS;
            await store.append([
              { metric: 'm', labels, ts: hourAgo20d + 10 * MIN, value: 2 },
              { metric: 'm', labels, ts: hourAgo20d + 20 * MIN, value: 4 },
              { metric: 'm', labels, ts: dayAgo40d + 5 * HOUR_MS, value: 8 },
            ]);
            await drain(store, now);
            const q = (resolution: Tier, aggregation: Aggregation) =>
              store.query({ selector: { metric: 'm' }, from: now - 50 * DAY_MS, to: now, resolution, aggregation });
            assert.deepEqual(
              (await q('raw', 'avg')).flatMap((r) => r.points),
              [],
              'raw retention applied',
            );
            assert.deepEqual(only(await q('hourly', 'sum')), [{ ts: hourAgo20d, value: 6 }]);
            assert.deepEqual(only(await q('daily', 'count')), [
              { ts: dayAgo40d, value: 1 },
              { ts: now - 20 * DAY_MS, value: 2 },
            ]);
            await store.append([{ metric: 'm', labels, ts: hourAgo20d + 30 * MIN, value: 9 }]);
            await drain(store, now);
            assert.deepEqual(only(await q('hourly', 'sum')), [{ ts: hourAgo20d, value: 15 }]);
            assert.deepEqual(only(await q('hourly', 'max')), [{ ts: hourAgo20d, value: 9 }]);
            assert.deepEqual(only(await q('daily', 'count')), [
              { ts: dayAgo40d, value: 1 },
              { ts: now - 20 * DAY_MS, value: 3 },
            ]);
            assert.deepEqual(only(await q('daily', 'last')), [
              { ts: dayAgo40d, value: 8 },
              { ts: now - 20 * DAY_MS, value: 9 },
            ]);
          });
        });
      });
    }

    describe('latest, series, VMs and outcomes', () => {
      test('latest is the newest sample of each series, across head and chunks; `since` is inclusive', async () => {
        await withStore(T0 + HOUR_MS, async ({ store, clock }) => {
          const x = { vm: 'x' };
          const y = { vm: 'y' };
          await store.append([{ metric: 'cpu_percent', labels: x, ts: T0 + 5 * MIN, value: 5 }]);
          await store.append([
            { metric: 'cpu_percent', labels: x, ts: T0 + MIN, value: 1 }, // older, arrives later
            { metric: 'cpu_percent', labels: y, ts: T0 - HOUR_MS, value: 4 },
          ]);
          await store.append([{ metric: 'cpu_percent', labels: x, ts: T0 + 5 * MIN, value: 6 }]); // replaces the newest
          const summary = async (since?: number) =>
            (await store.latest({ metric: 'cpu_percent' }, since))
              .map((l) => [l.metric, l.labels.vm, l.ts, l.value])
              .sort();
          const both = [
            ['cpu_percent', 'x', T0 + 5 * MIN, 6],
            ['cpu_percent', 'y', T0 - HOUR_MS, 4],
          ];
          assert.deepEqual(await summary(), both);
          assert.deepEqual(await summary(T0 + 5 * MIN), [both[0]]);
          assert.deepEqual(await summary(T0 + 5 * MIN + 1), []);
          assert.equal((await store.latest({ matchers: [] })).length, 2);
          clock.set(T0 + DAY_MS);
          await drain(store, clock.now());
          assert.deepEqual(await summary(), both, 'after compaction');
          await store.append([{ metric: 'cpu_percent', labels: y, ts: T0 + 3 * HOUR_MS, value: 0.5 }]);
          assert.deepEqual(await summary(), [both[0], ['cpu_percent', 'y', T0 + 3 * HOUR_MS, 0.5]]);
        });
      });

      test('lists VMs with labels (without vm), last sample time and last outcome by time; outcomes by VM and range', async () => {
        await withStore(T0 + HOUR_MS, async ({ store }) => {
          const outcome = (
            vm: string,
            ts: number,
            errorMessage: string | null,
            labels: Labels = {},
          ): CollectionOutcome => ({
            vm,
            labels,
            ts,
            success: errorMessage === null,
            errorMessage,
            durationMs: 12.5,
          });
          const a = { vm: 'a', resource_group: 'rg-1' };
          await store.write(
            [
              { metric: 'cpu_percent', labels: a, ts: T0, value: 1 },
              { metric: 'memory_percent', labels: a, ts: T0 + 2 * MIN, value: 3 },
              { metric: 'cpu_percent', labels: { vm: 'b', resource_group: 'rg-2' }, ts: T0 - HOUR_MS, value: 4 },
            ],
            [
              outcome('a', T0 + 2 * MIN, null, { resource_group: 'rg-1' }),
              outcome('b', T0 - HOUR_MS, null, { resource_group: 'rg-2' }),
            ],
          );
          await store.recordOutcomes([outcome('b', T0 + MIN, 'Connection timeout', { resource_group: 'rg-2' })]);
          await store.recordOutcomes([outcome('b', T0 - 2 * HOUR_MS, null, { resource_group: 'rg-2' })]); // older, arrives last
          await store.recordOutcomes([outcome('c', T0, 'Host unreachable', { resource_group: 'rg-3' })]); // never sampled
          await store.append([
            { metric: 'disk_percent', labels: { vm: 'd', resource_group: 'rg-4' }, ts: T0, value: 9 },
          ]); // never an outcome
          const vms = (await store.listVms()).sort((p, q) => p.vm.localeCompare(q.vm));
          assert.deepEqual(
            vms.map((v) => [
              v.vm,
              v.labels,
              v.lastSampleTs,
              v.lastOutcome?.ts ?? null,
              v.lastOutcome?.errorMessage ?? null,
            ]),
            [
              ['a', { resource_group: 'rg-1' }, T0 + 2 * MIN, T0 + 2 * MIN, null],
              ['b', { resource_group: 'rg-2' }, T0 - HOUR_MS, T0 + MIN, 'Connection timeout'],
              ['c', { resource_group: 'rg-3' }, null, T0, 'Host unreachable'],
              ['d', { resource_group: 'rg-4' }, T0, null, null],
            ],
          );
          assert.deepEqual(
            vms[1]!.lastOutcome,
            outcome('b', T0 + MIN, 'Connection timeout', { resource_group: 'rg-2' }),
          );
          assert.deepEqual(
            (await store.outcomes({ vm: 'b', from: T0 - 2 * HOUR_MS, to: T0 + MIN })).map((o) => [
              o.ts,
              o.success,
              o.errorMessage,
            ]),
            [
              [T0 - 2 * HOUR_MS, true, null],
              [T0 - HOUR_MS, true, null],
              [T0 + MIN, false, 'Connection timeout'],
            ],
            'inclusive at both ends, in time order',
          );
          assert.deepEqual((await store.outcomes({ from: T0, to: T0 + MIN })).map((o) => [o.vm, o.ts]).sort(), [
            ['b', T0 + MIN],
            ['c', T0],
          ]);
          assert.deepEqual(await store.outcomes({ vm: 'a', from: T0, to: T0 + MIN }), []);
          const stats = await store.stats();
          assert.equal(stats.series, 4);
          assert.equal(stats.vms, 4);
        });
      });
    });

    if (durable) {
      describe('durability', () => {
        test('keeps samples, rollups, latest values, VMs, outcomes and series across close and reopen', async () => {
          await withStore(T0 + 2 * DAY_MS, async (s) => {
            const oracle = await loadFleet(s.store, 99);
            await s.store.recordOutcomes(
              FLEET_VMS.map((l, i) => ({
                vm: l.vm!,
                labels: {},
                ts: T0 + i,
                success: i !== 3,
                errorMessage: i === 3 ? 'Connection refused' : null,
                durationMs: i,
              })),
            );
            await drain(s.store, s.clock.now());
            const late = lateSamples(oracle);
            await s.store.append(late); // stays in the head
            oracle.add(late);
            const snapshot = async (store: Store) => ({
              raw: keyed(await store.query({ selector: {}, from: T0, to: T0 + 2 * DAY_MS, resolution: 'raw' })),
              ...(tiers
                ? {
                    hourly: keyed(
                      await store.query({
                        selector: { metric: 'cpu_percent' },
                        from: T0,
                        to: T0 + 2 * DAY_MS,
                        resolution: 'hourly',
                        aggregation: 'sum',
                      }),
                    ),
                  }
                : {}),
              latest: (await store.latest({})).map((l) => `${keyOf(l.metric, l.labels)} ${l.ts} ${l.value}`).sort(),
              vms: (await store.listVms()).sort((a, b) => a.vm.localeCompare(b.vm)),
              outcomes: await store.outcomes({ from: 0, to: T0 + 2 * DAY_MS }),
              series: (await store.series({})).map((x) => keyOf(x.metric, x.labels)).sort(),
            });
            const before = await snapshot(s.store);
            assertAnswer(
              await s.store.query({ selector: {}, from: T0, to: T0 + 2 * DAY_MS, resolution: 'raw' }),
              oracle.answer({ selector: {}, from: T0, to: T0 + 2 * DAY_MS }),
              'before closing',
              true,
            );
            const reopened = await s.reopen();
            assert.deepEqual(await snapshot(reopened), before);
            assert.equal(before.vms.find((v) => v.vm === 'vm-3')?.lastOutcome?.errorMessage, 'Connection refused');
            await drain(reopened, s.clock.now());
            assertAnswer(
              await reopened.query({ selector: {}, from: T0, to: T0 + 2 * DAY_MS, resolution: 'raw' }),
              oracle.answer({ selector: {}, from: T0, to: T0 + 2 * DAY_MS }),
              'maintenance after the reopen',
              true,
            );
            const after = await reopened.stats();
            assert.equal(after.headSamples + after.chunkSamples, oracle.size);
          });
        });
      });
    }
  });
}
