// Defaults and bounds the schema applies, in a module without it: the dashboard's first paint reads the store path
// and collection interval from a config file before zod has loaded (see config/peek.ts).
export const DEFAULT_STORAGE_PATH = '~/.vigil/metrics.db';
export const DEFAULT_COLLECTION_INTERVAL_MS = 60_000;
export const COLLECTION_INTERVAL_BOUNDS_MS = { min: 10_000, max: 3_600_000 } as const;
