import { z } from 'zod';

/**
 * The seed's `notification_config:` block: one entry per channel, keyed by channel name
 * (`email`, `slack`, `webhook`, or any name with `type:`). Each channel validates its own settings
 * in src/notify/channels/ when the pipeline is built.
 */
export const notificationConfigSchema = z.record(z.string(), z.record(z.string(), z.unknown())).default({});
export type NotificationConfig = z.output<typeof notificationConfigSchema>;

const severity = z.enum(['info', 'warning', 'critical', 'emergency']);

/** Pipeline settings: routing, grouping, retries. */
export const notificationsSchema = z
  .object({
    /** Wait this long collecting events per channel before sending one grouped message. */
    group_wait_ms: z.number().int().min(0).default(10_000),
    /** For alerts whose rule names no channels; the first matching route wins. */
    routes: z
      .array(
        z
          .object({
            severities: z.array(severity).optional(),
            labels: z.record(z.string(), z.string()).optional(),
            channels: z.array(z.string()),
          })
          .strict(),
      )
      .default([]),
    /** When no route matches (empty: dashboard only). */
    default_channels: z.array(z.string()).default([]),
    retry: z
      .object({
        max_attempts: z.number().int().min(1).default(3),
        base_delay_ms: z.number().int().min(0).default(1000),
        max_delay_ms: z.number().int().min(0).default(300_000),
        jitter_ratio: z.number().min(0).max(1).default(0.1),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type NotificationsSettings = z.output<typeof notificationsSchema>;

/** Channel types Vigil implements; src/notify/channels/registry.ts maps each to its implementation. */
export const CHANNEL_TYPE_NAMES = [
  'email',
  'slack',
  'webhook',
  'discord',
  'teams',
  'pagerduty',
  'sms',
  'console',
  'file',
] as const;

/**
 * Issues for channel names that are neither configured in `notification_config` nor a channel type
 * (an unconfigured `email` is allowed: the seed's default rules name it; it is skipped until configured).
 */
export function unknownChannelIssues(cfg: {
  rules: readonly { name: string; notification_channels: readonly string[] }[];
  notification_config: NotificationConfig;
  notifications: NotificationsSettings;
}): { path: (string | number)[]; message: string }[] {
  const known = new Set([...Object.keys(cfg.notification_config), ...CHANNEL_TYPE_NAMES]);
  const issues: { path: (string | number)[]; message: string }[] = [];
  const check = (names: readonly string[], path: (string | number)[]) => {
    for (const [i, n] of names.entries()) {
      if (!known.has(n))
        issues.push({
          path: [...path, i],
          message: `unknown notification channel "${n}" (configured: ${Object.keys(cfg.notification_config).join(', ') || 'none'})`,
        });
    }
  };
  for (const [i, r] of cfg.rules.entries()) check(r.notification_channels, ['rules', i, 'notification_channels']);
  for (const [i, r] of cfg.notifications.routes.entries())
    check(r.channels, ['notifications', 'routes', i, 'channels']);
  check(cfg.notifications.default_channels, ['notifications', 'default_channels']);
  for (const [name, c] of Object.entries(cfg.notification_config)) {
    const type = typeof c.type === 'string' ? c.type : name;
    if (!(CHANNEL_TYPE_NAMES as readonly string[]).includes(type))
      issues.push({
        path: ['notification_config', name, ...(typeof c.type === 'string' ? ['type'] : [])],
        message: `unknown channel type "${type}" (known: ${CHANNEL_TYPE_NAMES.join(', ')}); set type: for custom names`,
      });
  }
  return issues;
}
