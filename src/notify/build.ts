import type { Clock } from '../clock.ts';
import type { NotificationConfig, NotificationsSettings } from '../config/sections/notifications.ts';
import type { ChannelDeps } from './channels/common.ts';
import { CHANNEL_TYPES, CHANNELS, isChannelType } from './channels/registry.ts';
import type { Outbox } from './outbox.ts';
import { type HistoryFn, NotificationPipeline } from './pipeline.ts';
import type { Channel } from './types.ts';

export class NotificationConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotificationConfigError';
  }
}

/** Builds the enabled channels from `notification_config:`; errors name the channel and field, never a value. */
export function buildChannels(config: NotificationConfig, deps: ChannelDeps): Channel[] {
  const out: Channel[] = [];
  for (const [name, raw] of Object.entries(config)) {
    const type = typeof raw.type === 'string' ? raw.type : name;
    if (!isChannelType(type))
      throw new NotificationConfigError(
        `notification_config.${name}: unknown channel type "${type}" (known: ${CHANNEL_TYPES.join(', ')})`,
      );
    if (raw.enabled === false) continue;
    const factory = CHANNELS[type];
    const parsed = factory.schema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${[name, ...i.path].join('.')}: ${i.message}`).join('; ');
      throw new NotificationConfigError(`notification_config.${issues}`);
    }
    out.push((factory.create as (n: string, c: unknown, d: ChannelDeps) => Channel)(name, parsed.data, deps));
  }
  return out;
}

/** Channel names a rule may reference: every configured channel, enabled or not. */
export function knownChannelNames(config: NotificationConfig): Set<string> {
  return new Set(Object.keys(config));
}

export interface BuildPipelineArgs {
  readonly notificationConfig: NotificationConfig;
  readonly settings: NotificationsSettings;
  readonly outbox: Outbox;
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout?: ChannelDeps['stdout'];
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  readonly groupWaitMs?: number;
  readonly history?: HistoryFn;
}

/** The composition the engine uses: config → channels → pipeline. Unknown route channels fail here. */
export function buildPipeline(a: BuildPipelineArgs): NotificationPipeline {
  const channels = buildChannels(a.notificationConfig, { clock: a.clock, env: a.env, stdout: a.stdout });
  const known = knownChannelNames(a.notificationConfig);
  const enabled = new Set(channels.map((c) => c.name));
  const keep = (names: readonly string[], where: string) =>
    names.filter((n) => {
      if (!known.has(n)) throw new NotificationConfigError(`${where}: unknown notification channel "${n}"`);
      return enabled.has(n);
    });
  return new NotificationPipeline({
    channels,
    outbox: a.outbox,
    clock: a.clock,
    routes: a.settings.routes.map((r, i) => ({
      ...r,
      channels: keep(r.channels, `notifications.routes.${i}.channels`),
    })),
    defaultChannels: keep(a.settings.default_channels, 'notifications.default_channels'),
    groupWaitMs: a.groupWaitMs ?? a.settings.group_wait_ms,
    retry: {
      maxAttempts: a.settings.retry.max_attempts,
      baseDelayMs: a.settings.retry.base_delay_ms,
      maxDelayMs: a.settings.retry.max_delay_ms,
      jitterRatio: a.settings.retry.jitter_ratio,
    },
    ...(a.log ? { log: a.log } : {}),
    ...(a.history ? { history: a.history } : {}),
  });
}
