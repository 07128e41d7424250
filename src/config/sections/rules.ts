import { z } from 'zod';
import { METRIC_NAME_RE } from '../../model/metrics.ts';
import { durationMs } from '../duration.ts';

export const COMPARISONS = ['>', '>=', '<', '<=', '==', '!='] as const;
export const SEVERITIES = ['info', 'warning', 'critical', 'emergency'] as const;
export const RULE_AGGREGATES = ['avg', 'min', 'max', 'sum', 'count', 'last', 'p50', 'p90', 'p95', 'p99'] as const;
export const RULE_TYPES = ['threshold', 'no_data', 'anomaly', 'pattern'] as const;
/** Fleet failure patterns a `pattern` rule can watch (see src/analyze/patterns/). */
export const PATTERN_NAMES = [
  'cascading_failures',
  'resource_exhaustion',
  'network_partition',
  'heartbeat_degradation',
  'load_imbalance',
  'disk_io_contention',
] as const;
/** Default minimum anomaly score of an `anomaly` rule and confidence of a `pattern` rule. */
export const DEFAULT_ANOMALY_SCORE = 0.9;
export const DEFAULT_PATTERN_CONFIDENCE = 0.7;

const MINUTE = 60_000;

/**
 * A label matcher value in a rule's or silence's `match:` mapping: `web-01` (equal), `"=~web-.*"` (regex),
 * `"!=dev"` (not equal), `"!~dev-.*"` (regex must not match). Regexes are fully anchored.
 */
const matchValueSchema = z.string().superRefine((v, ctx) => {
  const m = /^(=~|!~)(.*)$/s.exec(v);
  if (!m) return;
  try {
    new RegExp(m[2]!);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `invalid regex ${JSON.stringify(m[2])}: ${(e as Error).message}` });
  }
});
export const matchSchema = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a label name'),
  matchValueSchema,
);

/**
 * An alert rule. The seed's `alert_rules.yaml` entries (name, metric, threshold, comparison, severity, enabled,
 * notification_channels) are a subset of this. Unknown fields are an error, so a typo never silently disables a setting.
 */
export const ruleSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected a rule name of letters, digits, "_", "." or "-"'),
    /**
     * `threshold` compares a metric; `no_data` fires when a VM stops reporting or its collection keeps failing;
     * `anomaly` fires when a metric's anomaly score reaches `threshold` (0-1, default 0.9); `pattern` fires when a
     * fleet failure pattern is detected with at least `threshold` confidence (0-1, default 0.7).
     */
    type: z.enum(RULE_TYPES).default('threshold'),
    /** For `pattern` rules: which pattern (default: any). */
    pattern: z.enum([...PATTERN_NAMES, 'any']).optional(),
    metric: z
      .string()
      .regex(METRIC_NAME_RE, 'invalid metric name: expected letters, digits and "_" like cpu_percent')
      .optional(),
    threshold: z.number({ error: 'invalid threshold: expected a number' }).optional(),
    comparison: z.enum(COMPARISONS, { error: 'invalid comparison: expected one of >, >=, <, <=, ==, !=' }).default('>'),
    /** How long the condition must hold (a breach streak from its first sample). No-data rules default to 5m. */
    for: durationMs().optional(),
    severity: z.enum([...SEVERITIES, 'auto']).default('warning'),
    enabled: z.boolean().default(true),
    match: matchSchema.default({}),
    notification_channels: z.array(z.string()).default([]),
    labels: z.record(z.string(), z.string()).default({}),
    /** summary, description, runbook (URL); `{{ value }}`, `{{ threshold }}`, `{{ labels.vm }}`… are filled in. */
    annotations: z.record(z.string(), z.string()).default({}),
    /** Hysteresis: a firing alert resolves only once the value is past this level (below it for > and >=). */
    recovery_threshold: z.number().optional(),
    /** Evaluate an aggregate of the series over `window` instead of the latest value. */
    aggregate: z.enum(RULE_AGGREGATES).optional(),
    window: durationMs({ min: 1000 }).optional(),
    /** Keep a firing alert firing this long after the condition stops holding. */
    keep_firing_for: durationMs().default(0),
    /** Overrides the category's recommendations in messages. */
    recommendations: z.array(z.string()).optional(),
    /** Overrides the per-severity re-notification interval for this rule (never below the 15-minute floor). */
    renotify_interval: durationMs().optional(),
    /** Auto-resolve (expire) an alert after this long without data for its series (default: alerting.expire_after). */
    expire_after: durationMs({ min: 1000 }).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.type === 'threshold') {
      if (r.metric === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['metric'],
          message: 'invalid rule: metric is required for a threshold rule',
        });
      if (r.threshold === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['threshold'],
          message: 'invalid rule: threshold is required for a threshold rule',
        });
      if (r.metric?.includes('percent') && r.threshold !== undefined && (r.threshold < 0 || r.threshold > 100)) {
        ctx.addIssue({
          code: 'custom',
          path: ['threshold'],
          message: `invalid threshold ${r.threshold}: a percent metric's threshold must be between 0 and 100`,
        });
      }
    } else if (r.type === 'no_data') {
      for (const f of ['metric', 'threshold', 'aggregate', 'window', 'recovery_threshold'] as const) {
        if (r[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: `a no_data rule takes no ${f}` });
      }
      if (r.severity === 'auto')
        ctx.addIssue({
          code: 'custom',
          path: ['severity'],
          message: 'a no_data rule needs a fixed severity, not auto',
        });
    } else {
      const what = r.type === 'anomaly' ? 'an anomaly score' : 'a pattern confidence';
      if (r.threshold !== undefined && (r.threshold <= 0 || r.threshold > 1)) {
        ctx.addIssue({
          code: 'custom',
          path: ['threshold'],
          message: `invalid threshold ${r.threshold}: ${what} is between 0 and 1`,
        });
      }
      for (const f of ['aggregate', 'window', 'recovery_threshold'] as const) {
        if (r[f] !== undefined) ctx.addIssue({ code: 'custom', path: [f], message: `a ${r.type} rule takes no ${f}` });
      }
      if (r.type === 'pattern' && r.metric !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['metric'],
          message: 'a pattern rule takes no metric (it watches the fleet)',
        });
      if (r.severity === 'auto')
        ctx.addIssue({
          code: 'custom',
          path: ['severity'],
          message: `a ${r.type} rule needs a fixed severity, not auto`,
        });
    }
    if (r.pattern !== undefined && r.type !== 'pattern') {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'pattern applies to rules of type: pattern' });
    }
    if (r.window !== undefined && r.aggregate === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['window'],
        message: 'window needs aggregate (avg, min, max, sum, count, last, p50, p90, p95, p99)',
      });
    }
    if (r.recovery_threshold !== undefined && r.threshold !== undefined) {
      const bad =
        ((r.comparison === '>' || r.comparison === '>=') && r.recovery_threshold > r.threshold) ||
        ((r.comparison === '<' || r.comparison === '<=') && r.recovery_threshold < r.threshold);
      if (bad) {
        ctx.addIssue({
          code: 'custom',
          path: ['recovery_threshold'],
          message: `recovery_threshold ${r.recovery_threshold} must be on the healthy side of threshold ${r.threshold} for comparison ${r.comparison}`,
        });
      }
    }
  });

