/** Standalone dashboard data: reads the metrics store and, on refresh, collects one cycle with the configured sources. */
import { forecastFleet } from '../analyze/forecast/fleet-forecast.ts';
import type { Clock } from '../clock.ts';
import { runCycle } from '../collect/scheduler.ts';
import type { Source } from '../collect/source.ts';
import type { CollectionConfig } from '../config/index.ts';
import { type Point, STANDARD_METRICS } from '../model/index.ts';
import type { FleetRow } from '../store/fleet.ts';
import { readFleet } from '../store/fleet.ts';
import type { AlertRepository } from '../store/sqlite/alert-repository.ts';
import type { Store } from '../store/store.ts';
import { type DashboardAlert, type DashboardData, STALE_MS } from './data.ts';

/** Points per detail chart: enough for a sparkline the width of a terminal. */
const HISTORY_POINTS = 120;

/** The store and the alert tables the standalone dashboard reads. */
export interface LocalStores {
  readonly store: Store;
  readonly alerts: AlertRepository;
}

/** How long after the first paint the store opens (its head replay blocks): the frame is on screen by then. */
const OPEN_AFTER_PAINT_MS = 100;

export function localDashboardData(d: {
  /** Opens the store; called once, after the first paint when `firstPaint` is given, else on the first read. */
  open: () => LocalStores | Promise<LocalStores>;
  /**
   * The fleet read without opening the store (`readFleetSnapshot`), shown by the first read; null or absent when
   * there is none. Once the store is open, subscribers are told to read again (alerts come with that read).
   */
  firstPaint?: FleetRow[] | null;
  /** The configured sources, loaded on the first refresh that collects (so the first paint does not wait for them). */
  sources: () => Promise<readonly Source[]>;
  collection: CollectionConfig;
  clock: Clock;
}): DashboardData {
  let sources: Promise<readonly Source[]> | null = null;
  let opened: Promise<LocalStores> | null = null;
  /** The snapshot still to show, and whether it is on screen while the store is not yet open. */
  let snapshot = d.firstPaint ?? null;
  let showingSnapshot = false;
  let closed = false;
  const listeners = new Set<() => void>();
  const stores = (): Promise<LocalStores> => {
    opened ??= Promise.resolve().then(d.open);
    return opened;
  };
  /** The first read without `collect` shows the snapshot; the store opens a moment later. */
  const takeSnapshot = (): FleetRow[] | null => {
    const rows = snapshot;
    snapshot = null;
    if (rows === null || opened) return null;
    showingSnapshot = true;
    // Unref'd: a one-shot read (non-TTY snapshot) exits without waiting for it.
    setTimeout(() => {
      if (closed) return;
      stores().then(
        () => {
          for (const l of listeners) l();
        },
        // The next read reports it (in the dashboard's error line).
        () => {},
      );
    }, OPEN_AFTER_PAINT_MS).unref();
    return rows;
  };
  return {
    intervalMs: d.collection.interval,
    async fleet({ collect }) {
      if (!collect) {
        const rows = takeSnapshot();
        if (rows) return rows;
      }
      const { store } = await stores();
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
        await store.write(r.samples, r.outcomes);
      }
      return readFleet(store, { staleMs: STALE_MS });
    },
    vmHistory: async (vm, sinceMs) => vmHistoryFromStore((await stores()).store, vm, sinceMs, d.clock.now()),
    forecasts: async (vm) => forecastFleet((await stores()).store, { now: d.clock.now(), vmName: vm, horizonDays: 30 }),
    async alerts() {
      // Showing the snapshot (or about to): the alerts follow with the read after the store opens.
      if (!opened && (snapshot !== null || showingSnapshot)) return [];
      const { alerts } = await stores();
      return alerts.listAlerts({ states: ['pending', 'firing'] }).map(
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
    subscribe(onChange) {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    async close() {
      closed = true;
      const list = sources ? await sources.catch(() => []) : [];
      await Promise.all(list.map((s) => s.close?.().catch(() => {})));
      if (opened) await (await opened.catch(() => null))?.store.close();
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
