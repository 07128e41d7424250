// The Prometheus source against a real prometheus-node-exporter bound to 127.0.0.1, plus fixture pages served
// locally for edge cases.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type net from 'node:net';
import { after, before, test } from 'node:test';
import { parseExposition } from '../../src/collect/prometheus/exposition.ts';
import { PrometheusSource } from '../../src/collect/prometheus/source.ts';
import type { CollectContext } from '../../src/collect/source.ts';
import { prometheusSourceSchema } from '../../src/config/sections/sources.ts';
import { exporterSkip, freePort, type NodeExporter, startNodeExporter } from '../fakes/peers.ts';

const skip = exporterSkip;

let exporter: NodeExporter | undefined;
let port: number;
let fixtures: http.Server;
let fixturePort: number;
const pages: Record<string, string> = {};

before(async () => {
  fixtures = http.createServer((req, res) => {
    if (req.url === '/hang') return; // never answers
    const body = pages[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
  });
  await new Promise<void>((r) => fixtures.listen(0, '127.0.0.1', r));
  fixturePort = (fixtures.address() as net.AddressInfo).port;
  if (skip) return;
  exporter = await startNodeExporter();
  port = exporter.port;
});

after(() => {
  exporter?.stop();
  fixtures?.closeAllConnections();
  fixtures?.close();
});

const ctx = (now: number): CollectContext => ({ now, intervalMs: 60_000, signal: AbortSignal.timeout(15_000) });

test('the real node_exporter page parses completely', { skip }, async () => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const exp = parseExposition(text);
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#')).length;
  assert.equal(exp.samples.length, lines, 'every sample line became a sample');
  const types = new Set(exp.families.map((f) => f.type));
  assert.ok(types.has('counter') && types.has('gauge'));
  assert.ok(
    exp.families.some((f) => f.type === 'summary' || f.type === 'histogram'),
    'go_gc_duration_seconds is a summary',
  );
  assert.equal(exp.families.find((f) => f.name === 'node_cpu_seconds_total')?.type, 'counter');
});

test('maps a real node_exporter to the standard metrics', { skip }, async () => {
  const src = new PrometheusSource(
    prometheusSourceSchema.parse({
      type: 'prometheus',
      targets: [{ target: `127.0.0.1:${port}`, vm: 'this-host', labels: { resource_group: 'lab' } }],
      prime: '500ms',
      keep: 'node_load1|node_boot_time_seconds',
    }),
  );
  const targets = await src.discover(ctx(0));
  const t0 = Date.UTC(2026, 10, 22, 12);
  const [first] = await src.collect(targets, ctx(t0));
  assert.equal(first!.error, undefined);
  const m = Object.fromEntries(first!.samples.map((s) => [s.metric, s.value]));
  for (const k of ['cpu_percent', 'memory_percent', 'disk_percent'])
    assert.ok(m[k]! >= 0 && m[k]! <= 100, `${k}=${m[k]}`);
  assert.ok(m.node_load1! >= 0 && m.node_boot_time_seconds! > 1e9, 'custom metrics kept by regex');
  assert.ok(!('node_load5' in m));
  const df = execFileSync('df', ['-P', '-k', '/']).toString().trim().split('\n').pop()!.split(/\s+/);
  const expectedDisk = (100 * Number(df[2])) / (Number(df[2]) + Number(df[3]));
  assert.ok(Math.abs(m.disk_percent! - expectedDisk) < 1, `${m.disk_percent} vs df ${expectedDisk}`);
  const memInfo = execFileSync('cat', ['/proc/meminfo']).toString();
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(memInfo)![1]);
  const expectedMem = 100 * (1 - kb('MemAvailable') / kb('MemTotal'));
  assert.ok(Math.abs(m.memory_percent! - expectedMem) < 5, `${m.memory_percent} vs ${expectedMem}`);
  const cpu = first!.samples.find((s) => s.metric === 'cpu_percent')!;
  assert.deepEqual(cpu.labels, { resource_group: 'lab', source: 'prometheus', tenant: 'default', vm: 'this-host' });
  assert.equal(cpu.ts, t0);
  const [second] = await src.collect(targets, ctx(t0 + 60_000));
  assert.ok(second!.samples.some((s) => s.metric === 'cpu_percent'));
  assert.equal(src.stats().scrapes, 3, 'two on first contact, then one per cycle');
});

