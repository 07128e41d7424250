import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostSourceSchema } from '../../config/sections/sources.ts';
import {
  counterDelta,
  cpuPercent,
  type DeviceCounters,
  deriveMetrics,
  diskPercent,
  type HostSnapshot,
  ProcFormatError,
  parseCpuTimes,
  parseDiskstats,
  parseMeminfo,
  parseNetDev,
  parseUptime,
} from './proc.ts';
import { HostSource } from './source.ts';

const STAT = `cpu  1000 50 300 8000 200 10 20 5 0 0
cpu0 500 25 150 4000 100 5 10 2 0 0
intr 12345
ctxt 999
`;

const MEMINFO = `MemTotal:       16000000 kB
MemFree:         2000000 kB
MemAvailable:    4000000 kB
Buffers:          100000 kB
Cached:          3000000 kB
HugePages_Total:       0
`;

const DISKSTATS = `   7       0 loop0 100 0 2000 10 0 0 0 0 0 10 10 0 0 0 0
   8       0 sda 1000 10 4000 500 2000 20 8000 900 0 1000 1400 0 0 0 0
   8       1 sda1 900 10 3600 400 1900 20 7600 800 0 900 1200 0 0 0 0
 259       0 nvme0n1 10 0 100 1 20 0 200 2 0 3 3 0 0 0 0
 259       1 nvme0n1p1 10 0 100 1 20 0 200 2 0 3 3 0 0 0 0
 253       0 dm-0 800 0 3000 400 1800 0 7000 800 0 900 1200 0 0 0 0
   1       0 ram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
`;

const NETDEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 999999    100    0    0    0     0          0         0   999999     100    0    0    0     0       0          0
  eth0: 5000000   4000    0    0    0     0          0         0  1000000    3000    0    0    0     0       0          0
docker0: 777     7    0    0    0     0          0         0      777       7    0    0    0     0       0          0
vethabc: 888     8    0    0    0     0          0         0      888       8    0    0    0     0       0          0
br-1234: 999     9    0    0    0     0          0         0      999       9    0    0    0     0       0          0
  ens5: 100       1    0    0    0     0          0         0      200       2    0    0    0     0       0          0
