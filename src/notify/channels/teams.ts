import { fmtValue, subject, topSeverity } from '../format.ts';
import { post } from '../http.ts';
import type { Batch } from '../types.ts';
import { base, defineChannel, urlSecrets } from './common.ts';
import { teamsSchema as schema } from './schemas.ts';

/** A Teams Workflows ("When a Teams webhook request is received") message carrying an Adaptive Card. */
export function teamsPayload(batch: Batch) {
  const sev = topSeverity(batch.alerts);
  const style =
    batch.kind === 'resolved' ? 'good' : sev === 'info' ? 'accent' : sev === 'warning' ? 'warning' : 'attention';
  const body: unknown[] = [
    { type: 'TextBlock', text: subject(batch), weight: 'Bolder', size: 'Medium', color: style, wrap: true },
  ];
  if (batch.kind === 'test') body.push({ type: 'TextBlock', text: 'This is a test message from Vigil.', wrap: true });
  if (batch.failure)
    body.push({
      type: 'TextBlock',
      text: `Channel ${batch.failure.channel} failed: ${batch.failure.detail}`,
      wrap: true,
    });
  for (const a of batch.alerts.slice(0, 20)) {
    body.push({
      type: 'FactSet',
      facts: [
        { title: 'VM', value: a.vm ?? '-' },
        { title: 'Metric', value: a.metric },
        { title: 'Value', value: fmtValue(a.value) },
        { title: 'Threshold', value: fmtValue(a.threshold) },
        { title: 'Severity', value: a.severity.toUpperCase() },
      ],
    });
  }
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
        },
      },
    ],
  };
}

export const teamsChannel = defineChannel({
  schema,
  create(name, cfg, deps) {
    return {
      ...base(name, 'teams', cfg, urlSecrets(cfg.webhook_url)),
      send(batch, signal) {
        return post(
          {
            url: cfg.webhook_url,
            body: JSON.stringify(teamsPayload(batch)),
            headers: { 'content-type': 'application/json' },
            timeoutMs: cfg.timeout_ms,
            signal,
          },
          deps.clock.now(),
        );
      },
    };
  },
});
