import type { z } from 'zod';
import { isDurationSchema } from './duration.ts';
import { formatDuration } from './duration-text.ts';

interface SchemaDef {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly innerType?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly discriminator?: string;
  readonly values?: readonly unknown[];
}

const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/** Inverse transforms, by schema: how a parsed value of that schema is written in a file. */
const FILE_FORMS = new WeakMap<object, (value: unknown) => unknown>();

/**
 * Declares how a transforming schema's parsed value is written back (e.g. an identity for a transform that
 * only validates and fills defaults). Without one, a transformed field is written as the file had it.
 */
export function registerFileForm<S extends z.ZodType>(schema: S, toFile: (value: z.output<S>) => unknown): S {
  FILE_FORMS.set(schema, toFile as (value: unknown) => unknown);
  return schema;
}

/**
 * Turns a parsed config value back into what a config file says: durations (milliseconds after parsing) become
 * text like "60s" or "1h30m" that parses back to the same milliseconds; everything else is kept. The schema
 * says which fields are durations, so a new section's durations are handled without listing them here.
 * A field whose schema transforms its value otherwise (and has no registered file form) is written as `raw`,
 * the file's own text for it (absent when the file had none, so its defaults apply again when read back).
 */
export function toFileForm(value: unknown, schema: z.ZodType, raw?: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (isDurationSchema(schema)) return typeof value === 'number' ? formatDuration(value) : value;
  const inverse = FILE_FORMS.get(schema);
  if (inverse) return inverse(value);
  const def = defOf(schema);
  const rawAt = (key: string | number): unknown =>
    raw !== null && typeof raw === 'object' ? (raw as Record<string | number, unknown>)[key] : undefined;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return def.innerType ? toFileForm(value, def.innerType, raw) : value;
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value) || !def.shape) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = def.shape[k] ? toFileForm(v, def.shape[k], rawAt(k)) : v;
      return out;
    }
    case 'array':
      return Array.isArray(value) && def.element ? value.map((v, i) => toFileForm(v, def.element!, rawAt(i))) : value;
    case 'record': {
      if (typeof value !== 'object' || Array.isArray(value) || !def.valueType) return value;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = toFileForm(v, def.valueType, rawAt(k));
      return out;
    }
    case 'union': {
      // Discriminated unions (sources): the option whose discriminator literal matches.
      const disc = def.discriminator;
      if (!disc || typeof value !== 'object' || !def.options) return value;
      const tag = (value as Record<string, unknown>)[disc];
      const option = def.options.find((o) => {
        const field = defOf(o).shape?.[disc];
        return field !== undefined && (defOf(field).values ?? []).includes(tag);
      });
      return option ? toFileForm(value, option, raw) : value;
    }
    case 'pipe':
    case 'transform':
      return raw;
    default:
      return value;
  }
}
