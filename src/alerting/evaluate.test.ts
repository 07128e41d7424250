import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type RuleInput, ruleSchema } from '../config/sections/rules.ts';
import type { AlertEvent, CollectionOutcome, Sample, Silence } from '../model/index.ts';
import {
  AlertActionError,
  type AlertEngineState,
  acknowledge,
  aggregateValues,
  type EvaluationResult,
  emptyState,
  evaluate,
  percentile,
  resolveManually,
} from './evaluate.ts';
import { type AlertingSettings, type AlertRule, compileRule, DEFAULT_SETTINGS } from './rule.ts';
import { compileMaintenanceWindows } from './silences.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MIN = 60_000;

function rule(r: RuleInput): AlertRule {
  return compileRule(ruleSchema.parse(r));
}
const highCpu = (extra: Partial<RuleInput> = {}) =>
  rule({
    name: 'high_cpu',
    metric: 'cpu_percent',
    threshold: 80,
    comparison: '>',
    severity: 'warning',
    ...extra,
  } as RuleInput);

function cpu(vm: string, value: number, ts: number, metric = 'cpu_percent'): Sample {
  return { metric, labels: { vm, resource_group: 'rg-prod', source: 'demo' }, ts, value };
}

/** Drives evaluate over a timeline, collecting every event. */
class Run {
  state: AlertEngineState = emptyState();
  events: AlertEvent[] = [];
  transitions: EvaluationResult['transitions'] = [];
  last!: EvaluationResult;
  readonly rules: AlertRule[];
  readonly settings: AlertingSettings;
  silences: Silence[] = [];
  constructor(rules: AlertRule[], settings: AlertingSettings = DEFAULT_SETTINGS) {
    this.rules = rules;
    this.settings = settings;
  }
  step(
    now: number,
    samples: Sample[] = [],
    outcomes: CollectionOutcome[] = [],
    removedVms: string[] = [],
  ): AlertEvent[] {
    this.last = evaluate(
      this.rules,
      { samples, outcomes, now, silences: this.silences, removedVms },
      this.state,
      this.settings,
    );
    this.state = this.last.state;
    this.events.push(...this.last.events);
    this.transitions.push(...this.last.transitions);
    return this.last.events;
  }
  /** One sample per minute from `fromMin` for `values.length` minutes. */
  series(vm: string, values: number[], fromMin = 0): void {
    values.forEach((v, i) => {
      const ts = T0 + (fromMin + i) * MIN;
      this.step(ts, [cpu(vm, v, ts)]);
    });
  }
  active() {
    return [...this.state.tracks.values()].map((t) => t.active).filter((a) => a !== null);
  }
  kinds(notifyOnly = false) {
    return this.events.filter((e) => !notifyOnly || e.notify).map((e) => e.kind);
  }
}

test('for: a breach shorter than `for` never fires; one that lasts fires exactly once', async (t) => {
  const cases = [
    { name: 'shorter than for (4 of 5 minutes)', values: [85, 85, 85, 85, 85, 50], fired: 0 },
    { name: 'exactly for (0..5 min)', values: [85, 85, 85, 85, 85, 85], fired: 1 },
    { name: 'lasting long fires once', values: Array(30).fill(90), fired: 1 },
    { name: 'interrupted streak restarts', values: [85, 85, 85, 50, 85, 85, 85, 85, 50], fired: 0 },
    { name: 'never breaches', values: [10, 20, 80, 79], fired: 0 },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const run = new Run([highCpu({ for: '5m' })]);
      run.series('web-01', c.values);
      assert.equal(run.events.filter((e) => e.kind === 'fired').length, c.fired);
    });
  }
});

test('for: 0 fires on the first breaching sample; pending that clears is dropped and recorded', () => {
  const run = new Run([highCpu()]);
  run.series('web-01', [85]);
  assert.deepEqual(run.kinds(true), ['fired']);
  const r2 = new Run([highCpu({ for: '2m' })]);
  r2.series('web-01', [85]);
  assert.equal(r2.active()[0]!.state, 'pending');
  const pendingId = r2.active()[0]!.id;
  r2.series('web-01', [40], 1);
  assert.equal(r2.active().length, 0);
  assert.deepEqual(r2.last.dropped, [pendingId]);
  assert.deepEqual(
    r2.last.transitions.map((x) => [x.from, x.to, x.reason]),
    [['pending', 'inactive', 'for_not_met']],
  );
});

