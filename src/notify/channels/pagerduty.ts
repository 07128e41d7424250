import type { Alert } from '../../model/alert.ts';
import { alertLine, FAILURE_SEVERITY, subject } from '../format.ts';
import { post } from '../http.ts';
import type { Batch, SendResult } from '../types.ts';
import { base, defineChannel } from './common.ts';
import { pagerdutySchema as schema } from './schemas.ts';

const PD_SEVERITY = { info: 'info', warning: 'warning', critical: 'critical', emergency: 'critical' } as const;

/** Events API v2: one event per alert, dedup_key = fingerprint so PagerDuty merges repeats. */
export function pagerdutyEvent(a: Alert, batch: Batch, routingKey: string, source: string) {
  const resolve = batch.kind === 'resolved' || a.state === 'resolved';
  if (resolve) return { routing_key: routingKey, event_action: 'resolve', dedup_key: a.fingerprint };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: a.fingerprint,
    payload: {
      summary: `${subject({ ...batch, alerts: [a] })}: ${alertLine(a)}`.slice(0, 1024),
      source: a.vm ?? source,
      severity: PD_SEVERITY[a.severity],
      timestamp: new Date(a.firedAt ?? a.startsAt).toISOString(),
      component: a.metric,
      group: a.resourceGroup ?? a.labels.resource_group ?? undefined,
      class: a.rule,
      custom_details: { value: a.value, threshold: a.threshold, message: a.message, labels: a.labels },
    },
  };
}

export const pagerdutyChannel = defineChannel({
  schema,
  create(name, cfg, deps) {
    return {
      ...base(name, 'pagerduty', cfg, [cfg.routing_key], true),
      async send(batch, signal): Promise<SendResult> {
        const events =
          batch.alerts.length > 0
            ? batch.alerts.map((a) => pagerdutyEvent(a, batch, cfg.routing_key, cfg.source))
            : [
                {
                  routing_key: cfg.routing_key,
                  event_action: 'trigger',
                  dedup_key: batch.idempotencyKey,
                  payload: {
                    summary: subject(batch),
                    source: cfg.source,
                    severity: batch.kind === 'test' ? 'info' : PD_SEVERITY[FAILURE_SEVERITY],
                  },
                },
              ];
        let last: SendResult = { ok: true, retryable: false, detail: 'nothing to send' };
        for (const ev of events) {
          last = await post(
            {
              url: cfg.url,
              body: JSON.stringify(ev),
              headers: { 'content-type': 'application/json' },
              timeoutMs: cfg.timeout_ms,
              signal,
            },
            deps.clock.now(),
          );
          if (!last.ok) return last;
        }
        return { ...last, detail: `${events.length} event(s) accepted; ${last.detail}` };
      },
    };
  },
});
