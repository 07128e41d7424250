// Reads recent samples from the store and runs the online detector over each series (replaying a warm-up period first).
import type { LabelMatcher } from '../../model/labels.ts';
import { STANDARD_METRICS } from '../../model/metrics.ts';
import { DEFAULT_RETENTION, type Store } from '../../store/store.ts';
import { DAY_MS } from '../trend.ts';
import { type AnomalyOptions, newSeriesState, observe, type ProfilePeriod } from './detector.ts';

export interface AnomalyScanOptions extends AnomalyOptions {
  readonly now: number;
  readonly vm?: string;
  /** Period to report, default 1 day. */
  readonly days?: number;
  /** History replayed before the period so the baseline is learnt, default 3 days. */
  readonly warmupDays?: number;
  readonly metrics?: readonly string[];
  /** Daily (default) or weekly profile; weekly needs a warm-up of a few weeks (`warmupDays`). */
  readonly period?: ProfilePeriod;
  /** How long the store keeps raw samples (`storage.retention.raw`); default 7 days. */
  readonly rawRetentionMs?: number;
}

export interface AnomalyEvent {
  readonly vm: string;
  readonly metric: string;
  readonly ts: number;
  readonly value: number;
  readonly expected: number;
  readonly score: number;
}

export interface VmAnomalyRate {
  readonly vm: string;
  readonly samples: number;
  readonly anomalies: number;
  readonly anomalous_samples: number;
  /** Share of the VM's samples in the period that were anomalous (0-1). */
  readonly anomaly_rate: number;
}

export interface AnomalyScan {
  readonly from: number;
  readonly to: number;
  /** Always `raw`: the detector scores individual samples (minute data), never hourly means. */
  readonly resolution: 'raw';
  /** The oldest time raw samples are kept for: before it the store has only rollups, which are not scanned. */
  readonly raw_from: number;
  /** Set when raw samples do not cover the requested period (or its warm-up): what was and was not scanned. */
  readonly note: string | null;
  readonly anomalies: AnomalyEvent[];
  readonly vms: VmAnomalyRate[];
}

export async function scanAnomalies(store: Store, o: AnomalyScanOptions): Promise<AnomalyScan> {
  const days = o.days ?? 1;
  const periodFrom = o.now - days * DAY_MS;
  const wantedFrom = periodFrom - (o.warmupDays ?? 3) * DAY_MS;
  // Raw only: `auto` would switch to the hourly tier once the range (period + warm-up) passes the raw retention,
  // and the detector's baseline, spread and warm-up assume one sample per collection interval.
  // Whatever raw samples still exist are read; the note says when retention cut the range.
  const rawFrom = o.now - (o.rawRetentionMs ?? DEFAULT_RETENTION.rawMs);
  const day = (ts: number) => new Date(ts).toISOString().slice(0, 16).replace('T', ' ');
  const keptDays = Math.round(((o.now - rawFrom) / DAY_MS) * 10) / 10;
  const note =
    rawFrom > periodFrom
      ? `raw samples are kept ${keptDays} days: only ${day(rawFrom)} UTC onwards was scanned (with a shorter ` +
        `warm-up); older data exists only as hourly rollups, which anomaly detection does not use`
      : rawFrom > wantedFrom
        ? `raw samples are kept ${keptDays} days: the baseline warm-up starts at ${day(rawFrom)} UTC instead of ` +
          `${day(wantedFrom)} UTC`
        : null;
  const matchers: LabelMatcher[] = o.vm ? [{ name: 'vm', op: '=', value: o.vm }] : [];
  const anomalies: AnomalyEvent[] = [];
  const perVm = new Map<string, { samples: number; anomalies: number; anomalous: number }>();
  for (const metric of o.metrics ?? STANDARD_METRICS) {
    const results = await store.query({
      selector: { metric, matchers },
      from: wantedFrom,
      to: o.now,
      resolution: 'raw',
    });
    for (const r of results) {
      const vm = r.labels.vm;
      if (!vm) continue;
      const st = newSeriesState(o.period);
      const acc = perVm.get(vm) ?? { samples: 0, anomalies: 0, anomalous: 0 };
      for (const p of r.points) {
        const v = observe(st, p.ts, p.value, o);
        if (p.ts < periodFrom) continue;
        acc.samples++;
        if (v.anomalous) acc.anomalous++;
        if (v.anomaly) {
          acc.anomalies++;
          anomalies.push({
            vm,
            metric,
            ts: p.ts,
            value: p.value,
            expected: v.expected,
            score: Math.round(v.score * 1000) / 1000,
          });
        }
      }
      perVm.set(vm, acc);
    }
  }
  const vms = [...perVm.entries()]
    .map(([vm, a]) => ({
      vm,
      samples: a.samples,
      anomalies: a.anomalies,
      anomalous_samples: a.anomalous,
      anomaly_rate: a.samples ? Math.round((a.anomalous / a.samples) * 10000) / 10000 : 0,
    }))
    .sort((a, b) => b.anomalies - a.anomalies || b.anomaly_rate - a.anomaly_rate || a.vm.localeCompare(b.vm));
  anomalies.sort((a, b) => b.ts - a.ts);
  return { from: periodFrom, to: o.now, resolution: 'raw', raw_from: rawFrom, note, anomalies, vms };
}
