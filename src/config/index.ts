export { formatDuration, parseDurationMs } from './duration.ts';
export { ConfigError, type ConfigProblem, formatProblem } from './errors.ts';
export { keepLayout } from './keep-layout.ts';
export {
  findConfigPath,
  type LoadedConfig,
  type LoadOptions,
  loadConfig,
  parseConfig,
  parseConfigText,
} from './load.ts';
export { isSecretKey, MASK, maskSecrets, maskUrl } from './mask.ts';
export { configSchema, type VigilConfig } from './schema.ts';
export type { CollectionConfig } from './sections/collection.ts';
export type { RuleConfig } from './sections/rules.ts';
export type { ServerConfig } from './sections/server.ts';
export type { DemoSourceConfig, HostSourceConfig, SourceConfig } from './sections/sources.ts';
export type { StorageConfig } from './sections/storage.ts';
