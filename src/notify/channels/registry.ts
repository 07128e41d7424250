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

/**
 * Every channel type, by name: the one list of channel types (config validation reads each entry's `schema`
 * from here, so adding a channel is its file plus one line here).
 */
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
} satisfies Record<string, ChannelFactory>;

export type ChannelType = keyof typeof CHANNELS;
export const CHANNEL_TYPES = Object.keys(CHANNELS) as ChannelType[];

export function isChannelType(t: string): t is ChannelType {
  return (CHANNEL_TYPES as readonly string[]).includes(t);
}
