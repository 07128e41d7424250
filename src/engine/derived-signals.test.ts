import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AlertService } from '../alerting/service.ts';
import type { FleetPatternOverrides } from '../analyze/patterns/fleet-patterns.ts';
import { ruleSchema } from '../config/sections/rules.ts';
import type { AlertEvent, CollectionOutcome, Sample } from '../model/index.ts';
import { openStore } from '../store/open.ts';
import { AlertRepository } from '../store/sqlite/alert-repository.ts';
import { DerivedSignals, derivedNeeds } from './derived-signals.ts';

const T0 = Date.UTC(2026, 4, 4);
const MIN = 60_000;

describe('derived signals: anomaly and pattern rules', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-derived-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function setup(name: string, rules: unknown[], patterns: FleetPatternOverrides = {}) {
    const store = await openStore({ path: join(dir, `${name}.db`) });
    const parsed = rules.map((r) => ruleSchema.parse(r));
    const events: AlertEvent[] = [];
    const alerts = new AlertService({
      repository: new AlertRepository(store.db),
      rules: parsed,
      onEvent: (e) => events.push(e),
    });
    const derived = new DerivedSignals({
      store,
      evaluate: (s, now) => alerts.ingest(s, [], now),
      patternIntervalMs: MIN,
    });
    await derived.configure(parsed, T0, patterns);
    return { store, alerts, derived, events };
  }

  it('only the metrics anomaly rules name are scored, and only when such a rule is enabled', () => {
    const p = (r: unknown) => ruleSchema.parse(r);
    assert.deepEqual(derivedNeeds([p({ name: 'a', metric: 'cpu_percent', threshold: 80 })]), {
      anomalyMetrics: [],
      patterns: false,
    });
    assert.deepEqual(
      derivedNeeds([p({ name: 'a', type: 'anomaly', metric: 'cpu_percent' }), p({ name: 'b', type: 'pattern' })]),
      {
        anomalyMetrics: ['cpu_percent'],
        patterns: true,
      },
    );
    assert.deepEqual(
      derivedNeeds([p({ name: 'a', type: 'anomaly', metric: 'cpu_percent', enabled: false })]).anomalyMetrics,
      [],
    );
    assert.throws(() => p({ name: 'a', type: 'anomaly', threshold: 5 }), /between 0 and 1/);
    assert.throws(
      () => p({ name: 'a', type: 'threshold', metric: 'cpu_percent', threshold: 5, pattern: 'load_imbalance' }),
      /type: pattern/,
    );
  });

  it('an anomaly rule fires on a value far outside the learnt baseline, below any threshold rule, and stores the score', async () => {
    const { store, derived, events } = await setup('anomaly', [
      { name: 'cpu_anomaly', type: 'anomaly', metric: 'cpu_percent', threshold: 0.9, severity: 'warning' },
    ]);
    const labels = { vm: 'web-01', resource_group: 'rg' };
    // Three hours of a steady 20-24 % CPU, then 60 %: abnormal for this VM though under the usual 80 % alarm.
    for (let m = 0; m < 180; m++) {
      const s: Sample[] = [{ metric: 'cpu_percent', labels, ts: T0 + m * MIN, value: 20 + (m % 5) }];
      await store.append(s);
      await derived.afterIngest(s, T0 + m * MIN);
    }
    assert.equal(events.filter((e) => e.kind === 'fired').length, 0, 'no alert while the VM behaves');
    const spike: Sample[] = [{ metric: 'cpu_percent', labels, ts: T0 + 180 * MIN, value: 60 }];
    await store.append(spike);
    assert.equal(await derived.afterIngest(spike, T0 + 180 * MIN), 1);
    const fired = events.filter((e) => e.kind === 'fired');
    assert.equal(fired.length, 1);
    assert.equal(fired[0]!.alert.rule, 'cpu_anomaly');
    assert.equal(fired[0]!.alert.vm, 'web-01');
    assert.equal(fired[0]!.alert.labels.metric, 'cpu_percent');
    const scores = await store.query({
      selector: { metric: 'anomaly_score', matchers: [{ name: 'vm', op: '=', value: 'web-01' }] },
      from: T0,
      to: T0 + 180 * MIN,
      resolution: 'raw',
    });
    assert.equal(scores[0]!.points.length, 181);
    assert.ok(scores[0]!.points.at(-1)!.value >= 0.9);
    await store.close();
  });

  it('a pattern rule fires when a resource group drops off the network and resolves when it is back', async () => {
    const { store, derived, events } = await setup('pattern', [
      { name: 'partition', type: 'pattern', pattern: 'network_partition', severity: 'critical' },
    ]);
    const outcome = (vm: string, rg: string, ts: number, ok: boolean): CollectionOutcome => ({
      vm,
      labels: { resource_group: rg },
      ts,
      success: ok,
      errorMessage: ok ? null : 'Connection timeout',
      durationMs: 30,
    });
    const vms = [
      ['a1', 'rg-a'],
      ['a2', 'rg-a'],
      ['a3', 'rg-a'],
      ['b1', 'rg-b'],
      ['b2', 'rg-b'],
    ] as const;
    for (let m = 0; m < 3; m++) {
      await store.recordOutcomes(vms.map(([vm, rg]) => outcome(vm, rg, T0 + m * MIN, rg !== 'rg-a')));
    }
    await derived.tick(T0 + 2 * MIN);
    const fired = events.filter((e) => e.kind === 'fired');
    assert.equal(fired.length, 1);
    assert.equal(fired[0]!.alert.labels.pattern, 'network_partition');
    assert.equal(fired[0]!.alert.labels.resource_group, 'rg-a');
    for (let m = 3; m < 8; m++) await store.recordOutcomes(vms.map(([vm, rg]) => outcome(vm, rg, T0 + m * MIN, true)));
    await derived.tick(T0 + 7 * MIN);
    assert.equal(events.filter((e) => e.kind === 'resolved').length, 1);
    await store.close();
  });

  it('pattern rules use the configured thresholds (analytics.patterns), also after a reload', async () => {
    const rules = [
      { name: 'partition', type: 'pattern', pattern: 'network_partition', severity: 'critical', threshold: 0.6 },
    ];
    // Only 2 of 3 VMs of rg-a fail: below the default 70 % share, above a configured 60 %.
    const { store, derived, events } = await setup('pattern-config', rules);
    const outcome = (vm: string, ts: number, ok: boolean): CollectionOutcome => ({
      vm,
      labels: { resource_group: vm.startsWith('a') ? 'rg-a' : 'rg-b' },
      ts,
      success: ok,
      errorMessage: ok ? null : 'Connection timeout',
      durationMs: 30,
    });
    const round = (m: number) =>
      store.recordOutcomes(
        ['a1', 'a2', 'a3', 'b1', 'b2'].map((vm) => outcome(vm, T0 + m * MIN, !['a1', 'a2'].includes(vm))),
      );
    await round(0);
    await derived.tick(T0);
    assert.equal(events.filter((e) => e.kind === 'fired').length, 0);
    await derived.configure(
      rules.map((r) => ruleSchema.parse(r)),
      T0 + MIN,
      { networkPartition: { minShare: 0.6 } },
    );
    await round(1);
    await derived.tick(T0 + MIN);
    const fired = events.filter((e) => e.kind === 'fired');
    assert.equal(fired.length, 1);
    assert.equal(fired[0]!.alert.labels.resource_group, 'rg-a');
    await store.close();
  });
});
