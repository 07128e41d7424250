import { z } from 'zod';

export const serverSchema = z
  .object({
    enabled: z.boolean().default(true),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(7070),
  })
  .strict();

export type ServerConfig = z.output<typeof serverSchema>;
