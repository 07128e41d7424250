import { ExpositionError, parseExposition } from '../collect/prometheus/exposition.ts';
import { editDistance } from '../model/edit-distance.ts';
import {
  type CollectionOutcome,
  type Labels,
  METRIC_NAME_RE,
  type Sample,
  STANDARD_METRICS,
  VM_NAME_RE,
} from '../model/index.ts';

/** One problem with a pushed item: which item, which field, why. */
export interface IngestIssue {
  readonly index: number;
  readonly field: string;
  readonly reason: string;
}

export class IngestValidationError extends Error {
  readonly issues: readonly IngestIssue[];
  constructor(issues: readonly IngestIssue[]) {
    const first = issues[0]!;
    super(`item ${first.index}: ${first.field}: ${first.reason}`);
    this.name = 'IngestValidationError';
    this.issues = issues;
  }
}

export interface ParsedIngest {
  readonly samples: Sample[];
  readonly outcomes: CollectionOutcome[];
  /** Prometheus samples whose value is NaN or ±Inf: valid exposition, not storable; dropped and counted. */
  readonly dropped: number;
}

/** The fields of a pushed VM snapshot (the seed's VMMetric plus `disk_percent`, `resource_group`, `labels`). */
const SNAPSHOT_FIELDS: ReadonlySet<string> = new Set([
  'vm_name',
  'timestamp',
  ...STANDARD_METRICS,
  'success',
  'error_message',
  'resource_group',
  'labels',
]);
const SAMPLE_FIELDS: ReadonlySet<string> = new Set(['metric', 'labels', 'value', 'timestamp']);

function unknownFields(
  it: Record<string, unknown>,
  known: ReadonlySet<string>,
  what: string,
  index: number,
): IngestIssue[] {
  const out: IngestIssue[] = [];
  for (const k of Object.keys(it)) {
    if (known.has(k)) continue;
    const near = [...known]
      .filter((f) => editDistance(k, f) <= 2)
      .sort((x, y) => editDistance(k, x) - editDistance(k, y))[0];
    out.push({
      index,
      field: k,
      reason: near ? `unknown field of a ${what}; did you mean ${near}?` : `unknown field of a ${what}`,
    });
  }
  return out;
}

/** The bounds a standard metric's value must respect (percent 0-100, bytes not negative), or null if it does. */
export function boundsIssue(metric: string, value: number): string | null {
  if (!(STANDARD_METRICS as readonly string[]).includes(metric)) return null;
  if (metric.endsWith('_percent') && (value < 0 || value > 100)) return 'must be between 0 and 100';
  if (metric.endsWith('_bytes') && value < 0) return 'must not be negative';
  return null;
}

const LABEL_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_ISSUES = 20;

