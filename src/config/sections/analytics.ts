import { z } from 'zod';
import { durationMs } from '../duration.ts';

// `analytics.patterns.<pattern>`: the fleet failure pattern detectors' switches, windows and thresholds.
// YAML keys are snake_case; the parsed value is camelCase and has the shape of analyze/'s `FleetPatternConfig`
// (the defaults here are the same values as `DEFAULT_FLEET_PATTERN_CONFIG`; a test checks they agree).

const share = () => z.number().min(0).max(1);
const percent = () => z.number().min(0).max(100);
const count = (min: number) => z.number().int().min(min).max(100_000);
const window = (dflt: number) => durationMs({ min: 10_000, max: 86_400_000 }).default(dflt);

const cascading = z
  .object({
    enabled: z.boolean().default(true),
    window: window(300_000),
    min_vms: count(2).default(3),
    min_events: count(1).default(5),
    breach_percent: percent().default(90),
  })
  .strict()
  .transform((c) => ({
    enabled: c.enabled,
    windowMs: c.window,
    minVms: c.min_vms,
    minEvents: c.min_events,
    breachPercent: c.breach_percent,
  }));

const resourceExhaustion = z
  .object({
    enabled: z.boolean().default(true),
    window: window(600_000),
    saturation_percent: percent().default(95),
    min_events: count(1).default(3),
  })
  .strict()
  .transform((c) => ({
    enabled: c.enabled,
    windowMs: c.window,
    saturationPercent: c.saturation_percent,
    minEvents: c.min_events,
  }));

const networkPartition = z
  .object({
    enabled: z.boolean().default(true),
    window: window(180_000),
    group_labels: z.array(z.string().min(1)).min(1).default(['resource_group', 'region', 'source']),
    min_group_vms: count(1).default(2),
    min_share: share().default(0.7),
    max_others_share: share().default(0.3),
  })
  .strict()
  .transform((c) => ({
    enabled: c.enabled,
    windowMs: c.window,
    groupLabels: c.group_labels,
    minGroupVms: c.min_group_vms,
    minShare: c.min_share,
    maxOthersShare: c.max_others_share,
  }));

const heartbeat = z
  .object({
    enabled: z.boolean().default(true),
    window: window(3_600_000),
    /** Attempts in the window; the first and last thirds are compared, so each third has min_attempts / 3. */
    min_attempts: count(6).default(30),
    /** Median latency of the last third / median of the first third. */
    min_ratio: z.number().gt(1).max(1000).default(1.5),
    /** And the median must rise by at least this much (small absolute changes are noise, not degradation). */
    min_increase: durationMs({ min: 0, max: 300_000 }).default(500),
  })
  .strict()
  .transform((c) => ({
    enabled: c.enabled,
    windowMs: c.window,
    minAttempts: c.min_attempts,
    minRatio: c.min_ratio,
    minIncreaseMs: c.min_increase,
  }));

const loadImbalance = z
  .object({
    enabled: z.boolean().default(true),
    window: window(600_000),
    group_label: z.string().min(1).default('resource_group'),
    min_vms: count(2).default(2),
    spread_percent: z.number().gt(0).max(100).default(40),
  })
  .strict()
  .transform((c) => ({
    enabled: c.enabled,
    windowMs: c.window,
    groupLabel: c.group_label,
    minVms: c.min_vms,
    spreadPercent: c.spread_percent,
  }));

const diskContention = z
  .object({
    enabled: z.boolean().default(true),
    window: window(600_000),
    /** The baseline is the VM's I/O from `lookback` ago up to `window` ago. */
    lookback: window(3_600_000),
    group_label: z.string().min(1).default('resource_group'),
    min_vms: count(1).default(2),
    io_factor: z.number().gt(1).max(1_000_000).default(3),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.lookback <= c.window)
      ctx.addIssue({ code: 'custom', path: ['lookback'], message: 'must be longer than window' });
  })
  .transform((c) => ({
    enabled: c.enabled,
    windowMs: c.window,
    lookbackMs: c.lookback,
    groupLabel: c.group_label,
    minVms: c.min_vms,
    ioFactor: c.io_factor,
  }));

export const fleetPatternsSchema = z
  .object({
    cascading_failures: cascading.prefault({}),
    resource_exhaustion: resourceExhaustion.prefault({}),
    network_partition: networkPartition.prefault({}),
    heartbeat_degradation: heartbeat.prefault({}),
    load_imbalance: loadImbalance.prefault({}),
    disk_io_contention: diskContention.prefault({}),
  })
  .strict()
  .transform((p) => ({
    cascading: p.cascading_failures,
    resourceExhaustion: p.resource_exhaustion,
    networkPartition: p.network_partition,
    heartbeat: p.heartbeat_degradation,
    loadImbalance: p.load_imbalance,
    diskContention: p.disk_io_contention,
  }));

export const analyticsSchema = z
  .object({
    patterns: fleetPatternsSchema.prefault({}),
  })
  .strict();

export type AnalyticsConfig = z.output<typeof analyticsSchema>;
