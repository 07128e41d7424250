import type { Comparison, Labels, RelatedMetric, ResolveReason } from '../model/index.ts';
import { STANDARD_METRICS } from '../model/index.ts';
import type { AlertRule } from './rule.ts';
import { overagePercent } from './severity.ts';

export type MetricCategory = 'cpu' | 'memory' | 'disk' | 'network' | 'unreachable' | 'other';
type Unit = 'percent' | 'bytes' | 'none';

interface MetricInfo {
  readonly display: string;
  readonly category: MetricCategory;
  readonly unit: Unit;
}

const KNOWN: Record<string, MetricInfo> = {
  cpu_percent: { display: 'CPU', category: 'cpu', unit: 'percent' },
  memory_percent: { display: 'Memory', category: 'memory', unit: 'percent' },
  disk_percent: { display: 'Disk', category: 'disk', unit: 'percent' },
  disk_read_bytes: { display: 'Disk Read', category: 'disk', unit: 'bytes' },
  disk_write_bytes: { display: 'Disk Write', category: 'disk', unit: 'bytes' },
  network_in_bytes: { display: 'Network In', category: 'network', unit: 'bytes' },
  network_out_bytes: { display: 'Network Out', category: 'network', unit: 'bytes' },
  anomaly_score: { display: 'Anomaly score', category: 'other', unit: 'none' },
  fleet_pattern_confidence: { display: 'Pattern confidence', category: 'other', unit: 'none' },
};

export function metricInfo(metric: string): MetricInfo {
  const known = KNOWN[metric];
  if (known) return known;
  const lower = metric.toLowerCase();
  const category: MetricCategory = /cpu|load/.test(lower)
    ? 'cpu'
    : /mem|swap/.test(lower)
      ? 'memory'
      : /disk|fs|filesystem|inode/.test(lower)
        ? 'disk'
        : /net|network|rx|tx/.test(lower)
          ? 'network'
          : 'other';
  const unit: Unit = lower.includes('percent') ? 'percent' : lower.includes('bytes') ? 'bytes' : 'none';
  const display = metric
    .replace(/_(percent|bytes|total)$/g, '')
    .split(/[_:]+/)
    .filter(Boolean)
    .map((w) => (w.length <= 3 ? w.toUpperCase() : w[0]!.toUpperCase() + w.slice(1)))
    .join(' ');
  return { display: display || metric, category, unit };
}

