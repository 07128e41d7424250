import { createHmac } from 'node:crypto';
import type { Alert } from '../../model/alert.ts';
import { iso, subject } from '../format.ts';
import { post } from '../http.ts';
import type { Batch } from '../types.ts';
import { base, defineChannel } from './common.ts';
import { webhookSchema as schema } from './schemas.ts';

export const WEBHOOK_SCHEMA_VERSION = 'vigil.notification/v1';

function vigilAlert(a: Alert) {
  return {
    fingerprint: a.fingerprint,
    id: a.id,
    rule: a.rule,
    title: a.title,
    message: a.message,
    vm: a.vm,
    metric: a.metric,
    severity: a.severity,
    state: a.state,
    value: a.value,
    threshold: a.threshold,
    comparison: a.comparison,
    labels: a.labels,
    annotations: a.annotations,
    starts_at: iso(a.startsAt),
    fired_at: iso(a.firedAt),
    resolved_at: iso(a.resolvedAt),
  };
}

/** The documented Vigil webhook body (docs/notifications.md). */
export function vigilPayload(batch: Batch) {
  return {
    version: WEBHOOK_SCHEMA_VERSION,
    kind: batch.kind,
    idempotency_key: batch.idempotencyKey,
    group_key: batch.groupKey,
    title: subject(batch),
    created_at: iso(batch.createdAt),
    alerts: batch.alerts.map(vigilAlert),
    ...(batch.failure ? { failure: batch.failure } : {}),
  };
}

/** Alertmanager webhook payload, version 4. */
export function alertmanagerPayload(batch: Batch, externalUrl: string, receiver: string) {
  const alerts = batch.alerts.map((a) => ({
    status: a.state === 'resolved' ? 'resolved' : 'firing',
    labels: { alertname: a.rule, severity: a.severity, ...(a.vm ? { vm: a.vm } : {}), ...a.labels },
    annotations: { summary: a.title, description: a.message, ...a.annotations },
    startsAt: new Date(a.firedAt ?? a.startsAt).toISOString(),
    endsAt: a.resolvedAt !== null ? new Date(a.resolvedAt).toISOString() : '0001-01-01T00:00:00Z',
    generatorURL: `${externalUrl}/alerts/${encodeURIComponent(a.id)}`,
    fingerprint: a.fingerprint,
  }));
  const common = (key: 'labels' | 'annotations') => {
    const first = alerts[0]?.[key] ?? {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(first))
      if (alerts.every((x) => (x[key] as Record<string, string>)[k] === v)) out[k] = v;
    return out;
  };
  const commonLabels = common('labels');
  return {
    version: '4',
    groupKey: batch.groupKey,
    truncatedAlerts: 0,
    status: batch.kind === 'resolved' ? 'resolved' : 'firing',
    receiver,
    groupLabels: commonLabels.alertname ? { alertname: commonLabels.alertname } : {},
    commonLabels,
    commonAnnotations: common('annotations'),
    externalURL: externalUrl,
    alerts,
  };
}

export function sign(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export const webhookChannel = defineChannel({
  schema,
  create(name, cfg, deps) {
    return {
      ...base(name, 'webhook', cfg, [cfg.secret, cfg.token, ...Object.values(cfg.headers)], true),
      async send(batch, signal) {
        const now = deps.clock.now();
        const payload =
          cfg.format === 'alertmanager' ? alertmanagerPayload(batch, cfg.external_url, name) : vigilPayload(batch);
        const body = JSON.stringify(payload);
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          'user-agent': 'vigil',
          'idempotency-key': batch.idempotencyKey,
          ...cfg.headers,
        };
        if (cfg.token) headers.authorization = `Bearer ${cfg.token}`;
        if (cfg.secret) {
          const ts = String(Math.floor(now / 1000));
          headers['x-vigil-timestamp'] = ts;
          headers['x-vigil-signature'] = sign(cfg.secret, ts, body);
        }
        return post({ url: cfg.url, body, headers, timeoutMs: cfg.timeout_ms, signal }, now);
      },
    };
  },
});