test('seed A30-A32: rules per VM, disabled rules and missing data', () => {
  const rules = [
    highCpu(),
    rule({ name: 'critical_memory', metric: 'memory_percent', threshold: 95, severity: 'critical' }),
    rule({ name: 'disabled_alert', metric: 'cpu_percent', threshold: 90, enabled: false }),
  ];
  const run = new Run(rules);
  run.step(T0, [
    cpu('vm-1', 85, T0),
    cpu('vm-1', 60, T0, 'memory_percent'),
    cpu('vm-2', 45, T0),
    cpu('vm-2', 96, T0, 'memory_percent'),
    cpu('vm-3', 40, T0),
    cpu('vm-3', 55, T0, 'memory_percent'),
  ]);
  const fired = run.events.filter((e) => e.kind === 'fired').map((e) => `${e.alert.rule}@${e.alert.vm}`);
  assert.deepEqual(fired.sort(), ['critical_memory@vm-2', 'high_cpu@vm-1']);
  const a = run.events.find((e) => e.alert.rule === 'high_cpu')!.alert;
  assert.equal(a.value, 85);
  assert.equal(a.threshold, 80);
  assert.match(a.message, /vm-1/);
  assert.match(a.message, /85\.0/);
  assert.match(a.message, /80/);

  const multi = new Run(rules);
  multi.step(T0, [cpu('vm-1', 90, T0), cpu('vm-1', 96, T0, 'memory_percent')]);
  assert.ok(multi.events.filter((e) => e.kind === 'fired').length >= 2);

  const none = new Run(rules);
  none.step(
    T0,
    [cpu('vm-1', 40, T0), cpu('vm-1', 50, T0, 'memory_percent')],
    [{ vm: 'vm-2', labels: {}, ts: T0, success: false, errorMessage: 'Connection timeout', durationMs: 30_000 }],
  );
  assert.equal(none.events.length, 0);
});

test('messages are specific: title, text with overage and duration, resource group, source, related metrics, recommendations', () => {
  // Texts are written when the alert fires (here after `for: 7m`), re-notifies or resolves.
  const run = new Run([highCpu({ for: '7m' })]);
  for (let i = 0; i <= 7; i++) {
    const ts = T0 + i * MIN;
    run.step(ts, [
      cpu('web-01', 92, ts),
      cpu('web-01', 71.5, ts, 'memory_percent'),
      cpu('web-01', 40, ts, 'disk_percent'),
    ]);
  }
  const a = run.active()[0]!;
  assert.equal(a.title, 'High CPU Usage - web-01');
  assert.equal(a.message, 'CPU is at 92.0% on web-01 (threshold 80%, exceeded by 15.0%) for 7 minutes');
  assert.equal(a.resourceGroup, 'rg-prod');
  assert.equal(a.source, 'demo');
  assert.deepEqual(
    a.related!.map((r) => r.text),
    ['Memory 71.5%', 'Disk 40.0%'],
  );
  assert.equal(a.recommendations.length, 4);
  assert.match(a.recommendations[0]!, /CPU/);

  const custom = new Run([
    highCpu({
      recommendations: ['Page the {{ labels.resource_group }} team'],
      annotations: { summary: '{{ $labels.vm }} CPU {{ $value }} > {{ threshold }}', runbook: 'https://runbooks/cpu' },
    }),
  ]);
  custom.series('web-02', [95]);
  const c = custom.active()[0]!;
  assert.deepEqual(c.recommendations, ['Page the rg-prod team']);
  assert.deepEqual(c.annotations, { summary: 'web-02 CPU 95.0% > 80%', runbook: 'https://runbooks/cpu' });
});

