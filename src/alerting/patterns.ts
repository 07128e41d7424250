import type { Alert } from '../model/index.ts';

export interface CountEntry {
  readonly name: string;
  readonly count: number;
}

export interface NoisyRule {
  readonly rule: string;
  readonly alerts: number;
  /** Alerts resolved within 10 minutes of firing (likely noise). */
  readonly shortLived: number;
  readonly flapping: number;
  readonly notifications: number;
}

/** Alert statistics over a period (M9 semantics, extended): everything in UTC. */
export interface AlertPatterns {
  readonly periodDays: number;
  readonly from: number;
  readonly to: number;
  readonly totalAlerts: number;
  readonly byRule: readonly CountEntry[];
  readonly byVm: readonly CountEntry[];
  readonly bySeverity: readonly CountEntry[];
  /** The rule with most alerts; the first seen wins ties; null without alerts. */
  readonly mostCommonRule: string | null;
  readonly mostAffectedVm: string | null;
  /** 24 counts of firings by UTC hour. */
  readonly hourlyDistribution: readonly number[];
  /** First hour with the maximum count; 0 without alerts. */
  readonly peakHour: number;
  /** Mean time to acknowledge, minutes (2 dp); null when nothing was acknowledged. */
  readonly mttaMinutes: number | null;
  /** Mean time to resolve, minutes (2 dp); null when nothing resolved. */
  readonly mttrMinutes: number | null;
  readonly noisiestRules: readonly NoisyRule[];
  readonly insight: string;
}

const SHORT_LIVED_MS = 10 * 60_000;

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Counts in first-seen order, then sorted by count (stable: ties keep first-seen order). */
function countBy(items: readonly Alert[], key: (a: Alert) => string | null): CountEntry[] {
  const m = new Map<string, number>();
  for (const a of items) {
    const k = key(a);
    if (k !== null) m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count);
}

/**
 * Statistics of the alerts that fired in [now - days, now]. `alerts` may contain others; they are filtered here.
 * Alerts are taken oldest first for tie-breaking ("first seen").
 */
export function alertPatterns(alerts: readonly Alert[], now: number, days = 7): AlertPatterns {
  const from = now - days * 86_400_000;
  const fired = alerts
    .filter((a) => a.firedAt !== null && a.firedAt >= from && a.firedAt <= now)
    .sort((a, b) => a.firedAt! - b.firedAt! || Number(a.id) - Number(b.id));
  const hourly = Array<number>(24).fill(0);
  for (const a of fired) hourly[new Date(a.firedAt!).getUTCHours()]!++;
  const max = Math.max(...hourly);
  const peakHour = max > 0 ? hourly.indexOf(max) : 0;
  const acked = fired.filter((a) => a.acknowledged !== null);
  const resolved = fired.filter((a) => a.resolvedAt !== null);
  const mtta = acked.length
    ? round2(acked.reduce((s, a) => s + (a.acknowledged!.at - a.firedAt!), 0) / acked.length / 60_000)
    : null;
  const mttr = resolved.length
    ? round2(resolved.reduce((s, a) => s + (a.resolvedAt! - a.firedAt!), 0) / resolved.length / 60_000)
    : null;
  const byRule = countBy(fired, (a) => a.rule);
  const byVm = countBy(fired, (a) => a.vm);
  const noisy = byRule.map((r): NoisyRule => {
    const mine = fired.filter((a) => a.rule === r.name);
    return {
      rule: r.name,
      alerts: r.count,
      shortLived: mine.filter((a) => a.resolvedAt !== null && a.resolvedAt - a.firedAt! < SHORT_LIVED_MS).length,
      flapping: mine.filter((a) => a.flapping).length,
      notifications: mine.reduce((s, a) => s + (a.notificationsSent ?? 0), 0),
    };
  });
  noisy.sort((a, b) => b.shortLived + b.flapping - (a.shortLived + a.flapping) || b.alerts - a.alerts);
  const patterns = {
    periodDays: days,
    from,
    to: now,
    totalAlerts: fired.length,
    byRule,
    byVm,
    bySeverity: countBy(fired, (a) => a.severity),
    mostCommonRule: byRule[0]?.name ?? null,
    mostAffectedVm: byVm[0]?.name ?? null,
    hourlyDistribution: hourly,
    peakHour,
    mttaMinutes: mtta,
    mttrMinutes: mttr,
    noisiestRules: noisy.slice(0, 5),
  };
  return { ...patterns, insight: insightLine(patterns) };
}

function insightLine(p: Omit<AlertPatterns, 'insight'>): string {
  if (p.totalAlerts === 0) return `No alerts fired in the last ${p.periodDays} days.`;
  const parts: string[] = [];
  const top = p.byRule[0]!;
  const share = Math.round((top.count * 100) / p.totalAlerts);
  const vm = p.byVm[0];
  parts.push(
    `${top.name} caused ${share}% of ${p.totalAlerts} alert${p.totalAlerts === 1 ? '' : 's'}${vm ? `, most often on ${vm.name}` : ''}`,
  );
  parts.push(`alerts peak around ${String(p.peakHour).padStart(2, '0')}:00 UTC`);
  const noisy = p.noisiestRules[0];
  if (noisy && noisy.shortLived + noisy.flapping > 0 && (noisy.shortLived + noisy.flapping) * 2 >= noisy.alerts) {
    parts.push(
      `${noisy.rule} often clears within 10 minutes or flaps: consider a longer "for" or a recovery_threshold`,
    );
  } else if (p.mttaMinutes === null && p.totalAlerts >= 5) {
    parts.push('no alert was acknowledged: check that notifications reach someone');
  }
  return `${parts.join('; ')}.`;
}
