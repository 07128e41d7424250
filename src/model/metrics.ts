/** The standard VM metrics, with their exact names. Bytes metrics are totals per collection interval. */
export const STANDARD_METRICS = [
  'cpu_percent',
  'memory_percent',
  'disk_percent',
  'disk_read_bytes',
  'disk_write_bytes',
  'network_in_bytes',
  'network_out_bytes',
] as const;

export type StandardMetric = (typeof STANDARD_METRICS)[number];

export const PERCENT_METRICS: readonly StandardMetric[] = ['cpu_percent', 'memory_percent', 'disk_percent'];
export const BYTES_METRICS: readonly StandardMetric[] = [
  'disk_read_bytes',
  'disk_write_bytes',
  'network_in_bytes',
  'network_out_bytes',
];

export function isStandardMetric(name: string): name is StandardMetric {
  return (STANDARD_METRICS as readonly string[]).includes(name);
}

/** Metric names: Prometheus-compatible identifiers. */
export const METRIC_NAME_RE = /^[A-Za-z_:][A-Za-z0-9_:]*$/;
/** VM names as the seed validated them: letters, digits, dot, underscore, dash; at most 64 characters. */
export const VM_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Derived series Vigil computes and stores itself, so rules, charts and the API treat them like any metric:
 * the anomaly score (0-1) of a watched metric, labelled with the VM's labels plus `metric`; and the confidence
 * (0-1) of a detected fleet failure pattern, labelled `pattern` plus its scope (group label or `vm`).
 */
export const ANOMALY_SCORE_METRIC = 'anomaly_score';
export const FLEET_PATTERN_METRIC = 'fleet_pattern_confidence';