test('severity auto maps the overage: <=20% warning, 20-50% critical, >50% emergency; a rise notifies at once', async (t) => {
  const cases: [number, string][] = [
    [92, 'warning'],
    [96, 'warning'],
    [100, 'critical'],
    [120, 'critical'],
    [121, 'emergency'],
  ];
  for (const [value, sev] of cases) {
    await t.test(`${value} vs 80 → ${sev}`, () => {
      const run = new Run([rule({ name: 'reqs', metric: 'requests', threshold: 80, severity: 'auto' })]);
      run.step(T0, [cpu('web-01', value, T0, 'requests')]);
      assert.equal(run.active()[0]!.severity, sev);
    });
  }
  await t.test('rise from warning to emergency re-notifies within the 15-minute floor', () => {
    const run = new Run([rule({ name: 'reqs', metric: 'requests', threshold: 80, severity: 'auto' })]);
    run.step(T0, [cpu('web-01', 90, T0, 'requests')]);
    run.step(T0 + MIN, [cpu('web-01', 91, T0 + MIN, 'requests')]);
    run.step(T0 + 2 * MIN, [cpu('web-01', 130, T0 + 2 * MIN, 'requests')]);
    assert.deepEqual(run.kinds(true), ['fired', 'refired']);
    assert.equal(run.events.at(-1)!.alert.severity, 'emergency');
  });
});

test('dedup: further breaches update value, peak and notification_count, never a second alert', () => {
  const run = new Run([highCpu()]);
  run.series('web-01', [85, 97, 90, 88]);
  const alerts = run.active();
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.value, 88);
  assert.equal(alerts[0]!.peakValue, 97);
  assert.equal(alerts[0]!.notificationCount, 4);
  assert.equal(alerts[0]!.notificationsSent, 1);
  assert.deepEqual(run.kinds(), ['fired']);
});

test('re-notification: per-severity interval with the 15-minute floor; ack stops it', () => {
  const run = new Run([highCpu({ severity: 'critical' })]);
  run.series('web-01', Array(31).fill(90));
  // critical is 5 min but never below 15 min for the same rule and VM: at 0, 15 and 30 minutes.
  const notified = run.events.filter((e) => e.notify).map((e) => (e.at - T0) / MIN);
  assert.deepEqual(notified, [0, 15, 30]);
  assert.equal(run.active()[0]!.notificationsSent, 3);

  const fast = new Run([highCpu({ severity: 'critical' })], { ...DEFAULT_SETTINGS, minRenotifyMs: 5 * MIN });
  fast.series('web-01', Array(11).fill(90));
  assert.deepEqual(
    fast.events.filter((e) => e.notify).map((e) => (e.at - T0) / MIN),
    [0, 5, 10],
  );

  const acked = new Run([highCpu({ severity: 'critical' })]);
  acked.series('web-01', [90]);
  const id = acked.active()[0]!.id;
  const r = acknowledge(acked.state, id, 'alice', 'looking', T0 + MIN);
  acked.state = r.state;
  assert.deepEqual(r.alert.acknowledged, { by: 'alice', at: T0 + MIN, notes: 'looking' });
  assert.equal(r.transitions[0]!.to, 'acknowledged');
  acked.series('web-01', Array(30).fill(90), 1);
  assert.deepEqual(acked.kinds(true), ['fired']);
  acked.series('web-01', [50], 31);
  assert.deepEqual(acked.kinds(true), ['fired', 'resolved']);
  assert.throws(() => acknowledge(acked.state, id, 'bob', null, T0), AlertActionError);
});

test('seed A34: same rule and VM within 15 minutes does not notify again; after 16 it does; per VM', () => {
  const run = new Run([highCpu()]);
  run.series('vm-1', [90, 50]); // fire at 0, resolve at 1
  run.series('vm-1', [90, 50], 10); // re-fire at 10 min: held back
  run.series('vm-2', [90], 10); // another VM: notifies
  run.series('vm-1', [90], 16); // 16 min after the first notification: notifies
  const fired = run.events.filter((e) => e.kind === 'fired').map((e) => [e.alert.vm, (e.at - T0) / MIN, e.notify]);
  assert.deepEqual(fired, [
    ['vm-1', 0, true],
    ['vm-1', 10, false],
    ['vm-2', 10, true],
    ['vm-1', 16, true],
  ]);
  // The resolve of a fire nobody was told about is not notified either.
  const resolved = run.events.filter((e) => e.kind === 'resolved').map((e) => [(e.at - T0) / MIN, e.notify]);
  assert.deepEqual(resolved, [
    [1, true],
    [11, false],
  ]);
  // Each occurrence is a new alert id with the same fingerprint.
  const ids = new Set(run.events.filter((e) => e.alert.vm === 'vm-1').map((e) => e.alert.id));
  const fps = new Set(run.events.filter((e) => e.alert.vm === 'vm-1').map((e) => e.alert.fingerprint));
  assert.equal(ids.size, 3);
  assert.equal(fps.size, 1);
});

