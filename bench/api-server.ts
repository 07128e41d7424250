// The server side of `npm run bench -- api`, in a process of its own so the load generator (autocannon, in the
// parent) does not share its event loop: one HTTP server for push ingest into a fresh store, one listing a fleet of
// 1,000 VMs from a store of its own. Sends `{ ingestUrl, fleetUrl, fleetVms }` to the parent, then serves until
// the parent disconnects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/clock.ts';
import { type Sample, STANDARD_METRICS } from '../src/model/index.ts';
import { testServer } from '../src/server/testing/harness.ts';
import { MemoryStore } from '../src/server/testing/memory-store.ts';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/store.ts';

const useMemory = process.argv.includes('--memory');
const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-api-'));

async function benchStore(name: string): Promise<Store> {
  return useMemory ? new MemoryStore() : await openStore({ path: join(dir, `${name}.db`) });
}

const ingestStore = await benchStore('ingest');
const ingest = testServer({ clock: systemClock, store: ingestStore, maxBodyBytes: 64 * 1024 * 1024 });
const il = await ingest.server.listen('127.0.0.1', 0);

const fleetStore = await benchStore('fleet');
const fleet = testServer({ clock: systemClock, store: fleetStore });
const now = Date.now();
const samples: Sample[] = [];
for (let v = 0; v < 1000; v++) {
  const labels = { vm: `vm-${v}`, resource_group: `rg-${v % 10}`, source: 'bench' };
  for (const metric of STANDARD_METRICS) samples.push({ metric, labels, ts: now, value: v % 100 });
}
await fleet.ingestor().ingest(samples, [], 'collect');
const fl = await fleet.server.listen('127.0.0.1', 0);
const fleetVms = ((await (await fetch(`${fl.url}/api/v1/vms`)).json()) as { vms: unknown[] }).vms.length;

process.send?.({ ingestUrl: il.url, fleetUrl: fl.url, fleetVms, store: useMemory ? 'memory' : 'sqlite' });
process.on('disconnect', async () => {
  await il.close();
  await fl.close();
  await ingestStore.close();
  await fleetStore.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});
