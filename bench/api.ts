// HTTP API benchmark: push-ingest throughput (JSON batches of 5,000 samples) and fleet-listing latency with 1,000 VMs,
// measured with autocannon against 127.0.0.1, bounded in time. `npm run bench -- api [--seconds 10] [--memory]`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error autocannon ships no types
import autocannon from 'autocannon';
import { systemClock } from '../src/clock.ts';
import { type Sample, STANDARD_METRICS } from '../src/model/index.ts';
import { testServer } from '../src/server/testing/harness.ts';
import { MemoryStore } from '../src/server/testing/memory-store.ts';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/store.ts';

interface CannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; average: number; max: number };
  non2xx: number;
  errors: number;
  duration: number;
}

function cannon(opts: Record<string, unknown>): Promise<CannonResult> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err: Error | null, res: CannonResult) => (err ? reject(err) : resolve(res)));
  });
}

const METRICS = ['cpu_percent', 'memory_percent', 'disk_percent', 'disk_read_bytes', 'network_in_bytes'];

/** One push body: 1,000 VMs x 5 metrics = 5,000 samples at one timestamp. */
function body(ts: number): string {
  const items: unknown[] = [];
  for (let v = 0; v < 1000; v++) {
    const labels = { vm: `push-${v}`, resource_group: `rg-${v % 10}` };
    for (const metric of METRICS) items.push({ metric, labels, value: (v * 13 + ts / 1000) % 100, timestamp: ts });
  }
  return JSON.stringify(items);
}

async function openBenchStore(useMemory: boolean): Promise<{ store: Store; kind: string; cleanup(): void }> {
  if (!useMemory) {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-api-'));
    const store = await openStore({ path: join(dir, 'metrics.db') });
    return { store, kind: 'sqlite', cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }
  return { store: new MemoryStore(), kind: 'memory', cleanup: () => {} };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const secIdx = args.indexOf('--seconds');
  const seconds = secIdx >= 0 ? Number(args[secIdx + 1]) : 10;
  const { store, kind, cleanup } = await openBenchStore(args.includes('--memory'));
  const h = testServer({ clock: systemClock, store, maxBodyBytes: 64 * 1024 * 1024 });
  const l = await h.server.listen('127.0.0.1', 0);
  try {
    // 1) Ingest: distinct timestamps per request so every sample is new.
    const t0 = Date.now() - 86_400_000;
    const bodies = Array.from({ length: 64 }, (_, i) => body(t0 + i * 1000));
    let n = 0;
    const ingest = await cannon({
      url: `${l.url}/api/v1/ingest`,
      method: 'POST',
      connections: 4,
      pipelining: 1,
      duration: seconds,
      headers: { 'content-type': 'application/json' },
      requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[n++ % bodies.length] }) }],
    });
    const okIngest = ingest.requests.total - ingest.non2xx;
    const samplesPerSec = Math.round((okIngest * 5000) / ingest.duration);

    // 2) Fleet listing with 1,000 VMs (7 standard metrics each).
    const now = Date.now();
    const samples: Sample[] = [];
    for (let v = 0; v < 1000; v++) {
      const labels = { vm: `vm-${v}`, resource_group: `rg-${v % 10}`, source: 'bench' };
      for (const metric of STANDARD_METRICS) {
        samples.push({ metric, labels, ts: now, value: v % 100 });
      }
    }
    // A store of its own, so the listing has exactly these 1,000 VMs (not the pushed ones).
    const fleetStore = await openBenchStore(kind === 'memory');
    const f = testServer({ clock: systemClock, store: fleetStore.store });
    await f.ingestor().ingest(samples, [], 'collect');
    const fl = await f.server.listen('127.0.0.1', 0);
    const fleetVms = ((await (await fetch(`${fl.url}/api/v1/vms`)).json()) as { vms: unknown[] }).vms.length;
    const fleet = await cannon({
      url: `${fl.url}/api/v1/vms?resource_group=`,
      connections: 4,
      duration: Math.max(3, Math.round(seconds / 2)),
    });
    await fl.close();
    await fleetStore.store.close();
    fleetStore.cleanup();
    return {
      store: kind,
      ingest: {
        batchSamples: 5000,
        seconds: ingest.duration,
        requests: ingest.requests.total,
        non2xx: ingest.non2xx,
        errors: ingest.errors,
        samplesPerSec,
        latencyMsP50: ingest.latency.p50,
        latencyMsP99: ingest.latency.p99,
        target: '>= 200000 samples/s',
      },
      fleet: {
        vmsListed: fleetVms,
        requests: fleet.requests.total,
        non2xx: fleet.non2xx,
        rps: Math.round(fleet.requests.average),
        latencyMsP50: fleet.latency.p50,
        latencyMsP99: fleet.latency.p99,
        target: 'p99 <= 50 ms',
      },
    };
  } finally {
    await l.close();
    await store.close();
    cleanup();
  }
}
