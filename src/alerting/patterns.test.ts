import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Alert } from '../model/index.ts';
import { alertPatterns } from './patterns.ts';

const DAY = Date.UTC(2026, 0, 5);
const MIN = 60_000;
let nextId = 1;

function alert(rule: string, vm: string, firedAt: number, extra: Partial<Alert> = {}): Alert {
  return {
    fingerprint: `${rule}-${vm}`,
    id: String(nextId++),
    rule,
    metric: 'cpu_percent',
    vm,
    labels: { vm },
    severity: 'warning',
    state: 'firing',
    value: 90,
    peakValue: 90,
    threshold: 80,
    comparison: '>',
    startsAt: firedAt,
    firedAt,
    resolvedAt: null,
    resolveReason: null,
    lastEvaluatedAt: firedAt,
    notificationCount: 1,
    lastNotifiedAt: firedAt,
    acknowledged: null,
    flapping: false,
    title: '',
    message: '',
    annotations: {},
    recommendations: [],
    channels: [],
    notificationsSent: 1,
    ...extra,
  };
}

test('seed M9: alerts at 09:10, 09:40 and 14:00, two resolved after 30 and 90 min → peak hour 9, MTTR 60.0', () => {
  const a1 = alert('high_cpu', 'web-01', DAY + 9 * 60 * MIN + 10 * MIN);
  const a2 = alert('high_memory', 'web-02', DAY + 9 * 60 * MIN + 40 * MIN);
  const a3 = alert('high_cpu', 'web-01', DAY + 14 * 60 * MIN);
  const alerts = [
    { ...a1, state: 'resolved' as const, resolvedAt: a1.firedAt! + 30 * MIN },
    {
      ...a2,
      state: 'resolved' as const,
      resolvedAt: a2.firedAt! + 90 * MIN,
      acknowledged: { by: 'al', at: a2.firedAt! + 4 * MIN, notes: null },
    },
    a3,
  ];
  const p = alertPatterns(alerts, DAY + 86_400_000, 7);
  assert.equal(p.totalAlerts, 3);
  assert.equal(p.peakHour, 9);
  assert.equal(p.hourlyDistribution.length, 24);
  assert.equal(p.hourlyDistribution[9], 2);
  assert.equal(p.hourlyDistribution[14], 1);
  assert.equal(p.mttrMinutes, 60);
  assert.equal(p.mttaMinutes, 4);
  assert.equal(p.mostCommonRule, 'high_cpu');
  assert.deepEqual(p.byVm, [
    { name: 'web-01', count: 2 },
    { name: 'web-02', count: 1 },
  ]);
  assert.match(p.insight, /^high_cpu caused 67% of 3 alerts, most often on web-01; alerts peak around 09:00 UTC/);
});

test('no alerts: peak hour 0, no MTTA/MTTR, most common null; ties go to the first seen; period filter', () => {
  const empty = alertPatterns([], DAY, 7);
  assert.equal(empty.peakHour, 0);
  assert.equal(empty.mttrMinutes, null);
  assert.equal(empty.mostCommonRule, null);
  assert.equal(empty.insight, 'No alerts fired in the last 7 days.');
  const tie = alertPatterns(
    [alert('b_rule', 'x', DAY - 2 * MIN), alert('a_rule', 'y', DAY - MIN), alert('old', 'z', DAY - 8 * 86_400_000)],
    DAY,
    7,
  );
  assert.equal(tie.mostCommonRule, 'b_rule');
  assert.equal(tie.totalAlerts, 2);
});

test('noisiest rules: short-lived and flapping alerts rank first and the insight suggests tuning', () => {
  const alerts: Alert[] = [];
  for (let i = 0; i < 6; i++) {
    const a = alert('cpu_spiky', 'web-01', DAY + i * 60 * MIN);
    alerts.push({ ...a, state: 'resolved', resolvedAt: a.firedAt! + 3 * MIN, flapping: i > 3 });
  }
  alerts.push(alert('disk_space', 'db-01', DAY + 30 * MIN));
  alerts.push(alert('disk_space', 'db-02', DAY + 31 * MIN));
  const p = alertPatterns(alerts, DAY + 86_400_000, 7);
  assert.equal(p.noisiestRules[0]!.rule, 'cpu_spiky');
  assert.equal(p.noisiestRules[0]!.shortLived, 6);
  assert.equal(p.noisiestRules[0]!.flapping, 2);
  assert.match(p.insight, /cpu_spiky often clears within 10 minutes or flaps/);
});
