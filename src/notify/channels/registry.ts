import { CHANNEL_TYPE_NAMES } from '../../config/sections/notifications.ts';
import type { ChannelFactory } from './common.ts';
import { consoleChannel } from './console.ts';
import { discordChannel } from './discord.ts';
import { emailChannel } from './email.ts';
import { fileChannel } from './file.ts';
import { pagerdutyChannel } from './pagerduty.ts';
import { slackChannel } from './slack.ts';
import { smsChannel } from './sms.ts';
import { teamsChannel } from './teams.ts';
import { webhookChannel } from './webhook.ts';

export const CHANNEL_TYPES = CHANNEL_TYPE_NAMES;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** Every channel type; `satisfies` makes the compiler reject a missing or extra entry. */
export const CHANNELS = {
  email: emailChannel,
  slack: slackChannel,
  webhook: webhookChannel,
  discord: discordChannel,
  teams: teamsChannel,
  pagerduty: pagerdutyChannel,
  sms: smsChannel,
  console: consoleChannel,
  file: fileChannel,
} satisfies Record<ChannelType, ChannelFactory>;

export function isChannelType(t: string): t is ChannelType {
  return (CHANNEL_TYPES as readonly string[]).includes(t);
}
