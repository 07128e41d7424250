/** Dashboard data from a running `vigil up`: its HTTP API, with its live event stream driving refreshes. */
import type { FleetForecastRow } from '../analyze/forecast/fleet-forecast.ts';
import type { Clock } from '../clock.ts';
import { type Point, STANDARD_METRICS } from '../model/index.ts';
import { apiClient } from '../server/client.ts';
import type { FleetRow } from '../store/fleet.ts';
import type { DashboardAlert, DashboardData } from './data.ts';

const HISTORY_POINTS = 120;
/** Wait before reconnecting a dropped event stream. */
const RECONNECT_MS = 3000;

/**
 * Reads a running `vigil up` at `base`. Rejects with an ApiError (naming the address and the reason) when it
 * cannot be reached or refuses the token, so the dashboard fails before its first paint rather than showing nothing.
 */
export async function remoteDashboardData(
  base: string,
  token: string | undefined,
  clock: Clock,
): Promise<DashboardData> {
  const { url, headers, get } = apiClient(base, token);
  const status = await get<{ intervalMs: number }>('/api/v1/status');
  const streams = new Set<AbortController>();
  return {
    intervalMs: status.intervalMs,
    async fleet() {
      return (await get<{ vms: FleetRow[] }>('/api/v1/vms')).vms;
    },
    async vmHistory(vm, sinceMs) {
      const now = clock.now();
      const step = Math.max(60, Math.ceil((now - sinceMs) / HISTORY_POINTS / 60_000) * 60);
      const out: Record<string, Point[]> = {};
      for (const metric of STANDARD_METRICS) {
        const q = new URLSearchParams({ metric, vm, from: String(sinceMs), to: String(now), step: `${step}s` });
        const r = await get<{ results: { points: Point[] }[] }>(`/api/v1/series?${q}`);
        if (r.results[0]) out[metric] = r.results[0].points;
      }
      return out;
    },
    async forecasts(vm) {
      const q = new URLSearchParams({ vm, days: '30' });
      return (await get<{ forecasts: FleetForecastRow[] }>(`/api/v1/forecasts?${q}`)).forecasts;
    },
    async alerts() {
      const r = await get<{ alerts: (DashboardAlert & { firedAt: number | null; startsAt: number })[] }>(
        '/api/v1/alerts',
      );
      return r.alerts.map((a) => ({
        id: a.id,
        vm: a.vm,
        rule: a.rule,
        severity: a.severity,
        status: a.status,
        message: a.message,
        since: a.firedAt ?? a.startsAt,
      }));
    },
    subscribe(onChange) {
      const ctl = new AbortController();
      streams.add(ctl);
      void followEvents(`${url}/api/v1/events`, headers, clock, ctl.signal, onChange);
      return () => {
        ctl.abort();
        streams.delete(ctl);
      };
    },
    async close() {
      for (const c of streams) c.abort();
    },
  };
}

/** Reads the server-sent event stream; new VM data or an alert transition triggers a refresh. Reconnects. */
async function followEvents(
  url: string,
  headers: Readonly<Record<string, string>>,
  clock: Clock,
  signal: AbortSignal,
  onChange: () => void,
): Promise<void> {
  while (!signal.aborted) {
    try {
      const res = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' }, signal });
      if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let i = buf.indexOf('\n\n');
        while (i >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: ?(.*)$/m.exec(block)?.[1];
          if (event === 'vms' || event === 'alert') onChange();
          i = buf.indexOf('\n\n');
        }
      }
    } catch {
      if (signal.aborted) return;
    }
    try {
      await clock.sleep(RECONNECT_MS, signal);
    } catch {
      return;
    }
  }
}
