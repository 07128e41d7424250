import type { LabelMatcher, Labels } from './labels.ts';

export type Severity = 'info' | 'warning' | 'critical' | 'emergency';
export const SEVERITY_ORDER: readonly Severity[] = ['info', 'warning', 'critical', 'emergency'];
export type Comparison = '>' | '>=' | '<' | '<=' | '==' | '!=';

/** The only stored states of an alert. `acknowledged` is data on a firing alert; `suppressed` is computed. */
export type AlertState = 'pending' | 'firing' | 'resolved';
/** What the API and UIs show: the stored state refined by acknowledgement and silences. */
export type AlertStatus = 'pending' | 'firing' | 'acknowledged' | 'suppressed' | 'resolved';
export type ResolveReason = 'recovered' | 'manual' | 'expired' | 'rule_removed';

export interface Acknowledgement {
  readonly by: string;
  readonly at: number;
  readonly notes: string | null;
}

export interface Alert {
  /** Stable id of (rule, series): the same breach of the same series always has the same fingerprint. */
  readonly fingerprint: string;
  /** Row id of this occurrence (a fingerprint may fire, resolve and fire again: each is a new id). */
  readonly id: string;
  readonly rule: string;
  readonly metric: string;
  readonly vm: string | null;
  readonly labels: Labels;
  readonly severity: Severity;
  readonly state: AlertState;
  readonly value: number | null;
  readonly peakValue: number | null;
  readonly threshold: number | null;
  readonly comparison: Comparison | null;
  readonly startsAt: number;
  readonly firedAt: number | null;
  readonly resolvedAt: number | null;
  readonly resolveReason: ResolveReason | null;
  readonly lastEvaluatedAt: number;
  readonly notificationCount: number;
  readonly lastNotifiedAt: number | null;
  readonly acknowledged: Acknowledgement | null;
  readonly flapping: boolean;
  readonly title: string;
  readonly message: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly recommendations: readonly string[];
  readonly channels: readonly string[];
  /** `threshold` for metric rules, `no_data` for unreachable-VM rules. */
  readonly kind?: 'threshold' | 'no_data';
  readonly resourceGroup?: string | null;
  readonly source?: string | null;
  /** How many notifications were actually emitted for this alert (notificationCount counts breaches while active). */
  readonly notificationsSent?: number;
  /** The VM's other metrics at the moment the alert was last updated, most notable first. */
  readonly related?: readonly RelatedMetric[];
  /** Timestamp of the sample that set `value`. */
  readonly lastValueAt?: number | null;
}

export interface RelatedMetric {
  readonly metric: string;
  readonly value: number;
  /** Formatted for people: `CPU 92.0%`, `Network In 12.3 MB`. */
  readonly text: string;
}

/** A silence: alerts whose labels match every matcher notify no one between startsAt and endsAt. */
export interface Silence {
  readonly id: string;
  readonly matchers: readonly LabelMatcher[];
  readonly startsAt: number;
  readonly endsAt: number;
  readonly createdBy: string;
  readonly reason: string;
  readonly createdAt: number;
  /** Set when expired early by hand. */
  readonly expiredAt: number | null;
}

/** One line of alert history: every state change and every acknowledgement, with who and why. */
export interface AlertTransition {
  readonly alertId: string;
  readonly fingerprint: string;
  readonly rule: string;
  readonly vm: string | null;
  readonly at: number;
  readonly from: AlertState | 'inactive' | 'suppressed';
  /** `suppressed` (muted by a silence or maintenance window) and back to `firing` are recorded too. */
  readonly to: AlertState | 'inactive' | 'acknowledged' | 'suppressed';
  readonly value: number | null;
  readonly severity: Severity;
  /** recovered, manual, expired, rule_removed, for_not_met, acknowledged, silenced, silence_ended, severity_raised, ... */
  readonly reason: string | null;
  readonly by: string | null;
  readonly notes: string | null;
}

export type AlertEventKind = 'fired' | 'refired' | 'resolved' | 'acknowledged' | 'suppressed' | 'expired';

/** What the alerting engine emits and the notification pipeline consumes. */
export interface AlertEvent {
  readonly kind: AlertEventKind;
  readonly at: number;
  readonly alert: Alert;
  /** True when this event should be delivered (re-notification interval, flapping and silences already applied). */
  readonly notify: boolean;
}
