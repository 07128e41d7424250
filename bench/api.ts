// HTTP API benchmark: push-ingest throughput (JSON batches of 5,000 samples) and fleet-listing latency with 1,000 VMs,
// measured with autocannon against 127.0.0.1, bounded in time. `npm run bench -- api [--seconds 10] [--memory]`.
import { type ChildProcess, fork } from 'node:child_process';
// @ts-expect-error autocannon ships no types
import autocannon from 'autocannon';

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

/** What bench/api-server.ts reports once it listens. */
interface ServerReady {
  ingestUrl: string;
  fleetUrl: string;
  fleetVms: number;
  store: string;
}

/** Starts bench/api-server.ts in a child process (its own core and event loop) and waits for its addresses. */
async function startServer(useMemory: boolean): Promise<{ child: ChildProcess } & ServerReady> {
  const child = fork(new URL('./api-server.ts', import.meta.url), useMemory ? ['--memory'] : [], { stdio: 'inherit' });
  const ready = await new Promise<ServerReady>((resolve, reject) => {
    child.once('message', (m) => resolve(m as ServerReady));
    child.once('exit', (code) => reject(new Error(`bench server exited with code ${code}`)));
  });
  return { child, ...ready };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const secIdx = args.indexOf('--seconds');
  const seconds = secIdx >= 0 ? Number(args[secIdx + 1]) : 10;
  const server = await startServer(args.includes('--memory'));
  try {
    // 1) Ingest: distinct timestamps per request so every sample is new.
    const t0 = Date.now() - 86_400_000;
    const bodies = Array.from({ length: 64 }, (_, i) => body(t0 + i * 1000));
    let n = 0;
    const ingest = await cannon({
      url: `${server.ingestUrl}/api/v1/ingest`,
      method: 'POST',
      connections: 4,
      pipelining: 1,
      duration: seconds,
      headers: { 'content-type': 'application/json' },
      requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, body: bodies[n++ % bodies.length] }) }],
    });
    const okIngest = ingest.requests.total - ingest.non2xx;
    const samplesPerSec = Math.round((okIngest * 5000) / ingest.duration);

    // 2) Fleet listing with 1,000 VMs (7 standard metrics each), from a store holding exactly those.
    const fleet = await cannon({
      url: `${server.fleetUrl}/api/v1/vms?resource_group=`,
      connections: 4,
      duration: Math.max(3, Math.round(seconds / 2)),
    });
    return {
      store: server.store,
      loadGenerator: 'autocannon in the parent process; the server in a child process',
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
        vmsListed: server.fleetVms,
        requests: fleet.requests.total,
        non2xx: fleet.non2xx,
        rps: Math.round(fleet.requests.average),
        latencyMsP50: fleet.latency.p50,
        latencyMsP99: fleet.latency.p99,
        target: 'p99 <= 50 ms',
      },
    };
  } finally {
    const exited = new Promise((r) => server.child.once('exit', r));
    server.child.disconnect();
    await exited;
  }
}