test('recovery_threshold: resolves only once the value crosses it', () => {
  const run = new Run([highCpu({ recovery_threshold: 70 })]);
  run.series('web-01', [85, 75, 72, 70]);
  assert.equal(run.active().length, 1, 'still firing between recovery and threshold');
  run.series('web-01', [69.9], 4);
  assert.equal(run.active().length, 0);
  const res = run.events.find((e) => e.kind === 'resolved')!;
  assert.equal(res.alert.resolveReason, 'recovered');
  assert.equal(res.alert.value, 69.9);
  const low = new Run([
    rule({ name: 'low_mem_free', metric: 'free_mb', threshold: 100, comparison: '<', recovery_threshold: 200 }),
  ]);
  low.step(T0, [cpu('db', 50, T0, 'free_mb')]);
  low.step(T0 + MIN, [cpu('db', 150, T0 + MIN, 'free_mb')]);
  assert.equal(low.active().length, 1);
  low.step(T0 + 2 * MIN, [cpu('db', 201, T0 + 2 * MIN, 'free_mb')]);
  assert.equal(low.active().length, 0);
});

test('keep_firing_for holds a firing alert after the condition clears', () => {
  const run = new Run([highCpu({ keep_firing_for: '3m' })]);
  run.series('web-01', [90, 50, 50]);
  assert.equal(run.active().length, 1, 'kept at +1 and +2 min');
  run.series('web-01', [50], 3);
  assert.equal(run.active().length, 0);
  const r = new Run([highCpu({ keep_firing_for: '3m' })]);
  r.series('web-01', [90, 50, 90, 50, 50, 50]);
  assert.equal(r.events.filter((e) => e.kind === 'fired').length, 1, 'a blip inside keep_firing_for does not re-fire');
});

test('aggregate over a window: avg over 5m ignores a single spike', () => {
  const run = new Run([highCpu({ aggregate: 'avg', window: '5m' })]);
  run.series('web-01', [50, 50, 99, 50, 50]);
  assert.equal(run.events.length, 0);
  run.series('web-01', [99, 99, 99, 99], 5);
  assert.equal(run.kinds()[0], 'fired');
  const a = run.active()[0]!;
  assert.equal(a.value, (50 + 99 * 4) / 5);
  assert.match(a.message, /^CPU \(avg over 5m\) is at 89\.2% on web-01/);
  assert.equal(aggregateValues([1, 2, 3, 4], 'p50'), 2.5);
  assert.ok(Math.abs(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) - 9.55) < 1e-9);
  assert.equal(aggregateValues([3, 1, 2], 'max'), 3);
  assert.equal(aggregateValues([3, 1, 2], 'count'), 3);
  // Over a run [from, to) of the points, as the windows pass them; a long window does not overflow the stack.
  const pts = [9, 3, 1, 2, 7];
  assert.deepEqual(
    (['avg', 'sum', 'min', 'max', 'count', 'last', 'p50'] as const).map((fn) => aggregateValues(pts, fn, 1, 4)),
    [2, 6, 1, 3, 3, 2, 2],
  );
  const long = Array.from({ length: 300_000 }, (_, i) => i % 1000);
  assert.equal(aggregateValues(long, 'min'), 0);
  assert.equal(aggregateValues(long, 'max'), 999);
  assert.ok(Math.abs(aggregateValues(long, 'p99') - 989.01) < 1e-6);
});

