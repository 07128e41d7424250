import nodemailer from 'nodemailer';
import { lineChartPng } from '../chart-png.ts';
import { fmtValue, plainText, SEVERITY_COLOUR, subject, topSeverity } from '../format.ts';
import type { Batch, SendResult } from '../types.ts';
import { base, defineChannel } from './common.ts';
import { emailSchema as schema } from './schemas.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function emailHtml(batch: Batch, dashboardUrl: string): string {
  const sev = batch.kind === 'resolved' ? null : topSeverity(batch.alerts);
  const colour = sev ? SEVERITY_COLOUR[sev] : '#2EB67D';
  const rows = batch.alerts
    .map(
      (a) =>
        `<tr><td>${esc(a.severity.toUpperCase())}</td><td>${esc(a.vm ?? '-')}</td><td>${esc(a.metric)}</td><td>${esc(fmtValue(a.value))}</td><td>${esc(`${a.comparison ?? ''} ${fmtValue(a.threshold)}`)}</td><td>${esc(a.state)}</td><td><a href="${esc(`${dashboardUrl}/alerts/${encodeURIComponent(a.id)}`)}">details</a></td></tr>`,
    )
    .join('');
  const intro =
    batch.kind === 'test'
      ? '<p>This is a test message from Vigil. If you can read it, the channel works.</p>'
      : batch.failure
        ? `<p>Channel <b>${esc(batch.failure.channel)}</b> failed after ${batch.failure.attempts} attempts: ${esc(batch.failure.detail)}</p>`
        : batch.alerts[0]?.message
          ? `<p>${esc(batch.alerts[0].message)}</p>`
          : '';
  return `<!doctype html><html><body style="font-family:sans-serif">
<div style="border-left:8px solid ${colour};padding:8px 16px">
<h2 style="margin:0">${esc(subject(batch))}</h2>${intro}
${batch.alerts.length ? `<table border="1" cellpadding="4" cellspacing="0"><tr><th>Severity</th><th>VM</th><th>Metric</th><th>Value</th><th>Threshold</th><th>State</th><th></th></tr>${rows}</table>` : ''}
${batch.alerts.length ? '<p><img src="cid:chart@vigil" alt="metric chart" width="240" height="80"></p>' : ''}
<p><a href="${esc(`${dashboardUrl}/alerts`)}">Open the Vigil dashboard</a></p>
</div></body></html>`;
}

export const emailChannel = defineChannel({
  schema,
  create(name, cfg) {
    const transport = nodemailer.createTransport({
      host: cfg.smtp_host,
      port: cfg.smtp_port,
      secure: cfg.security === 'tls',
      requireTLS: cfg.security === 'starttls',
      ignoreTLS: cfg.security === 'none',
      ...(cfg.username ? { auth: { user: cfg.username, pass: cfg.password ?? '' } } : {}),
      connectionTimeout: cfg.timeout_ms,
      greetingTimeout: cfg.timeout_ms,
      socketTimeout: cfg.timeout_ms,
      tls: { rejectUnauthorized: !cfg.tls_insecure },
      logger: false,
    });
    return {
      ...base(name, 'email', cfg, [cfg.password]),
      async send(batch): Promise<SendResult> {
        const sev = batch.kind === 'resolved' ? null : topSeverity(batch.alerts);
        const first = batch.alerts[0];
        const history = first ? batch.series?.[first.fingerprint] : undefined;
        const points = history && history.length > 1 ? [...history] : batch.alerts.map((a) => a.value ?? 0);
        const attachments = batch.alerts.length
          ? [
              {
                filename: 'chart.png',
                content: lineChartPng(
                  points,
                  batch.alerts[0]?.threshold ?? null,
                  sev ? SEVERITY_COLOUR[sev] : '#2EB67D',
                ),
                contentType: 'image/png',
                cid: 'chart@vigil',
              },
            ]
          : [];
        try {
          const info = await transport.sendMail({
            from: cfg.from_address,
            to: cfg.to_addresses.join(', '),
            subject: subject(batch),
            text: plainText(batch),
            html: emailHtml(batch, cfg.dashboard_url),
            attachments,
          });
          return {
            ok: true,
            retryable: false,
            detail: `accepted by ${cfg.smtp_host}: ${info.accepted.length} recipient(s)`,
          };
        } catch (e) {
          const err = e as Error & { responseCode?: number; code?: string };
          const code = err.responseCode;
          // 5xx SMTP replies are permanent except 421-like transient ones; auth failures are permanent.
          const retryable = code === undefined ? err.code !== 'EAUTH' : code < 500;
          return {
            ok: false,
            retryable,
            ...(code !== undefined ? { statusCode: code } : {}),
            detail:
              `SMTP ${cfg.smtp_host}:${cfg.smtp_port}: ${err.code ?? ''} ${code ?? ''} ${err.message.split('\n')[0]}`.replace(
                /\s+/g,
                ' ',
              ),
          };
        }
      },
      async close() {
        transport.close();
      },
    };
  },
});
