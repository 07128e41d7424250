/** Standalone dashboard data: reads the metrics store and, on refresh, collects one cycle with the configured sources. */
import { forecastFleet } from '../analyze/forecast/fleet-forecast.ts';
import type { Clock } from '../clock.ts';
import { runCycle } from '../collect/scheduler.ts';
import type { Source } from '../collect/source.ts';
import type { CollectionConfig } from '../config/index.ts';
import { type Point, STANDARD_METRICS } from '../model/index.ts';
import { readFleet } from '../store/fleet.ts';
import type { AlertRepository } from '../store/sqlite/alert-repository.ts';
import type { Store } from '../store/store.ts';
import type { DashboardAlert, DashboardData } from './data.ts';

const STALE_MS = 15 * 60_000;
/** Points per detail chart: enough for a sparkline the width of a terminal. */
const HISTORY_POINTS = 120;

export function localDashboardData(d: {
  store: Store;
  /** The configured sources, loaded on the first refresh that collects (so the first paint does not wait for them). */
  sources: () => Promise<readonly Source[]>;
  collection: CollectionConfig;
  clock: Clock;
  alerts: AlertRepository;
}): DashboardData {
  let sources: Promise<readonly Source[]> | null = null;
  return {
    intervalMs: d.collection.interval,
    async fleet({ collect }) {
      if (collect && sources === null) sources = d.sources();
      const list = collect && sources ? await sources : [];
      if (list.length > 0) {
        const r = await runCycle(list, {
          now: d.clock.now(),
          clock: d.clock,
          intervalMs: d.collection.interval,
          timeoutMs: d.collection.timeout,
          maxWorkers: d.collection.max_workers,
        });
        await d.store.write(r.samples, r.outcomes);
      }
      return readFleet(d.store, { staleMs: STALE_MS });
    },
    vmHistory: (vm, sinceMs) => vmHistoryFromStore(d.store, vm, sinceMs, d.clock.now()),
    forecasts: (vm) => forecastFleet(d.store, { now: d.clock.now(), vmName: vm, horizonDays: 30 }),
    async alerts() {
      return d.alerts.listAlerts({ states: ['pending', 'firing'] }).map(
        (a): DashboardAlert => ({
          id: a.id,
          vm: a.vm,
          rule: a.rule,
          severity: a.severity,
          status: a.acknowledged ? 'acknowledged' : a.state,
          message: a.message,
          since: a.firedAt ?? a.startsAt,
        }),
      );
    },
    async close() {
      const list = sources ? await sources.catch(() => []) : [];
      await Promise.all(list.map((s) => s.close?.().catch(() => {})));
      await d.store.close();
    },
  };
}

export async function vmHistoryFromStore(
  store: Store,
  vm: string,
  sinceMs: number,
  now: number,
): Promise<Record<string, Point[]>> {
  const stepMs = Math.max(60_000, Math.ceil((now - sinceMs) / HISTORY_POINTS / 60_000) * 60_000);
  const out: Record<string, Point[]> = {};
  for (const metric of STANDARD_METRICS) {
    const r = await store.query({
      selector: { metric, matchers: [{ name: 'vm', op: '=', value: vm }] },
      from: sinceMs,
      to: now,
      stepMs,
      aggregation: 'avg',
      resolution: 'raw',
    });
    if (r[0]) out[metric] = [...r[0].points];
  }
  return out;
}
