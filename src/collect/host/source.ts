/**
 * The `host` source: this machine, read from /proc and statfs. CPU % and bytes come from the difference between
 * two readings; on the first cycle the source takes two readings a short window apart so a value exists at once.
 */
import { readFile, statfs } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import type { HostSourceConfig } from '../../config/index.ts';
import { type Sample, STANDARD_METRICS } from '../../model/index.ts';
import type { CollectContext, Source, Target, TargetResult } from '../source.ts';
import {
  deriveMetrics,
  diskPercent,
  type HostSnapshot,
  parseCpuTimes,
  parseDiskstats,
  parseMeminfo,
  parseNetDev,
  parseUptime,
} from './proc.ts';

export interface HostSourceOptions {
  /** Where /proc is (tests point this at fixtures). */
  readonly procRoot?: string;
  /** First-cycle window between the two readings, ms (default 250; 0 = no CPU/bytes on the first cycle). */
  readonly primeMs?: number;
  /** Waits `ms` (default: a timer); aborted by the cycle's signal. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Machine name when the config names no `vm` (default: os.hostname()). */
  readonly hostname?: () => string;
}

export class HostSource implements Source {
  readonly name: string;
  readonly type = 'host';
  private readonly config: HostSourceConfig;
  private readonly procRoot: string;
  private readonly primeMs: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly target: Target;
  private previous: { snapshot: HostSnapshot; at: number } | null = null;
  private readings = 0;

  constructor(config: HostSourceConfig, opts: HostSourceOptions = {}) {
    this.config = config;
    this.name = config.name ?? 'host';
    this.procRoot = opts.procRoot ?? '/proc';
    this.primeMs = opts.primeMs ?? 250;
    this.sleep = opts.sleep ?? ((ms, signal) => sleepTimer(ms, undefined, { signal }));
    const vm = config.vm ?? (opts.hostname ?? hostname)();
    this.target = { vm, labels: { ...config.labels, source: this.name, tenant: config.tenant } };
  }

  async discover(): Promise<Target[]> {
    return [this.target];
  }

  async collect(targets: readonly Target[], ctx: CollectContext): Promise<TargetResult[]> {
    return Promise.all(
      targets.map(async (target) => {
        try {
          return { target, samples: await this.collectOnce(ctx) };
        } catch (e) {
          return { target, samples: [], error: describeHostError(e, this.config.mount) };
        }
      }),
    );
  }

  stats(): Record<string, number> {
    return { readings: this.readings };
  }

  private async collectOnce(ctx: CollectContext): Promise<Sample[]> {
    let prev = this.previous;
    let elapsedMs = prev ? ctx.now - prev.at : 0;
    if (!prev && this.primeMs > 0) {
      // First cycle: two readings a short window apart, so CPU % and bytes have a value right away.
      prev = { snapshot: await this.read(), at: ctx.now };
      await this.sleep(this.primeMs, ctx.signal);
      elapsedMs = this.primeMs;
    }
    const [current, fs] = await Promise.all([this.read(), statfs(this.config.mount)]);
    // Without a previous reading only the gauges exist (elapsed 0 yields no CPU % and no bytes).
    const metrics = deriveMetrics(prev?.snapshot ?? current, current, {
      intervalMs: ctx.intervalMs,
      elapsedMs: prev ? elapsedMs : 0,
    });
    const disk = diskPercent(fs);
    if (disk !== null) metrics.disk_percent = disk;
    this.previous = { snapshot: current, at: ctx.now };
    const samples: Sample[] = [];
    for (const metric of STANDARD_METRICS) {
      const value = metrics[metric];
      if (value !== undefined) samples.push({ metric, labels: {}, ts: ctx.now, value });
    }
    return samples;
  }

  private async read(): Promise<HostSnapshot> {
    const file = (name: string) => readFile(join(this.procRoot, name), 'utf8');
    const [stat, meminfo, diskstats, netdev, uptime] = await Promise.all([
      file('stat'),
      file('meminfo'),
      file('diskstats').catch(() => ''),
      file('net/dev').catch(() => ''),
      file('uptime').catch(() => ''),
    ]);
    this.readings++;
    return {
      uptimeSec: parseUptime(uptime),
      cpu: parseCpuTimes(stat),
      memory: parseMeminfo(meminfo),
      disks: parseDiskstats(diskstats),
      nets: parseNetDev(netdev),
    };
  }
}

/** A short reason for the fleet table. */
export function describeHostError(e: unknown, mount: string): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT' && typeof err.path === 'string' && !err.path.startsWith('/proc'))
    return `mount ${mount} not found`;
  if (err?.code === 'ENOENT') return `${err.path ?? 'a /proc file'} not found (host metrics need Linux /proc)`;
  if (err?.code === 'EACCES') return `permission denied reading ${err.path ?? mount}`;
  if (err?.name === 'AbortError' || err?.name === 'TimeoutError') return 'collection aborted';
  return err?.message ?? String(e);
}
