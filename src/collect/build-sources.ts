/** Builds the configured sources (enabled ones, in config order). One `case` per source type. */
import type { VigilConfig } from '../config/index.ts';
import type { SourceConfig } from '../config/sections/sources.ts';
import { AzureSource } from './azure/source.ts';
import { DemoSource } from './demo/source.ts';
import { HostSource } from './host/source.ts';
import { PrometheusSource } from './prometheus/source.ts';
import type { Source } from './source.ts';
import { azureInventory } from './ssh/from-azure.ts';
import { SshSource } from './ssh/source.ts';

export interface BuildSourcesOptions {
  /** Resolves relative paths in source configs (key files, targets files): the config file's folder. */
  readonly baseDir?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Throws an Error with a user-facing message when two sources share a name or a source cannot be wired. */
export function buildSources(config: VigilConfig, opts: BuildSourcesOptions = {}): Source[] {
  const enabled = config.sources.filter((s) => s.enabled);
  const seen = new Set<string>();
  for (const s of enabled) {
    const name = s.name ?? s.type;
    if (seen.has(name))
      throw new Error(`two sources are named "${name}": give each source of the same type a distinct name`);
    seen.add(name);
  }
  const built: Source[] = [];
  // ssh sources that log in to Azure-discovered VMs need the Azure source, so they are built last.
  const ordered = [...enabled.filter((s) => s.type !== 'ssh'), ...enabled.filter((s) => s.type === 'ssh')];
  const byConfig = new Map<SourceConfig, Source>();
  for (const s of ordered) byConfig.set(s, buildOne(s, built, opts));
  return enabled.map((s) => byConfig.get(s)!);

  function buildOne(s: SourceConfig, sofar: Source[], o: BuildSourcesOptions): Source {
    let source: Source;
    switch (s.type) {
      case 'host':
        source = new HostSource(s);
        break;
      case 'demo':
        source = new DemoSource(s);
        break;
      case 'azure':
        source = new AzureSource(s, o.env ? { azEnv: o.env } : {});
        break;
      case 'prometheus':
        source = new PrometheusSource(s, o.baseDir ? { baseDir: o.baseDir } : {});
        break;
      case 'ssh':
        source = new SshSource(s, {
          ...(o.baseDir ? { baseDir: o.baseDir } : {}),
          ...(o.env ? { env: o.env } : {}),
          ...azureInventory(s, sofar),
        });
        break;
      default: {
        const never: never = s;
        throw new Error(`unknown source type ${(never as { type: string }).type}`);
      }
    }
    sofar.push(source);
    return source;
  }
}
