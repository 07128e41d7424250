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
  issues: IngestIssue[],
): void {
  for (const k in it) {
    if (known.has(k) || !Object.hasOwn(it, k)) continue;
    const near = [...known]
      .filter((f) => editDistance(k, f) <= 2)
      .sort((x, y) => editDistance(k, x) - editDistance(k, y))[0];
    issues.push({
      index,
      field: k,
      reason: near ? `unknown field of a ${what}; did you mean ${near}?` : `unknown field of a ${what}`,
    });
  }
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

/** The labels objects one pushed label set resolves to: the samples', and for a VM snapshot its outcome's. */
interface LabelSet {
  readonly labels: Labels;
  readonly outcome: Labels;
}

/** One node of the label-set trie: label name, then label value, lead to the next node. */
interface LabelNode {
  next: Map<string, Map<string, LabelNode>> | null;
  /** A snapshot's steps: its `vm_name`, then its `resource_group` if it has one (apart from label names). */
  vm: Map<string, LabelNode> | null;
  rg: Map<string, LabelNode> | null;
  set: LabelSet | null;
}

const newNode = (): LabelNode => ({ next: null, vm: null, rg: null, set: null });

/** A valid metric name: the string every sample of it carries; `standard` if it has bounds (`boundsIssue`). */
interface KnownMetric {
  readonly name: string;
  readonly standard: boolean;
}

/**
 * The label sets pushed items resolved to, kept across requests. Every sample of a series then carries the labels
 * object the store saw before, so the store's identity cache answers without building the series key again.
 * A trie keyed by the scope (item kind and the request's base labels), then each raw label name and value in
 * order, so a lookup hashes the strings JSON.parse made and builds nothing. Only label sets of items that passed
 * validation are added, so a hit also means the label checks passed. Cleared when `maxSets` is reached.
 * Also keeps the valid metric names seen, so each sample's name is checked by one lookup and every sample of a
 * metric carries one string (the store's per-metric lookups then compare it by identity).
 */
export class PushedLabelSets {
  readonly maxSets: number;
  private roots = new Map<string, LabelNode>();
  private count = 0;
  private metrics = new Map<string, KnownMetric>();

  constructor(maxSets = 50_000) {
    this.maxSets = maxSets;
  }

  get size(): number {
    return this.count;
  }

  /** The metric name `name` as first seen, if it is a valid one, else null. */
  metricName(name: string): KnownMetric | null {
    const known = this.metrics.get(name);
    if (known) return known;
    if (!METRIC_NAME_RE.test(name)) return null;
    if (this.metrics.size >= this.maxSets) this.metrics = new Map();
    const m: KnownMetric = { name, standard: (STANDARD_METRICS as readonly string[]).includes(name) };
    this.metrics.set(name, m);
    return m;
  }

  /** The label set of raw labels `raw` (of a snapshot of `vm` in `rg`, or of a sample), or null if not known. */
  find(scope: string, raw: unknown, vm?: string, rg?: string): LabelSet | null {
    let node = this.roots.get(scope);
    if (!node) return null;
    if (vm !== undefined) {
      node = node.vm?.get(vm);
      if (node && rg !== undefined) node = node.rg?.get(rg);
      if (!node) return null;
    }
    if (raw !== undefined && raw !== null) {
      if (typeof raw !== 'object' || Array.isArray(raw)) return null;
      for (const k in raw) {
        const val = (raw as Record<string, unknown>)[k];
        // A non-string value or an inherited property never matches (readLabels would refuse or skip it).
        if (typeof val !== 'string' || !Object.hasOwn(raw, k)) return null;
        node = node.next?.get(k)?.get(val);
        if (!node) return null;
      }
    }
    return node.set;
  }

  /** Remembers the label set of an item that passed validation (its raw labels are an object of valid labels). */
  add(scope: string, raw: unknown, set: LabelSet, vm?: string, rg?: string): void {
    if (this.count >= this.maxSets) {
      this.roots = new Map();
      this.count = 0;
    }
    let node = this.roots.get(scope);
    if (!node) {
      node = newNode();
      this.roots.set(scope, node);
    }
    const stepIn = (steps: Map<string, LabelNode>, value: string) => {
      let next = steps.get(value);
      if (!next) {
        next = newNode();
        steps.set(value, next);
      }
      node = next;
    };
    if (vm !== undefined) {
      node.vm ??= new Map();
      stepIn(node.vm, vm);
      if (rg !== undefined) {
        node.rg ??= new Map();
        stepIn(node.rg, rg);
      }
    }
    const step = (name: string, value: string) => {
      node!.next ??= new Map();
      let byValue = node!.next.get(name);
      if (!byValue) {
        byValue = new Map();
        node!.next.set(name, byValue);
      }
      stepIn(byValue, value);
    };
    if (raw !== undefined && raw !== null) {
      for (const k in raw) {
        const val = (raw as Record<string, unknown>)[k];
        if (typeof val !== 'string' || !Object.hasOwn(raw, k)) return;
        step(k, val);
      }
    }
    if (node.set === null) this.count++;
    node.set = set;
  }
}

/**
 * Validates a JSON push body: one object or an array of VM snapshots (seed VMMetric shape, recognised by `vm_name`)
 * and samples (`{metric, labels, value, timestamp}`). Collects every issue (up to 20) and accepts nothing on error.
 * `base` labels (tenant, source) are applied to every item; an item naming a different tenant is refused.
 * `labelSets` (one per server) lets the samples of a series share one labels object across requests.
 */
export function parseJsonIngest(
  body: unknown,
  base: Labels,
  now: number,
  labelSets: PushedLabelSets = new PushedLabelSets(),
): ParsedIngest {
  const items = Array.isArray(body) ? body : [body];
  const issues: IngestIssue[] = [];
  const samples: Sample[] = [];
  const outcomes: CollectionOutcome[] = [];
  const baseJson = JSON.stringify(base);
  const sampleScope = `s${baseJson}`;
  const snapshotScope = `v${baseJson}`;
  if (items.length === 0) throw new IngestValidationError([{ index: 0, field: '(body)', reason: 'empty array' }]);
  for (let i = 0; i < items.length && issues.length < MAX_ISSUES; i++) {
    const it = items[i] as Record<string, unknown>;
    if (typeof it !== 'object' || it === null || Array.isArray(it)) {
      issues.push({ index: i, field: '(item)', reason: 'must be an object' });
      continue;
    }
    const issuesBefore = issues.length;
    const isSnapshot = 'vm_name' in it;
    if (isSnapshot) unknownFields(it, SNAPSHOT_FIELDS, 'VM snapshot', i, issues);
    else if ('metric' in it) unknownFields(it, SAMPLE_FIELDS, 'sample', i, issues);
    const ts = parseTs(it.timestamp, now);
    if (typeof ts === 'string') issues.push({ index: i, field: 'timestamp', reason: ts });
    // A known label set passed every label check when it was first added; other labels are read and checked.
    const raw = it.labels;
    const vmName = it.vm_name;
    const rg = it.resource_group;
    const known = isSnapshot
      ? typeof vmName === 'string' && (rg === undefined || typeof rg === 'string')
        ? labelSets.find(snapshotScope, raw, vmName, rg)
        : null
      : labelSets.find(sampleScope, raw);
    const labels = known ? null : readLabels(raw, i, issues);
    const tenant = labels ? labels.tenant : (raw as Record<string, string> | undefined)?.tenant;
    if (base.tenant !== undefined && tenant !== undefined && tenant !== base.tenant) {
      issues.push({ index: i, field: 'labels.tenant', reason: `this token may only write tenant "${base.tenant}"` });
    }
    if (isSnapshot) {
      if (typeof vmName !== 'string' || !VM_NAME_RE.test(vmName)) {
        issues.push({ index: i, field: 'vm_name', reason: 'must be 1-64 letters, digits, ".", "_" or "-"' });
        continue;
      }
      if (rg !== undefined && typeof rg !== 'string') {
        issues.push({ index: i, field: 'resource_group', reason: 'must be a string' });
      }
      const success = it.success === undefined ? true : it.success;
      if (typeof success !== 'boolean') issues.push({ index: i, field: 'success', reason: 'must be true or false' });
      const err = it.error_message ?? null;
      if (err !== null && typeof err !== 'string')
        issues.push({ index: i, field: 'error_message', reason: 'must be a string or null' });
      if (typeof ts === 'string') continue;
      let set = known;
      if (!set) {
        const { vm: _ignored, ...rest } = labels!;
        const l: Record<string, string> = { source: 'push', ...rest, ...base };
        if (typeof rg === 'string') l.resource_group = rg;
        set = { labels: { ...l, vm: vmName }, outcome: l };
        if (issues.length === issuesBefore) labelSets.add(snapshotScope, raw, set, vmName, rg as string | undefined);
      }
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
        samples.push({ metric: m, labels: set.labels, ts, value: v });
      }
      outcomes.push({
        vm: vmName,
        labels: set.outcome,
        ts,
        success: success === true,
        errorMessage: success === true ? null : ((err as string | null) ?? 'collection failed'),
        durationMs: 0,
      });
    } else if ('metric' in it) {
      const name = typeof it.metric === 'string' ? labelSets.metricName(it.metric) : null;
      if (!name) {
        issues.push({ index: i, field: 'metric', reason: 'must be a metric name ([A-Za-z_:][A-Za-z0-9_:]*)' });
        continue;
      }
      const value = it.value;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        issues.push({ index: i, field: 'value', reason: 'must be a finite number' });
        continue;
      }
      const metric = name.name;
      const bad = name.standard ? boundsIssue(metric, value) : null;
      if (bad) {
        issues.push({ index: i, field: 'value', reason: `${metric} ${bad}` });
        continue;
      }
      if (labels && labels.vm !== undefined && !VM_NAME_RE.test(labels.vm)) {
        issues.push({ index: i, field: 'labels.vm', reason: 'must be 1-64 letters, digits, ".", "_" or "-"' });
        continue;
      }
      if (typeof ts === 'string') continue;
      let set = known;
      if (!set) {
        const l: Labels = { source: 'push', ...labels, ...base };
        set = { labels: l, outcome: l };
        if (issues.length === issuesBefore) labelSets.add(sampleScope, raw, set);
      }
      samples.push({ metric, labels: set.labels, ts, value });
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
