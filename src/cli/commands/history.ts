import { createWriteStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../../clock.ts';
import { editDistance } from '../../model/edit-distance.ts';
import { isStandardMetric, STANDARD_METRICS, type StandardMetric } from '../../model/metrics.ts';
import type { VmSnapshot } from '../../model/snapshot.ts';
import { csvHeader, snapshotToCsv } from '../../store/csv.ts';
import { readSnapshots } from '../../store/snapshots.ts';
import type { Resolution, Store } from '../../store/store.ts';
import { type CliIo, loadEffectiveConfig, UserError } from '../context.ts';
import { lineChart, shortNumber } from '../format/line-chart.ts';
import { formatTable } from '../format/table.ts';
import { openMetricsStore } from './collect.ts';

const DAY = 86_400_000;

/** Names of known VMs closest to `name` (substring or small edit distance), for "did you mean". */
export function nearNames(name: string, known: readonly string[], max = 5): string[] {
  return known
    .map((k) => ({ k, d: k.includes(name) || name.includes(k) ? 0 : editDistance(name, k) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(name.length / 2)))
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .slice(0, max)
    .map((x) => x.k);
}

export interface HistoryOptions {
  readonly vm: string;
  readonly now: number;
  readonly days: number;
  readonly metric?: string;
  readonly resolution: Resolution;
}

/** Reads a VM's history, failing with a clear error (and near names) when the VM is unknown. */
export async function historyRows(store: Store, o: HistoryOptions): Promise<VmSnapshot[]> {
  if (!(o.days > 0)) throw new UserError(`--days: expected a positive number, got ${JSON.stringify(String(o.days))}`);
  if (o.metric !== undefined && !isStandardMetric(o.metric))
    throw new UserError(`--metric: unknown metric "${o.metric}" (expected one of ${STANDARD_METRICS.join(', ')})`);
  const vms = (await store.listVms()).map((v) => v.vm);
  if (!vms.includes(o.vm)) {
    const near = nearNames(o.vm, vms);
    throw new UserError(
      `unknown VM "${o.vm}"${near.length > 0 ? ` (did you mean: ${near.join(', ')}?)` : vms.length === 0 ? ' (no VMs in the store yet)' : ''}`,
    );
  }
  const metrics: readonly StandardMetric[] | undefined = o.metric ? [o.metric as StandardMetric] : undefined;
  return readSnapshots(store, { vm: o.vm, from: o.now - o.days * DAY, to: o.now, resolution: o.resolution, metrics });
}

/** The CSV export text (header plus one line per row, LF-terminated); `resource_group` column when any row knows it. */
export function historyCsv(rows: readonly VmSnapshot[]): string {
  const withRg = rows.some((r) => r.resourceGroup !== null);
  return `${[csvHeader(withRg), ...rows.map((r) => snapshotToCsv(r, withRg))].join('\n')}\n`;
}

/**
 * An export is meant to be imported again, so `auto` reads raw samples whenever raw retention covers the range
 * (then export -> import round-trips exactly); a longer range falls back to the tier that covers it.
 */
export function exportResolution(r: Resolution, exporting: boolean, days: number, rawRetentionMs: number): Resolution {
  if (!exporting || r !== 'auto') return r;
  return days * DAY <= rawRetentionMs ? 'raw' : 'auto';
}

/** One line chart per metric, titled with the VM, the range and the series' min, max and last value. */
export function historyCharts(
  vm: string,
  days: number,
  rows: readonly VmSnapshot[],
  metrics: readonly StandardMetric[],
  size: { width: number; height: number },
): string[] {
  return metrics.map((m) => {
    const points = rows.flatMap((r) => (r[m] === null ? [] : [{ ts: r.ts, value: r[m] }]));
    let title = `${m}  ${vm}  last ${days} days (UTC)`;
    if (points.length > 0) {
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const p of points) {
        min = Math.min(min, p.value);
        max = Math.max(max, p.value);
      }
      title += `  min ${shortNumber(min)}  max ${shortNumber(max)}  last ${shortNumber(points.at(-1)!.value)}`;
    }
    return lineChart(points, { ...size, title });
  });
}

function fmt(v: number | null): string {
  if (v === null) return '-';
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export function register(program: Command, io: CliIo): void {
  program
    .command('history')
    .description("show a VM's metric history")
    .argument('<vm>', 'VM name')
    .option('--days <n>', 'how many days back', '7')
    .option('--metric <name>', 'only this standard metric')
    .option('--resolution <r>', 'auto|raw|hourly|daily', 'auto')
    .option('--export <file>', 'write CSV to this file')
    .option('--json', 'print JSON')
    .option('--chart', 'draw an ASCII line chart per metric (sized to the terminal, 80x20 when not one)')
    .action(
      async (
        vm: string,
        opts: { days: string; metric?: string; resolution: string; export?: string; json?: boolean; chart?: boolean },
        cmd: Command,
      ) => {
        if (!['auto', 'raw', 'hourly', 'daily'].includes(opts.resolution))
          throw new UserError(`--resolution: expected one of auto, raw, hourly, daily, got "${opts.resolution}"`);
        const { config } = loadEffectiveConfig(cmd, io);
        const store = await openMetricsStore(config.storage);
        try {
          const days = Number(opts.days);
          const resolution = exportResolution(
            opts.resolution as Resolution,
            opts.export !== undefined,
            days,
            config.storage.retention.raw,
          );
          const rows = await historyRows(store, {
            vm,
            now: systemClock.now(),
            days,
            metric: opts.metric,
            resolution,
          });
          if (opts.export && opts.resolution === 'auto' && resolution !== 'raw') {
            io.stderr.write(
              `vigil: note: ${days} days reach past raw retention (${config.storage.retention.raw / DAY} days): the export holds hourly or daily averages, not the raw samples (use --resolution raw for the raw ones)\n`,
            );
          }
          if (opts.export) {
            const out = createWriteStream(resolve(io.cwd, opts.export));
            await new Promise<void>((ok, fail) => {
              out.on('error', fail);
              out.end(historyCsv(rows), () => ok());
            });
            io.stdout.write(`exported ${rows.length} rows to ${opts.export}\n`);
          } else if (opts.json) {
            io.stdout.write(
              `${JSON.stringify(
                rows.map((r) => ({ ...r, timestamp: new Date(r.ts).toISOString() })),
                null,
                2,
              )}\n`,
            );
          } else if (opts.chart) {
            const tty = io.stdout.isTTY === true;
            const size = {
              width: tty ? (io.stdout.columns ?? 80) : 80,
              height: tty ? Math.max(8, ((io.stdout as { rows?: number }).rows ?? 21) - 1) : 20,
            };
            const metrics = opts.metric ? [opts.metric as StandardMetric] : STANDARD_METRICS;
            io.stdout.write(`${historyCharts(vm, days, rows, metrics, size).join('\n\n')}\n`);
          } else {
            const metrics = opts.metric ? [opts.metric as StandardMetric] : STANDARD_METRICS;
            io.stdout.write(
              `${formatTable(
                ['timestamp', ...metrics, 'status'],
                rows.map((r) => [
                  new Date(r.ts).toISOString(),
                  ...metrics.map((m) => fmt(r[m])),
                  r.success ? 'ok' : `failed: ${r.errorMessage ?? ''}`,
                ]),
              )}\n`,
            );
          }
        } finally {
          await store.close();
        }
      },
    );
}
