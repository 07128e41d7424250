import type { Command } from 'commander';
import { systemClock } from '../../clock.ts';
import type { VigilConfig } from '../../config/index.ts';
import { apiClient } from '../../server/client.ts';
import { AlertRepository } from '../../store/sqlite/alert-repository.ts';
import type { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { type CliIo, loadEffectiveConfig } from '../context.ts';
import { formatTable, terminalWidth } from '../format/table.ts';
import { openMetricsStore } from './collect.ts';

const DAY_MS = 86_400_000;
const SEVERITIES = ['emergency', 'critical', 'warning', 'info'] as const;

/** What `vigil status` reports, from the store (any time) or from a running `vigil up` (--server). */
export interface StatusReport {
  readonly from: 'store' | 'server';
  readonly sources: readonly SourceLine[];
  /** The newest collection cycle; duration and sample count are known only to the running process. */
  readonly lastCycle: {
    at: number;
    durationMs: number | null;
    targets: number;
    failures: number;
    samples: number | null;
  } | null;
  /** `up`/`failed`: VMs reporting recently, by their last collection; `silent`: VMs that stopped reporting. */
  readonly vms: VmCounts;
  /** Active (pending or firing) alerts by severity. */
  readonly alerts: Record<string, number>;
  readonly store: {
    path: string | null;
    bytes: number;
    series: number;
    retentionDays: { raw: number; hourly: number; daily: number } | null;
  };
}

export interface SourceLine {
  readonly name: string;
  readonly type: string;
  readonly targets: number;
  readonly failures: number;
  readonly lastError: string | null;
}

export interface VmCounts {
  readonly total: number;
  readonly up: number;
  readonly failed: number;
  readonly silent: number;
}

/** A VM's newest report: when, whether its last collection succeeded, from which source. */
export interface VmReport {
  readonly ts: number | null;
  readonly success: boolean;
  readonly errorMessage: string | null;
  readonly source: string | null;
}

/** How long after the newest report a VM still counts as reporting: two intervals plus a minute of lag. */
export function reportingWindowMs(intervalMs: number): number {
  return 2 * intervalMs + 60_000;
}

/** Counts VMs up, failed (last collection failed) and silent (no report within the window before the newest). */
export function countVms(vms: readonly VmReport[], intervalMs: number): VmCounts {
  const newest = vms.reduce((m, v) => Math.max(m, v.ts ?? 0), 0);
  let up = 0;
  let failed = 0;
  for (const v of vms) {
    if (v.ts === null || newest - v.ts > reportingWindowMs(intervalMs)) continue;
    if (v.success) up++;
    else failed++;
  }
  return { total: vms.length, up, failed, silent: vms.length - up - failed };
}

/** Reads the status from the database: the last cycle and per-source figures are derived from the VMs' reports. */
export async function storeStatus(config: VigilConfig, store: SqliteStore): Promise<StatusReport> {
  const intervalMs = config.collection.interval;
  const [vms, stats] = await Promise.all([store.listVms(), store.stats()]);
  const reports = vms.map(
    (v): VmReport => ({
      ts: Math.max(v.lastSampleTs ?? 0, v.lastOutcome?.ts ?? 0) || null,
      success: v.lastOutcome?.success ?? true,
      errorMessage: v.lastOutcome?.success === false ? v.lastOutcome.errorMessage : null,
      source: v.labels.source ?? null,
    }),
  );
  // The last cycle: the VMs whose last collection falls within one interval of the newest.
  const lastAt = vms.reduce((m, v) => Math.max(m, v.lastOutcome?.ts ?? 0), 0);
  const inLastCycle = vms.filter((v) => v.lastOutcome && lastAt - v.lastOutcome.ts < intervalMs);
  const typeOf = new Map(config.sources.map((s) => [s.name ?? s.type, s.type]));
  const sources = new Map<string, { type: string; targets: number; failures: number; lastError: string | null }>();
  for (const [name, type] of typeOf) sources.set(name, { type, targets: 0, failures: 0, lastError: null });
  const reporting = reports.filter((v) => v.ts !== null && lastAt - v.ts <= reportingWindowMs(intervalMs));
  for (const v of reporting) {
    const name = v.source ?? 'unknown';
    const s = sources.get(name) ?? {
      type: name === 'push' ? 'push' : 'unknown',
      targets: 0,
      failures: 0,
      lastError: null,
    };
    s.targets++;
    if (!v.success) s.failures++;
    sources.set(name, s);
  }
  for (const [name, s] of sources) s.lastError = newestError(reporting.filter((v) => (v.source ?? 'unknown') === name));
  const alerts: Record<string, number> = {};
  for (const a of new AlertRepository(store.db).listAlerts({ states: ['pending', 'firing'] }))
    alerts[a.severity] = (alerts[a.severity] ?? 0) + 1;
  const { retention } = config.storage;
  return {
    from: 'store',
    sources: [...sources].map(([name, s]) => ({ name, ...s })),
    lastCycle: lastAt
      ? {
          at: lastAt,
          durationMs: null,
          targets: inLastCycle.length,
          failures: inLastCycle.filter((v) => !v.lastOutcome!.success).length,
          samples: null,
        }
      : null,
    vms: countVms(reports, intervalMs),
    alerts,
    store: {
      path: store.path,
      bytes: stats.fileBytes,
      series: stats.series,
      retentionDays: {
        raw: retention.raw / DAY_MS,
        hourly: retention.hourly / DAY_MS,
        daily: retention.daily / DAY_MS,
      },
    },
  };
}

/** Asks a running `vigil up` over its API. */
export async function serverStatus(url: string, token: string | undefined): Promise<StatusReport> {
  const { get } = apiClient(url, token);
  const s = await get<{
    intervalMs: number;
    sources: (SourceLine & Record<string, unknown>)[];
    lastCycle: NonNullable<StatusReport['lastCycle']> | null;
    store: { fileBytes: number; series: number };
    retention?: { rawMs: number; hourlyMs: number; dailyMs: number };
  }>('/api/v1/status');
  const { vms } = await get<{ vms: VmReport[] }>('/api/v1/vms');
  const { alerts: active } = await get<{ alerts: { severity: string }[] }>('/api/v1/alerts');
  const alerts: Record<string, number> = {};
  for (const a of active) alerts[a.severity] = (alerts[a.severity] ?? 0) + 1;
  return {
    from: 'server',
    // The source's own error (discovery, credentials), else the newest collection error of one of its VMs.
    sources: s.sources.map(({ name, type, targets, failures, lastError }) => ({
      name,
      type,
      targets,
      failures,
      lastError: lastError ?? newestError(vms.filter((v) => v.source === name)),
    })),
    lastCycle: s.lastCycle,
    vms: countVms(vms, s.intervalMs),
    alerts,
    store: {
      path: null,
      bytes: s.store.fileBytes,
      series: s.store.series,
      retentionDays: s.retention
        ? {
            raw: s.retention.rawMs / DAY_MS,
            hourly: s.retention.hourlyMs / DAY_MS,
            daily: s.retention.dailyMs / DAY_MS,
          }
        : null,
    },
  };
}

function newestError(vms: readonly VmReport[]): string | null {
  let newest: VmReport | null = null;
  for (const v of vms)
    if (!v.success && v.errorMessage && (newest === null || (v.ts ?? 0) > (newest.ts ?? 0))) newest = v;
  return newest?.errorMessage ?? null;
}

/** The human-readable report; `now` gives the age of the last cycle. */
export function formatStatus(r: StatusReport, now: number, width?: number): string {
  const out: string[] = [];
  if (r.lastCycle) {
    const c = r.lastCycle;
    const when = `${new Date(c.at).toISOString().replace('T', ' ').slice(0, 19)} UTC (${age(now - c.at)} ago)`;
    const extra = [
      c.durationMs !== null ? `took ${(c.durationMs / 1000).toFixed(1)}s` : null,
      c.samples !== null ? `${c.samples} samples` : null,
    ].filter((x) => x !== null);
    out.push(
      `Last collection: ${when}: ${c.targets} VMs, ${c.failures} failed${extra.length ? `, ${extra.join(', ')}` : ''}`,
    );
  } else {
    out.push('Last collection: never (start collecting with `vigil up`)');
  }
  out.push(
    `VMs: ${r.vms.total} known, ${r.vms.up} up, ${r.vms.failed} failed${r.vms.silent ? `, ${r.vms.silent} no longer reporting` : ''}`,
  );
  const total = Object.values(r.alerts).reduce((a, b) => a + b, 0);
  out.push(`Active alerts: ${total} (${SEVERITIES.map((s) => `${s} ${r.alerts[s] ?? 0}`).join(', ')})`);
  const retention = r.store.retentionDays
    ? `; retention raw ${r.store.retentionDays.raw} d, hourly ${r.store.retentionDays.hourly} d, daily ${r.store.retentionDays.daily} d`
    : '';
  out.push(
    `Store: ${r.store.path ?? 'of the server'}, ${(r.store.bytes / 1e6).toFixed(1)} MB, ${r.store.series} series${retention}`,
  );
  if (r.sources.length > 0) {
    out.push('');
    out.push(
      formatTable(
        ['SOURCE', 'TYPE', 'VMS', 'FAILED', 'LAST ERROR'],
        r.sources.map((s) => [s.name, s.type, String(s.targets), String(s.failures), s.lastError ?? '']),
        { width, priority: [2, 1, 0, 0, 0] },
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 2 * 86_400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

export function register(program: Command, io: CliIo): void {
  program
    .command('status')
    .description('sources, last cycle, VMs up/failed, active alerts by severity, store size and retention')
    .option('--server <url>', 'ask a running `vigil up` instead of reading the store')
    .option('--token <token>', 'API token for --server (default: $VIGIL_TOKEN)')
    .option('--json', 'print JSON')
    .action(async (opts: { server?: string; token?: string; json?: boolean }, cmd: Command) => {
      let report: StatusReport;
      if (opts.server) {
        report = await serverStatus(opts.server, opts.token ?? io.env.VIGIL_TOKEN);
      } else {
        const { config } = loadEffectiveConfig(cmd, io);
        const store = await openMetricsStore(config.storage);
        try {
          report = await storeStatus(config, store);
        } finally {
          await store.close();
        }
      }
      io.stdout.write(
        opts.json
          ? `${JSON.stringify(report, null, 2)}\n`
          : formatStatus(report, systemClock.now(), terminalWidth(io.stdout)),
      );
    });
}
