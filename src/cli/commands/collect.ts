import { dirname } from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../../clock.ts';
import { buildSources } from '../../collect/build-sources.ts';
import { type CycleResult, runCycle } from '../../collect/scheduler.ts';
import type { Source } from '../../collect/source.ts';
import type { StorageConfig } from '../../config/index.ts';
import { STANDARD_METRICS, type StandardMetric } from '../../model/index.ts';
import { openStore } from '../../store/open.ts';
import type { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { type CliIo, EXIT_FAILURE, loadEffectiveConfig, UserError } from '../context.ts';

/** Opens the configured metrics store; a failure is a user-facing error. */
export async function openMetricsStore(storage: StorageConfig): Promise<SqliteStore> {
  try {
    return await openStore(storage);
  } catch (e) {
    throw new UserError((e as Error).message, EXIT_FAILURE);
  }
}

/** One VM of a collection cycle, as the fleet table shows it. */
export interface CycleRow {
  readonly vm: string;
  readonly source: string;
  readonly resource_group: string | null;
  readonly success: boolean;
  readonly error: string | null;
  readonly metrics: Partial<Record<StandardMetric, number>>;
}

export function cycleRows(result: CycleResult): CycleRow[] {
  const metrics = new Map<string, Partial<Record<StandardMetric, number>>>();
  const latest = new Map<string, number>();
  const key = (vm: string, source: string | undefined) => `${source ?? ''}\u0000${vm}`;
  for (const s of result.samples) {
    if (!(STANDARD_METRICS as readonly string[]).includes(s.metric)) continue;
    const k = key(s.labels.vm ?? '', s.labels.source);
    let m = metrics.get(k);
    if (!m) {
      m = {};
      metrics.set(k, m);
    }
    // A source may return several timestamps (Azure's window): the table shows each metric's latest.
    const lk = `${k}\u0000${s.metric}`;
    if ((latest.get(lk) ?? Number.NEGATIVE_INFINITY) > s.ts) continue;
    latest.set(lk, s.ts);
    m[s.metric as StandardMetric] = s.value;
  }
  return result.outcomes
    .map((o) => ({
      vm: o.vm,
      source: o.labels.source ?? '',
      resource_group: o.labels.resource_group ?? null,
      success: o.success,
      error: o.errorMessage,
      metrics: metrics.get(key(o.vm, o.labels.source)) ?? {},
    }))
    .sort((a, b) => a.source.localeCompare(b.source) || a.vm.localeCompare(b.vm));
}

function fmt(v: number | undefined, digits = 1): string {
  return v === undefined ? '-' : v.toFixed(digits);
}

/** Bytes per interval as MB/s. */
function mbps(bytes: number | undefined, intervalMs: number): number | undefined {
  return bytes === undefined ? undefined : bytes / (intervalMs / 1000) / 1e6;
}

export function renderFleetTable(rows: readonly CycleRow[], intervalMs: number): string {
  const header = ['VM', 'SOURCE', 'CPU %', 'MEM %', 'DISK %', 'DISK R/W MB/s', 'NET IN/OUT MB/s'];
  const body = rows.map((r) => {
    if (!r.success) return [r.vm, r.source, `ERROR: ${r.error ?? 'collection failed'}`];
    const m = r.metrics;
    const pair = (a: StandardMetric, b: StandardMetric) =>
      `${fmt(mbps(m[a], intervalMs), 2)} / ${fmt(mbps(m[b], intervalMs), 2)}`;
    return [
      r.vm,
      r.source,
      fmt(m.cpu_percent),
      fmt(m.memory_percent),
      fmt(m.disk_percent),
      pair('disk_read_bytes', 'disk_write_bytes'),
      pair('network_in_bytes', 'network_out_bytes'),
    ];
  });
  // Error rows span the metric columns, so they do not widen them.
  const widths = header.map((h, i) =>
    Math.max(h.length, ...body.filter((r) => r.length === header.length || i < 2).map((r) => (r[i] ?? '').length)),
  );
  return `${[header, ...body]
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/**
 * Source errors and notes go to stderr; a source that failed entirely (an error and no VM collected: `az`
 * missing, discovery refused) makes the command fail with exit 1. `errorsOnly`: the JSON already lists the rest.
 */
function reportFailedSources(result: CycleResult, io: CliIo, errorsOnly: boolean): void {
  const failed = result.perSource.filter((s) => s.error !== null && s.succeeded === 0);
  for (const e of result.sourceErrors) {
    if (!errorsOnly || failed.some((f) => f.source === e.source))
      io.stderr.write(`vigil: source ${e.source}: ${e.message}\n`);
  }
  if (!errorsOnly) for (const n of result.notices) io.stderr.write(`vigil: source ${n.source}: note: ${n.message}\n`);
  if (failed.length > 0) process.exitCode = EXIT_FAILURE;
}

async function closeSources(sources: readonly Source[]): Promise<void> {
  await Promise.all(sources.map((s) => s.close?.().catch(() => {})));
}

export function register(program: Command, io: CliIo): void {
  program
    .command('collect')
    .description('Collect every configured source once, store the result and print the fleet table')
    .option('--once', 'run one collection cycle (continuous collection runs under `vigil up`)')
    .option('--no-store', 'print without writing to the metrics store')
    .option('--json', 'print JSON: rows and per-source stats')
    .action(async (opts: { once?: boolean; store: boolean; json?: boolean }, cmd: Command) => {
      if (!opts.once) throw new UserError('collect needs --once (continuous collection runs under `vigil up`)');
      const loaded = loadEffectiveConfig(cmd, io);
      const { config } = loaded;
      let sources: Source[];
      try {
        sources = buildSources(config, { ...(loaded.path ? { baseDir: dirname(loaded.path) } : {}), env: io.env });
      } catch (e) {
        throw new UserError((e as Error).message);
      }
      if (sources.length === 0) throw new UserError('no enabled sources in the config: add one under sources:');
      const store = opts.store ? await openMetricsStore(config.storage) : null;
      try {
        const { interval, timeout, max_workers } = config.collection;
        const result = await runCycle(sources, {
          now: systemClock.now(),
          clock: systemClock,
          intervalMs: interval,
          timeoutMs: timeout,
          maxWorkers: max_workers,
        });
        if (store) await store.write(result.samples, result.outcomes);
        const rows = cycleRows(result);
        if (opts.json) {
          const json = {
            ts: new Date(result.ts).toISOString(),
            durationMs: result.durationMs,
            stored: store !== null,
            rows: rows.map((r) => ({
              vm: r.vm,
              source: r.source,
              resource_group: r.resource_group,
              success: r.success,
              error_message: r.error,
              ...r.metrics,
            })),
            sources: result.perSource,
            sourceErrors: result.sourceErrors,
            notices: result.notices,
          };
          io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
          reportFailedSources(result, io, true);
          return;
        }
        io.stdout.write(renderFleetTable(rows, interval));
        const ok = rows.filter((r) => r.success).length;
        io.stdout.write(
          `\n${rows.length} VM${rows.length === 1 ? '' : 's'} from ${sources.length} source${sources.length === 1 ? '' : 's'}: ${ok} ok, ${rows.length - ok} failed, ${result.samples.length} samples in ${(result.durationMs / 1000).toFixed(1)} s${store ? '' : ' (not stored)'}\n`,
        );
        reportFailedSources(result, io, false);
      } finally {
        await closeSources(sources);
        await store?.close();
      }
    });
}
