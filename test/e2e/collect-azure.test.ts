// The Azure source against the local HTTPS fake Azure and the fake `az` on PATH.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AzureSource, type AzureSourceOptions } from '../../src/collect/azure/source.ts';
import { DiscoveryCache, runCycle } from '../../src/collect/scheduler.ts';
import type { CollectContext, Target, TargetResult } from '../../src/collect/source.ts';
import { azureSourceSchema } from '../../src/config/sections/sources.ts';
import { installFakeAz } from '../fakes/azure/az.ts';
import { FAKE_SIZES, FakeAzure, type FakeAzureOptions, type FakeVm, fakeMetricValue } from '../fakes/azure/server.ts';
import { makeTestCert, type TestCert } from '../fakes/azure/tls.ts';

const SUB = '00000000-1111-2222-3333-444444444444';
const T0 = Date.UTC(2026, 10, 22, 12, 0, 30);
let cert: TestCert;
let az: { binDir: string; azPath: string };

before(() => {
  cert = makeTestCert();
  az = installFakeAz();
});

interface Rig {
  fake: FakeAzure;
  source: AzureSource;
  env: NodeJS.ProcessEnv;
  sleeps: number[];
  clock: { now: number };
  ctx(): CollectContext;
  cycle(targets?: Target[]): Promise<{ targets: Target[]; results: TargetResult[] }>;
}

const rigs: Rig[] = [];
after(async () => {
  for (const r of rigs) {
    await r.source.close();
    await r.fake.close();
  }
});

function fleet(n: number, regions: string[], extra: Partial<FakeVm> = {}): FakeVm[] {
  const sizes = Object.keys(FAKE_SIZES);
  return Array.from({ length: n }, (_, i) => ({
    name: `vm-${String(i).padStart(4, '0')}`,
    resourceGroup: `rg-${i % 3}`,
    location: regions[i % regions.length]!,
    size: sizes[i % sizes.length]!,
    tags: { team: i % 2 ? 'web' : 'data' },
    ...extra,
  }));
}

