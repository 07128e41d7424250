import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../clock.ts';
import type { Sample } from '../model/index.ts';
import { testServer } from './testing/harness.ts';

const cpu = (vm: string, ts: number, value: number): Sample => ({
  metric: 'cpu_percent',
  labels: { vm, resource_group: 'rg', source: 'push' },
  ts,
  value,
});

async function listed(h: ReturnType<typeof testServer>): Promise<Record<string, number | undefined>> {
  const body = (await (await h.server.app.request('/api/v1/vms')).json()) as {
    vms: { vm: string; metrics: { cpu_percent?: number } }[];
  };
  return Object.fromEntries(body.vms.map((r) => [r.vm, r.metrics.cpu_percent]));
}

test('fleet listing: one read serves until this process ingests or a second passes (writes by other processes)', async () => {
  const clock = new FakeClock();
  const h = testServer({ clock });
  await h.ingestor().ingest([cpu('a', clock.now(), 10)], [], 'push');
  assert.deepEqual(await listed(h), { a: 10 });
  // Written past the server (as another process writing the same database would): not seen within the second...
  await h.store.write([cpu('b', clock.now(), 20)], []);
  assert.deepEqual(await listed(h), { a: 10 });
  // ...and seen once it has passed.
  await clock.advance(1_000);
  assert.deepEqual(await listed(h), { a: 10, b: 20 });
  // Data ingested by this process shows at once.
  await h.ingestor().ingest([cpu('a', clock.now(), 30)], [], 'push');
  assert.deepEqual(await listed(h), { a: 30, b: 20 });
});
