import { subject } from '../format.ts';
import { post } from '../http.ts';
import type { Batch, SendResult } from '../types.ts';
import { base, defineChannel } from './common.ts';
import { smsSchema as schema } from './schemas.ts';

// GSM 03.38: the basic set costs one septet per character, the extension set two (escape + char). A body made
// only of these goes out as one 160-septet GSM-7 segment; a single other character forces UCS-2 (70 per segment).
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENSION = new Set('^{}\\[~]|€\f');
const LOOKALIKE: Record<string, string> = {
  '…': '...',
  '‘': "'",
  '’': "'",
  '‚': "'",
  '“': '"',
  '”': '"',
  '„': '"',
  '–': '-',
  '—': '-',
  '−': '-',
  '•': '*',
  '×': 'x',
  '\u00a0': ' ',
  '\t': ' ',
};

/** Septets a GSM-7 body takes (extension characters count twice). */
export function gsmSeptets(text: string): number {
  let n = 0;
  for (const c of text) n += GSM_EXTENSION.has(c) ? 2 : 1;
  return n;
}

/** Rewrites `text` into the GSM-7 alphabet: look-alikes (… ’ – …), accents dropped where GSM lacks them, else `?`. */
export function toGsm7(text: string): string {
  let out = '';
  for (const c of text) {
    if (GSM_BASIC.has(c) || GSM_EXTENSION.has(c)) out += c;
    else if (LOOKALIKE[c] !== undefined) out += LOOKALIKE[c];
    else {
      const plain = c.normalize('NFKD').replace(/\p{M}/gu, '');
      out += [...plain].every((x) => GSM_BASIC.has(x) || GSM_EXTENSION.has(x)) && plain ? plain : '?';
    }
  }
  return out;
}

/** One GSM-7 segment (at most 160 septets): subject plus the first alert's value, cut with "..." when longer. */
export function smsText(batch: Batch): string {
  const a = batch.alerts[0];
  const extra = a && a.value !== null ? ` ${a.metric}=${Number(a.value.toFixed(2))}` : '';
  const more = batch.alerts.length > 1 ? ` +${batch.alerts.length - 1}` : '';
  const text = toGsm7(`${subject(batch)}${extra}${more}`);
  if (gsmSeptets(text) <= 160) return text;
  const chars = [...text];
  while (chars.length > 0 && gsmSeptets(chars.join('')) > 157) chars.pop();
  return `${chars.join('').trimEnd()}...`;
}

export const smsChannel = defineChannel({
  schema,
  create(name, cfg, deps) {
    const auth = Buffer.from(`${cfg.account_sid}:${cfg.auth_token}`).toString('base64');
    const url = `${cfg.url.replace(/\/$/, '')}/2010-04-01/Accounts/${encodeURIComponent(cfg.account_sid)}/Messages.json`;
    return {
      ...base(name, 'sms', cfg, [cfg.auth_token, auth]),
      recipients: cfg.to,
      async send(batch, signal): Promise<SendResult> {
        const body = smsText(batch);
        let last: SendResult = { ok: true, retryable: false, detail: 'no recipients' };
        // a row per recipient (see `recipients`): a retry goes only to the number that did not get it
        for (const to of batch.recipient !== undefined ? [batch.recipient] : cfg.to) {
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
