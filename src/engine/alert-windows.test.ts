import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AlertService } from '../alerting/service.ts';
import { alertingSchema, ruleSchema } from '../config/sections/rules.ts';
import type { AlertEvent, Sample } from '../model/index.ts';
import { openStore } from '../store/open.ts';
import { AlertRepository } from '../store/sqlite/alert-repository.ts';
import { restoreAlertWindows } from './alert-windows.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MIN = 60_000;
const RULES = [
  ruleSchema.parse({
    name: 'cpu_avg',
    metric: 'cpu_percent',
    threshold: 80,
    recovery_threshold: 70,
    aggregate: 'avg',
    window: '10m',
    severity: 'warning',
  }),
];

function cpu(value: number, ts: number, vm = 'web-01'): Sample {
  return { metric: 'cpu_percent', labels: { vm, source: 'demo' }, ts, value };
}

async function open(path: string, events: AlertEvent[], restore: boolean) {
  const store = await openStore({ path });
  const alerts = new AlertService({
    repository: new AlertRepository(store.db),
    rules: RULES,
    alerting: alertingSchema.parse({ vm_unreachable: false }),
    onEvent: (e) => events.push(e),
  });
  const read = restore ? await restoreAlertWindows(alerts, store, T0 + 10 * MIN) : 0;
  return { store, alerts, read };
}

test('a restart rebuilds aggregate windows from the store: avg over 10m does not resolve on one sample', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-windows-'));
  try {
    for (const restore of [true, false]) {
      await t.test(restore ? 'windows restored' : 'control: without the restore one low sample resolves', async () => {
        const path = join(dir, `${restore}.db`);
        const events: AlertEvent[] = [];
        const first = await open(path, events, false);
        for (let m = 0; m < 10; m++) {
          const s = [cpu(95, T0 + m * MIN), cpu(99, T0 + m * MIN, 'web-02')];
          await first.store.write(s, []);
          first.alerts.ingest(s, [], T0 + m * MIN);
        }
        assert.equal(first.alerts.activeAlerts().length, 2);
        first.alerts.flush(T0 + 9 * MIN);
        await first.store.close();

        const second = await open(path, events, restore);
        const low = [cpu(40, T0 + 10 * MIN)];
        await second.store.write(low, []);
        second.alerts.ingest(low, [], T0 + 10 * MIN);
        const a = second.alerts.activeAlerts().find((x) => x.vm === 'web-01');
        if (restore) {
          // The window is the 10 minutes ending now (exclusive of its start): minutes 1-9 of both VMs, then the new sample.
          assert.equal(second.read, 18);
          assert.equal(a?.state, 'firing');
          assert.equal(a.value, (9 * 95 + 40) / 10);
          assert.ok(!events.some((e) => e.kind === 'resolved'));
        } else {
          assert.equal(a, undefined);
          assert.equal(events.at(-1)!.kind, 'resolved');
        }
        await second.store.close();
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
