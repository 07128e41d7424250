import { z } from 'zod';
import { CHANNEL_SCHEMAS, CHANNEL_TYPES, isChannelType } from '../../notify/channels/schemas.ts';
import { registerFileForm } from '../file-form.ts';

/** The settings of one channel as written (before its own schema checks them). */
const rawChannelSchema = z.record(z.string(), z.unknown());

/**
 * The seed's `notification_config:` block: one entry per channel, keyed by channel name
 * (`email`, `slack`, `webhook`, or any name with `type:`). Each entry is checked against its channel's own
 * schema (owned by src/notify/channels/, listed in its registry), so a wrong type or an unknown field is a
 * located config error; the output holds the channel's settings with its defaults filled in.
 * A disabled channel (`enabled: false`) may leave required settings out, but what it sets is still checked.
 */
const checkedChannelsSchema = z.record(z.string(), rawChannelSchema).transform((channels, ctx) => {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, raw] of Object.entries(channels)) {
    const type = typeof raw.type === 'string' ? raw.type : name;
    if (!isChannelType(type)) {
      ctx.addIssue({
        code: 'custom',
        path: [name, ...(typeof raw.type === 'string' ? ['type'] : [])],
        input: type,
        message: `unknown channel type "${type}" (known: ${CHANNEL_TYPES.join(', ')}); set type: for custom names`,
      });
      continue;
    }
    const schema: z.ZodType = CHANNEL_SCHEMAS[type];
    const check = raw.enabled === false && schema instanceof z.ZodObject ? schema.partial() : schema;
    const parsed = check.safeParse(raw, { reportInput: true });
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: [name, ...issue.path] });
      continue;
    }
    out[name] = parsed.data as Record<string, unknown>;
  }
  return out;
});
// The checked settings are written back as they are (they have the shape the file has).
export const notificationConfigSchema = registerFileForm(checkedChannelsSchema, (v) => v).default({});
export type NotificationConfig = Record<string, Record<string, unknown>>;

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
        /** Attempts in all: the first plus 3 retries (1 s, 2 s, 4 s); the seed's exactly-3-POSTs is `3`. */
        max_attempts: z.number().int().min(1).default(4),
        base_delay_ms: z.number().int().min(0).default(1000),
        max_delay_ms: z.number().int().min(0).default(300_000),
        jitter_ratio: z.number().min(0).max(1).default(0.1),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type NotificationsSettings = z.output<typeof notificationsSchema>;

/** Channel types Vigil implements (src/notify/channels/schemas.ts is the list). */
export const CHANNEL_TYPE_NAMES: readonly string[] = CHANNEL_TYPES;

/** A channel-name problem found by `channelNameIssues`; warnings do not fail validation. */
export interface ChannelNameIssue {
  readonly level: 'error' | 'warning';
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * Checks the channel names that rules, routes and `default_channels` use against `notification_config`.
 * A route or `default_channels` entry must name a configured channel (enabled or not). A rule may also name a
 * channel type that is not configured (the seed's and the built-in default rules name `email` and `slack`):
 * that is a warning, its alerts skip that channel until it is configured. Any other name is an error.
 */
export function channelNameIssues(cfg: {
  rules: readonly { name: string; notification_channels: readonly string[] }[];
  notification_config: NotificationConfig;
  notifications: NotificationsSettings;
}): ChannelNameIssue[] {
  const configured = Object.keys(cfg.notification_config);
  const list = configured.join(', ') || 'none';
  const issues: ChannelNameIssue[] = [];
  // A rule naming an unconfigured channel type: one warning per channel, at its first use, naming the rules.
  const unconfigured = new Map<string, { path: (string | number)[]; rules: string[] }>();
  const check = (names: readonly string[], path: (string | number)[], rule?: string) => {
    for (const [i, n] of names.entries()) {
      if (configured.includes(n)) continue;
      if (!isChannelType(n))
        issues.push({
          level: 'error',
          path: [...path, i],
          message: `unknown notification channel "${n}" (configured: ${list}; channel types: ${CHANNEL_TYPES.join(', ')})`,
        });
      else if (rule === undefined)
        issues.push({
          level: 'error',
          path: [...path, i],
          message: `channel "${n}" is not configured in notification_config (configured: ${list})`,
        });
      else {
        const seen = unconfigured.get(n) ?? { path: [...path, i], rules: [] };
        if (!seen.rules.includes(rule)) seen.rules.push(rule);
        unconfigured.set(n, seen);
      }
    }
  };
  for (const [i, r] of cfg.rules.entries())
    check(r.notification_channels, ['rules', i, 'notification_channels'], r.name);
  for (const [i, r] of cfg.notifications.routes.entries())
    check(r.channels, ['notifications', 'routes', i, 'channels']);
  check(cfg.notifications.default_channels, ['notifications', 'default_channels']);
  for (const [n, { path, rules }] of unconfigured)
    issues.push({
      level: 'warning',
      path,
      message: `channel "${n}" is not configured in notification_config, so alerts of ${rules.length === 1 ? 'rule' : 'rules'} ${rules.join(', ')} are not sent there until it is`,
    });
  return issues;
}

/** The errors among `channelNameIssues` (what fails validation). */
export function unknownChannelIssues(cfg: Parameters<typeof channelNameIssues>[0]): ChannelNameIssue[] {
  return channelNameIssues(cfg).filter((i) => i.level === 'error');
}