async function rig(
  vms: FakeVm[],
  config: Record<string, unknown> = {},
  fakeOpts: Partial<FakeAzureOptions> = {},
  srcOpts: Partial<AzureSourceOptions> = {},
): Promise<Rig> {
  const clock = { now: T0 };
  const fake = await FakeAzure.start({
    subscription: SUB,
    vms,
    pageSize: 7,
    tls: { key: cert.key, cert: cert.cert },
    now: () => clock.now,
    ...fakeOpts,
  });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${az.binDir}:${process.env.PATH}`,
    FAKE_AZ_NOW: String(Math.floor(T0 / 1000)),
  };
  const sleeps: number[] = [];
  const source = new AzureSource(
    azureSourceSchema.parse({
      type: 'azure',
      arm_endpoint: fake.armEndpoint,
      metrics_endpoint: fake.metricsEndpoint,
      ...config,
    }),
    {
      azEnv: env,
      ca: cert.cert,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
      ...srcOpts,
    },
  );
  const r: Rig = {
    fake,
    source,
    env,
    sleeps,
    clock,
    ctx: () => ({ now: clock.now, intervalMs: 60_000, signal: AbortSignal.timeout(20_000) }),
    async cycle(targets) {
      const ts = targets ?? (await source.discover(r.ctx()));
      const results: TargetResult[] = [];
      for (let i = 0; i < ts.length; i += source.batchSize) {
        results.push(...(await source.collect(ts.slice(i, i + source.batchSize), r.ctx())));
      }
      return { targets: ts, results };
    },
  };
  rigs.push(r);
  return r;
}

const value = (r: TargetResult, metric: string, ts: number) =>
  r.samples.find((s) => s.metric === metric && s.ts === ts)?.value;

test('discovers through paged ARM lists, skips stopped VMs, filters by tag, batches per region', async () => {
  const vms = fleet(40, ['eastus', 'westeurope', 'eastus2']);
  vms.push({
    name: 'stopped-1',
    resourceGroup: 'rg-0',
    location: 'eastus',
    size: 'Standard_B2s',
    powerState: 'deallocated',
    tags: { team: 'web' },
  });
  const r = await rig(vms, { tags: { team: 'web' } });
  const { targets, results } = await r.cycle();
  assert.equal(targets.length, 20, 'odd-numbered VMs carry team=web; the deallocated one is skipped');
  assert.ok(targets.every((t) => t.labels.source === 'azure' && t.labels.subscription === SUB));
  assert.deepEqual(
    targets.slice(0, 2).map((t) => [t.vm, t.labels.resource_group, t.labels.location]),
    [
      ['vm-0003', 'rg-0', 'eastus'],
      ['vm-0009', 'rg-0', 'eastus'],
    ],
  );
  // 41 VMs at 7 per page = 6 pages, twice (model + statusOnly), plus a 2-page SKU list per region.
  assert.equal(r.fake.count(/\/virtualMachines$/), 12);
  assert.equal(r.fake.count(/\/skus$/), 6);
  assert.equal(r.fake.count(/metrics:getBatch$/), 3, 'one batch call per region');
  assert.equal(results.length, 20);
  assert.ok(
    results.every((x) => !x.error),
    JSON.stringify(results.find((x) => x.error)?.error),
  );

  const vm = vms.find((v) => v.name === 'vm-0003')!;
  const res = results.find((x) => x.target.vm === 'vm-0003')!;
  const ts = Date.UTC(2026, 10, 22, 11, 55);
  assert.equal(value(res, 'cpu_percent', ts), fakeMetricValue(vm, 'Percentage CPU', ts));
  assert.equal(
    value(res, 'memory_percent', ts),
    Math.round((100 - fakeMetricValue(vm, 'Available Memory Percentage', ts)) * 100) / 100,
  );
  assert.equal(value(res, 'disk_read_bytes', ts), fakeMetricValue(vm, 'Disk Read Bytes', ts));
  assert.equal(value(res, 'network_out_bytes', ts), fakeMetricValue(vm, 'Network Out Total', ts));
  const s = res.samples[0]!;
  assert.deepEqual(Object.keys(s.labels).sort(), [
    'location',
    'resource_group',
    'source',
    'subscription',
    'tenant',
    'vm',
    'vm_size',
  ]);
  // Window 11:50-12:00, lag 2 min: buckets 11:50..11:57 settled, 11:58 and 11:59 are timeStamp-only.
  const cpuTs = res.samples.filter((x) => x.metric === 'cpu_percent').map((x) => x.ts);
  assert.deepEqual(
    cpuTs,
    Array.from({ length: 8 }, (_, i) => Date.UTC(2026, 10, 22, 11, 50 + i)),
  );
  const stats = r.source.stats();
  assert.equal(stats.api_calls, 21);
  assert.equal(stats.az_invocations, 3, 'account show + one ARM token + one metrics token');
});

test('overlapping windows store each timestamp once and late points fill in without gaps', async () => {
  const r = await rig(fleet(3, ['eastus']));
  const stored = new Map<string, number[]>();
  let targets: Target[] | undefined;
  for (let cycle = 0; cycle < 5; cycle++) {
    const out = await r.cycle(targets);
    targets = out.targets;
    for (const res of out.results) {
      assert.equal(res.error, undefined);
      for (const s of res.samples) {
        const key = `${s.labels.vm}/${s.metric}`;
        stored.set(key, [...(stored.get(key) ?? []), s.ts]);
      }
    }
    r.clock.now += 60_000;
  }
  const cpu = stored.get('vm-0000/cpu_percent')!;
  assert.equal(new Set(cpu).size, cpu.length, 'no duplicates');
  assert.deepEqual(
    cpu.sort((a, b) => a - b),
    Array.from({ length: 12 }, (_, i) => Date.UTC(2026, 10, 22, 11, 50 + i)),
    'contiguous minutes 11:50 .. 12:01',
  );
  assert.equal(r.source.stats().az_invocations, 3, 'tokens cached across cycles');
});

test('honours Retry-After on 429, backs off on 529 and 503, and counts the waits', async () => {
  const r = await rig(fleet(4, ['eastus']));
  const targets = await r.source.discover(r.ctx());
  r.fake.failNext({
    path: /getBatch/,
    status: 429,
    code: 'TooManyRequests',
    message: 'Too many requests',
    headers: { 'retry-after': '7' },
  });
  r.fake.failNext({ path: /getBatch/, status: 529, code: 'ServerBusy', message: 'The server is busy' });
  const [first] = await r.source.collect(targets, r.ctx());
  assert.equal(first!.error, undefined);
  assert.deepEqual(r.sleeps, [7000, 1000], 'Retry-After seconds, then 0.5 x 2 s backoff');
  const stats = r.source.stats();
  assert.equal(stats.throttle_waits, 2);
  assert.equal(stats.throttle_wait_ms, 8000);
  assert.equal(stats.retries, 2);
  // Three failures in a row exhaust the tries: every VM gets the mapped message, nothing crashes.
  r.fake.failNext({ path: /getBatch/, status: 503, code: 'ServiceUnavailable', message: 'busy', times: 3 });
  const failed = await r.source.collect(targets, r.ctx());
  assert.equal(failed.length, 4);
  assert.ok(
    failed.every((x) => x.error === 'Azure service error (HTTP 503, ServiceUnavailable)'),
    failed[0]!.error,
  );
});

test('slows ARM reads down as remaining subscription reads run low', async () => {
  const r = await rig(fleet(30, ['eastus']), { batch: false }, { reads: { size: 120, refillPerSec: 0 } });
  const { results } = await r.cycle();
  // Discovery used 10 reads; the per-resource fallback then drains the bucket below the threshold.
  assert.ok(
    results.every((x) => !x.error),
    results.find((x) => x.error)?.error,
  );
  const stats = r.source.stats();
  assert.ok(stats.remaining_reads < 100, `remaining ${stats.remaining_reads}`);
  assert.ok(stats.throttle_waits > 0 && r.sleeps.length > 0, 'paced before the limit');
  assert.equal(r.fake.count(/./, 429), 0, 'never hit the limit');
});

test('no Monitoring Reader on the subscription: batch 401, per-resource fallback for it, one note, per-VM errors', async () => {
  const vms = fleet(6, ['eastus', 'westus']);
  vms[2] = { ...vms[2]!, denied: true }; // no role on this VM: so none on the subscription either
  const r = await rig(vms);
  const cycle = scheduled(r);
  const first = await cycle();
  r.fake.vms = r.fake.vms.filter((v) => v.name !== 'vm-0004'); // deleted after discovery
  r.clock.now += 60_000;
  const second = await cycle();
  const byVm = Object.fromEntries(second.outcomes.map((o) => [o.vm, o.errorMessage ?? 'ok']));
  assert.deepEqual(byVm, {
    'vm-0000': 'ok',
    'vm-0001': 'ok',
    'vm-0002':
      'Access denied by Azure (AuthorizationFailed): grant the signed-in identity the Monitoring Reader role on the subscription',
    'vm-0003': 'ok',
    'vm-0004': 'VM not found in Azure (ResourceNotFound): it was deleted or moved',
    'vm-0005': 'ok',
  });
  assert.ok(first.outcomes.every((o) => o.success || o.vm === 'vm-0002'));
  // One batch call per region in the first cycle (401 even after one token refresh), none after: remembered.
  assert.equal(r.fake.count(/getBatch/), 4, 'two regions x (call + retry with a fresh token)');
  assert.equal(r.fake.count(/getBatch/, 401), 4);
  assert.equal(r.source.stats().fallback_calls, 12);
  assert.equal(first.notices.length, 1, 'one note for the subscription');
  assert.match(
    first.notices[0]!.message,
    /batch metrics API refused subscription .*Monitoring Reader role on the subscription itself/,
  );
  assert.deepEqual(second.notices, []);
  assert.deepEqual([...first.sourceErrors, ...second.sourceErrors], []);
  // An hour later the batch endpoint is tried again (the role may have been granted).
  r.clock.now += 3_600_000;
  r.env.FAKE_AZ_NOW = String(Math.floor(r.clock.now / 1000));
  r.fake.vms = r.fake.vms.map((v) => ({ ...v, denied: false }));
  const later = await cycle();
  assert.ok(later.outcomes.filter((o) => o.vm !== 'vm-0004').every((o) => o.success));
  assert.equal(r.fake.count(/getBatch/, 200), 2);
});

test('a token Azure rejects is refreshed once; one that stays invalid says az login, batch or not', async () => {
  const r = await rig(fleet(3, ['eastus']));
  r.env.FAKE_AZ_TTL = '600';
  const targets = await r.source.discover(r.ctx());
  assert.ok((await r.source.collect(targets, r.ctx())).every((x) => !x.error));
  // The fake clock passes the tokens' expiry, but our cache thinks they are fine: Azure says 401 expired.
  const before = r.source.stats().az_invocations;
  r.clock.now += 11 * 60_000;
  r.env.FAKE_AZ_NOW = String(Math.floor(r.clock.now / 1000));
  const again = await r.source.collect(targets, { ...r.ctx(), now: T0 + 60_000 });
  assert.ok(again.every((x) => !x.error));
  assert.equal(r.fake.count(/getBatch/, 401), 1);
  assert.equal(r.source.stats().token_retries, 1);
  assert.equal(r.source.stats().az_invocations, before + 1);
  assert.equal(r.source.stats().fallback_calls, 0, 'an expired token is not a reason to leave the batch API');
  // az now hands out tokens Azure does not accept: batch 401, the per-resource probe 401 too: az login.
  r.env.FAKE_AZ_TOKEN = 'garbage';
  const ctxLater = { ...r.ctx(), now: r.clock.now + 10 * 60_000 };
  r.clock.now = ctxLater.now;
  const bad = await r.source.collect(targets, ctxLater);
  assert.deepEqual(
    bad.map((x) => x.error),
    Array(3).fill('Azure rejected the access token (InvalidAuthenticationToken): run `az login`'),
  );
  assert.equal(r.source.stats().fallback_calls, 1, 'one probe, not one call per VM');
  assert.deepEqual(r.source.takeNotices(), []);
});

test('falls back to the per-resource metrics API where the batch endpoint is missing', async () => {
  const vms = fleet(5, ['eastus'], { memoryPercent: false });
  const r = await rig(vms, {}, { supportsMemoryPercentage: false });
  r.fake.failNext({ path: /getBatch/, status: 404, code: 'NotFound', message: 'no batch here', times: 10 });
  const { results } = await r.cycle();
  assert.ok(
    results.every((x) => !x.error),
    results.find((x) => x.error)?.error,
  );
  assert.equal(r.fake.count(/getBatch/), 1, 'the region is remembered as batch-less');
  assert.ok(r.fake.count(/microsoft\.insights\/metrics$/i) >= 5);
  // Memory % from Available Memory Bytes and the size's MemoryGB (Resource SKUs).
  const vm = vms[0]!;
  const ts = Date.UTC(2026, 10, 22, 11, 55);
  const memGiB = FAKE_SIZES[vm.size]![1];
  const expected =
    Math.round(100 * (1 - fakeMetricValue(vm, 'Available Memory Bytes', ts) / (memGiB * 2 ** 30)) * 100) / 100;
  assert.equal(value(results[0]!, 'memory_percent', ts), expected);
});

test('a cloud without Available Memory Percentage: the 400 is understood and the batch retried without it', async () => {
  const r = await rig(fleet(3, ['eastus']), {}, { supportsMemoryPercentage: false });
  const { results } = await r.cycle();
  assert.ok(results.every((x) => !x.error && x.samples.some((s) => s.metric === 'memory_percent')));
  assert.equal(r.fake.count(/getBatch/, 400), 1);
  await r.cycle();
  assert.equal(r.fake.count(/getBatch/, 400), 1, 'not asked again');
});

test('resource group scope, and a missing resource group is a clear discovery error', async () => {
  const r = await rig(fleet(9, ['eastus']), { resource_groups: ['rg-1'] });
  const { targets, results } = await r.cycle();
  assert.deepEqual(
    targets.map((t) => t.vm),
    ['vm-0001', 'vm-0004', 'vm-0007'],
  );
  assert.ok(results.every((x) => !x.error));
  const bad = await rig(fleet(2, ['eastus']), { resource_groups: ['rg-nope'] });
  await assert.rejects(bad.source.discover(bad.ctx()), {
    message: 'Azure discovery failed: Resource group not found in Azure (ResourceGroupNotFound)',
  });
});

test('az missing or not logged in: one clear message, az not re-run for every batch', async () => {
  const missing = await rig(fleet(2, ['eastus']), {}, {}, {});
  missing.env.PATH = '/nonexistent';
  await assert.rejects(
    missing.source.discover(missing.ctx()),
    /Azure CLI \(az\) not found: install it .* then run `az login`/,
  );

  const out = await rig(fleet(2, ['eastus']), { subscription_id: SUB });
  out.env.FAKE_AZ_STATE = 'logged-out';
  await assert.rejects(out.source.discover(out.ctx()), {
    message: 'Azure CLI is not logged in (or its session expired): run `az login`',
  });
  await assert.rejects(out.source.discover(out.ctx()), /not logged in/);
  assert.equal(out.source.stats().az_invocations, 1, 'the failure is remembered for a minute');
  assert.equal(out.fake.requests.length, 0);
});

test('NODE_EXTRA_CA_CERTS makes the self-signed fake trusted without ca options', async () => {
  const fake = await FakeAzure.start({
    subscription: SUB,
    vms: fleet(4, ['eastus']),
    tls: { key: cert.key, cert: cert.cert },
  });
  const script = `
    import { AzureSource } from ${JSON.stringify(fileURLToPath(new URL('../../src/collect/azure/source.ts', import.meta.url)))};
    import { azureSourceSchema } from ${JSON.stringify(fileURLToPath(new URL('../../src/config/sections/sources.ts', import.meta.url)))};
    const src = new AzureSource(azureSourceSchema.parse({ type: 'azure', arm_endpoint: process.env.ARM, metrics_endpoint: process.env.METRICS }));
    const ctx = { now: Date.now(), intervalMs: 60000, signal: AbortSignal.timeout(15000) };
    try {
      const targets = await src.discover(ctx);
      const results = await src.collect(targets, ctx);
      console.log(JSON.stringify({ targets: targets.length, ok: results.filter((r) => !r.error).length }));
    } catch (e) { console.log(JSON.stringify({ error: e.message })); }
    await src.close();
  `;
  const run = (extra: Record<string, string>) =>
    new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--input-type=module', '-e', script],
        {
          env: {
            ...process.env,
            PATH: `${az.binDir}:${process.env.PATH}`,
            ARM: fake.armEndpoint,
            METRICS: fake.metricsEndpoint,
            NODE_EXTRA_CA_CERTS: '',
            ...extra,
          },
        },
        (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout.trim())),
      );
    });
  try {
    assert.deepEqual(JSON.parse(await run({ NODE_EXTRA_CA_CERTS: cert.certFile })), { targets: 4, ok: 4 });
    const untrusted = JSON.parse(await run({})) as { error: string };
    assert.match(untrusted.error, /TLS certificate not trusted .*set ca_file or NODE_EXTRA_CA_CERTS/);
  } finally {
    await fake.close();
  }
});

test('re-discovery picks up new VMs and drops deleted ones', async () => {
  const r = await rig(fleet(3, ['eastus']));
  assert.equal(r.source.discoverEveryMs, 600_000);
  const first = await r.source.discover(r.ctx());
  assert.equal(first.length, 3);
  r.fake.vms = [
    ...r.fake.vms.filter((v) => v.name !== 'vm-0001'),
    { name: 'new-vm', resourceGroup: 'rg-9', location: 'eastus', size: 'Standard_B2s' },
  ];
  const second = await r.source.discover(r.ctx());
  assert.deepEqual(second.map((t) => t.vm).sort(), ['new-vm', 'vm-0000', 'vm-0002']);
  // A stale target from the old inventory is reported, not queried.
  const stale = first.find((t) => t.vm === 'vm-0001')!;
  const [res] = await r.source.collect([stale], r.ctx());
  assert.equal(res!.error, 'VM is no longer in the Azure inventory');
});

test('the cycle timeout cuts a Retry-After wait short: "Connection timeout", not a stack', async () => {
  const { systemClock } = await import('../../src/clock.ts');
  const r = await rig(fleet(2, ['eastus']), {}, {}, { sleep: systemClock.sleep });
  const targets = await r.source.discover(r.ctx());
  r.fake.failNext({
    path: /getBatch/,
    status: 429,
    code: 'TooManyRequests',
    message: 'slow down',
    headers: { 'retry-after': '30' },
  });
  const started = performance.now();
  const results = await r.source.collect(targets, { ...r.ctx(), signal: AbortSignal.timeout(300) });
  assert.ok(performance.now() - started < 5000);
  assert.deepEqual(
    results.map((x) => x.error),
    ['Connection timeout', 'Connection timeout'],
  );
});

test('repeated 529s pause batch calls to that region for two minutes', async () => {
  const r = await rig(fleet(2, ['eastus']));
  const targets = await r.source.discover(r.ctx());
  r.fake.failNext({ path: /getBatch/, status: 529, code: 'TooManyRequests', message: 'throttled', times: 9 });
  for (let i = 0; i < 3; i++) {
    const res = await r.source.collect(targets, r.ctx());
    assert.equal(res[0]!.error, 'Azure rate limit exceeded (HTTP 529, TooManyRequests)');
  }
  assert.equal(r.fake.count(/getBatch/, 529), 9, 'three tries per call');
  const paused = await r.source.collect(targets, r.ctx());
  assert.equal(paused[0]!.error, 'Azure Monitor is throttling eastus (HTTP 529): paused for 120s more');
  assert.equal(r.fake.count(/getBatch/), 9, 'no call while paused');
  r.clock.now += 121_000;
  const resumed = await r.source.collect(targets, r.ctx());
  assert.equal(resumed[0]!.error, undefined);
});

test('include_stopped: a deallocated VM is a target and reports why it has no data', async () => {
  const vms = fleet(2, ['eastus']);
  vms.push({
    name: 'parked',
    resourceGroup: 'rg-0',
    location: 'eastus',
    size: 'Standard_B2s',
    powerState: 'deallocated',
  });
  const r = await rig(vms, { include_stopped: true });
  const { results } = await r.cycle();
  const byVm = Object.fromEntries(results.map((x) => [x.target.vm, x.error ?? 'ok']));
  assert.deepEqual(byVm, {
    'vm-0000': 'ok',
    'vm-0001': 'ok',
    parked: 'VM is deallocated (no metrics while not running)',
  });
});

/** Runs the real scheduler over the rig's source on the rig's clock (timeouts never fire). */
function scheduled(r: Rig) {
  const cache = new DiscoveryCache();
  const clock = { now: () => r.clock.now, sleep: () => new Promise<void>(() => {}) };
  return (intervalMs = 60_000) =>
    runCycle([r.source], { now: r.clock.now, clock, intervalMs, timeoutMs: 30_000, maxWorkers: 4, discovery: cache });
}

test("a long Retry-After blocks that scope across cycles: Compute's 1200 s is not called again every minute", async () => {
  const r = await rig(fleet(4, ['eastus', 'westeurope']));
  const cycle = scheduled(r);
  const first = await cycle();
  assert.equal(first.outcomes.filter((o) => o.success).length, 4);
  // Ten minutes later rediscovery is due, and Compute's HighCostGet30Min policy is exhausted for 20 minutes.
  r.clock.now += 600_000;
  r.fake.failNext({
    path: /Microsoft\.Compute\/virtualMachines$/,
    status: 429,
    code: 'OperationNotAllowed',
    message: 'The server rejected the request because too many requests have been received for this subscription.',
    details: [
      {
        code: 'TooManyRequests',
        target: 'HighCostGet30Min',
        message:
          '{"operationGroup":"HighCostGet30Min","startTime":"2026-11-22T12:10:00+00:00","endTime":"2026-11-22T12:30:00+00:00","allowedRequestCount":1200,"measuredRequestCount":1202}',
      },
    ],
    unwrapped: true,
    untilMs: r.clock.now + 1_200_000,
  });
  const computeCalls = () => r.fake.count(/Microsoft\.Compute\/virtualMachines$/);
  const before = computeCalls();
  const throttled = await cycle();
  assert.deepEqual(throttled.sourceErrors, [
    {
      source: 'azure',
      message: 'discovery failed: Azure discovery failed: Azure throttled until 12:30 UTC (Retry-After 1200 s)',
    },
  ]);
  assert.equal(throttled.outcomes.filter((o) => o.success).length, 4, 'the previous targets are still collected');
  const afterFirst = computeCalls();
  assert.ok(afterFirst - before <= 2, 'the two parallel lists, once each');
  for (let minute = 1; minute < 20; minute++) {
    r.clock.now += 60_000;
    const c = await cycle();
    assert.equal(c.perSource[0]!.error, throttled.perSource[0]!.error);
    assert.equal(c.outcomes.filter((o) => o.success).length, 4);
  }
  assert.equal(computeCalls(), afterFirst, 'no Compute call before 12:30');
  r.clock.now += 60_000; // 12:30: allowed again
  const resumed = await cycle();
  assert.deepEqual(resumed.sourceErrors, []);
  assert.ok(computeCalls() > afterFirst);

  // The batch endpoint of one region asks for 20 minutes: its VMs say so, the other region is unaffected.
  r.fake.failNext({
    path: /regions\/eastus\/.*getBatch$/,
    status: 429,
    code: 'TooManyRequests',
    message: 'throttled',
    untilMs: r.clock.now + 1_200_000,
  });
  const calls = () => r.fake.count(/regions\/eastus\/.*getBatch$/);
  const batchBefore = calls();
  for (let minute = 0; minute < 5; minute++) {
    const c = await cycle();
    const byVm = Object.fromEntries(c.outcomes.map((o) => [o.vm, o.errorMessage ?? 'ok']));
    assert.deepEqual(byVm, {
      'vm-0000': 'Azure throttled until 12:50 UTC (Retry-After 1200 s)',
      'vm-0001': 'ok',
      'vm-0002': 'Azure throttled until 12:50 UTC (Retry-After 1200 s)',
      'vm-0003': 'ok',
    });
    r.clock.now += 60_000;
  }
  assert.equal(calls() - batchBefore, 1, 'one call, then none until 12:50');
  assert.ok(r.source.stats().throttle_skips >= 4);
});

test('bytes per collection interval: a 10 s interval gets 1/6 of the per-minute total, a 2 min one two minutes', async () => {
  const r = await rig(fleet(1, ['eastus']));
  const vm = r.fake.vms[0]!;
  const targets = await r.source.discover(r.ctx());
  const at = (intervalMs: number) => ({ ...r.ctx(), intervalMs });
  const [ten] = await r.source.collect(targets, at(10_000));
  const ts = Date.UTC(2026, 10, 22, 11, 54);
  const perMinute = fakeMetricValue(vm, 'Network In Total', ts);
  assert.equal(value(ten!, 'network_in_bytes', ts), Math.round(perMinute / 6));
  assert.equal(value(ten!, 'cpu_percent', ts), fakeMetricValue(vm, 'Percentage CPU', ts), 'gauges unchanged');

  const r2 = await rig(fleet(1, ['eastus']));
  const [two] = await r2.source.collect(await r2.source.discover(r2.ctx()), at(120_000));
  const next = ts + 60_000;
  assert.equal(
    value(two!, 'disk_write_bytes', ts),
    fakeMetricValue(vm, 'Disk Write Bytes', ts) + fakeMetricValue(vm, 'Disk Write Bytes', next),
  );
  assert.equal(value(two!, 'disk_write_bytes', next), undefined, 'one sample per 2-minute interval');
  const bytesTs = two!.samples.filter((s) => s.metric === 'disk_write_bytes').map((s) => s.ts);
  assert.ok(bytesTs.every((t) => t % 120_000 === 0));
  // 11:50..11:57 settled: intervals 11:50, :52, :54, :56 complete.
  assert.equal(bytesTs.length, 4);
});

test('a partial (growing) recent bucket is sent again until it is final; settled buckets are sent once', async () => {
  const r = await rig(fleet(1, ['eastus']), {}, { lagMs: 150_000, partialMs: 180_000 });
  const vm = r.fake.vms[0]!;
  const targets = await r.source.discover(r.ctx());
  // Ends 12:00; settled (complete) once the fake's clock minus the 2.5 min lag passes 12:00, i.e. at 12:02:30;
  // in the 3 minutes before, its totals grow: 1/3 in at 12:00:30, 2/3 at 12:01:30.
  const bucket = Date.UTC(2026, 10, 22, 11, 59);
  const full = fakeMetricValue(vm, 'Network In Total', bucket);
  const seen: (number | undefined)[] = [];
  for (let minute = 0; minute < 8; minute++) {
    const [res] = await r.source.collect(targets, r.ctx());
    assert.equal(res!.error, undefined);
    seen.push(value(res!, 'network_in_bytes', bucket));
    r.clock.now += 60_000;
  }
  // Unchanged values are not sent again; the complete one is sent once.
  assert.deepEqual(seen, [
    Math.round(full / 3),
    Math.round((full * 2) / 3),
    full,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
});

test('az logged out mid-run: one source error (logged once), VMs with a short message; back when az works', async () => {
  const { SourceProblemLog } = await import('../../src/collect/source-log.ts');
  const r = await rig(fleet(3, ['eastus']), {}, {}, {});
  const cycle = scheduled(r);
  const log = new SourceProblemLog();
  const logged: string[] = [];
  const run = async () => {
    const c = await cycle();
    for (const l of log.lines(c)) logged.push(l.message);
    r.clock.now += 60_000;
    return c;
  };
  assert.ok((await run()).outcomes.every((o) => o.success));
  // Tokens run out after the hour and the session is gone: every refresh fails.
  r.clock.now += 3_600_000;
  r.env.FAKE_AZ_STATE = 'logged-out';
  for (let i = 0; i < 4; i++) {
    const c = await run();
    assert.deepEqual(
      c.outcomes.map((o) => o.errorMessage),
      Array(3).fill('no Azure access token (see the source error)'),
    );
    assert.equal(c.sourceErrors.length, 1);
    assert.match(c.sourceErrors[0]!.message, /Azure CLI is not logged in \(or its session expired\): run `az login`/);
  }
  assert.equal(logged.length, 1, logged.join('\n'));
  delete r.env.FAKE_AZ_STATE;
  r.env.FAKE_AZ_NOW = String(Math.floor(r.clock.now / 1000));
  r.clock.now += 60_000; // past az's one-minute failure backoff
  let c = await run();
  for (let i = 0; i < 12 && c.sourceErrors.length > 0; i++) c = await run(); // discovery retried with backoff
  assert.ok(c.outcomes.every((o) => o.success));
  assert.equal(logged.at(-1), 'source azure: recovered');
});
