// A VM that discovery stops listing (deleted from the fleet) expires its alerts through the real composition root:
// scheduler (consecutive discoveries) -> engine -> AlertService.removeVms; no vm_unreachable fires for it afterwards.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { FakeClock } from '../clock.ts';
import type { Source, Target } from '../collect/source.ts';
import { parseConfigText } from '../config/index.ts';
import type { AlertEvent } from '../model/index.ts';
import { AlertRepository } from '../store/sqlite/alert-repository.ts';
import { createLogger } from './logger.ts';
import { startVigil } from './run.ts';

const T0 = Date.UTC(2026, 2, 2, 12, 0, 0);
const MIN = 60_000;

function fleet(vms: string[]): Source & { vms: string[] } {
  const target = (vm: string): Target => ({ vm, labels: { resource_group: 'rg-prod' } });
  return {
    name: 'fake',
    type: 'fake',
    vms,
    async discover() {
      return this.vms.map(target);
    },
    async collect(targets, ctx) {
      return targets.map((t) => ({
        target: t,
        samples: [{ metric: 'cpu_percent', labels: {}, ts: ctx.now, value: 50 }],
      }));
    },
  };
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a VM no longer discovered expires its alerts (reason expired) and never raises vm_unreachable', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-removed-'));
  try {
    const config = parseConfigText(
      `storage:
  path: ${join(dir, 'metrics.db')}
collection:
  interval: 60s
server:
  enabled: false
rules:
  - name: any_cpu
    metric: cpu_percent
    comparison: ">="
    threshold: 0
    severity: critical
`,
      join(dir, 'vigil.yaml'),
      { env: {}, home: dir },
    );
    const clock = new FakeClock(T0);
    const source = fleet(['web-01', 'web-02']);
    let cycles = 0;
    const vigil = await startVigil({
      loaded: { config, path: null },
      clock,
      log: createLogger(new PassThrough(), () => clock.now()),
      env: {},
      cwd: dir,
      home: dir,
      server: false,
      stdout: new PassThrough(),
      sources: [source],
      onCycle: () => cycles++,
    });
    const events: AlertEvent[] = [];
    vigil.alerts.onEvent((e) => events.push(e));
    try {
      await until('the first cycle', () => cycles === 1);
      assert.deepEqual(
        vigil.alerts
          .activeAlerts()
          .map((a) => a.vm)
          .sort(),
        ['web-01', 'web-02'],
      );

      events.length = 0;
      source.vms = ['web-01']; // web-02 deleted
      for (let m = 1; m <= 12; m++) {
        await clock.advance(MIN);
        await until(`cycle ${m + 1}`, () => cycles === m + 1);
      }
      const expired = events.filter((e) => e.alert.vm === 'web-02');
      assert.deepEqual(
        expired.map((e) => [e.kind, e.alert.rule, e.alert.resolveReason, (e.at - T0) / MIN]),
        [['expired', 'any_cpu', 'expired', 1]],
      );
      assert.ok(!events.some((e) => e.alert.rule === 'vm_unreachable'), 'no vm_unreachable for a deleted VM');
      assert.deepEqual(
        vigil.alerts.activeAlerts().map((a) => `${a.rule}@${a.vm}`),
        ['any_cpu@web-01'],
      );
      const repo = new AlertRepository(vigil.store.db);
      const row = repo.listAlerts({ vm: 'web-02' })[0]!;
      assert.equal(row.state, 'resolved');
      assert.equal(row.resolveReason, 'expired');
      assert.deepEqual(
        repo.history({ alertId: row.id }).map((h) => [h.to, h.reason]),
        [
          ['pending', null],
          ['firing', null],
          ['resolved', 'expired'],
        ],
      );
    } finally {
      await vigil.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