`;

test('parseCpuTimes: busy excludes idle and iowait; guest is not double counted', () => {
  assert.deepEqual(parseCpuTimes(STAT), { busy: 1000 + 50 + 300 + 10 + 20 + 5, total: 9585 });
  assert.throws(() => parseCpuTimes('intr 1\n'), ProcFormatError);
});

test('parseMeminfo: MemAvailable, else free + buffers + cached', () => {
  assert.deepEqual(parseMeminfo(MEMINFO), { totalBytes: 16_000_000 * 1024, availableBytes: 4_000_000 * 1024 });
  const old = MEMINFO.replace(/MemAvailable.*\n/, '');
  assert.equal(parseMeminfo(old).availableBytes, (2_000_000 + 100_000 + 3_000_000) * 1024);
  assert.throws(() => parseMeminfo('MemFree: 1 kB'), /MemTotal/);
});

test('parseDiskstats: whole disks only, sectors × 512', () => {
  assert.deepEqual(parseDiskstats(DISKSTATS), {
    sda: { read: 4000 * 512, write: 8000 * 512 },
    nvme0n1: { read: 100 * 512, write: 200 * 512 },
  });
});

test('parseNetDev: physical interfaces only', () => {
  assert.deepEqual(parseNetDev(NETDEV), {
    eth0: { read: 5_000_000, write: 1_000_000 },
    ens5: { read: 100, write: 200 },
  });
});

test('parseUptime', () => {
  assert.equal(parseUptime('12345.67 40000.00\n'), 12345.67);
  assert.equal(parseUptime(''), null);
});

test('diskPercent is used / (used + available) like df', () => {
  // 1000 blocks, 300 free of which 250 available to users: used 700, 700/(700+250)
  assert.equal(diskPercent({ blocks: 1000, bfree: 300, bavail: 250, bsize: 4096 }), 73.68);
  assert.equal(diskPercent({ blocks: 0, bfree: 0, bavail: 0, bsize: 4096 }), null);
});

test('cpuPercent from deltas; a counter going back (reboot) yields nothing', () => {
  const cases = [
    { prev: { busy: 100, total: 1000 }, cur: { busy: 150, total: 1100 }, want: 50 },
    { prev: { busy: 100, total: 1000 }, cur: { busy: 100, total: 1200 }, want: 0 },
    { prev: { busy: 100, total: 1000 }, cur: { busy: 300, total: 1200 }, want: 100 },
    { prev: { busy: 100, total: 1000 }, cur: { busy: 100, total: 1000 }, want: null },
    { prev: { busy: 500, total: 9000 }, cur: { busy: 10, total: 100 }, want: null },
  ];
  for (const c of cases) assert.equal(cpuPercent(c.prev, c.cur), c.want, JSON.stringify(c));
});

test('counterDelta sums increases and skips a reset device', () => {
  const prev = { a: { read: 100, write: 10 }, b: { read: 1000, write: 10 } };
  const cases: { cur: DeviceCounters; want: number | null }[] = [
    { cur: { a: { read: 150, write: 10 }, b: { read: 1100, write: 10 } }, want: 150 },
    { cur: { a: { read: 150, write: 10 }, b: { read: 5, write: 10 } }, want: 50 }, // b reset: skipped
    { cur: { a: { read: 50, write: 10 }, b: { read: 5, write: 10 } }, want: null }, // both reset
    { cur: { a: { read: 100, write: 10 }, c: { read: 9999, write: 0 } }, want: 0 }, // c is new
  ];
  for (const c of cases) assert.equal(counterDelta(prev, c.cur, 'read'), c.want, JSON.stringify(c.cur));
});

function snap(over: Partial<HostSnapshot>): HostSnapshot {
  return {
    uptimeSec: null,
    cpu: { busy: 0, total: 0 },
    memory: { totalBytes: 1000, availableBytes: 250 },
    disks: {},
    nets: {},
    ...over,
  };
}

test('deriveMetrics scales bytes to the interval, preferring uptime for elapsed time', () => {
  const prev = snap({
    uptimeSec: 100,
    cpu: { busy: 100, total: 1000 },
    disks: { sda: { read: 0, write: 0 } },
    nets: { eth0: { read: 1000, write: 0 } },
  });
  const cur = snap({
    uptimeSec: 100.25,
    cpu: { busy: 125, total: 1100 },
    disks: { sda: { read: 512_000, write: 1024 } },
    nets: { eth0: { read: 2000, write: 500 } },
  });
  // 250 ms window, 60 s interval: × 240
  assert.deepEqual(deriveMetrics(prev, cur, { intervalMs: 60_000, elapsedMs: 999 }), {
    memory_percent: 75,
    cpu_percent: 25,
    disk_read_bytes: 512_000 * 240,
    disk_write_bytes: 1024 * 240,
    network_in_bytes: 1000 * 240,
    network_out_bytes: 500 * 240,
  });
  // No uptime: the given elapsed time is used.
  const noUp = deriveMetrics(
    { ...prev, uptimeSec: null },
    { ...cur, uptimeSec: null },
    { intervalMs: 60_000, elapsedMs: 60_000 },
  );
  assert.equal(noUp.network_in_bytes, 1000);
  // Same reading: gauges only.
  assert.deepEqual(deriveMetrics(cur, cur, { intervalMs: 60_000, elapsedMs: 0 }), { memory_percent: 75 });
});

function writeProc(dir: string, f: { stat: string; diskstats: string; netdev: string; uptime: string }) {
  mkdirSync(join(dir, 'net'), { recursive: true });
  writeFileSync(join(dir, 'stat'), f.stat);
  writeFileSync(join(dir, 'meminfo'), MEMINFO);
  writeFileSync(join(dir, 'diskstats'), f.diskstats);
  writeFileSync(join(dir, 'net', 'dev'), f.netdev);
  writeFileSync(join(dir, 'uptime'), f.uptime);
}

test('HostSource on fixture /proc: first cycle primes, later cycles use the previous reading', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-proc-'));
  try {
    writeProc(dir, { stat: STAT, diskstats: DISKSTATS, netdev: NETDEV, uptime: '1000.00 0' });
    const config = hostSourceSchema.parse({ type: 'host', vm: 'box-1', labels: { site: 'lab' }, mount: tmpdir() });
    let sleeps = 0;
    const source = new HostSource(config, {
      procRoot: dir,
      primeMs: 500,
      sleep: async () => {
        sleeps++;
        // The counters move during the priming window.
        writeProc(dir, {
          stat: STAT.replace('cpu  1000 50 300 8000', 'cpu  1100 50 300 8100'),
          diskstats: DISKSTATS.replace('sda 1000 10 4000', 'sda 1000 10 5000'),
          netdev: NETDEV.replace('eth0: 5000000', 'eth0: 5010000'),
          uptime: '1000.50 0',
        });
      },
    });
    const [target] = await source.discover();
    assert.deepEqual(target, { vm: 'box-1', labels: { site: 'lab', source: 'host', tenant: 'default' } });
    const ctx = { now: 1_000_000, intervalMs: 60_000, signal: new AbortController().signal };
    const [r1] = await source.collect([target!], ctx);
    assert.equal(r1!.error, undefined);
    assert.equal(sleeps, 1);
    const v1 = Object.fromEntries(r1!.samples.map((s) => [s.metric, s.value]));
    assert.equal(v1.cpu_percent, 50); // 100 busy of 200
    assert.equal(v1.memory_percent, 75);
    assert.equal(v1.disk_read_bytes, 1000 * 512 * 120); // 0.5 s window scaled to 60 s
    assert.equal(v1.disk_write_bytes, 0);
    assert.equal(v1.network_in_bytes, 10_000 * 120);
    assert.ok(v1.disk_percent! >= 0 && v1.disk_percent! <= 100);
    assert.ok(r1!.samples.every((s) => s.ts === 1_000_000));

    // Second cycle a minute later: no priming, delta from the last reading; a reset interface is skipped.
    writeProc(dir, {
      stat: STAT.replace('cpu  1000 50 300 8000', 'cpu  1400 50 300 8400'),
      diskstats: DISKSTATS.replace('sda 1000 10 4000', 'sda 1000 10 5000'),
      netdev: NETDEV.replace('eth0: 5000000', 'eth0: 10'),
      uptime: '1060.50 0',
    });
    const [r2] = await source.collect([target!], { ...ctx, now: 1_060_000 });
    assert.equal(sleeps, 1);
    const v2 = Object.fromEntries(r2!.samples.map((s) => [s.metric, s.value]));
    assert.equal(v2.cpu_percent, 50);
    assert.equal(v2.disk_read_bytes, 0);
    assert.equal(v2.network_in_bytes, 0, 'eth0 reset is skipped; ens5 did not move');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('HostSource: a missing mount is a clear error', async () => {
  const config = hostSourceSchema.parse({ type: 'host', vm: 'x', mount: '/does/not/exist' });
  const source = new HostSource(config, { primeMs: 0 });
  const [t] = await source.discover();
  const [r] = await source.collect([t!], { now: 1, intervalMs: 60_000, signal: new AbortController().signal });
  assert.equal(r!.error, 'mount /does/not/exist not found');
});

test('HostSource on the real /proc of this machine', { skip: process.platform !== 'linux' }, async () => {
  const config = hostSourceSchema.parse({ type: 'host' });
  const source = new HostSource(config, { primeMs: 200 });
  const [t] = await source.discover();
  assert.ok(t!.vm.length > 0);
  const [r] = await source.collect([t!], { now: 1, intervalMs: 60_000, signal: new AbortController().signal });
  assert.equal(r!.error, undefined);
  const v = Object.fromEntries(r!.samples.map((s) => [s.metric, s.value]));
  for (const m of ['cpu_percent', 'memory_percent', 'disk_percent'])
    assert.ok(v[m]! >= 0 && v[m]! <= 100, `${m}=${v[m]}`);
  for (const m of ['memory_percent', 'disk_percent', 'cpu_percent']) assert.ok(m in v, `${m} present`);
});
