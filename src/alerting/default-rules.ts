import { type RuleConfig, type RuleInput, ruleSchema } from '../config/sections/rules.ts';

/**
 * The default rules `vigil config init` writes: the seed design's five, plus the no-data rule.
 * `for: 1m` filters one-sample spikes yet alerts within 2 minutes of a breach at a 60 s collection interval.
 * `DEFAULT_RULE_INPUTS` is the YAML-friendly form (durations as text); `DEFAULT_RULES` is parsed.
 */
export const DEFAULT_RULE_INPUTS: readonly RuleInput[] = [
  {
    name: 'high_cpu',
    metric: 'cpu_percent',
    threshold: 80,
    comparison: '>',
    for: '1m',
    severity: 'warning',
    enabled: true,
    notification_channels: ['email'],
  },
  {
    name: 'critical_cpu',
    metric: 'cpu_percent',
    threshold: 95,
    comparison: '>',
    for: '1m',
    severity: 'critical',
    enabled: true,
    notification_channels: ['email', 'slack'],
  },
  {
    name: 'high_memory',
    metric: 'memory_percent',
    threshold: 85,
    comparison: '>',
    for: '1m',
    severity: 'warning',
    enabled: true,
    notification_channels: ['email'],
  },
  {
    name: 'critical_memory',
    metric: 'memory_percent',
    threshold: 95,
    comparison: '>',
    for: '1m',
    severity: 'critical',
    enabled: true,
    notification_channels: ['email', 'slack'],
  },
  {
    name: 'disk_space',
    metric: 'disk_percent',
    threshold: 90,
    comparison: '>',
    for: '1m',
    severity: 'warning',
    enabled: true,
    notification_channels: ['email'],
  },
  {
    name: 'vm_unreachable',
    type: 'no_data',
    for: '5m',
    severity: 'warning',
    enabled: true,
    notification_channels: ['email'],
  },
];

export const DEFAULT_RULES: readonly RuleConfig[] = DEFAULT_RULE_INPUTS.map((r) => ruleSchema.parse(r));
