import type { Alert, AlertEvent, Severity } from '../model/alert.ts';

/** A firing alert for tests and benches. */
export function sampleAlert(over: Partial<Alert> = {}): Alert {
  const vm = over.vm ?? 'web-01';
  return {
    fingerprint: `high_cpu/${vm}`,
    id: `a-${vm}`,
    rule: 'high_cpu',
    metric: 'cpu_percent',
    vm,
    labels: { vm, resource_group: 'rg-prod' },
    severity: 'critical' as Severity,
    state: 'firing',
    value: 97.5,
    peakValue: 97.5,
    threshold: 95,
    comparison: '>',
    startsAt: 1_767_225_600_000,
    firedAt: 1_767_225_600_000,
    resolvedAt: null,
    resolveReason: null,
    lastEvaluatedAt: 1_767_225_600_000,
    notificationCount: 1,
    lastNotifiedAt: null,
    acknowledged: null,
    flapping: false,
    title: 'High CPU Usage',
    message: 'CPU usage is 97.5% (threshold 95%)',
    annotations: {},
    recommendations: [],
    channels: [],
    ...over,
  };
}

export function firedEvent(alert: Alert, at: number): AlertEvent {
  return { kind: 'fired', at, alert, notify: true };
}
