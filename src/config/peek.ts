/**
 * The two settings a dashboard's first screen needs (the store file and the collection interval), read from the
 * config file without the schema: zod and the config sections take 100-200 ms to load, most of the 300 ms budget for
 * that screen. Null whenever the file holds something this cannot read exactly as the loader would (a PostgreSQL
 * URL, a value of the wrong type, an unset variable, bad YAML): the full loader runs next either way and reports it.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { COLLECTION_INTERVAL_BOUNDS_MS, DEFAULT_COLLECTION_INTERVAL_MS, DEFAULT_STORAGE_PATH } from './defaults.ts';
import { parseDurationMs } from './duration-text.ts';
import { expandHome, relativeToConfig } from './file-paths.ts';
import { findConfigPath } from './find.ts';
import { interpolateEnv } from './interpolate.ts';

export interface PeekOptions {
  /** `--config`. */
  readonly config?: string;
  /** `--db`: replaces storage.path, as loadEffectiveConfig does. */
  readonly db?: string;
  readonly cwd: string;
  readonly home?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface PeekedSettings {
  /** storage.path as the loader leaves it: relative to the config file's folder made absolute, `~/` expanded. */
  readonly storagePath: string;
  readonly intervalMs: number;
}

export async function peekStoreSettings(opts: PeekOptions): Promise<PeekedSettings | null> {
  const home = opts.home ?? homedir();
  const file = findConfigPath({ ...(opts.config ? { path: opts.config } : {}), cwd: opts.cwd, home });
  let storage: Record<string, unknown> = {};
  let collection: Record<string, unknown> = {};
  if (file) {
    let data: unknown;
    try {
      const { parse } = await import('yaml');
      data = parse(readFileSync(file, 'utf8'), { uniqueKeys: true, maxAliasCount: 100 }) ?? {};
    } catch {
      return null;
    }
    if (!isMapping(data)) return null;
    const { value, missing } = interpolateEnv(
      { storage: data.storage ?? {}, collection: data.collection ?? {} },
      opts.env,
    );
    if (missing.length > 0 || !isMapping(value) || !isMapping(value.storage) || !isMapping(value.collection))
      return null;
    ({ storage, collection } = value as { storage: Record<string, unknown>; collection: Record<string, unknown> });
  }
  if (storage.url !== undefined && storage.url !== '') return null;
  const configured = storage.path ?? DEFAULT_STORAGE_PATH;
  if (typeof configured !== 'string' || configured === '') return null;
  const path = expandHome(file ? relativeToConfig(configured, dirname(file)) : configured, home);
  const interval = collection.interval ?? DEFAULT_COLLECTION_INTERVAL_MS / 1000;
  const intervalMs =
    typeof interval === 'number' || typeof interval === 'string' ? parseDurationMs(interval) : undefined;
  if (
    intervalMs === undefined ||
    intervalMs < COLLECTION_INTERVAL_BOUNDS_MS.min ||
    intervalMs > COLLECTION_INTERVAL_BOUNDS_MS.max
  )
    return null;
  return { storagePath: opts.db ?? path, intervalMs };
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