test('no-data rule: failing collection for 5 minutes raises vm_unreachable; success resolves it', () => {
  const noData = rule({ name: 'vm_unreachable', type: 'no_data', severity: 'warning' });
  const run = new Run([highCpu(), noData]);
  const fail = (ts: number): CollectionOutcome => ({
    vm: 'web-01',
    labels: { resource_group: 'rg-prod', source: 'azure' },
    ts,
    success: false,
    errorMessage: 'Connection timeout',
    durationMs: 30_000,
  });
  run.step(T0, [cpu('web-01', 20, T0)], [{ ...fail(T0), success: true, errorMessage: null }]);
  for (let i = 1; i <= 4; i++) run.step(T0 + i * MIN, [], [fail(T0 + i * MIN)]);
  assert.equal(run.active()[0]!.state, 'pending');
  run.step(T0 + 5 * MIN, [], [fail(T0 + 5 * MIN)]);
  const fired = run.events.find((e) => e.kind === 'fired')!;
  assert.equal(fired.alert.rule, 'vm_unreachable');
  assert.equal(fired.alert.title, 'VM Unreachable - web-01');
  assert.equal(fired.alert.message, 'web-01 has not reported for 5 minutes (last error: Connection timeout)');
  assert.equal(fired.alert.resourceGroup, 'rg-prod');
  assert.match(fired.alert.recommendations.join(' '), /running/);
  const t6 = T0 + 6 * MIN;
  run.step(t6, [cpu('web-01', 20, t6)], [{ ...fail(t6), success: true, errorMessage: null }]);
  assert.deepEqual(run.kinds(true), ['fired', 'resolved']);
});

test('no-data rule: a VM that silently stops reporting fires after `for`', () => {
  const run = new Run([rule({ name: 'vm_unreachable', type: 'no_data', for: '5m' })]);
  run.step(T0, [cpu('web-01', 20, T0)]);
  run.step(T0 + 4 * MIN);
  assert.equal(run.events.length, 0);
  run.step(T0 + 5 * MIN);
  assert.deepEqual(run.kinds(true), ['fired']);
  run.step(T0 + 6 * MIN);
  assert.equal(run.active()[0]!.value, 360);
});

test('silences: a silenced alert records history but notifies no one; when the silence ends it notifies', () => {
  const run = new Run([highCpu()]);
  run.silences = [
    {
      id: '1',
      matchers: [{ name: 'vm', op: '=', value: 'dev-vm-01' }],
      startsAt: T0,
      endsAt: T0 + 10 * MIN,
      createdBy: 'alice',
      reason: 'load test',
      createdAt: T0,
      expiredAt: null,
    },
  ];
  run.series('dev-vm-01', Array(10).fill(95));
  run.series('web-01', [95]);
  assert.deepEqual(
    run.events.map((e) => [e.kind, e.alert.vm, e.notify]),
    [
      ['suppressed', 'dev-vm-01', false],
      ['fired', 'web-01', true],
    ],
  );
  assert.deepEqual(
    run.transitions.filter((x) => x.vm === 'dev-vm-01').map((x) => `${x.from}>${x.to}`),
    ['inactive>pending', 'pending>firing', 'firing>suppressed'],
  );
  run.series('dev-vm-01', [95], 10);
  assert.deepEqual(
    run.transitions.filter((x) => x.vm === 'dev-vm-01').map((x) => `${x.from}>${x.to}`),
    ['inactive>pending', 'pending>firing', 'firing>suppressed', 'suppressed>firing'],
  );
  assert.deepEqual(run.events.at(-1)!.kind, 'refired');
  assert.equal(run.events.at(-1)!.notify, true);
  assert.equal(run.events.at(-1)!.alert.vm, 'dev-vm-01');
});

