import { alertLine, subject } from '../format.ts';
import type { Batch } from '../types.ts';
import { base, defineChannel } from './common.ts';
import { consoleSchema as schema } from './schemas.ts';

const ANSI = {
  info: '\x1b[34m',
  warning: '\x1b[33m',
  critical: '\x1b[31m',
  emergency: '\x1b[1;31m',
  resolved: '\x1b[32m',
};

export function consoleLines(batch: Batch, colour: boolean): string[] {
  const paint = (key: keyof typeof ANSI, s: string) => (colour ? `${ANSI[key]}${s}\x1b[0m` : s);
  const ts = new Date(batch.createdAt).toISOString();
  if (batch.alerts.length === 0)
    return [`${ts} ${paint('critical', subject(batch))}${batch.failure ? ` ${batch.failure.detail}` : ''}`];
  // The coloured tag is the severity (then not repeated), or RESOLVED followed by the severity it had.
  return batch.alerts.map((a) => {
    const resolved = batch.kind === 'resolved';
    const tag = paint(resolved ? 'resolved' : a.severity, resolved ? 'RESOLVED' : a.severity.toUpperCase());
    return `${ts} ${tag} ${alertLine(a, resolved)}${a.message ? ` - ${a.message}` : ''}`;
  });
}

export const consoleChannel = defineChannel({
  schema,
  create(name, cfg, deps) {
    const out = deps.stdout ?? process.stdout;
    const colour = cfg.color ?? (!deps.env.NO_COLOR && Boolean(out.isTTY));
    return {
      ...base(name, 'console', cfg, []),
      async send(batch) {
        for (const line of consoleLines(batch, colour)) out.write(`${line}\n`);
        return { ok: true, retryable: false, detail: `${Math.max(1, batch.alerts.length)} line(s) written` };
      },
    };
  },
});