test('fixture pages: edge cases and failures isolated per target', async () => {
  pages['/ok'] = [
    '# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.',
    '# TYPE node_memory_MemTotal_bytes gauge',
    'node_memory_MemTotal_bytes 1.6e+10',
    'node_memory_MemAvailable_bytes 4e9 1700000000000',
    'node_filesystem_size_bytes{device="/dev/vda1",fstype="ext4",mountpoint="/"} 100',
    'node_filesystem_free_bytes{device="/dev/vda1",fstype="ext4",mountpoint="/"} 50',
    'node_filesystem_avail_bytes{device="/dev/vda1",fstype="ext4",mountpoint="/"} 40',
    'weird_metric{path="C:\\\\x",msg="a \\"quoted\\"\\nline"} NaN',
    '# TYPE rpc_seconds summary',
    'rpc_seconds{quantile="0.5"} 0.2',
    'rpc_seconds_sum 10',
    'rpc_seconds_count 50',
    '',
  ].join('\n');
  pages['/broken'] = 'node_memory_MemTotal_bytes{ 12\n';
  const src = new PrometheusSource(
    prometheusSourceSchema.parse({
      type: 'prometheus',
      targets: [
        `http://127.0.0.1:${fixturePort}/ok`,
        `http://127.0.0.1:${fixturePort}/broken`,
        `http://127.0.0.1:${fixturePort}/missing`,
        `127.0.0.1:${await freePort()}`,
      ],
      prime: 0,
      keep: 'rpc_.*|weird_metric',
    }),
  );
  const results = await src.collect(await src.discover(ctx(0)), ctx(1000));
  const [ok, broken, missing, refused] = results;
  const m = Object.fromEntries(ok!.samples.map((s) => [s.metric, s.value]));
  assert.deepEqual(m, {
    memory_percent: 75,
    disk_percent: 55.56,
    rpc_seconds: 0.2,
    rpc_seconds_sum: 10,
    rpc_seconds_count: 50,
  });
  assert.equal(ok!.samples.find((s) => s.metric === 'rpc_seconds')!.labels.quantile, '0.5');
  assert.match(broken!.error!, /^invalid exposition format \(line 1: /);
  assert.equal(missing!.error, `HTTP 404 from http://127.0.0.1:${fixturePort}/missing`);
  assert.equal(refused!.error, 'Connection refused');
});

test('a target that never answers fails with "Connection timeout" when the cycle times out', async () => {
  const src = new PrometheusSource(
    prometheusSourceSchema.parse({ type: 'prometheus', targets: [`http://127.0.0.1:${fixturePort}/hang`], prime: 0 }),
  );
  const [r] = await src.collect(await src.discover(ctx(0)), {
    now: 0,
    intervalMs: 60_000,
    signal: AbortSignal.timeout(300),
  });
  assert.equal(r!.error, 'Connection timeout');
});

test('real node_exporter page: bytes per interval from physical devices only (loopback, virtual, partitions out)', {
  skip,
}, async () => {
  const real = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const { isPhysicalDisk, isPhysicalInterface } = await import('../../src/collect/prometheus/host-metrics.ts');
  const COUNTER =
    /^(node_network_(?:receive|transmit)_bytes_total|node_disk_(?:read|written)_bytes_total)\{(.*)\} (\S+)$/;
  const families = [
    'node_network_receive_bytes_total',
    'node_network_transmit_bytes_total',
    'node_disk_read_bytes_total',
    'node_disk_written_bytes_total',
  ];
  const physical = (family: string, device: string) =>
    family.startsWith('node_network') ? isPhysicalInterface(device) : isPhysicalDisk(device);
  const physicalCount = (family: string) =>
    real.split('\n').filter((l) => {
      const m = COUNTER.exec(l);
      const device = m ? /device="([^"]+)"/.exec(m[2]!)?.[1] : undefined;
      return m?.[1] === family && device !== undefined && physical(family, device);
    }).length;
  // Second page: every physical device moved by 1 MB, loopback/virtual/partition devices by 1 TB, 60 s later.
  const extra: Record<string, string[]> = {
    node_network_receive_bytes_total: ['lo', 'docker0', 'veth1a2b'],
    node_network_transmit_bytes_total: ['lo', 'docker0', 'veth1a2b'],
    node_disk_read_bytes_total: ['loop0', 'vda1', 'dm-0'],
    node_disk_written_bytes_total: ['loop0', 'vda1', 'dm-0'],
  };
  const page = (step: number) => {
    const out: string[] = [];
    for (const line of real.split('\n')) {
      const m = COUNTER.exec(line);
      if (m) {
        const device = /device="([^"]+)"/.exec(m[2]!)![1]!;
        const add = physical(m[1]!, device) ? 1e6 : 1e12;
        out.push(`${m[1]}{${m[2]}} ${Number(m[3]) + step * add}`);
        continue;
      }
      if (line.startsWith('node_time_seconds ')) {
        out.push(`node_time_seconds ${1_800_000_000 + step * 60}`);
        continue;
      }
      out.push(line);
      const typed = /^# TYPE (\S+) counter$/.exec(line);
      for (const device of typed ? (extra[typed[1]!] ?? []) : []) {
        out.push(`${typed![1]}{device="${device}"} ${1e9 + step * 1e12}`);
      }
    }
    return out.join('\n');
  };
  pages['/real-a'] = page(0);
  pages['/real-b'] = page(1);
  assert.ok(real.includes('node_time_seconds '), 'the real page has the exporter clock');
  const make = (path: string) =>
    new PrometheusSource(
      prometheusSourceSchema.parse({
        type: 'prometheus',
        targets: [`http://127.0.0.1:${fixturePort}${path}`],
        prime: 0,
      }),
    );
  const src = make('/real-a');
  const targets = await src.discover(ctx(0));
  await src.collect(targets, ctx(0));
  // The next scrape of the same target gets the second page.
  pages['/real-a'] = pages['/real-b'];
  const [r] = await src.collect(targets, ctx(60_000));
  assert.equal(r!.error, undefined);
  const m = Object.fromEntries(r!.samples.map((x) => [x.metric, x.value]));
  const metricOf: Record<string, string> = {
    node_network_receive_bytes_total: 'network_in_bytes',
    node_network_transmit_bytes_total: 'network_out_bytes',
    node_disk_read_bytes_total: 'disk_read_bytes',
    node_disk_written_bytes_total: 'disk_write_bytes',
  };
  for (const family of families) {
    const n = physicalCount(family);
    assert.equal(m[metricOf[family]!], n > 0 ? n * 1e6 : undefined, `${family}: ${n} physical devices`);
  }
  assert.ok(physicalCount('node_network_receive_bytes_total') > 0, 'this machine has a physical interface');
});
