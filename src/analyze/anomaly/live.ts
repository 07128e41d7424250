/**
 * Live anomaly scoring: every new sample of a watched metric is scored against its series' learnt baseline,
 * and the score is emitted as an `anomaly_score` sample (labels: the series' labels plus `metric`), which the
 * engine stores and alerting evaluates like any metric.
 */
import { ANOMALY_SCORE_METRIC, type Sample, seriesKey } from '../../model/index.ts';
import type { Store } from '../../store/store.ts';
import { type AnomalyOptions, newSeriesState, observe, type SeriesState } from './detector.ts';

/** History replayed at start so baselines are warm instead of learning from scratch after every restart. */
export const PRIME_HISTORY_MS = 2 * 86_400_000;

export class LiveAnomalyScorer {
  private readonly metrics: ReadonlySet<string>;
  private readonly opts: AnomalyOptions;
  private readonly states = new Map<string, { state: SeriesState; lastTs: number }>();

  constructor(metrics: Iterable<string>, opts: AnomalyOptions = {}) {
    this.metrics = new Set(metrics);
    this.opts = opts;
  }

  get watched(): ReadonlySet<string> {
    return this.metrics;
  }

  /** Scores the watched samples in time order; samples not newer than a series' last one are skipped. */
  score(samples: readonly Sample[]): Sample[] {
    const out: Sample[] = [];
    const sorted = samples.filter((s) => this.metrics.has(s.metric)).sort((a, b) => a.ts - b.ts);
    for (const s of sorted) {
      const key = seriesKey(s.metric, s.labels);
      let e = this.states.get(key);
      if (!e) {
        e = { state: newSeriesState(), lastTs: Number.NEGATIVE_INFINITY };
        this.states.set(key, e);
      }
      if (s.ts <= e.lastTs) continue;
      e.lastTs = s.ts;
      const v = observe(e.state, s.ts, s.value, this.opts);
      out.push({
        metric: ANOMALY_SCORE_METRIC,
        labels: { ...s.labels, metric: s.metric },
        ts: s.ts,
        value: Math.round(v.score * 1000) / 1000,
      });
    }
    return out;
  }

  /** Learns the recent history of every watched series from the store (nothing is emitted). */
  async prime(store: Store, now: number): Promise<number> {
    let n = 0;
    for (const metric of this.metrics) {
      for (const r of await store.query({
        selector: { metric },
        from: now - PRIME_HISTORY_MS,
        to: now,
        resolution: 'raw',
      })) {
        const batch = r.points.map((p) => ({ metric, labels: r.labels, ts: p.ts, value: p.value }));
        n += this.score(batch).length;
      }
    }
    return n;
  }
}
