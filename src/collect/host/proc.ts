/**
 * Pure parsers for the Linux /proc files the host source reads, and the arithmetic that turns two readings into
 * the standard metrics. No I/O here: every function takes file text or readings.
 */
import type { StandardMetric } from '../../model/index.ts';
import { isPhysicalDisk, isPhysicalInterface } from '../prometheus/host-metrics.ts';

/** Cumulative CPU time of all CPUs (jiffies): busy = everything but idle and iowait. */
export interface CpuTimes {
  readonly busy: number;
  readonly total: number;
}

export interface MemoryInfo {
  readonly totalBytes: number;
  readonly availableBytes: number;
}

/** Cumulative byte counters per device. */
export type DeviceCounters = Readonly<Record<string, { readonly read: number; readonly write: number }>>;

/** One reading of this machine. */
export interface HostSnapshot {
  /** Seconds since boot (/proc/uptime): the elapsed time between readings, independent of wall-clock jumps. */
  readonly uptimeSec: number | null;
  readonly cpu: CpuTimes | null;
  readonly memory: MemoryInfo | null;
  /** Whole disks: bytes read / written. */
  readonly disks: DeviceCounters;
  /** Physical interfaces: `read` = bytes received, `write` = bytes sent. */
  readonly nets: DeviceCounters;
}

export class ProcFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProcFormatError';
  }
}

/** The aggregate `cpu` line of /proc/stat. Guest time is already counted inside user/nice, so it is not added. */
export function parseCpuTimes(stat: string): CpuTimes {
  const line = stat.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) throw new ProcFormatError('/proc/stat has no aggregate "cpu" line');
  const f = line
    .slice(3)
    .trim()
    .split(/\s+/)
    .slice(0, 8)
    .map((x) => Number(x));
  if (f.length < 4 || f.some((x) => !Number.isFinite(x)))
    throw new ProcFormatError(`unexpected /proc/stat line: ${line}`);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = f[3]! + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/** MemTotal and MemAvailable (kernels before 3.14: free + buffers + page cache). */
export function parseMeminfo(text: string): MemoryInfo {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(line);
    if (m) kb.set(m[1]!, Number(m[2]));
  }
  const total = kb.get('MemTotal');
  if (!total) throw new ProcFormatError('/proc/meminfo has no MemTotal');
  const available =
    kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  return { totalBytes: total * 1024, availableBytes: available * 1024 };
}

/**
 * Sectors read (field 6) and written (field 10) of whole disks, in bytes (a sector here is always 512 bytes).
 * Partitions, device-mapper and md devices (which would count the same I/O twice), loop and ram devices are skipped.
 */
export function parseDiskstats(text: string): DeviceCounters {
  const out: Record<string, { read: number; write: number }> = {};
  for (const line of text.split('\n')) {
    const p = line.trim().split(/\s+/);
    if (p.length < 10) continue;
    const device = p[2]!;
    if (!isPhysicalDisk(device)) continue;
    const read = Number(p[5]);
    const write = Number(p[9]);
    if (!Number.isFinite(read) || !Number.isFinite(write)) continue;
    out[device] = { read: read * 512, write: write * 512 };
  }
  return out;
}

/** Received and sent bytes of physical interfaces (loopback, veth, docker, bridges, tunnels are skipped). */
export function parseNetDev(text: string): DeviceCounters {
  const out: Record<string, { read: number; write: number }> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || !isPhysicalInterface(m[1]!)) continue;
    const p = m[2]!.trim().split(/\s+/).map(Number);
    if (p.length < 9 || !Number.isFinite(p[0]) || !Number.isFinite(p[8])) continue;
    out[m[1]!] = { read: p[0]!, write: p[8]! };
  }
  return out;
}

export function parseUptime(text: string): number | null {
  const first = text.trim().split(/\s+/)[0];
  if (!first) return null;
  const v = Number(first);
  return Number.isFinite(v) ? v : null;
}

/** `df`-style usage: used / (used + available to unprivileged users), so reserved blocks do not hide a full disk. */
export function diskPercent(fs: { blocks: number; bfree: number; bavail: number; bsize: number }): number | null {
  const used = (fs.blocks - fs.bfree) * fs.bsize;
  const avail = fs.bavail * fs.bsize;
  if (used + avail <= 0) return null;
  return round2((100 * used) / (used + avail));
}

/** CPU busy % between two readings; null when there is no elapsed CPU time or the counters went back (reboot). */
export function cpuPercent(prev: CpuTimes, cur: CpuTimes): number | null {
  const dTotal = cur.total - prev.total;
  const dBusy = cur.busy - prev.busy;
  if (dTotal <= 0 || dBusy < 0) return null;
  return clampPercent((100 * dBusy) / dTotal);
}

/**
 * Sum of per-device increases. A device whose counter went down was reset (driver reload, wrap): its delta is
 * skipped for this interval rather than guessed. A device that just appeared has no delta yet.
 * Returns null when no device had a usable delta.
 */
export function counterDelta(prev: DeviceCounters, cur: DeviceCounters, field: 'read' | 'write'): number | null {
  let sum = 0;
  let any = false;
  for (const [device, now] of Object.entries(cur)) {
    const before = prev[device];
    if (!before) continue;
    const d = now[field] - before[field];
    if (d < 0) continue;
    sum += d;
    any = true;
  }
  return any ? sum : null;
}

/**
 * The standard metrics from two readings `elapsedMs` apart, bytes scaled to one collection interval.
 * Gauges (memory) come from the current reading alone; disk_percent is added by the caller (statfs).
 */
export function deriveMetrics(
  prev: HostSnapshot,
  cur: HostSnapshot,
  opts: { readonly intervalMs: number; readonly elapsedMs: number },
): Partial<Record<StandardMetric, number>> {
  const out: Partial<Record<StandardMetric, number>> = {};
  if (cur.memory && cur.memory.totalBytes > 0) {
    out.memory_percent = clampPercent(100 * (1 - cur.memory.availableBytes / cur.memory.totalBytes));
  }
  if (prev.cpu && cur.cpu) {
    const cpu = cpuPercent(prev.cpu, cur.cpu);
    if (cpu !== null) out.cpu_percent = cpu;
  }
  let elapsedMs = opts.elapsedMs;
  if (prev.uptimeSec !== null && cur.uptimeSec !== null && cur.uptimeSec > prev.uptimeSec) {
    elapsedMs = (cur.uptimeSec - prev.uptimeSec) * 1000;
  }
  if (elapsedMs <= 0) return out;
  const scale = opts.intervalMs / elapsedMs;
  const pairs = [
    ['disk_read_bytes', prev.disks, cur.disks, 'read'],
    ['disk_write_bytes', prev.disks, cur.disks, 'write'],
    ['network_in_bytes', prev.nets, cur.nets, 'read'],
    ['network_out_bytes', prev.nets, cur.nets, 'write'],
  ] as const;
  for (const [metric, p, c, field] of pairs) {
    const d = counterDelta(p, c, field);
    if (d !== null) out[metric] = Math.round(d * scale);
  }
  return out;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function clampPercent(v: number): number {
  return Math.min(100, Math.max(0, round2(v)));
}
