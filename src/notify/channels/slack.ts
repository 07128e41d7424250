import { alertLine, fmtValue, plainText, SEVERITY_COLOUR, subject, topSeverity } from '../format.ts';
import { post } from '../http.ts';
import type { Batch } from '../types.ts';
import { base, defineChannel, urlSecrets } from './common.ts';
import { slackSchema as schema } from './schemas.ts';

/** Block Kit message with a text fallback; the colour bar comes from the attachment. */
export function slackPayload(batch: Batch, dashboardUrl: string) {
  const sev = batch.kind === 'resolved' ? 'resolved' : topSeverity(batch.alerts);
  const colour = sev === 'resolved' ? '#2EB67D' : SEVERITY_COLOUR[sev];
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: subject(batch).slice(0, 150), emoji: false } },
  ];
  const first = batch.alerts[0];
  if (first) {
    blocks.push({
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Severity:*\n${first.severity.toUpperCase()}` },
        { type: 'mrkdwn', text: `*Alerts:*\n${batch.alerts.length}` },
        { type: 'mrkdwn', text: `*Metric:*\n${first.metric}` },
        { type: 'mrkdwn', text: `*Value:*\n${fmtValue(first.value)}` },
      ],
    });
  }
  const list = batch.alerts.slice(0, 20).map((a) => `• ${alertLine(a)}`);
  if (batch.alerts.length > 20) list.push(`… and ${batch.alerts.length - 20} more`);
  if (batch.failure) list.unshift(`Channel *${batch.failure.channel}* failed: ${batch.failure.detail}`);
  if (batch.kind === 'test') list.unshift('This is a test message from Vigil.');
  if (list.length) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: list.join('\n').slice(0, 2900) } });
  blocks.push({
    type: 'actions',
    elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open dashboard' }, url: `${dashboardUrl}/alerts` }],
  });
  return { text: plainText(batch).slice(0, 3000), blocks, attachments: [{ color: colour, fallback: subject(batch) }] };
}

export const slackChannel = defineChannel({
  schema,
  create(name, cfg, deps) {
    return {
      ...base(name, 'slack', cfg, urlSecrets(cfg.webhook_url)),
      send(batch, signal) {
        const body = JSON.stringify(slackPayload(batch, cfg.dashboard_url));
        return post(
          {
            url: cfg.webhook_url,
            body,
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