test('maintenance windows recur on a cron schedule (UTC)', () => {
  const windows = compileMaintenanceWindows({
    maintenance_windows: [
      { name: 'patching', match: { resource_group: 'rg-prod' }, schedule: '0 9 * * 1', duration: 30 * MIN, reason: '' },
    ],
  });
  const rules = [highCpu()];
  // T0 is Monday 2026-01-05 09:00 UTC.
  const inWindow = evaluate(
    rules,
    { samples: [cpu('web-01', 95, T0 + 10 * MIN)], outcomes: [], now: T0 + 10 * MIN, maintenance: windows },
    emptyState(),
  );
  assert.deepEqual(
    inWindow.events.map((e) => [e.kind, e.notify]),
    [['suppressed', false]],
  );
  const after = evaluate(
    rules,
    { samples: [cpu('web-01', 95, T0 + 31 * MIN)], outcomes: [], now: T0 + 31 * MIN, maintenance: windows },
    emptyState(),
  );
  assert.deepEqual(
    after.events.map((e) => [e.kind, e.notify]),
    [['fired', true]],
  );
  const nextDay = T0 + 24 * 60 * MIN + 10 * MIN;
  const tuesday = evaluate(
    rules,
    { samples: [cpu('web-01', 95, nextDay)], outcomes: [], now: nextDay, maintenance: windows },
    emptyState(),
  );
  assert.equal(tuesday.events[0]!.notify, true);
});

test('flapping: more than N firings in the window marks the alert flapping and notifies once per window', () => {
  const run = new Run([highCpu()], { ...DEFAULT_SETTINGS, flapThreshold: 2, flapWindowMs: 60 * MIN, minRenotifyMs: 0 });
  run.series('web-01', [90, 50, 90, 50, 90, 50, 90, 50, 90, 50]);
  const fired = run.events.filter((e) => e.kind === 'fired');
  assert.deepEqual(
    fired.map((e) => [e.alert.flapping, e.notify]),
    [
      [false, true],
      [false, true],
      [true, true],
      [true, false],
      [true, false],
    ],
  );
  const resolved = run.events.filter((e) => e.kind === 'resolved').map((e) => e.notify);
  assert.deepEqual(resolved, [true, true, false, false, false]);
});

test('expiry: an alert without data for the TTL expires; a removed VM expires its alerts', () => {
  const run = new Run([highCpu({ expire_after: '10m' })]);
  run.series('web-01', [90]);
  run.step(T0 + 9 * MIN);
  assert.equal(run.active().length, 1);
  run.step(T0 + 10 * MIN);
  assert.equal(run.active().length, 0);
  const exp = run.events.at(-1)!;
  assert.equal(exp.kind, 'expired');
  assert.equal(exp.alert.resolveReason, 'expired');

  const gone = new Run([highCpu()]);
  gone.series('web-01', [90]);
  gone.step(T0 + MIN, [], [], ['web-01']);
  assert.equal(gone.events.at(-1)!.kind, 'expired');
  assert.equal(gone.state.vms.has('web-01'), false);
});

test('manual resolve and removed rules resolve active alerts', () => {
  const run = new Run([highCpu()]);
  run.series('web-01', [90]);
  const id = run.active()[0]!.id;
  const r = resolveManually(run.state, run.rules, id, 'bob', 'fixed', T0 + MIN);
  assert.equal(r.alert.resolveReason, 'manual');
  assert.deepEqual(
    r.transitions.map((x) => [x.from, x.to, x.by, x.notes]),
    [['firing', 'resolved', 'bob', 'fixed']],
  );
  assert.throws(() => resolveManually(r.state, run.rules, id, 'bob', null, T0), /Alert 1 not found/);

  const removed = new Run([highCpu()]);
  removed.series('web-01', [90]);
  const after = evaluate([], { samples: [], outcomes: [], now: T0 + MIN }, removed.state);
  assert.equal(after.events[0]!.alert.resolveReason, 'rule_removed');
});

test('evaluate is pure: the previous state is unchanged and the same input gives the same output', () => {
  const rules = [highCpu({ aggregate: 'max', window: '2m' })];
  const s1 = evaluate(rules, { samples: [cpu('web-01', 90, T0)], outcomes: [], now: T0 }, emptyState()).state;
  const snapshot = JSON.stringify([...s1.tracks], null, 0);
  const a = evaluate(rules, { samples: [cpu('web-01', 50, T0 + MIN)], outcomes: [], now: T0 + MIN }, s1);
  const b = evaluate(rules, { samples: [cpu('web-01', 50, T0 + MIN)], outcomes: [], now: T0 + MIN }, s1);
  assert.equal(JSON.stringify([...s1.tracks]), snapshot);
  assert.deepEqual(a.events, b.events);
  assert.equal(s1.rings.get('cpu_percent{resource_group="rg-prod",source="demo",vm="web-01"}')!.ts.length, 1);
});

