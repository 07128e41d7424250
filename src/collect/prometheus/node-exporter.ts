/** Reads node_exporter's series (names as of node_exporter ≥ 0.16) into a host reading. */
import type { Exposition } from './exposition.ts';
import { emptyCounters, type HostReading, isPhysicalDisk, isPhysicalInterface } from './host-metrics.ts';

const IDLE_MODES = new Set(['idle', 'iowait']);

export function readingFromExposition(exp: Exposition): HostReading {
  const counters = emptyCounters();
  let busy = 0;
  let total = 0;
  let cpuSeen = false;
  let memTotal: number | undefined;
  let memAvailable: number | undefined;
  const fs: Record<string, number> = {};
  let hostTimeSec: number | undefined;
  for (const s of exp.samples) {
    if (!Number.isFinite(s.value)) continue;
    switch (s.name) {
      case 'node_cpu_seconds_total': {
        cpuSeen = true;
        total += s.value;
        if (!IDLE_MODES.has(s.labels.mode ?? '')) busy += s.value;
        break;
      }
      case 'node_memory_MemTotal_bytes':
        memTotal = s.value;
        break;
      case 'node_memory_MemAvailable_bytes':
        memAvailable = s.value;
        break;
      case 'node_filesystem_size_bytes':
      case 'node_filesystem_avail_bytes':
      case 'node_filesystem_free_bytes':
        if (s.labels.mountpoint === '/' && s.labels.fstype !== 'rootfs') fs[s.name] ??= s.value;
        break;
      case 'node_disk_read_bytes_total':
        if (s.labels.device && isPhysicalDisk(s.labels.device)) counters.disk_read_bytes[s.labels.device] = s.value;
        break;
      case 'node_disk_written_bytes_total':
        if (s.labels.device && isPhysicalDisk(s.labels.device)) counters.disk_write_bytes[s.labels.device] = s.value;
        break;
      case 'node_network_receive_bytes_total':
        if (s.labels.device && isPhysicalInterface(s.labels.device))
          counters.network_in_bytes[s.labels.device] = s.value;
        break;
      case 'node_network_transmit_bytes_total':
        if (s.labels.device && isPhysicalInterface(s.labels.device))
          counters.network_out_bytes[s.labels.device] = s.value;
        break;
      case 'node_time_seconds':
        hostTimeSec = s.value;
        break;
    }
  }
  const size = fs.node_filesystem_size_bytes;
  const avail = fs.node_filesystem_avail_bytes;
  const free = fs.node_filesystem_free_bytes;
  return {
    ...(hostTimeSec !== undefined ? { hostTimeSec } : {}),
    ...(cpuSeen ? { cpu: { busy, total } } : {}),
    ...(memTotal !== undefined && memAvailable !== undefined
      ? { memory: { totalBytes: memTotal, availableBytes: memAvailable } }
      : {}),
    ...(size !== undefined && avail !== undefined && free !== undefined
      ? { rootFs: { sizeBytes: size, usedBytes: size - free, availBytes: avail } }
      : {}),
    counters,
  };
}
