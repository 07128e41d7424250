import {
  type AlertingConfig,
  alertingSchema,
  DEFAULT_ANOMALY_SCORE,
  DEFAULT_PATTERN_CONFIDENCE,
  type RuleConfig,
  ruleSchema,
} from '../config/sections/rules.ts';
import type { Comparison, LabelMatcher, Labels, Severity } from '../model/index.ts';
import { ANOMALY_SCORE_METRIC, compileMatchers, FLEET_PATTERN_METRIC } from '../model/index.ts';

export type RuleAggregate = NonNullable<RuleConfig['aggregate']>;

/** A rule ready for evaluation: durations in ms, matchers compiled once. */
export interface AlertRule {
  readonly name: string;
  readonly type: 'threshold' | 'no_data';
  /** Empty for no-data rules. */
  readonly metric: string;
  readonly comparison: Comparison;
  readonly threshold: number;
  readonly forMs: number;
  readonly severity: Severity | 'auto';
  readonly enabled: boolean;
  readonly matchers: readonly LabelMatcher[];
  readonly matches: (labels: Labels) => boolean;
  readonly channels: readonly string[];
  readonly labels: Labels;
  readonly annotations: Readonly<Record<string, string>>;
  readonly recoveryThreshold: number | null;
  readonly aggregate: { readonly fn: RuleAggregate; readonly windowMs: number } | null;
  readonly keepFiringForMs: number;
  readonly recommendations: readonly string[] | null;
  readonly renotifyIntervalMs: number | null;
  readonly expireAfterMs: number | null;
}

/** Engine-wide settings with durations in ms. */
export interface AlertingSettings {
  readonly renotifyMs: Readonly<Record<Severity, number>>;
  readonly minRenotifyMs: number;
  readonly flapThreshold: number;
  readonly flapWindowMs: number;
  readonly expireAfterMs: number;
}

export const NO_DATA_DEFAULT_FOR_MS = 5 * 60_000;

export function settingsFromConfig(c: AlertingConfig): AlertingSettings {
  return {
    renotifyMs: { ...c.renotify },
    minRenotifyMs: c.min_renotify_interval,
    flapThreshold: c.flapping.threshold,
    flapWindowMs: c.flapping.window,
    expireAfterMs: c.expire_after,
  };
}

export const DEFAULT_SETTINGS: AlertingSettings = settingsFromConfig(alertingSchema.parse({}));

/** Turns a `match:` mapping (`vm: web-01`, `vm: "=~web-.*"`, `rg: "!=dev"`) into label matchers. */
export function matchersFromMapping(match: Readonly<Record<string, string>>): LabelMatcher[] {
  return Object.entries(match).map(([name, raw]) => {
    const m = /^(=~|!~|!=)(.*)$/s.exec(raw);
    if (m) return { name, op: m[1] as LabelMatcher['op'], value: m[2]! };
    return { name, op: '=', value: raw.startsWith('=') ? raw.slice(1) : raw };
  });
}

/**
 * Anomaly and pattern rules are threshold rules on the derived series Vigil stores (`anomaly_score`,
 * `fleet_pattern_confidence`), so they share every lifecycle feature: for, dedup, silences, history.
 */
function derivedTarget(r: RuleConfig): { metric: string; matchers: LabelMatcher[]; threshold: number } | null {
  if (r.type === 'anomaly') {
    const watched: LabelMatcher[] = r.metric ? [{ name: 'metric', op: '=', value: r.metric }] : [];
    return {
      metric: ANOMALY_SCORE_METRIC,
      matchers: [...watched, ...matchersFromMapping(r.match)],
      threshold: r.threshold ?? DEFAULT_ANOMALY_SCORE,
    };
  }
  if (r.type === 'pattern') {
    const which: LabelMatcher[] =
      r.pattern && r.pattern !== 'any' ? [{ name: 'pattern', op: '=', value: r.pattern }] : [];
    return {
      metric: FLEET_PATTERN_METRIC,
      matchers: [...which, ...matchersFromMapping(r.match)],
      threshold: r.threshold ?? DEFAULT_PATTERN_CONFIDENCE,
    };
  }
  return null;
}

const DERIVED_SUMMARIES: Readonly<Record<string, string>> = {
  anomaly: 'Unusual {{ labels.metric }} on {{ vm }} (anomaly score {{ value }})',
  pattern: 'Fleet failure pattern {{ labels.pattern }} detected (confidence {{ value }})',
};