test('samples older than the expiry TTL (imports, late pushes) neither alert nor track VMs', () => {
  const run = new Run([highCpu(), rule({ name: 'vm_unreachable', type: 'no_data' })]);
  const old = T0 - 2 * 60 * MIN;
  run.step(T0, [cpu('old-vm', 99, old)]);
  run.step(T0 + 10 * MIN);
  assert.equal(run.events.length, 0);
  assert.equal(run.state.vms.has('old-vm'), false);
});

/** Alice's patching silence of web-01, from and to the given minutes after T0. */
function web01Silence(id: string, fromMin: number, toMin: number): Silence {
  return {
    id,
    matchers: [{ name: 'vm', op: '=', value: 'web-01' }],
    startsAt: T0 + fromMin * MIN,
    endsAt: T0 + toMin * MIN,
    createdBy: 'alice',
    reason: 'patching',
    createdAt: T0,
    expiredAt: null,
  };
}

test('a silence ending when the re-notify interval falls due notifies once, not twice', async (t) => {
  const silence = (fromMin: number, toMin: number) => web01Silence('1', fromMin, toMin);
  const cases = [
    // critical re-notifies every 5 min, floored at 15: due at 15 (silenced, owed), then at 20 when the silence ends.
    { name: 'silence 1-20, interval due at 20', from: 1, to: 20, notified: [0, 20, 35] },
    { name: 'silence 1-17, owed paid at 17', from: 1, to: 17, notified: [0, 17, 32] },
    { name: 'silence 1-10, nothing owed', from: 1, to: 10, notified: [0, 15, 30] },
  ];
  for (const k of cases) {
    await t.test(k.name, () => {
      const run = new Run([highCpu({ severity: 'critical' })]);
      run.silences = [silence(k.from, k.to)];
      run.series('web-01', Array(36).fill(90));
      const sent = run.events.filter((e) => e.notify).map((e) => [e.kind, (e.at - T0) / MIN]);
      assert.deepEqual(
        sent,
        k.notified.map((m, i) => [i === 0 ? 'fired' : 'refired', m]),
      );
    });
  }
});

test('history records becoming suppressed, being released and severity rises', async (t) => {
  const silence = (fromMin: number, toMin: number) => web01Silence('7', fromMin, toMin);
  const line = (x: EvaluationResult['transitions'][number]) =>
    `${(x.at - T0) / MIN} ${x.from}>${x.to} ${x.reason ?? '-'}${x.notes ? ` ${x.notes}` : ''}`;
  const cases = [
    {
      name: 'silence starts while firing (between re-notifications), then ends',
      rule: highCpu({ severity: 'critical' }),
      silence: silence(3, 8),
      values: Array(10).fill(90),
      want: [
        '0 inactive>pending -',
        '0 pending>firing -',
        '3 firing>suppressed silenced silence:7',
        '8 suppressed>firing silence_ended',
      ],
    },
    {
      name: 'fires into a silence; released by the sweep with no new sample',
      rule: highCpu(),
      silence: silence(0, 5),
      values: [90, 90],
      tickAtMin: 5,
      want: [
        '0 inactive>pending -',
        '0 pending>firing -',
        '0 firing>suppressed silenced silence:7',
        '5 suppressed>firing silence_ended',
      ],
    },
    {
      name: 'resolves while suppressed',
      rule: highCpu(),
      silence: silence(0, 60),
      values: [90, 50],
      tickAtMin: 5,
      want: [
        '0 inactive>pending -',
        '0 pending>firing -',
        '0 firing>suppressed silenced silence:7',
        '1 firing>resolved recovered',
      ],
    },
    {
      name: 'severity auto: each rise is recorded',
      rule: rule({ name: 'reqs', metric: 'cpu_percent', threshold: 80, severity: 'auto' }),
      silence: null,
      values: [90, 100, 100, 130],
      want: [
        '0 inactive>pending -',
        '0 pending>firing -',
        '1 firing>firing severity_raised warning -> critical',
        '3 firing>firing severity_raised critical -> emergency',
      ],
    },
  ];
  for (const k of cases) {
    await t.test(k.name, () => {
      const run = new Run([k.rule]);
      if (k.silence) run.silences = [k.silence];
      run.series('web-01', k.values);
      if (k.tickAtMin !== undefined) run.step(T0 + k.tickAtMin * MIN);
      assert.deepEqual(run.transitions.map(line), k.want);
    });
  }
});

