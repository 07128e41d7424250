/**
 * The one remote command an SSH cycle runs, and parsing its output (/proc/uptime, /proc/stat, /proc/meminfo,
 * /proc/diskstats, /proc/net/dev, `df -P`) into a host reading.
 */
import { emptyCounters, type HostReading, isPhysicalDisk, isPhysicalInterface } from '../prometheus/host-metrics.ts';

const MARK = '@@vigil';
const COUNTER_FILES = ['uptime', 'stat', 'diskstats', 'netdev'] as const;

/** Single-quotes a value for a POSIX shell. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command of one cycle. With `primeSec` > 0 (first contact), it reads the counters, waits, and reads everything,
 * so rates are known from the first cycle, still in one round trip.
 */
export function buildCommand(mount: string, primeSec = 0): string {
  const read = (prefix: string, files: readonly string[]) =>
    files
      .map((f) => {
        const path = {
          uptime: '/proc/uptime',
          stat: '/proc/stat',
          meminfo: '/proc/meminfo',
          diskstats: '/proc/diskstats',
          netdev: '/proc/net/dev',
        }[f];
        return `echo '${MARK} ${prefix}${f}'; cat ${path}`;
      })
      .join('; ');
  const parts: string[] = ['export LC_ALL=C'];
  if (primeSec > 0) parts.push(read('prime_', COUNTER_FILES), `sleep ${primeSec}`);
  parts.push(read('', [...COUNTER_FILES, 'meminfo']));
  parts.push(`echo '${MARK} df'; df -P -k ${shellQuote(mount)}`);
  return parts.join('; ');
}

/** Splits the command output into named sections. */
export function splitSections(output: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const line of output.split('\n')) {
    if (line.startsWith(`${MARK} `)) {
      current = [];
      sections.set(line.slice(MARK.length + 1).trim(), current);
    } else if (current && line.trim() !== '') {
      current.push(line);
    }
  }
  return sections;
}

export class ProcParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProcParseError';
  }
}

function numbers(text: string): number[] {
  return text.trim().split(/\s+/).map(Number);
}

/** Reads the sections with `prefix` (`''` or `prime_`) into a host reading. */
export function parseReading(sections: Map<string, string[]>, prefix = ''): HostReading {
  const get = (name: string) => sections.get(`${prefix}${name}`);
  const uptime = get('uptime');
  const stat = get('stat');
  if (!uptime || !stat) throw new ProcParseError('unexpected output from the host (is it Linux? /proc/stat missing)');
  const hostTimeSec = numbers(uptime[0] ?? '')[0];
  const cpuLine = stat.find((l) => /^cpu\s/.test(l));
  if (!cpuLine) throw new ProcParseError('no aggregate cpu line in /proc/stat');
  // user nice system idle iowait irq softirq steal [guest guest_nice]: guest time is already inside user/nice.
  const f = numbers(cpuLine.slice(3)).slice(0, 8);
  const total = f.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const counters = emptyCounters();
  for (const line of get('diskstats') ?? []) {
    const p = line.trim().split(/\s+/);
    const device = p[2];
    if (!device || p.length < 10 || !isPhysicalDisk(device)) continue;
    counters.disk_read_bytes[device] = Number(p[5]) * 512;
    counters.disk_write_bytes[device] = Number(p[9]) * 512;
  }
  for (const line of get('netdev') ?? []) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || !isPhysicalInterface(m[1]!)) continue;
    const p = numbers(m[2]!);
    if (p.length < 9) continue;
    counters.network_in_bytes[m[1]!] = p[0]!;
    counters.network_out_bytes[m[1]!] = p[8]!;
  }
  const reading: {
    hostTimeSec?: number;
    cpu?: { busy: number; total: number };
    memory?: { totalBytes: number; availableBytes: number };
    rootFs?: { sizeBytes: number; usedBytes: number; availBytes: number };
    counters: typeof counters;
  } = { counters };
  if (hostTimeSec !== undefined && Number.isFinite(hostTimeSec)) reading.hostTimeSec = hostTimeSec;
  if (total > 0) reading.cpu = { busy: total - idle, total };
  const meminfo = get('meminfo');
  if (meminfo) {
    const kb = new Map<string, number>();
    for (const line of meminfo) {
      const m = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(line);
      if (m) kb.set(m[1]!, Number(m[2]));
    }
    const memTotal = kb.get('MemTotal');
    // Kernels before 3.14 have no MemAvailable: approximate it as free + buffers + page cache.
    const available =
      kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
    if (memTotal) reading.memory = { totalBytes: memTotal * 1024, availableBytes: available * 1024 };
  }
  const df = get('df');
  if (df && df.length >= 2) {
    // Filesystem 1024-blocks Used Available Capacity Mounted-on: anchor on the Capacity field (device names and
    // mount points may contain spaces).
    const p = df[df.length - 1]!.trim().split(/\s+/);
    const cap = p.findIndex((x, i) => i >= 4 && /^\d+%$/.test(x));
    const size = Number(p[cap - 3]);
    const used = Number(p[cap - 2]);
    const avail = Number(p[cap - 1]);
    if ([size, used, avail].every(Number.isFinite)) {
      reading.rootFs = { sizeBytes: size * 1024, usedBytes: used * 1024, availBytes: avail * 1024 };
    }
  }
  return reading;
}