export function compileRule(r: RuleConfig): AlertRule {
  const derived = derivedTarget(r);
  if (derived) {
    const base = compileRule({
      ...r,
      type: 'threshold',
      metric: derived.metric,
      threshold: derived.threshold,
      match: {},
    });
    return {
      ...base,
      comparison: '>=',
      matchers: derived.matchers,
      matches: compileMatchers(derived.matchers),
      annotations: { summary: DERIVED_SUMMARIES[r.type]!, ...r.annotations },
    };
  }
  const matchers = matchersFromMapping(r.match);
  return {
    name: r.name,
    type: r.type === 'no_data' ? 'no_data' : 'threshold',
    metric: r.metric ?? '',
    comparison: r.comparison,
    threshold: r.threshold ?? 0,
    forMs: r.for ?? (r.type === 'no_data' ? NO_DATA_DEFAULT_FOR_MS : 0),
    severity: r.severity,
    enabled: r.enabled,
    matchers,
    matches: compileMatchers(matchers),
    channels: r.notification_channels,
    labels: r.labels,
    annotations: r.annotations,
    recoveryThreshold: r.recovery_threshold ?? null,
    aggregate: r.aggregate ? { fn: r.aggregate, windowMs: r.window ?? 5 * 60_000 } : null,
    keepFiringForMs: r.keep_firing_for,
    recommendations: r.recommendations ?? null,
    renotifyIntervalMs: r.renotify_interval ?? null,
    expireAfterMs: r.expire_after ?? null,
  };
}

/** The built-in no-data rule, added unless the config has its own no_data rule or turns it off. */
export const VM_UNREACHABLE_RULE: RuleConfig = ruleSchema.parse({
  name: 'vm_unreachable',
  type: 'no_data',
  for: '5m',
  severity: 'warning',
  annotations: { summary: 'VM {{ vm }} is not reporting' },
});

/**
 * The rules in force for a config: its rules (or the defaults when it lists none), plus `vm_unreachable`
 * when no no-data rule is configured and `alerting.vm_unreachable` is on.
 */
/**
 * The rules in force and where each comes from: the listed rules, else the defaults (without the no-data one when
 * `alerting.vm_unreachable` is off); plus the built-in `vm_unreachable` while it is on and no no-data rule is in force.
 */
export function rulesInForce(
  rules: readonly RuleConfig[],
  alerting: Pick<AlertingConfig, 'vm_unreachable'>,
  defaults: readonly RuleConfig[],
): { rule: RuleConfig; origin: 'listed' | 'default' | 'builtin' }[] {
  const base =
    rules.length > 0
      ? rules.map((rule) => ({ rule, origin: 'listed' as const }))
      : defaults
          .filter((d) => alerting.vm_unreachable || d.type !== 'no_data')
          .map((rule) => ({ rule, origin: 'default' as const }));
  const out: { rule: RuleConfig; origin: 'listed' | 'default' | 'builtin' }[] = base;
  if (alerting.vm_unreachable && !base.some((e) => e.rule.type === 'no_data'))
    out.push({ rule: VM_UNREACHABLE_RULE, origin: 'builtin' });
  return out;
}

export function effectiveRules(
  rules: readonly RuleConfig[],
  alerting: Pick<AlertingConfig, 'vm_unreachable'>,
  defaults: readonly RuleConfig[],
): AlertRule[] {
  const entries = rulesInForce(rules, alerting, defaults);
  const seen = new Set<string>();
  for (const { rule } of entries) {
    if (seen.has(rule.name)) throw new DuplicateRuleError(rule.name);
    seen.add(rule.name);
  }
  return entries.map((e) => compileRule(e.rule));
}

export class DuplicateRuleError extends Error {
  readonly rule: string;
  constructor(rule: string) {
    super(`duplicate alert rule name "${rule}": rule names must be unique (check included files too)`);
    this.name = 'DuplicateRuleError';
    this.rule = rule;
  }
}

export function compare(value: number, cmp: Comparison, threshold: number): boolean {
  switch (cmp) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}

/** True once a firing alert's value is past the recovery threshold (strictly on the healthy side). */
export function recovered(value: number, rule: AlertRule): boolean {
  if (rule.recoveryThreshold === null) return !compare(value, rule.comparison, rule.threshold);
  switch (rule.comparison) {
    case '>':
    case '>=':
      return value < rule.recoveryThreshold;
    case '<':
    case '<=':
      return value > rule.recoveryThreshold;
    default:
      return !compare(value, rule.comparison, rule.threshold);
  }
}
