/**
 * The settings schema of every channel type, in one module with no channel code: configuration validation (every
 * CLI command) reads these, while the channels themselves (HTTP, SMTP, file writing) load only with the pipeline.
 * Adding a channel: its schema here, its file, and one line in registry.ts.
 */
import { z } from 'zod';

/** Settings every channel accepts. */
const commonFields = {
  type: z.string().optional(),
  enabled: z.boolean().default(true),
  timeout_ms: z.number().int().positive().default(10_000),
  /** Maximum messages per second to this channel; excess waits, nothing is dropped. */
  rate_limit_per_second: z.number().positive().optional(),
  send_resolved: z.boolean().default(true),
  severities: z.array(z.enum(['info', 'warning', 'critical', 'emergency'])).optional(),
};

export const emailSchema = z
  .object({
    ...commonFields,
    smtp_host: z.string().min(1),
    smtp_port: z.number().int().positive().default(587),
    /** `starttls` (default, port 587: upgrade required), `tls` (implicit, port 465), `none` (local relays only). */
    security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
    username: z.string().optional(),
    password: z.string().optional(),
    from_address: z.string().min(1),
    to_addresses: z.array(z.string().min(1)).min(1),
    dashboard_url: z.string().default('http://localhost:8080'),
    /** Accept self-signed certificates (tests, private relays). */
    tls_insecure: z.boolean().default(false),
  })
  .strict();

export const slackSchema = z
  .object({
    ...commonFields,
    webhook_url: z.string().url(),
    dashboard_url: z.string().default('http://localhost:8080'),
    /** Slack allows about one message per second per webhook. */
    rate_limit_per_second: z.number().positive().default(1),
  })
  .strict();

export const webhookSchema = z
  .object({
    ...commonFields,
    url: z.string().url(),
    /** Shared secret for the X-Vigil-Signature header (HMAC-SHA256 over `${timestamp}.${body}`). */
    secret: z.string().optional(),
    /** Sent as `Authorization: Bearer <token>`. */
    token: z.string().optional(),
    headers: z.record(z.string(), z.string()).default({}),
    format: z.enum(['vigil', 'alertmanager']).default('vigil'),
    external_url: z.string().default('http://localhost:8080'),
  })
  .strict();

export const discordSchema = z
  .object({ ...commonFields, webhook_url: z.string().url(), username: z.string().default('Vigil') })
  .strict();

export const teamsSchema = z.object({ ...commonFields, webhook_url: z.string().url() }).strict();

export const pagerdutySchema = z
  .object({
    ...commonFields,
    routing_key: z.string().min(1),
    url: z.string().url().default('https://events.pagerduty.com/v2/enqueue'),
    source: z.string().default('vigil'),
  })
  .strict();

export const smsSchema = z
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

export const consoleSchema = z.object({ ...commonFields, color: z.boolean().optional() }).strict();

export const fileSchema = z
  .object({
    ...commonFields,
    path: z.string().min(1),
    max_bytes: z
      .number()
      .int()
      .positive()
      .default(10 * 1024 * 1024),
    /** Rotated files kept: path.1 … path.N. */
    keep: z.number().int().min(1).default(5),
  })
  .strict();

export const CHANNEL_SCHEMAS = {
  email: emailSchema,
  slack: slackSchema,
  webhook: webhookSchema,
  discord: discordSchema,
  teams: teamsSchema,
  pagerduty: pagerdutySchema,
  sms: smsSchema,
  console: consoleSchema,
  file: fileSchema,
} satisfies Record<string, z.ZodType>;

export type ChannelType = keyof typeof CHANNEL_SCHEMAS;
export const CHANNEL_TYPES = Object.keys(CHANNEL_SCHEMAS) as ChannelType[];

export function isChannelType(t: string): t is ChannelType {
  return (CHANNEL_TYPES as readonly string[]).includes(t);
}
