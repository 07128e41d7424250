// Azure collection benchmark: the Azure source against the local HTTPS fake Azure (1,000 VMs in 3 regions,
// 200 ms latency per call by default), driven the way the scheduler drives it (groups of `batchSize` targets,
// up to `--workers` groups in parallel). Reports wall time and API calls for discovery and for each cycle.
// Flags: --vms N --regions N --latency MS --cycles N --workers N --page-size N --per-resource (also time the
// one-call-per-VM mode for comparison).
import { systemClock } from '../src/clock.ts';
import { AzureSource } from '../src/collect/azure/source.ts';
import type { CollectContext, Target, TargetResult } from '../src/collect/source.ts';
import { azureSourceSchema } from '../src/config/sections/sources.ts';
import { installFakeAz } from '../test/fakes/azure/az.ts';
import { FAKE_SIZES, FakeAzure, type FakeVm } from '../test/fakes/azure/server.ts';
import { makeTestCert } from '../test/fakes/azure/tls.ts';

const SUB = '00000000-1111-2222-3333-444444444444';
const REGIONS = ['eastus', 'westeurope', 'southeastasia', 'westus2', 'northeurope'];

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}

async function runGroups(
  source: AzureSource,
  targets: Target[],
  workers: number,
  ctx: CollectContext,
): Promise<TargetResult[]> {
  const groups: Target[][] = [];
  for (let i = 0; i < targets.length; i += source.batchSize) groups.push(targets.slice(i, i + source.batchSize));
  const results: TargetResult[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, groups.length) }, async () => {
      for (let i = next++; i < groups.length; i = next++) results.push(...(await source.collect(groups[i]!, ctx)));
    }),
  );
  return results;
}

async function measure(
  source: AzureSource,
  fake: FakeAzure,
  fn: () => Promise<{ results?: TargetResult[]; targets?: Target[] }>,
) {
  const calls0 = fake.requests.length;
  const started = performance.now();
  const out = await fn();
  const wallMs = Math.round(performance.now() - started);
  const calls = fake.requests.slice(calls0);
  return {
    wallMs,
    apiCalls: calls.length,
    batchCalls: calls.filter((c) => c.path.endsWith('metrics:getBatch')).length,
    armCalls: calls.filter((c) => !c.path.endsWith('metrics:getBatch')).length,
    throttled: calls.filter((c) => c.status === 429 || c.status === 529).length,
    ...(out.targets ? { targets: out.targets.length } : {}),
    ...(out.results
      ? {
          vmsOk: out.results.filter((r) => !r.error).length,
          vmsFailed: out.results.filter((r) => r.error).length,
          samples: out.results.reduce((n, r) => n + r.samples.length, 0),
          firstError: out.results.find((r) => r.error)?.error ?? null,
        }
      : {}),
    sourceStats: source.stats(),
  };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const vmCount = flag(args, 'vms', 1000);
  const regionCount = flag(args, 'regions', 3);
  const latencyMs = flag(args, 'latency', 200);
  const cycles = flag(args, 'cycles', 3);
  const workers = flag(args, 'workers', 10);
  const pageSize = flag(args, 'page-size', 100);
  const sizes = Object.keys(FAKE_SIZES);
  const vms: FakeVm[] = Array.from({ length: vmCount }, (_, i) => ({
    name: `vm-${String(i).padStart(5, '0')}`,
    resourceGroup: `rg-${i % 10}`,
    location: REGIONS[i % regionCount]!,
    size: sizes[i % sizes.length]!,
  }));
  const cert = makeTestCert();
  const { binDir } = installFakeAz();
  // Each cycle happens one simulated minute after the previous one (fake and source share the offset), so every
  // cycle has a new minute of data to store.
  let offsetMs = 0;
  const fake = await FakeAzure.start({
    now: () => systemClock.now() + offsetMs,
    subscription: SUB,
    vms,
    latencyMs,
    pageSize,
    tls: { key: cert.key, cert: cert.cert },
    reads: { size: 250, refillPerSec: 25 },
  });
  const azEnv = { ...process.env, PATH: `${binDir}:${process.env.PATH}` };
  const make = (batch: boolean) =>
    new AzureSource(
      azureSourceSchema.parse({
        type: 'azure',
        arm_endpoint: fake.armEndpoint,
        metrics_endpoint: fake.metricsEndpoint,
        batch,
      }),
      { azEnv, ca: cert.cert },
    );
  const ctx = (): CollectContext => ({
    now: systemClock.now() + offsetMs,
    intervalMs: 60_000,
    signal: AbortSignal.timeout(120_000),
  });
  const source = make(true);
  try {
    let targets: Target[] = [];
    const discovery = await measure(source, fake, async () => {
      targets = await source.discover(ctx());
      return { targets };
    });
    const perCycle = [];
    for (let c = 0; c < cycles; c++) {
      if (c > 0) offsetMs += 60_000;
      perCycle.push(
        await measure(source, fake, async () => ({ results: await runGroups(source, targets, workers, ctx()) })),
      );
    }
    const figures: Record<string, unknown> = {
      setup: {
        vms: vmCount,
        regions: regionCount,
        latencyMsPerCall: latencyMs,
        workers,
        armPageSize: pageSize,
        tls: true,
      },
      discovery: { ...discovery, sourceStats: undefined },
      cycles: perCycle.map((c) => ({ ...c, sourceStats: undefined })),
      maxConcurrentBatchCalls: fake.maxInflight,
      cycleWallMsMax: Math.max(...perCycle.map((c) => c.wallMs)),
      cycleApiCallsMax: Math.max(...perCycle.map((c) => c.apiCalls)),
      targets: { cycleWallMs: 5000, cycleApiCalls: 25 },
      sourceStats: source.stats(),
    };
    if (args.includes('--per-resource')) {
      const slow = make(false);
      const slowTargets = await slow.discover(ctx());
      const one = await measure(slow, fake, async () => ({
        results: await runGroups(slow, slowTargets, workers, ctx()),
      }));
      figures.perResourceCycle = { ...one, sourceStats: undefined };
      await slow.close();
    }
    return figures;
  } finally {
    await source.close();
    await fake.close();
  }
}
