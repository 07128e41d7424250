import { alertLine, SEVERITY_COLOUR, subject, topSeverity } from '../format.ts';
import { post } from '../http.ts';
import type { Batch } from '../types.ts';
import { base, defineChannel, urlSecrets } from './common.ts';
import { discordSchema as schema } from './schemas.ts';

export function discordPayload(batch: Batch, username: string) {
  const sev = topSeverity(batch.alerts);
  const colour = batch.kind === 'resolved' ? 0x2eb67d : Number.parseInt(SEVERITY_COLOUR[sev].slice(1), 16);
  const description = [
    batch.kind === 'test' ? 'This is a test message from Vigil.' : '',
    batch.failure ? `Channel ${batch.failure.channel} failed: ${batch.failure.detail}` : '',
    ...batch.alerts.slice(0, 20).map((a) => `• ${alertLine(a)}`),
  ]
    .filter(Boolean)
    .join('\n')
    .slice(0, 4000);
  return {
    username,
    content: subject(batch).slice(0, 2000),
    embeds: [
      {
        title: subject(batch).slice(0, 256),
        description,
        color: colour,
        timestamp: new Date(batch.createdAt).toISOString(),
        fields: batch.alerts.slice(0, 25).map((a) => ({
          name: `${a.vm ?? '-'} ${a.metric}`.slice(0, 256),
          value: (a.message || alertLine(a)).slice(0, 1024),
          inline: false,
        })),
      },
    ],
  };
}

export const discordChannel = defineChannel({
  schema,
  create(name, cfg, deps) {
    return {
      ...base(name, 'discord', cfg, urlSecrets(cfg.webhook_url)),
      send(batch, signal) {
        return post(
          {
            url: cfg.webhook_url,
            body: JSON.stringify(discordPayload(batch, cfg.username)),
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
