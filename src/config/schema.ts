import { z } from 'zod';
import { analyticsSchema } from './sections/analytics.ts';
import { collectionSchema } from './sections/collection.ts';
import { notificationConfigSchema, notificationsSchema, unknownChannelIssues } from './sections/notifications.ts';
import { alertingSchema, ruleSchema } from './sections/rules.ts';
import { serverSchema } from './sections/server.ts';
import { sourceSchema } from './sections/sources.ts';
import { storageSchema } from './sections/storage.ts';

/** The whole configuration file. Every field has a default, so `{}` is a valid config. */
export const configObjectSchema = z
  .object({
    /** Other files (relative to this one) whose `rules:` and `notification_config:` are merged in. */
    include: z.array(z.string()).default([]),
    storage: storageSchema.prefault({}),
    collection: collectionSchema.prefault({}),
    sources: z.array(sourceSchema).prefault([{ type: 'host' }, { type: 'demo' }]),
    rules: z.array(ruleSchema).default([]),
    alerting: alertingSchema.prefault({}),
    notification_config: notificationConfigSchema,
    notifications: notificationsSchema.prefault({}),
    server: serverSchema.prefault({}),
    analytics: analyticsSchema.prefault({}),
  })
  .strict();

/** The config object plus cross-field checks (channel names used by rules and routes must exist). */
export const configSchema = configObjectSchema.superRefine((cfg, ctx) => {
  for (const i of unknownChannelIssues(cfg)) ctx.addIssue({ code: 'custom', ...i });
});

export type VigilConfig = z.output<typeof configSchema>;