function parseTs(v: unknown, now: number): number | string {
  if (v === undefined || v === null) return now;
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return 'must be a non-negative epoch-ms number or an ISO-8601 string';
    return Math.round(v);
  }
  if (typeof v === 'string') {
    // Seed timestamps without a zone are UTC.
    const text = /[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`;
    const t = Date.parse(text);
    if (Number.isNaN(t)) return `"${v}" is not an ISO-8601 time`;
    return t;
  }
  return 'must be an epoch-ms number or an ISO-8601 string';
}

function readLabels(v: unknown, index: number, issues: IngestIssue[]): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    issues.push({ index, field: 'labels', reason: 'must be an object of string values' });
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (!LABEL_NAME_RE.test(k)) issues.push({ index, field: `labels.${k}`, reason: 'invalid label name' });
    else if (typeof val !== 'string') issues.push({ index, field: `labels.${k}`, reason: 'must be a string' });
    else out[k] = val;
  }
  return out;
}

/**
 * Validates a JSON push body: one object or an array of VM snapshots (seed VMMetric shape, recognised by `vm_name`)
 * and samples (`{metric, labels, value, timestamp}`). Collects every issue (up to 20) and accepts nothing on error.
 * `base` labels (tenant, source) are applied to every item; an item naming a different tenant is refused.
 */
export function parseJsonIngest(body: unknown, base: Labels, now: number): ParsedIngest {
  const items = Array.isArray(body) ? body : [body];
  const issues: IngestIssue[] = [];
  const samples: Sample[] = [];
  const outcomes: CollectionOutcome[] = [];
  // Samples of one series group share one labels object, which lets the store skip rebuilding series keys.
  const interned = new Map<string, Labels>();
  const intern = (l: Labels): Labels => {
    const key = JSON.stringify(l);
    const hit = interned.get(key);
    if (hit) return hit;
    interned.set(key, l);
    return l;
  };
  if (items.length === 0) throw new IngestValidationError([{ index: 0, field: '(body)', reason: 'empty array' }]);
  for (let i = 0; i < items.length && issues.length < MAX_ISSUES; i++) {
    const it = items[i] as Record<string, unknown>;
    if (typeof it !== 'object' || it === null || Array.isArray(it)) {
      issues.push({ index: i, field: '(item)', reason: 'must be an object' });
      continue;
    }
    const unknown = unknownFields(
      it,
      'vm_name' in it ? SNAPSHOT_FIELDS : SAMPLE_FIELDS,
      'vm_name' in it ? 'VM snapshot' : 'sample',
      i,
    );
    if ('vm_name' in it || 'metric' in it) issues.push(...unknown);
    const ts = parseTs(it.timestamp, now);
    if (typeof ts === 'string') issues.push({ index: i, field: 'timestamp', reason: ts });
    const labels = readLabels(it.labels, i, issues);
    if (base.tenant !== undefined && labels.tenant !== undefined && labels.tenant !== base.tenant) {
      issues.push({ index: i, field: 'labels.tenant', reason: `this token may only write tenant "${base.tenant}"` });
    }
    if ('vm_name' in it) {
      const vm = it.vm_name;
      if (typeof vm !== 'string' || !VM_NAME_RE.test(vm)) {
        issues.push({ index: i, field: 'vm_name', reason: 'must be 1-64 letters, digits, ".", "_" or "-"' });
        continue;
      }
      if (it.resource_group !== undefined && typeof it.resource_group !== 'string') {
        issues.push({ index: i, field: 'resource_group', reason: 'must be a string' });
      }
      const success = it.success === undefined ? true : it.success;
      if (typeof success !== 'boolean') issues.push({ index: i, field: 'success', reason: 'must be true or false' });
      const err = it.error_message ?? null;
      if (err !== null && typeof err !== 'string')
        issues.push({ index: i, field: 'error_message', reason: 'must be a string or null' });
      const { vm: _ignored, ...rest } = labels;
      const l: Record<string, string> = { source: 'push', ...rest, ...base };
      if (typeof it.resource_group === 'string') l.resource_group = it.resource_group;
      if (typeof ts === 'string') continue;
      const sampleLabels = { ...l, vm };
      for (const m of STANDARD_METRICS) {
        const v = it[m];
        if (v === undefined || v === null) continue;
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          issues.push({ index: i, field: m, reason: 'must be a finite number or null' });
          continue;
        }
        const bad = boundsIssue(m, v);
        if (bad) {
          issues.push({ index: i, field: m, reason: bad });
          continue;
        }
        samples.push({ metric: m, labels: sampleLabels, ts, value: v });
      }
      outcomes.push({
        vm,
        labels: l,
        ts,
        success: success === true,
        errorMessage: success === true ? null : ((err as string | null) ?? 'collection failed'),
        durationMs: 0,
      });
    } else if ('metric' in it) {
      if (typeof it.metric !== 'string' || !METRIC_NAME_RE.test(it.metric)) {
        issues.push({ index: i, field: 'metric', reason: 'must be a metric name ([A-Za-z_:][A-Za-z0-9_:]*)' });
        continue;
      }
      if (typeof it.value !== 'number' || !Number.isFinite(it.value)) {
        issues.push({ index: i, field: 'value', reason: 'must be a finite number' });
        continue;
      }
      const bad = boundsIssue(it.metric, it.value);
      if (bad) {
        issues.push({ index: i, field: 'value', reason: `${it.metric} ${bad}` });
        continue;
      }
      if (labels.vm !== undefined && !VM_NAME_RE.test(labels.vm)) {
        issues.push({ index: i, field: 'labels.vm', reason: 'must be 1-64 letters, digits, ".", "_" or "-"' });
        continue;
      }
      if (typeof ts === 'string') continue;
      samples.push({ metric: it.metric, labels: intern({ source: 'push', ...labels, ...base }), ts, value: it.value });
    } else {
      issues.push({ index: i, field: '(item)', reason: 'neither a VM snapshot (vm_name) nor a sample (metric)' });
    }
  }
  if (issues.length > 0) throw new IngestValidationError(issues.slice(0, MAX_ISSUES));
  return { samples, outcomes, dropped: 0 };
}

/** Validates a Prometheus text page; `extra` labels (e.g. `vm` from the query string) apply to every sample. */
export function parsePrometheusIngest(text: string, extra: Labels, base: Labels, now: number): ParsedIngest {
  let page: ReturnType<typeof parseExposition>;
  try {
    page = parseExposition(text);
  } catch (e) {
    if (e instanceof ExpositionError)
      throw new IngestValidationError([{ index: e.line, field: 'line', reason: e.message }]);
    throw e;
  }
  const issues: IngestIssue[] = [];
  const samples: Sample[] = [];
  let dropped = 0;
  page.samples.forEach((s, i) => {
    // NaN and ±Inf are valid exposition (e.g. a summary quantile without observations) but not storable values.
    if (!Number.isFinite(s.value)) {
      dropped++;
      return;
    }
    const bad = boundsIssue(s.name, s.value);
    if (bad) {
      issues.push({ index: i, field: 'value', reason: `${s.name} ${bad}` });
      return;
    }
    const labels: Record<string, string> = { source: 'push', ...s.labels, ...extra };
    if (base.tenant !== undefined && labels.tenant !== undefined && labels.tenant !== base.tenant) {
      issues.push({ index: i, field: 'labels.tenant', reason: `this token may only write tenant "${base.tenant}"` });
      return;
    }
    if (labels.vm !== undefined && !VM_NAME_RE.test(labels.vm)) {
      issues.push({ index: i, field: 'labels.vm', reason: 'must be 1-64 letters, digits, ".", "_" or "-"' });
      return;
    }
    samples.push({ metric: s.name, labels: { ...labels, ...base }, ts: s.timestampMs ?? now, value: s.value });
  });
  if (issues.length > 0) throw new IngestValidationError(issues.slice(0, MAX_ISSUES));
  if (samples.length === 0)
    throw new IngestValidationError([
      {
        index: 0,
        field: '(body)',
        reason: dropped > 0 ? `no samples with a finite value (${dropped} NaN/Inf dropped)` : 'no samples',
      },
    ]);
  return { samples, outcomes: [], dropped };
}