function trim(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toFixed(2)));
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${trim(v)} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** A measured value: `92.0%`, `12.3 MB`, `42.5`. */
export function formatValue(metric: string, v: number): string {
  const u = metricInfo(metric).unit;
  if (u === 'percent') return `${v.toFixed(1)}%`;
  if (u === 'bytes') return formatBytes(v);
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** A configured level, as written: `80%`, `80.5%`, `1 GB`. */
export function formatThreshold(metric: string, t: number): string {
  const u = metricInfo(metric).unit;
  if (u === 'percent') return `${trim(t)}%`;
  if (u === 'bytes') return formatBytes(t);
  return trim(t);
}

export function formatMinutes(ms: number): string {
  const min = Math.floor(ms / 60_000);
  if (min < 120) return `${min} minute${min === 1 ? '' : 's'}`;
  const h = Math.floor(min / 60);
  return `${h} hour${h === 1 ? '' : 's'}`;
}

const RECOMMENDATIONS: Record<MetricCategory, readonly string[]> = {
  cpu: [
    'Find the processes using the most CPU (top, ps -eo pid,comm,%cpu --sort=-%cpu | head)',
    'Check for runaway jobs, busy loops or a recent deployment',
    'Scale out or move to a larger VM size if the load is legitimate',
    'Review auto-scaling thresholds for this workload',
  ],
  memory: [
    'Find the processes using the most memory (ps -eo pid,comm,%mem --sort=-%mem | head)',
    'Look for memory leaks: steadily growing resident memory after restarts',
    'Check swap activity and the kernel log for OOM kills (dmesg | grep -i oom)',
    'Add memory or move to a larger VM size if usage is legitimate',
  ],
  disk: [
    'Find the largest directories (du -xh / | sort -h | tail)',
    'Rotate or compress logs and clear temporary files and old packages',
    'Check for deleted files still held open (lsof +L1)',
    'Grow the disk or attach another one before it fills up',
  ],
  network: [
    'Identify the busiest connections (ss -tunap, iftop)',
    'Check for unexpected transfers, backups or abuse',
    'Review load balancer and firewall rules for this VM',
    'Consider a VM size with more network bandwidth',
  ],
  unreachable: [
    'Check that the VM is running (power state in the cloud console)',
    'Verify network reachability and firewall rules from the Vigil host',
    'Check the collection credentials (SSH key, Azure login) have not expired',
    'Look at the VM console or boot diagnostics for a hang or crash',
  ],
  other: [
    'Investigate {metric} on {vm}',
    'Compare with the same period yesterday to spot a trend',
    'Check recent changes to this resource',
  ],
};

export function recommendationsFor(category: MetricCategory, metric: string, vm: string): string[] {
  return RECOMMENDATIONS[category].map((r) => r.replace('{metric}', metric).replace('{vm}', vm));
}

function isLow(cmp: Comparison): boolean {
  return cmp === '<' || cmp === '<=';
}

/** `High CPU Usage - web-01`, `Low Memory Usage - db-2`, `VM Unreachable - web-01`. */
export function alertTitle(rule: AlertRule, subject: string): string {
  if (rule.type === 'no_data') return `VM Unreachable - ${subject}`;
  const info = metricInfo(rule.metric);
  const what = info.unit === 'percent' ? `${info.display} Usage` : info.display;
  const prefix = rule.comparison === '==' || rule.comparison === '!=' ? '' : isLow(rule.comparison) ? 'Low ' : 'High ';
  return `${prefix}${what}${prefix ? '' : ' Alert'} - ${subject}`;
}

/** `CPU is at 92.0% on web-01 (threshold 80%, exceeded by 15.0%) for 7 minutes`. */
export function thresholdText(rule: AlertRule, subject: string, value: number, durationMs: number): string {
  const info = metricInfo(rule.metric);
  const agg = rule.aggregate ? ` (${rule.aggregate.fn} over ${formatMinutesShort(rule.aggregate.windowMs)})` : '';
  const over = overagePercent(value, rule.threshold, rule.comparison);
  const word = isLow(rule.comparison) ? 'below by' : 'exceeded by';
  const detail =
    over !== null
      ? `threshold ${formatThreshold(rule.metric, rule.threshold)}, ${word} ${over.toFixed(1)}%`
      : `threshold ${rule.comparison} ${formatThreshold(rule.metric, rule.threshold)}`;
  const forText = durationMs >= 60_000 ? ` for ${formatMinutes(durationMs)}` : '';
  return `${info.display}${agg} is at ${formatValue(rule.metric, value)} on ${subject} (${detail})${forText}`;
}

/** Why and how a resolved alert ended, for its message. */
export interface Resolution {
  readonly reason: ResolveReason;
  /** How long the alert was active (from its start). */
  readonly activeMs: number;
  /** For `expired`: how long its series had sent no data. */
  readonly silentMs: number;
  /** The VM was removed from the fleet (rather than the series going quiet). */
  readonly vmRemoved: boolean;
}

/**
 * A resolved threshold alert: `CPU is back to 50.0% on web-01 (threshold 80%) after 12 minutes`; by hand, by a
 * removed rule, or expired, it says so and gives the last value.
 */
export function resolvedThresholdText(rule: AlertRule, subject: string, value: number, r: Resolution): string {
  const info = metricInfo(rule.metric);
  const what = `${info.display}${rule.aggregate ? ` (${rule.aggregate.fn} over ${formatMinutesShort(rule.aggregate.windowMs)})` : ''}`;
  const level =
    rule.comparison === '==' || rule.comparison === '!='
      ? `threshold ${rule.comparison} ${formatThreshold(rule.metric, rule.threshold)}`
      : `threshold ${formatThreshold(rule.metric, rule.threshold)}`;
  const v = formatValue(rule.metric, value);
  const after = r.activeMs >= 60_000 ? ` after ${formatMinutes(r.activeMs)}` : '';
  switch (r.reason) {
    case 'recovered':
      return `${what} is back to ${v} on ${subject} (${level})${after}`;
    case 'manual':
      return `${what} was at ${v} on ${subject} (${level}) when resolved by hand${after}`;
    case 'rule_removed':
      return `${what} was at ${v} on ${subject} (${level}) when its rule was removed or disabled${after}`;
    case 'expired':
      return r.vmRemoved
        ? `${subject} was removed from the fleet; the alert expired (${what} last at ${v}, ${level})`
        : `${what} on ${subject} sent no data for ${formatMinutes(r.silentMs)}; the alert expired (last value ${v}, ${level})`;
  }
}

/** A resolved no-data alert: `web-01 is reporting again after 7 minutes without data`. */
export function resolvedNoDataText(subject: string, r: Resolution): string {
  const silent = formatMinutes(r.activeMs);
  switch (r.reason) {
    case 'recovered':
      return `${subject} is reporting again after ${silent} without data`;
    case 'manual':
      return `${subject} had not reported for ${silent} when resolved by hand`;
    case 'rule_removed':
      return `${subject} had not reported for ${silent} when its rule was removed or disabled`;
    case 'expired':
      return r.vmRemoved
        ? `${subject} was removed from the fleet; the alert expired`
        : `${subject} had not reported for ${silent}; the alert expired`;
  }
}

function formatMinutesShort(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

/** `web-01 has not reported for 7 minutes (last error: Connection timeout)`. */
export function noDataText(
  subject: string,
  silentMs: number,
  lastError: string | null,
  neverReported: boolean,
): string {
  const base = neverReported
    ? `${subject} has not reported any data for ${formatMinutes(silentMs)}`
    : `${subject} has not reported for ${formatMinutes(silentMs)}`;
  return lastError ? `${base} (last error: ${lastError})` : base;
}

/** The VM's other standard metrics, percentages (highest first) then byte counters. */
export function relatedMetrics(latest: Readonly<Record<string, number>>, exclude: string, limit = 3): RelatedMetric[] {
  const out: RelatedMetric[] = [];
  for (const m of STANDARD_METRICS) {
    if (m === exclude || latest[m] === undefined) continue;
    const v = latest[m]!;
    out.push({ metric: m, value: v, text: `${metricInfo(m).display} ${formatValue(m, v)}` });
  }
  out.sort((a, b) => {
    const pa = metricInfo(a.metric).unit === 'percent' ? 0 : 1;
    const pb = metricInfo(b.metric).unit === 'percent' ? 0 : 1;
    return pa - pb || b.value - a.value;
  });
  return out.slice(0, limit);
}

export interface TemplateValues {
  readonly value: number | null;
  readonly threshold: number | null;
  readonly metric: string;
  readonly rule: string;
  readonly severity: string;
  readonly labels: Labels;
}

/**
 * Fills `{{ value }}`, `{{ threshold }}`, `{{ metric }}`, `{{ rule }}`, `{{ severity }}`, `{{ vm }}`,
 * `{{ labels.NAME }}` (Prometheus spellings `$value`, `$labels.NAME` too). Unknown names are left as written.
 */
export function renderTemplate(text: string, v: TemplateValues): string {
  return text.replace(
    /\{\{\s*\$?([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?\s*\}\}/g,
    (whole, name: string, sub?: string) => {
      if (name === 'labels' && sub) return v.labels[sub] ?? '';
      if (sub) return whole;
      switch (name) {
        case 'value':
          return v.value === null ? '' : formatValue(v.metric, v.value);
        case 'threshold':
          return v.threshold === null ? '' : formatThreshold(v.metric, v.threshold);
        case 'metric':
          return v.metric;
        case 'rule':
          return v.rule;
        case 'severity':
          return v.severity;
        default:
          return v.labels[name] ?? whole;
      }
    },
  );
}
