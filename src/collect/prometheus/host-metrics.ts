/**
 * Turning raw host counters (from node_exporter or from /proc over SSH) into the standard VM metrics.
 * Both agentless sources read the same kinds of numbers; this module owns the rate arithmetic,
 * counter-reset handling and device filtering, so both behave the same.
 */
import type { StandardMetric } from '../../model/index.ts';

export type CounterMetric = 'disk_read_bytes' | 'disk_write_bytes' | 'network_in_bytes' | 'network_out_bytes';

/** One reading of a host at one moment. */
export interface HostReading {
  /** The host's own clock or uptime, in seconds, when it has one (lets rates use the host's elapsed time). */
  readonly hostTimeSec?: number;
  /** Cumulative CPU time of all CPUs: busy (all but idle and iowait) and total, in any one unit. */
  readonly cpu?: { readonly busy: number; readonly total: number };
  readonly memory?: { readonly totalBytes: number; readonly availableBytes: number };
  /** Usage of the root filesystem. */
  readonly rootFs?: { readonly sizeBytes: number; readonly usedBytes: number; readonly availBytes: number };
  /** Cumulative byte counters per device, e.g. `sda`, `eth0`. */
  readonly counters: Readonly<Record<CounterMetric, Readonly<Record<string, number>>>>;
}

/** Block devices that would double count (partitions, device-mapper, md) or are not disks (loop, ram, cdrom). */
export const EXCLUDED_DISK_RE =
  /^(?:z?ram\d+|loop\d+|fd\d+|sr\d+|dm-\d+|md\d+|(?:h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+|mmcblk\d+p\d+|nbd\d+)$/;
/** Loopback and virtual network interfaces (containers, bridges, tunnels). */
export const EXCLUDED_NET_RE =
  /^(?:lo|veth.*|docker\d*|br-.*|virbr.*|cni\d*|flannel.*|cali.*|vxlan.*|tunl?\d*|tap.*|kube-.*|weave.*|lxc.*|dummy\d*|cilium.*|genev_sys.*|vnet\d+|ifb\d+)$/;

export function isPhysicalDisk(device: string): boolean {
  return !EXCLUDED_DISK_RE.test(device);
}

export function isPhysicalInterface(name: string): boolean {
  return !EXCLUDED_NET_RE.test(name);
}

/** Increase of a counter between two readings; a decrease means the counter was reset, so the increase is the new value. */
export function counterIncrease(previous: number, current: number): number {
  return current >= previous ? current - previous : current;
}

/**
 * The standard metrics from a reading and the previous one. Gauges (memory, disk) need only the current
 * reading; CPU % and bytes need a previous one. Bytes are scaled to one collection interval
 * (`intervalMs`) using the elapsed time between the readings (the host's clock when both carry it,
 * else `elapsedMs`).
 */
export function deriveHostMetrics(
  previous: HostReading | undefined,
  current: HostReading,
  opts: { readonly intervalMs: number; readonly elapsedMs: number },
): Partial<Record<StandardMetric, number>> {
  const out: Partial<Record<StandardMetric, number>> = {};
  if (current.memory && current.memory.totalBytes > 0) {
    out.memory_percent = clampPercent(100 * (1 - current.memory.availableBytes / current.memory.totalBytes));
  }
  const fs = current.rootFs;
  if (fs && fs.usedBytes + fs.availBytes > 0) {
    out.disk_percent = clampPercent((100 * fs.usedBytes) / (fs.usedBytes + fs.availBytes));
  }
  if (!previous) return out;
  if (previous.cpu && current.cpu) {
    const dTotal = current.cpu.total - previous.cpu.total;
    const dBusy = current.cpu.busy - previous.cpu.busy;
    // A decrease of the totals means the host rebooted: skip CPU for this interval rather than guess.
    if (dTotal > 0 && dBusy >= 0) out.cpu_percent = clampPercent((100 * dBusy) / dTotal);
  }
  let elapsedMs = opts.elapsedMs;
  if (previous.hostTimeSec !== undefined && current.hostTimeSec !== undefined) {
    const hostElapsed = (current.hostTimeSec - previous.hostTimeSec) * 1000;
    if (hostElapsed > 0) elapsedMs = hostElapsed;
  }
  if (elapsedMs <= 0) return out;
  const scale = opts.intervalMs / elapsedMs;
  for (const metric of ['disk_read_bytes', 'disk_write_bytes', 'network_in_bytes', 'network_out_bytes'] as const) {
    const cur = current.counters[metric];
    const prev = previous.counters[metric];
    let sum = 0;
    let any = false;
    for (const [device, value] of Object.entries(cur)) {
      const before = prev[device];
      if (before === undefined) continue; // a device that just appeared has no increase yet
      sum += counterIncrease(before, value);
      any = true;
    }
    if (any) out[metric] = Math.round(sum * scale);
  }
  return out;
}

function clampPercent(v: number): number {
  return Math.min(100, Math.max(0, Math.round(v * 100) / 100));
}

export function emptyCounters(): Record<CounterMetric, Record<string, number>> {
  return { disk_read_bytes: {}, disk_write_bytes: {}, network_in_bytes: {}, network_out_bytes: {} };
}
