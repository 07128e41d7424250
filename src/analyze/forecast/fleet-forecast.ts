// Reads hourly averages from the store and forecasts every matching VM metric; at-risk rows first, with advice.
import type { LabelMatcher } from '../../model/labels.ts';
import { PERCENT_METRICS } from '../../model/metrics.ts';
import type { Store } from '../../store/store.ts';
import { DAY_MS, HOUR_MS } from '../trend.ts';
import { type ForecastOk, type ForecastResult, forecastSeries } from './forecast.ts';

export interface FleetForecastOptions {
  readonly now: number;
  readonly vmName?: string;
  /** Without a metric: cpu_percent, memory_percent and disk_percent. */
  readonly metric?: string;
  readonly riskThreshold?: number;
  readonly horizonDays?: number;
  /** History read, default 30 days (the hourly tier's default retention). */
  readonly historyDays?: number;
}

export type FleetForecastRow = ForecastResult & { readonly recommendation: string | null };

/** A plain next step for an at-risk forecast. */
export function recommend(f: ForecastOk): string | null {
  if (!f.at_risk) return null;
  const days = f.days_until_threshold ?? 0;
  const when =
    f.current_value > f.risk_threshold
      ? 'already above'
      : days < 1
        ? 'within a day'
        : `in ~${Math.round(days)} day${Math.round(days) === 1 ? '' : 's'}`;
  switch (f.metric) {
    case 'disk_percent':
      return `Clean disk (logs, temp files, old snapshots) or grow the disk: ${f.risk_threshold}% ${when}`;
    case 'memory_percent':
      return `Resize to a size with more memory or look for a leak: ${f.risk_threshold}% ${when}`;
    case 'cpu_percent':
      return `Resize to a larger size or scale out: ${f.risk_threshold}% ${when}`;
    default:
      return `Review capacity for ${f.metric}: ${f.risk_threshold} ${when}`;
  }
}

const isPercent = (metric: string) =>
  (PERCENT_METRICS as readonly string[]).includes(metric) || metric.endsWith('_percent');

/** Sort: at risk first (soonest first), then VM and metric. */
export function sortFleetForecasts<T extends ForecastResult>(rows: T[]): T[] {
  const soon = (r: ForecastResult) =>
    r.status === 'ok' && r.at_risk ? (r.days_until_threshold ?? 0) : Number.POSITIVE_INFINITY;
  return rows.sort(
    (a, b) => soon(a) - soon(b) || a.vm_name.localeCompare(b.vm_name) || a.metric.localeCompare(b.metric),
  );
}

export async function forecastFleet(store: Store, o: FleetForecastOptions): Promise<FleetForecastRow[]> {
  const metrics = o.metric ? [o.metric] : [...PERCENT_METRICS];
  const matchers: LabelMatcher[] = o.vmName ? [{ name: 'vm', op: '=', value: o.vmName }] : [];
  const from = o.now - (o.historyDays ?? 30) * DAY_MS;
  const rows: FleetForecastRow[] = [];
  for (const metric of metrics) {
    const results = await store.query({
      selector: { metric, matchers },
      from,
      to: o.now,
      resolution: 'hourly',
      stepMs: HOUR_MS,
      aggregation: 'avg',
      groupBy: ['vm'],
    });
    for (const r of results) {
      const vm = r.labels.vm;
      if (!vm) continue;
      const f = forecastSeries(vm, metric, r.points, {
        percent: isPercent(metric),
        riskThreshold: o.riskThreshold,
        horizonDays: o.horizonDays,
      });
      rows.push({ ...f, recommendation: f.status === 'ok' ? recommend(f) : null });
    }
  }
  return sortFleetForecasts(rows);
}
