import {
  type CollectionOutcome,
  compileMatchers,
  type Labels,
  type Sample,
  seriesKey,
  type VmStatus,
} from '../../model/index.ts';
import { aggregatePoints } from '../../store/aggregate.ts';
import type { LatestValue, OutcomeQuery, SeriesQuery, SeriesResult, Store, StoreStats } from '../../store/store.ts';

/**
 * A small in-memory Store for the server's tests and benchmark when no database is wanted:
 * raw points only (every tier is served from raw), with the Store's aggregations over step buckets.
 */
export class MemoryStore implements Store {
  private readonly byKey = new Map<string, { metric: string; labels: Labels; points: Map<number, number> }>();
  private readonly latestByKey = new Map<string, LatestValue>();
  private readonly outcomeList: CollectionOutcome[] = [];
  private readonly vms = new Map<
    string,
    { labels: Labels; lastSampleTs: number | null; lastOutcome: CollectionOutcome | null }
  >();

  async append(samples: readonly Sample[]): Promise<void> {
    for (const s of samples) {
      const key = seriesKey(s.metric, s.labels);
      let e = this.byKey.get(key);
      if (!e) {
        e = { metric: s.metric, labels: s.labels, points: new Map() };
        this.byKey.set(key, e);
      }
      e.points.set(s.ts, s.value);
      const prev = this.latestByKey.get(key);
      if (!prev || prev.ts <= s.ts)
        this.latestByKey.set(key, { metric: s.metric, labels: s.labels, ts: s.ts, value: s.value });
      const vm = s.labels.vm;
      if (vm) {
        const { vm: _v, ...labels } = s.labels;
        const v = this.vms.get(vm) ?? { labels, lastSampleTs: null, lastOutcome: null };
        v.lastSampleTs = Math.max(v.lastSampleTs ?? s.ts, s.ts);
        this.vms.set(vm, v);
      }
    }
  }

  async recordOutcomes(outcomes: readonly CollectionOutcome[]): Promise<void> {
    for (const o of outcomes) {
      this.outcomeList.push(o);
      const v = this.vms.get(o.vm) ?? { labels: o.labels, lastSampleTs: null, lastOutcome: null };
      if (!v.lastOutcome || v.lastOutcome.ts <= o.ts) v.lastOutcome = o;
      v.labels = { ...v.labels, ...o.labels };
      this.vms.set(o.vm, v);
    }
  }

  async write(samples: readonly Sample[], outcomes: readonly CollectionOutcome[]): Promise<void> {
    await this.append(samples);
    await this.recordOutcomes(outcomes);
  }

  async query(q: SeriesQuery): Promise<SeriesResult[]> {
    const match = compileMatchers(q.selector.matchers);
    const groups = new Map<string, { metric: string; labels: Labels; points: { ts: number; value: number }[] }>();
    for (const [seriesKey, e] of this.byKey) {
      if (q.selector.metric && e.metric !== q.selector.metric) continue;
      if (!match(e.labels)) continue;
      const labels = q.groupBy ? Object.fromEntries(q.groupBy.map((k) => [k, e.labels[k] ?? ''])) : e.labels;
      // Without a metric in the selector, each metric stays its own result, as in the SQLite store.
      const key = q.groupBy ? `${q.selector.metric ? '' : e.metric}\u0000${JSON.stringify(labels)}` : seriesKey;
      const g = groups.get(key) ?? { metric: q.selector.metric ?? e.metric, labels, points: [] };
      for (const [ts, value] of e.points) if (ts >= q.from && ts <= q.to) g.points.push({ ts, value });
      groups.set(key, g);
    }
    const agg = q.aggregation ?? 'avg';
    return [...groups.values()].map((g) => {
      let points = g.points.sort((a, b) => a.ts - b.ts);
      if (q.stepMs || q.groupBy) {
        const buckets = new Map<number, number[]>();
        for (const p of points) {
          const k = q.stepMs ? Math.floor(p.ts / q.stepMs) * q.stepMs : p.ts;
          const b = buckets.get(k);
          if (b) b.push(p.value);
          else buckets.set(k, [p.value]);
        }
        points = [...buckets].map(([ts, vs]) => ({ ts, value: aggregatePoints(agg, vs) }));
      }
      return { metric: g.metric, labels: g.labels, tier: 'raw' as const, points };
    });
  }

  async latest(selector: SeriesQuery['selector'], since?: number): Promise<LatestValue[]> {
    const match = compileMatchers(selector.matchers);
    const out: LatestValue[] = [];
    for (const v of this.latestByKey.values()) {
      if (selector.metric && v.metric !== selector.metric) continue;
      if (since !== undefined && v.ts < since) continue;
      if (match(v.labels)) out.push(v);
    }
    return out;
  }

  async listVms(): Promise<VmStatus[]> {
    return [...this.vms].map(([vm, v]) => ({
      vm,
      labels: v.labels,
      lastSampleTs: v.lastSampleTs,
      lastOutcome: v.lastOutcome,
    }));
  }

  async outcomes(q: OutcomeQuery): Promise<CollectionOutcome[]> {
    return this.outcomeList
      .filter((o) => o.ts >= q.from && o.ts <= q.to && (!q.vm || o.vm === q.vm))
      .sort((a, b) => a.ts - b.ts);
  }

  async series(selector: SeriesQuery['selector']): Promise<{ metric: string; labels: Labels }[]> {
    const match = compileMatchers(selector.matchers);
    return [...this.byKey.values()]
      .filter((e) => (!selector.metric || e.metric === selector.metric) && match(e.labels))
      .map((e) => ({ metric: e.metric, labels: e.labels }));
  }

  async maintain() {
    return { chunksWritten: 0, rollupBuckets: 0, deleted: 0, more: false };
  }

  async stats(): Promise<StoreStats> {
    let n = 0;
    for (const e of this.byKey.values()) n += e.points.size;
    return { series: this.byKey.size, vms: this.vms.size, headSamples: n, chunkSamples: 0, fileBytes: 0 };
  }

  async close(): Promise<void> {}
}