test('resolved alerts say how they ended, not a negative overage', async (t) => {
  const cases: { name: string; run: () => string }[] = [
    {
      name: 'recovered',
      run: () => {
        const run = new Run([highCpu()]);
        run.series('web-01', [...Array(12).fill(90), 50]);
        return run.events.at(-1)!.alert.message;
      },
    },
    {
      name: 'recovered below a recovery threshold, aggregated',
      run: () => {
        const run = new Run([highCpu({ recovery_threshold: 70, aggregate: 'max', window: '1m' })]);
        run.series('web-01', [90, 90, 65]);
        return run.events.at(-1)!.alert.message;
      },
    },
    {
      name: 'resolved by hand',
      run: () => {
        const run = new Run([highCpu()]);
        run.series('web-01', Array(5).fill(90));
        return resolveManually(run.state, run.rules, run.active()[0]!.id, 'bob', null, T0 + 5 * MIN).alert.message;
      },
    },
    {
      name: 'expired after the TTL',
      run: () => {
        const run = new Run([highCpu({ expire_after: '10m' })]);
        run.series('web-01', [90, 91]);
        run.step(T0 + 11 * MIN);
        return run.events.at(-1)!.alert.message;
      },
    },
    {
      name: 'VM removed from the fleet',
      run: () => {
        const run = new Run([highCpu()]);
        run.series('web-01', [90, 91]);
        run.step(T0 + 2 * MIN, [], [], ['web-01']);
        return run.events.at(-1)!.alert.message;
      },
    },
    {
      name: 'no-data rule: reporting again',
      run: () => {
        const run = new Run([rule({ name: 'vm_unreachable', type: 'no_data', for: '5m' })]);
        run.step(T0, [cpu('web-01', 20, T0)]);
        run.step(T0 + 6 * MIN);
        run.step(T0 + 7 * MIN, [cpu('web-01', 20, T0 + 7 * MIN)]);
        return run.events.at(-1)!.alert.message;
      },
    },
  ];
  const want = [
    'CPU is back to 50.0% on web-01 (threshold 80%) after 12 minutes',
    'CPU (max over 1m) is back to 65.0% on web-01 (threshold 80%) after 2 minutes',
    'CPU was at 90.0% on web-01 (threshold 80%) when resolved by hand after 5 minutes',
    'CPU on web-01 sent no data for 10 minutes; the alert expired (last value 91.0%, threshold 80%)',
    'web-01 was removed from the fleet; the alert expired (CPU last at 91.0%, threshold 80%)',
    'web-01 is reporting again after 7 minutes without data',
  ];
  for (const [i, k] of cases.entries()) await t.test(k.name, () => assert.equal(k.run(), want[i]));
});

test('flapping: the first flapping notification waits for the 15-minute floor too', () => {
  const run = new Run([highCpu()]); // defaults: flapping above 3 firings in 60 minutes, 15-minute floor
  run.series(
    'web-01',
    Array.from({ length: 24 }, (_, m) => (m % 2 === 0 ? 90 : 50)),
  );
  const sent = run.events.filter((e) => e.notify).map((e) => [e.kind, (e.at - T0) / MIN, e.alert.flapping]);
  assert.deepEqual(sent, [
    ['fired', 0, false],
    ['resolved', 1, false],
    ['fired', 16, true],
  ]);
  assert.ok(run.events.some((e) => e.kind === 'fired' && e.alert.flapping && (e.at - T0) / MIN === 6 && !e.notify));
});