export type RuleConfig = z.output<typeof ruleSchema>;
export type RuleInput = z.input<typeof ruleSchema>;

const renotifySchema = z
  .object({
    emergency: durationMs().default(5 * MINUTE),
    critical: durationMs().default(5 * MINUTE),
    warning: durationMs().default(30 * MINUTE),
    info: durationMs().default(60 * MINUTE),
  })
  .strict();

/** A recurring maintenance window: alerts matching `match` notify no one while it is open. */
export const maintenanceWindowSchema = z
  .object({
    name: z.string().min(1),
    match: matchSchema.default({}),
    /** Five-field cron in UTC: minute hour day-of-month month day-of-week (`*`, lists, ranges, `*\/n`). */
    schedule: z
      .string()
      .regex(
        /^\s*[\d*,/-]+(\s+[\d*,/-]+){4}\s*$/,
        'expected a 5-field cron schedule in UTC like "0 2 * * 6" (minute hour day month weekday)',
      ),
    duration: durationMs({ min: MINUTE, max: 7 * 24 * 60 * MINUTE }),
    reason: z.string().default(''),
  })
  .strict();

/** A fixed silence declared in the config file (CLI silences live in the database). */
export const configSilenceSchema = z
  .object({
    match: matchSchema,
    starts: z.iso.datetime({ offset: true }).optional(),
    ends: z.iso.datetime({ offset: true }),
    reason: z.string().default(''),
    created_by: z.string().default('config'),
  })
  .strict();

/** Engine-wide alerting settings (`alerting:` section). */
export const alertingSchema = z
  .object({
    /** Re-notification interval of a still-firing, unacknowledged alert, per severity. */
    renotify: renotifySchema.prefault({}),
    /** Never notify the same rule and VM again within this window unless the severity rises. */
    min_renotify_interval: durationMs().default(15 * MINUTE),
    flapping: z
      .object({
        /** More than this many firings within `window` marks an alert flapping. */
        threshold: z.number().int().min(1).default(3),
        window: durationMs({ min: MINUTE }).default(60 * MINUTE),
      })
      .strict()
      .prefault({}),
    /** Auto-resolve (expire) an alert whose series has sent no data for this long. */
    expire_after: durationMs({ min: MINUTE }).default(60 * MINUTE),
    /** The built-in no-data rule `vm_unreachable` (warning after 5 min) unless a no_data rule is configured. */
    vm_unreachable: z.boolean().default(true),
    maintenance_windows: z.array(maintenanceWindowSchema).default([]),
    silences: z.array(configSilenceSchema).default([]),
  })
  .strict();

export type AlertingConfig = z.output<typeof alertingSchema>;
export type MaintenanceWindowConfig = z.output<typeof maintenanceWindowSchema>;
