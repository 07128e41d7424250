import { z } from 'zod';
import { formatDuration, parseDurationMs } from './duration-text.ts';

/** Every schema `durationMs()` made, so a config can be written back with its durations as text. */
const DURATION_SCHEMAS = new WeakSet<object>();

/** True for a schema made by `durationMs()` (not for its `.optional()`/`.default()` wrappers). */
export function isDurationSchema(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && DURATION_SCHEMAS.has(schema);
}

/** A zod schema for a duration field, producing milliseconds, optionally bounded. */
export function durationMs(opts: { min?: number; max?: number } = {}) {
  const schema = z.union([z.number(), z.string()]).transform((v, ctx) => {
    const ms = parseDurationMs(v);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration like 300, "30s", "5m", "1h" or "7d", got ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    if (opts.min !== undefined && ms < opts.min) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at least ${formatDuration(opts.min)}, got ${formatDuration(ms)}`,
      });
      return z.NEVER;
    }
    if (opts.max !== undefined && ms > opts.max) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at most ${formatDuration(opts.max)}, got ${formatDuration(ms)}`,
      });
      return z.NEVER;
    }
    return ms;
  });
  DURATION_SCHEMAS.add(schema);
  return schema;
}
