import type { Alert, Severity } from '../model/alert.ts';
import type { Batch } from './types.ts';

export const SEVERITY_COLOUR: Record<Severity, string> = {
  info: '#0000FF',
  warning: '#FFA500',
  critical: '#FF0000',
  emergency: '#8B0000',
};

/**
 * The severity of the internal `notification_failed` alert: an operational problem, not an incident (the alert
 * itself went out on its other channels), so channels limited to critical/emergency (SMS by default) skip it.
 */
export const FAILURE_SEVERITY: Severity = 'warning';

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2, emergency: 3 };

export function topSeverity(alerts: readonly Alert[]): Severity {
  let s: Severity = 'info';
  for (const a of alerts) if (RANK[a.severity] > RANK[s]) s = a.severity;
  return s;
}

function ruleTitle(a: Alert): string {
  return a.title || a.rule;
}

const METRIC_NAMES: Readonly<Record<string, string>> = {
  cpu_percent: 'CPU',
  memory_percent: 'memory',
  disk_percent: 'disk',
};
const COMPARISON_WORDS: Readonly<Record<string, string>> = {
  '>': 'above',
  '>=': 'at or above',
  '<': 'below',
  '<=': 'at or below',
  '==': 'at',
  '!=': 'not at',
};

/**
 * The condition a group of alerts shares, for people: `above 95% CPU`, `with network_in_bytes above 1000000`;
 * null unless every alert comes from the same threshold rule (same metric, comparison and threshold).
 */
export function sharedCondition(alerts: readonly Alert[]): string | null {
  const a = alerts[0];
  if (!a || a.threshold === null || a.kind === 'no_data') return null;
  const same = alerts.every(
    (x) => x.rule === a.rule && x.metric === a.metric && x.threshold === a.threshold && x.comparison === a.comparison,
  );
  if (!same) return null;
  const word = COMPARISON_WORDS[a.comparison ?? '>'] ?? 'above';
  if (a.metric.endsWith('_percent'))
    return `${word} ${fmtValue(a.threshold)}% ${METRIC_NAMES[a.metric] ?? a.metric.replace(/_percent$/, '')}`;
  return `with ${a.metric} ${word} ${fmtValue(a.threshold)}`;
}

/**
 * One alert: `[CRITICAL] High CPU Usage - web-01`. A group from one rule states the condition:
 * `[CRITICAL] 3 VMs above 95% CPU in rg-prod` (resolved: `[RESOLVED] 3 VMs no longer above 95% CPU in rg-prod`);
 * a mixed group: `[CRITICAL] 2 alerts - 3 VMs in rg-prod`.
 */
export function subject(batch: Batch): string {
  if (batch.kind === 'test') return '[TEST] Vigil test notification';
  if (batch.kind === 'notification_failed')
    return `[${FAILURE_SEVERITY.toUpperCase()}] Notification failed - ${batch.failure?.channel ?? '?'}`;
  const a = batch.alerts;
  const sev = topSeverity(a).toUpperCase();
  const prefix = batch.kind === 'resolved' ? `[RESOLVED] ` : `[${sev}] `;
  const first = a[0];
  if (!first) return `${prefix}(no alerts)`;
  const titles = new Set(a.map(ruleTitle));
  const title = titles.size === 1 ? ruleTitle(first) : `${titles.size} alerts`;
  if (a.length === 1) return `${prefix}${title} - ${first.vm ?? first.labels.vm ?? 'fleet'}`;
  const groups = new Set(a.map((x) => x.resourceGroup ?? x.labels.resource_group ?? ''));
  const where = groups.size === 1 && [...groups][0] ? ` in ${[...groups][0]}` : '';
  const cond = sharedCondition(a);
  if (cond) return `${prefix}${a.length} VMs ${batch.kind === 'resolved' ? 'no longer ' : ''}${cond}${where}`;
  return `${prefix}${title} - ${a.length} VMs${where}`;
}

export function fmtValue(v: number | null): string {
  return v === null ? '-' : Number.isInteger(v) ? String(v) : v.toFixed(2);
}

export function alertLine(a: Alert, withSeverity = true): string {
  const cond = a.threshold !== null ? ` (${a.comparison ?? '>'} ${fmtValue(a.threshold)})` : '';
  const sev = withSeverity ? `${a.severity.toUpperCase()} ` : '';
  return `${sev}${a.vm ?? '-'} ${a.metric}=${fmtValue(a.value)}${cond} ${a.state}`;
}

/** A plain-text body used by text channels and as fallbacks. */
export function plainText(batch: Batch): string {
  const lines = [subject(batch)];
  if (batch.kind === 'test') lines.push('This is a test message from Vigil. If you can read it, the channel works.');
  if (batch.failure)
    lines.push(
      `Channel ${batch.failure.channel} failed after ${batch.failure.attempts} attempts: ${batch.failure.detail}`,
    );
  for (const a of batch.alerts) {
    lines.push(`- ${alertLine(a)}`);
    if (a.message) lines.push(`  ${a.message}`);
  }
  return lines.join('\n');
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
