import type { ChannelFactory } from './common.ts';
import { consoleChannel } from './console.ts';
import { discordChannel } from './discord.ts';
import { emailChannel } from './email.ts';
import { fileChannel } from './file.ts';
import { pagerdutyChannel } from './pagerduty.ts';
import { CHANNEL_TYPES, type ChannelType, isChannelType } from './schemas.ts';
import { slackChannel } from './slack.ts';
import { smsChannel } from './sms.ts';
import { teamsChannel } from './teams.ts';
import { webhookChannel } from './webhook.ts';

/** Every channel implementation, by type (their settings schemas, which config validation reads, are in schemas.ts). */
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

export { CHANNEL_TYPES, type ChannelType, isChannelType };
