/** Wiring for `ssh` sources with `from: azure`: find the Azure source whose discovered VMs they log in to. */
import type { SshSourceConfig } from '../../config/sections/sources.ts';
import type { AzureSource } from '../azure/source.ts';
import type { Source } from '../source.ts';
import type { SshSourceOptions } from './source.ts';

/** The `inventory` option for an ssh source, or nothing when it does not use `from: azure`. Throws a precise error. */
export function azureInventory(
  config: SshSourceConfig,
  sources: readonly Source[],
): Pick<SshSourceOptions, 'inventory'> {
  if (config.from !== 'azure') return {};
  const name = config.name ?? 'ssh';
  const azure = sources.filter((s): s is AzureSource => s.type === 'azure' && 'endpoints' in s);
  const chosen = config.azure_source
    ? azure.find((s) => s.name === config.azure_source)
    : azure.length === 1
      ? azure[0]
      : undefined;
  if (!chosen) {
    if (config.azure_source)
      throw new Error(`source ${name}: azure_source "${config.azure_source}" is not an azure source of this config`);
    throw new Error(
      azure.length === 0
        ? `source ${name}: from: azure needs an azure source in the same config`
        : `source ${name}: several azure sources (${azure.map((s) => s.name).join(', ')}): set azure_source`,
    );
  }
  return { inventory: (ctx) => chosen.endpoints(ctx) };
}
