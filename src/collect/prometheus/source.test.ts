import assert from 'node:assert/strict';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { prometheusSourceSchema } from '../../config/sections/sources.ts';
import {
  counterIncrease,
  deriveHostMetrics,
  emptyCounters,
  isPhysicalDisk,
  isPhysicalInterface,
} from './host-metrics.ts';
import { PrometheusSource } from './source.ts';

function page(o: {
  idle: number;
  user: number;
  read: number;
  rx: number;
  loRx: number;
  avail: number;
  time: number;
}): string {
  return `# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} ${o.idle}
node_cpu_seconds_total{cpu="0",mode="iowait"} 10
node_cpu_seconds_total{cpu="0",mode="user"} ${o.user}
node_cpu_seconds_total{cpu="0",mode="system"} 5
# TYPE node_memory_MemTotal_bytes gauge
node_memory_MemTotal_bytes 8e+09
node_memory_MemAvailable_bytes ${o.avail}
node_filesystem_size_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 1000
node_filesystem_free_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 300
node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 200
node_filesystem_size_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 50
node_disk_read_bytes_total{device="sda"} ${o.read}
node_disk_read_bytes_total{device="sda1"} ${o.read}
node_disk_read_bytes_total{device="loop0"} 999999
node_disk_written_bytes_total{device="sda"} 100
node_network_receive_bytes_total{device="eth0"} ${o.rx}
node_network_receive_bytes_total{device="lo"} ${o.loRx}
node_network_receive_bytes_total{device="veth12ab"} ${o.loRx}
node_network_transmit_bytes_total{device="eth0"} 0
node_time_seconds ${o.time}
# TYPE app_requests_total counter
app_requests_total{vm="inner",path="/a"} 7
app_latency_seconds_bucket{le="+Inf"} 3
`;
}

function fakeFetch(pages: string[]): { fetch: typeof fetch; urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    fetch: (async (url: string | URL | Request) => {
      urls.push(String(url));
      const body = pages.shift();
      if (body === undefined) throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
      if (body === '404') return new Response('nope', { status: 404 });
      return new Response(body, { status: 200 });
    }) as typeof fetch,
  };
}

const ctx = (now: number) => ({ now, intervalMs: 60_000, signal: new AbortController().signal });

test('maps node_exporter series to the standard metrics across two cycles', async () => {
  const f = fakeFetch([
    page({ idle: 100, user: 50, read: 1000, rx: 5000, loRx: 1, avail: 2e9, time: 1000 }),
    page({ idle: 130, user: 80, read: 7000, rx: 17000, loRx: 9e9, avail: 4e9, time: 1030 }),
  ]);
  const src = new PrometheusSource(
    prometheusSourceSchema.parse({
      type: 'prometheus',
      name: 'nodes',
      targets: ['10.0.0.5:9100'],
      prime: 0,
      keep: 'app_.*',
    }),
    { fetch: f.fetch },
  );
  const [target] = await src.discover(ctx(0));
  assert.equal(target!.vm, '10.0.0.5');
  assert.equal(target!.address, 'http://10.0.0.5:9100/metrics');
  const first = await src.collect([target!], ctx(60_000));
  const byMetric = (r: typeof first) => Object.fromEntries(r[0]!.samples.map((s) => [s.metric, s.value]));
  // First cycle without priming: gauges only.
  assert.deepEqual(byMetric(first), {
    memory_percent: 75,
    disk_percent: 77.78,
    app_requests_total: 7,
    app_latency_seconds_bucket: 3,
  });
  const second = await src.collect([target!], ctx(120_000));
  const m = byMetric(second);
  assert.equal(m.cpu_percent, 50); // busy +30 of total +60
  assert.equal(m.memory_percent, 50);
  // 30 s of host time between scrapes, scaled to a 60 s interval; sda1, loop0, lo and veth excluded.
  assert.equal(m.disk_read_bytes, 12000);
  assert.equal(m.network_in_bytes, 24000);
  assert.equal(m.disk_write_bytes, 0);
  const custom = second[0]!.samples.find((s) => s.metric === 'app_requests_total')!;
  assert.deepEqual(custom.labels, {
    exported_vm: 'inner',
    path: '/a',
    source: 'nodes',
    tenant: 'default',
    vm: '10.0.0.5',
  });
  assert.equal(src.stats().successes, 2);
});

test('priming scrapes twice on first contact so CPU is known at once', async () => {
  const f = fakeFetch([
    page({ idle: 100, user: 50, read: 0, rx: 0, loRx: 0, avail: 2e9, time: 1000 }),
    page({ idle: 101, user: 53, read: 100, rx: 0, loRx: 0, avail: 2e9, time: 1001 }),
  ]);
  const src = new PrometheusSource(
    prometheusSourceSchema.parse({
      type: 'prometheus',
      targets: [{ target: 'http://h:9100/m', vm: 'web-1' }],
      prime: '10ms',
    }),
    { fetch: f.fetch },
  );
  const targets = await src.discover(ctx(0));
  const [r] = await src.collect(targets, ctx(0));
  assert.equal(f.urls.length, 2);
  assert.equal(r!.target.vm, 'web-1');
  const m = Object.fromEntries(r!.samples.map((s) => [s.metric, s.value]));
  assert.equal(m.cpu_percent, 75);
  assert.equal(m.disk_read_bytes, 6000); // 100 bytes in 1 s of host time → 6000 per 60 s
});

