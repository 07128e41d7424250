import { z } from 'zod';
import { durationMs } from '../duration.ts';

const base = {
  /** Unique name of this source instance; defaults to its type. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
  enabled: z.boolean().default(true),
  /** Extra labels put on every series of this source. */
  labels: z.record(z.string(), z.string()).default({}),
  tenant: z.string().default('default'),
};

export const hostSourceSchema = z
  .object({
    type: z.literal('host'),
    ...base,
    /** VM name to report under; defaults to the machine's hostname. */
    vm: z.string().optional(),
    /** Filesystem whose usage is `disk_percent`. */
    mount: z.string().default('/'),
  })
  .strict();

export const demoSourceSchema = z
  .object({
    type: z.literal('demo'),
    ...base,
    vms: z.number().int().min(1).max(100_000).default(12),
    seed: z.number().int().default(42),
    /** Probability that one collection of one VM fails (simulated). */
    failure_rate: z.number().min(0).max(1).default(0.01),
  })
  .strict();

const durationField = (min: number, max: number) => durationMs({ min, max });

/** Azure Monitor (issue 3): VMs discovered through ARM, metrics through the batch API. */
export const azureSourceSchema = z
  .object({
    type: z.literal('azure'),
    ...base,
    /** Subscription to watch; defaults to the Azure CLI's default subscription (`az account show`). */
    subscription_id: z
      .string()
      .regex(/^[0-9a-fA-F-]{36}$/, 'expected a subscription GUID')
      .optional(),
    /** Limit discovery to these resource groups; empty = the whole subscription. */
    resource_groups: z.array(z.string().min(1)).default([]),
    /** Only VMs carrying all these tags; a value of "*" means any value. */
    tags: z.record(z.string(), z.string()).default({}),
    include_stopped: z.boolean().default(false),
    arm_endpoint: z.url({ protocol: /^https?$/ }).default('https://management.azure.com'),
    /** Batch metrics host; `{region}` is replaced by the VM's location. */
    metrics_endpoint: z
      .string()
      .regex(/^https?:\/\//, 'expected an http(s) URL')
      .default('https://{region}.metrics.monitor.azure.com'),
    /** Token audiences (`az account get-access-token --resource`); defaults follow the endpoints of the public cloud. */
    arm_audience: z.string().default('https://management.azure.com/'),
    metrics_audience: z.string().default('https://metrics.monitor.azure.com'),
    /** Use the batch endpoint (false: one ARM metrics call per VM, for clouds without it). */
    batch: z.boolean().default(true),
    batch_size: z.number().int().min(1).max(50).default(50),
    discover_every: durationField(60_000, 86_400_000).default(600_000),
    /** How far back each cycle asks, to cover Azure's ingestion lag; each timestamp is stored once. */
    window: durationField(180_000, 3_600_000).default(600_000),
    /** Extra CA certificate (PEM file) to trust, for private endpoints and tests. */
    ca_file: z.string().optional(),
    /** The Azure CLI executable. */
    az_path: z.string().default('az'),
  })
  .strict();

const sshEndpointFields = {
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1).optional(),
  key_file: z.string().optional(),
  /** Use the SSH agent: true = $SSH_AUTH_SOCK, or a socket path. */
  agent: z.union([z.boolean(), z.string()]).optional(),
};

/** Agentless SSH (issue 3): /proc and df read over one SSH round trip per cycle. */
export const sshSourceSchema = z
  .object({
    type: z.literal('ssh'),
    ...base,
    hosts: z
      .array(
        z
          .object({
            /** VM name; defaults to `host`. */
            vm: z
              .string()
              .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
              .optional(),
            ...sshEndpointFields,
            jump: z.object(sshEndpointFields).strict().optional(),
            labels: z.record(z.string(), z.string()).default({}),
          })
          .strict(),
      )
      .default([]),
    /** Also (or only) SSH to the VMs an Azure source discovered, at their private or public IP. */
    from: z.literal('azure').optional(),
    /** Which Azure source (by name) when there are several; default: the only one. */
    azure_source: z.string().optional(),
    address: z.enum(['private', 'public']).default('private'),
    port: z.number().int().min(1).max(65535).default(22),
    /** With `from: azure`: the jump host (bastion) to reach the discovered VMs through. */
    jump: z.object(sshEndpointFields).strict().optional(),
    /** Defaults for hosts that do not say. */
    user: z.string().min(1).optional(),
    key_file: z.string().optional(),
    agent: z.union([z.boolean(), z.string()]).optional(),
    known_hosts: z.string().default('~/.ssh/known_hosts'),
    /** Accept and remember an unknown host key (never a changed one). */
    trust_on_first_use: z.boolean().default(false),
    connect_timeout: durationField(1000, 120_000).default(10_000),
    /** Filesystem whose usage is `disk_percent`. */
    mount: z.string().default('/'),
  })
  .strict()
  .refine((c) => c.hosts.length > 0 || c.from !== undefined, { message: 'list hosts, or set from: azure' })
  .refine((c) => c.jump === undefined || c.from !== undefined, {
    message: 'jump at the source level is for from: azure; give each listed host its own jump',
    path: ['jump'],
  });

const prometheusTargetSchema = z.union([
  z.string().min(1),
  z
    .object({
      /** `host:port` or a full URL. */
      target: z.string().min(1),
      vm: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/)
        .optional(),
      labels: z.record(z.string(), z.string()).default({}),
    })
    .strict(),
]);

/** Prometheus exporters (issue 3): node_exporter-style targets mapped to the standard metrics. */
export const prometheusSourceSchema = z
  .object({
    type: z.literal('prometheus'),
    ...base,
    targets: z.array(prometheusTargetSchema).default([]),
    /** A Prometheus file_sd file (JSON or YAML: `[{targets: [...], labels: {...}}]`), re-read when it changes. */
    targets_file: z.string().optional(),
    scheme: z.enum(['http', 'https']).default('http'),
    metrics_path: z.string().startsWith('/').default('/metrics'),
    /** Also keep scraped series whose name matches this regex (fully anchored), as custom metrics. */
    keep: z
      .string()
      .refine((re) => {
        try {
          new RegExp(re);
          return true;
        } catch {
          return false;
        }
      }, 'invalid regular expression')
      .optional(),
    /** On first contact scrape twice, this far apart, so CPU % and bytes are known from the first cycle (0: off). */
    prime: durationField(0, 10_000).default(1000),
  })
  .strict()
  .refine((c) => c.targets.length > 0 || c.targets_file !== undefined, {
    message: 'list targets or give a targets_file',
  });

/**
 * Every source type. Each entry is a strict object discriminated by `type`;
 * new source types add their schema here.
 */
export const sourceSchema = z.discriminatedUnion('type', [
  hostSourceSchema,
  demoSourceSchema,
  azureSourceSchema,
  sshSourceSchema,
  prometheusSourceSchema,
]);

export type SourceConfig = z.output<typeof sourceSchema>;
export type HostSourceConfig = z.output<typeof hostSourceSchema>;
export type DemoSourceConfig = z.output<typeof demoSourceSchema>;
export type AzureSourceConfig = z.output<typeof azureSourceSchema>;
export type SshSourceConfig = z.output<typeof sshSourceSchema>;
export type PrometheusSourceConfig = z.output<typeof prometheusSourceSchema>;
