import { z } from 'zod';
import { subject } from '../format.ts';
import { post } from '../http.ts';
import type { Batch, SendResult } from '../types.ts';
import { base, commonFields, defineChannel } from './common.ts';

const schema = z
  .object({
    ...commonFields,
    account_sid: z.string().min(1),
    auth_token: z.string().min(1),
    from: z.string().min(1),
    to: z.array(z.string().min(1)).min(1),
    url: z.string().url().default('https://api.twilio.com'),
    severities: z.array(z.enum(['info', 'warning', 'critical', 'emergency'])).default(['critical', 'emergency']),
  })
  .strict();

/** At most 160 characters: subject plus the first alert's value. */
export function smsText(batch: Batch): string {
  const a = batch.alerts[0];
  const extra = a && a.value !== null ? ` ${a.metric}=${Number(a.value.toFixed(2))}` : '';
  const more = batch.alerts.length > 1 ? ` +${batch.alerts.length - 1}` : '';
  const text = `${subject(batch)}${extra}${more}`;
  return text.length <= 160 ? text : `${text.slice(0, 159)}…`;
}

export const smsChannel = defineChannel({
  schema,
  create(name, cfg, deps) {
    const auth = Buffer.from(`${cfg.account_sid}:${cfg.auth_token}`).toString('base64');
    const url = `${cfg.url.replace(/\/$/, '')}/2010-04-01/Accounts/${encodeURIComponent(cfg.account_sid)}/Messages.json`;
    return {
      ...base(name, 'sms', cfg, [cfg.auth_token, auth]),
      async send(batch, signal): Promise<SendResult> {
        const body = smsText(batch);
        let last: SendResult = { ok: true, retryable: false, detail: 'no recipients' };
        for (const to of cfg.to) {
          last = await post(
            {
              url,
              body: new URLSearchParams({ To: to, From: cfg.from, Body: body }).toString(),
              headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${auth}` },
              timeoutMs: cfg.timeout_ms,
              signal,
            },
            deps.clock.now(),
          );
          if (!last.ok) return last;
        }
        return last;
      },
    };
  },
});