test('failures are per target with clear messages', async () => {
  const f = fakeFetch(['404', 'not a valid { page']);
  const src = new PrometheusSource(
    prometheusSourceSchema.parse({ type: 'prometheus', targets: ['a:1', 'b:2', 'c:3'], prime: 0 }),
    { fetch: f.fetch },
  );
  const targets = await src.discover(ctx(0));
  const results = [];
  for (const t of targets) results.push(...(await src.collect([t], ctx(0))));
  assert.equal(results[0]!.error, 'HTTP 404 from http://a:1/metrics');
  assert.match(results[1]!.error!, /^invalid exposition format \(line 1: /);
  assert.equal(results[2]!.error, 'Connection refused');
  assert.deepEqual(
    { failures: src.stats().failures, parse_errors: src.stats().parse_errors },
    { failures: 3, parse_errors: 1 },
  );
});

test('a targets file is re-read only when it changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-prom-'));
  const file = join(dir, 'targets.yaml');
  writeFileSync(file, '- targets: ["a:9100", "b:9100"]\n  labels: {resource_group: rg1}\n');
  const src = new PrometheusSource(prometheusSourceSchema.parse({ type: 'prometheus', targets_file: 'targets.yaml' }), {
    baseDir: dir,
  });
  const t1 = await src.discover(ctx(0));
  assert.deepEqual(
    t1.map((t) => [t.vm, t.labels.resource_group]),
    [
      ['a', 'rg1'],
      ['b', 'rg1'],
    ],
  );
  await src.discover(ctx(0));
  assert.equal(src.stats().targets_file_reads, 1);
  writeFileSync(file, '[{"targets": ["c:9100"]}]');
  utimesSync(file, new Date(2030, 0, 1), new Date(2030, 0, 1));
  const t2 = await src.discover(ctx(0));
  assert.deepEqual(
    t2.map((t) => t.vm),
    ['c'],
  );
  assert.equal(src.stats().targets_file_reads, 2);
  writeFileSync(file, '{targets: nope}');
  utimesSync(file, new Date(2031, 0, 1), new Date(2031, 0, 1));
  const kept = await src.discover(ctx(0));
  assert.deepEqual(
    kept.map((t) => t.vm),
    ['c'],
    'a broken file keeps the last good targets',
  );
  assert.equal(src.stats().targets_file_errors, 1);
  const fresh = new PrometheusSource(
    prometheusSourceSchema.parse({ type: 'prometheus', targets_file: 'targets.yaml' }),
    {
      baseDir: dir,
    },
  );
  await assert.rejects(fresh.discover(ctx(0)), /expected a list of \{targets/);
  const missing = new PrometheusSource(
    prometheusSourceSchema.parse({ type: 'prometheus', targets_file: 'nope.yaml' }),
    {
      baseDir: dir,
    },
  );
  await assert.rejects(missing.discover(ctx(0)), /cannot read targets_file .*nope\.yaml: ENOENT/);
});

test('counter arithmetic: resets, device filters, reboot', () => {
  assert.equal(counterIncrease(100, 150), 50);
  assert.equal(counterIncrease(100, 20), 20);
  for (const d of ['sda', 'vda', 'nvme0n1', 'xvdb', 'mmcblk0']) assert.ok(isPhysicalDisk(d), d);
  for (const d of ['sda1', 'nvme0n1p2', 'loop3', 'dm-0', 'ram0', 'zram0', 'sr0', 'md127'])
    assert.ok(!isPhysicalDisk(d), d);
  for (const n of ['eth0', 'ens5', 'enp0s3', 'wlan0']) assert.ok(isPhysicalInterface(n), n);
  for (const n of ['lo', 'docker0', 'veth1a2b', 'br-abc', 'virbr0', 'cni0', 'flannel.1', 'tun0']) {
    assert.ok(!isPhysicalInterface(n), n);
  }
  const counters = emptyCounters();
  const before = { cpu: { busy: 500, total: 1000 }, counters: { ...counters, disk_read_bytes: { sda: 5000 } } };
  const rebooted = { cpu: { busy: 5, total: 10 }, counters: { ...counters, disk_read_bytes: { sda: 300 } } };
  const m = deriveHostMetrics(before, rebooted, { intervalMs: 60_000, elapsedMs: 60_000 });
  assert.equal(m.cpu_percent, undefined);
  assert.equal(m.disk_read_bytes, 300);
});
