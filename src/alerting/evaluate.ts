import { createHash } from 'node:crypto';
import type {
  Alert,
  AlertEvent,
  AlertEventKind,
  AlertState,
  AlertTransition,
  CollectionOutcome,
  Labels,
  ResolveReason,
  Sample,
  Severity,
  Silence,
} from '../model/index.ts';
import { isStandardMetric, seriesKey } from '../model/index.ts';
import {
  alertTitle,
  metricInfo,
  noDataText,
  recommendationsFor,
  relatedMetrics,
  renderTemplate,
  resolvedNoDataText,
  resolvedThresholdText,
  thresholdText,
} from './messages.ts';
import {
  type AlertingSettings,
  type AlertRule,
  compare,
  DEFAULT_SETTINGS,
  type RuleAggregate,
  recovered,
} from './rule.ts';
import { autoSeverity, maxSeverity, overagePercent, severityRank } from './severity.ts';
import { activeMutes, type MaintenanceWindow, type Mute, mutedBy } from './silences.ts';

/** Per (rule, series) bookkeeping. Only kept while an alert is active or its flapping history matters. */
export interface SeriesTrack {
  readonly fingerprint: string;
  readonly rule: string;
  readonly metric: string;
  readonly vm: string | null;
  /** The series labels (for no-data tracks: `vm` plus the VM's labels). */
  readonly labels: Labels;
  /** The pending or firing alert, or null. */
  readonly active: Alert | null;
  readonly lastSampleTs: number;
  readonly lastBreachTs: number | null;
  /** When the alert fired, within the flapping window. */
  readonly fireTimes: readonly number[];
  readonly flapNotifiedAt: number | null;
  /** A notification was held back by a silence and is still owed when the silence ends. */
  readonly owed: boolean;
  /** Firing and muted by a silence or maintenance window (history records each change). */
  readonly suppressed: boolean;
}

/** What the engine knows about a VM for no-data rules, related metrics and message context. */
export interface VmTrack {
  readonly vm: string;
  readonly labels: Labels;
  readonly firstSeenTs: number;
  /** Last sample or successful collection. */
  readonly lastDataTs: number | null;
  readonly lastOutcomeTs: number | null;
  readonly lastError: string | null;
  readonly failingSince: number | null;
  /** Latest value of each standard metric. */
  readonly latest: Readonly<Record<string, number>>;
}

/** The last notification per (rule, VM), for the minimum re-notification interval. */
export interface NotifyMark {
  readonly at: number;
  readonly severity: Severity;
}

export interface Ring {
  readonly ts: readonly number[];
  readonly values: readonly number[];
}

/** All alerting state as plain data. `evaluate` never mutates it; it returns a new one. */
export interface AlertEngineState {
  readonly tracks: ReadonlyMap<string, SeriesTrack>;
  readonly vms: ReadonlyMap<string, VmTrack>;
  readonly marks: ReadonlyMap<string, NotifyMark>;
  /** Recent points per series key, for rules with `aggregate`. */
  readonly rings: ReadonlyMap<string, Ring>;
  readonly nextId: number;
}

export function emptyState(nextId = 1): AlertEngineState {
  return { tracks: new Map(), vms: new Map(), marks: new Map(), rings: new Map(), nextId };
}

export interface EvaluationInput {
  readonly samples: readonly Sample[];
  readonly outcomes: readonly CollectionOutcome[];
  readonly now: number;
  readonly silences?: readonly Silence[];
  readonly maintenance?: readonly MaintenanceWindow[];
  /** VMs deleted from the fleet: their alerts expire and their tracks are dropped. */
  readonly removedVms?: readonly string[];
  /**
   * Run the whole-fleet passes (no-data rules, expiry, owed notifications after a silence, flap history).
   * Default true. A caller evaluating a few pushed samples between regular cycles may skip them for latency.
   */
  readonly housekeeping?: boolean;
}

export interface EvaluationResult {
  readonly state: AlertEngineState;
  readonly events: AlertEvent[];
  /** Every state change, for alert history. */
  readonly transitions: AlertTransition[];
  /** Alerts created or updated (by id), to persist. */
  readonly changed: Alert[];
  /** Ids of pending alerts that cleared before firing: they are not kept as alerts (history keeps the transitions). */
  readonly dropped: string[];
  /** Track keys whose data changed or were removed, and VMs likewise (for incremental persistence). */
  readonly touchedTracks: string[];
  readonly touchedVms: string[];
}

export function trackKey(rule: string, seriesKeyText: string): string {
  return `${rule}\u0000${seriesKeyText}`;
}

export function markKey(rule: string, vm: string | null, fingerprint: string): string {
  return `${rule}\u0000${vm ?? `#${fingerprint}`}`;
}

/** Stable id of (rule, series): a hash of the rule name and the series' labels (and metric). */
export function fingerprint(rule: string, metric: string, labels: Labels): string {
  return createHash('sha256')
    .update(rule)
    .update('\u0000')
    .update(seriesKey(metric, labels))
    .digest('hex')
    .slice(0, 16);
}

/** R-7 percentile (linear interpolation), as NovaCron's aggregator: [1,2,3,4] p50 = 2.5. */
export function percentile(sorted: readonly number[], p: number): number {
  return percentileOf(sorted, sorted.length, p);
}

/** `percentile` of the first `n` points of `sorted`. */
function percentileOf(sorted: ArrayLike<number>, n: number, p: number): number {
  if (n === 1) return sorted[0]!;
  const idx = (p / 100) * (n - 1);
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (idx - lo);
}

const PERCENTILES: Readonly<Record<string, number>> = { p50: 50, p90: 90, p95: 95, p99: 99 };

/** Scratch space for percentiles (evaluation is synchronous, so one buffer serves every call). */
let scratch = new Float64Array(64);

/**
 * `fn` over `values[from..to)` with plain loops: no copies except into the percentile scratch buffer, and no
 * argument spreading (which throws on very long windows). Values are finite (ingest drops NaN and ±Inf).
 */
export function aggregateValues(values: readonly number[], fn: RuleAggregate, from = 0, to = values.length): number {
  return aggregateStrided(values, fn, from, to, 1);
}

/** `aggregateValues` over the values of interleaved [ts, value, ...] points, from offset `from` to `to`. */
function aggregatePoints(points: readonly number[], fn: RuleAggregate, from: number, to: number): number {
  return aggregateStrided(points, fn, from + 1, to, 2);
}

function aggregateStrided(
  values: readonly number[],
  fn: RuleAggregate,
  from: number,
  to: number,
  step: number,
): number {
  const n = Math.ceil((to - from) / step);
  switch (fn) {
    case 'avg':
    case 'sum': {
      let sum = 0;
      for (let i = from; i < to; i += step) sum += values[i]!;
      return fn === 'avg' ? sum / n : sum;
    }
    case 'min': {
      let m = Number.POSITIVE_INFINITY;
      for (let i = from; i < to; i += step) if (values[i]! < m) m = values[i]!;
      return m;
    }
    case 'max': {
      let m = Number.NEGATIVE_INFINITY;
      for (let i = from; i < to; i += step) if (values[i]! > m) m = values[i]!;
      return m;
    }
    case 'count':
      return n;
    case 'last':
      return values[from + (n - 1) * step]!;
    default: {
      if (scratch.length < n) scratch = new Float64Array(Math.max(n, scratch.length * 2));
      if (n <= 16) {
        // Insertion sort: windows are usually a handful of points, below what a library sort pays to start.
        for (let k = 0; k < n; k++) {
          const v = values[from + k * step]!;
          let j = k;
          while (j > 0 && scratch[j - 1]! > v) {
            scratch[j] = scratch[j - 1]!;
            j--;
          }
          scratch[j] = v;
        }
      } else {
        for (let k = 0; k < n; k++) scratch[k] = values[from + k * step]!;
        scratch.subarray(0, n).sort();
      }
      return percentileOf(scratch, n, PERCENTILES[fn] ?? Number(fn.slice(1)));
    }
  }
}

interface RuleIndex {
  readonly byMetric: Map<string, AlertRule[]>;
  /** Per metric, per rule of `byMetric`: the index of its distinct (aggregate, window) pair, or -1 without one. */
  readonly slotsByMetric: Map<string, Int32Array>;
  readonly windowByMetric: Map<string, number>;
  readonly noData: AlertRule[];
  readonly byName: Map<string, AlertRule>;
}

const indexCache = new WeakMap<readonly AlertRule[], RuleIndex>();

function indexRules(rules: readonly AlertRule[]): RuleIndex {
  const cached = indexCache.get(rules);
  if (cached) return cached;
  const byMetric = new Map<string, AlertRule[]>();
  const windowByMetric = new Map<string, number>();
  const noData: AlertRule[] = [];
  const byName = new Map<string, AlertRule>();
  for (const r of rules) {
    byName.set(r.name, r);
    if (!r.enabled) continue;
    if (r.type === 'no_data') {
      noData.push(r);
      continue;
    }
    const list = byMetric.get(r.metric) ?? [];
    list.push(r);
    byMetric.set(r.metric, list);
    if (r.aggregate) windowByMetric.set(r.metric, Math.max(windowByMetric.get(r.metric) ?? 0, r.aggregate.windowMs));
  }
  const slotsByMetric = new Map<string, Int32Array>();
  for (const [metric, list] of byMetric) {
    const pairs: string[] = [];
    const slots = new Int32Array(list.length).fill(-1);
    list.forEach((r, i) => {
      if (!r.aggregate) return;
      const pair = `${r.aggregate.fn}/${r.aggregate.windowMs}`;
      if (!pairs.includes(pair)) pairs.push(pair);
      slots[i] = pairs.indexOf(pair);
    });
    slotsByMetric.set(metric, slots);
  }
  const index = { byMetric, slotsByMetric, windowByMetric, noData, byName };
  indexCache.set(rules, index);
  return index;
}

/**
 * A series' window as a view [start, end) of buffers that later versions of the same series share: appending to
 * the newest version writes past every older version's end, so an older state still reads exactly its own points
 * (`evaluate` stays pure) while each new point costs one small object instead of copies of the whole window.
 * Only a version whose end is the buffers' end appends in place; any other (an older state evaluated again, an
 * out-of-order point) copies its live points into fresh buffers first. Dropped points are compacted away.
 */
class WindowRing implements Ring {
  /** Points as [ts0, value0, ts1, value1, ...]: one buffer, so reading a point touches one place in memory. */
  readonly #buf: number[];
  /** Offsets into #buf (even), of the first point and one past the last. */
  readonly #start: number;
  readonly #end: number;

  constructor(buf: number[], start: number, end: number) {
    this.#buf = buf;
    this.#start = start;
    this.#end = end;
  }

  get ts(): readonly number[] {
    const out: number[] = [];
    for (let i = this.#start; i < this.#end; i += 2) out.push(this.#buf[i]!);
    return out;
  }

  get values(): readonly number[] {
    const out: number[] = [];
    for (let i = this.#start + 1; i < this.#end; i += 2) out.push(this.#buf[i]!);
    return out;
  }

  /** `prev`'s points newer than `from` and older than `ts`, then (ts, value). */
  static append(prev: Ring | undefined, ts: number, value: number, from: number): WindowRing {
    if (!(prev instanceof WindowRing)) return WindowRing.#fresh(prev, ts, value, from);
    const buf = prev.#buf;
    let start = prev.#start;
    const end = prev.#end;
    while (start < end && buf[start]! <= from) start += 2;
    if (end === buf.length && (start === end || buf[end - 2]! < ts) && !(start >= 16 && start >= end - start)) {
      buf.push(ts, value);
      return new WindowRing(buf, start, end + 2);
    }
    let keep = end;
    while (keep > start && buf[keep - 2]! >= ts) keep -= 2;
    // Pushed, not preallocated: every buffer then has the same (packed double) elements kind, and the code reading
    // them stays monomorphic.
    const out: number[] = [];
    for (let i = start; i < keep; i++) out.push(buf[i]!);
    out.push(ts, value);
    return new WindowRing(out, 0, out.length);
  }

  /** A ring from a plain one (seeded from the store) or from nothing. */
  static #fresh(prev: Ring | undefined, ts: number, value: number, from: number): WindowRing {
    const out: number[] = [];
    if (prev) {
      for (let i = 0; i < prev.ts.length; i++) {
        const t = prev.ts[i]!;
        if (t > from && t < ts) out.push(t, prev.values[i]!);
      }
    }
    out.push(ts, value);
    return new WindowRing(out, 0, out.length);
  }

  /** `fn` over the points newer than `from`. */
  aggregate(fn: RuleAggregate, from: number): number {
    const buf = this.#buf;
    let first = this.#start;
    while (first < this.#end && buf[first]! <= from) first += 2;
    return aggregatePoints(buf, fn, first, this.#end);
  }
}

/** A copy of a map without the [key, value] pair per entry that `new Map(map)` allocates. */
function copyMap<K, V>(from: ReadonlyMap<K, V>): Map<K, V> {
  const to = new Map<K, V>();
  from.forEach((v, k) => {
    to.set(k, v);
  });
  return to;
}

/** Working copy for one evaluation: maps are copied once, entries replaced (never mutated). */
class Cycle {
  readonly tracks: Map<string, SeriesTrack>;
  readonly vms: Map<string, VmTrack>;
  readonly marks: Map<string, NotifyMark>;
  rings: Map<string, Ring> | null = null;
  readonly prevRings: ReadonlyMap<string, Ring>;
  nextId: number;
  readonly events: AlertEvent[] = [];
  readonly transitions: AlertTransition[] = [];
  readonly changed = new Map<string, Alert>();
  readonly dropped: string[] = [];
  /** VMs removed from the fleet in this evaluation (their alerts expire). */
  readonly removedVms = new Set<string>();
  readonly touchedTracks = new Set<string>();
  readonly touchedVms = new Set<string>();
  readonly vmDrafts = new Map<string, MutableVmTrack>();
  /** The draft last returned: a source sends a VM's samples one after another. */
  lastDraft: MutableVmTrack | null = null;
  readonly now: number;
  readonly settings: AlertingSettings;
  readonly mutes: Mute[];

  constructor(prev: AlertEngineState, now: number, settings: AlertingSettings, mutes: Mute[]) {
    this.tracks = copyMap(prev.tracks);
    this.vms = copyMap(prev.vms);
    this.marks = copyMap(prev.marks);
    this.prevRings = prev.rings;
    this.nextId = prev.nextId;
    this.now = now;
    this.settings = settings;
    this.mutes = mutes;
  }

  ring(key: string): Ring | undefined {
    return (this.rings ?? this.prevRings).get(key);
  }

  /** The series' window after a point at `ts`, dropping points at or before `from`. */
  appendPoint(key: string, ts: number, value: number, from: number): WindowRing {
    const ring = WindowRing.append(this.ring(key), ts, value, from);
    this.setRing(key, ring);
    return ring;
  }

  setRing(key: string, ring: Ring): void {
    this.rings ??= copyMap(this.prevRings);
    this.rings.set(key, ring);
  }

  private trackedSeries: Set<string> | null = null;

  /** Whether any rule has a track for this series key (lets the hot path skip building track keys). */
  isTracked(sk: string): boolean {
    if (!this.trackedSeries) {
      this.trackedSeries = new Set();
      const series = this.trackedSeries;
      this.tracks.forEach((_, k) => {
        series.add(k.slice(k.indexOf('\u0000') + 1));
      });
    }
    return this.trackedSeries.has(sk);
  }

  setTrack(key: string, t: SeriesTrack | null): void {
    if (t) {
      // A key already held was counted when the set was built (or added): only new keys need their series cut out.
      if (this.trackedSeries && !this.tracks.has(key)) this.trackedSeries.add(key.slice(key.indexOf('\u0000') + 1));
      this.tracks.set(key, t);
    } else this.tracks.delete(key);
    this.touchedTracks.add(key);
  }

  transition(
    a: Alert,
    from: AlertTransition['from'],
    to: AlertTransition['to'],
    reason: string | null,
    by: string | null = null,
    notes: string | null = null,
  ): void {
    this.transitions.push({
      alertId: a.id,
      fingerprint: a.fingerprint,
      rule: a.rule,
      vm: a.vm,
      at: this.now,
      from,
      to,
      value: a.value,
      severity: a.severity,
      reason,
      by,
      notes,
    });
  }

  emit(kind: AlertEventKind, alert: Alert, notify: boolean): void {
    this.events.push({ kind, at: this.now, alert, notify });
  }
}

/**
 * One evaluation step: folds new samples and collection outcomes into the alert state at `now`.
 * Pure: the previous state is not modified; everything that happened is in the result.
 */
export function evaluate(
  rules: readonly AlertRule[],
  input: EvaluationInput,
  previous: AlertEngineState,
  settings: AlertingSettings = DEFAULT_SETTINGS,
): EvaluationResult {
  const index = indexRules(rules);
  const mutes = activeMutes(input.silences ?? [], input.maintenance ?? [], input.now);
  const c = new Cycle(previous, input.now, settings, mutes);

  // Samples older than the expiry TTL (CSV imports, very late pushes) are history, not news: they neither
  // raise alerts nor make a long-gone VM look alive (or unreachable).
  const oldest = input.now - settings.expireAfterMs;
  observeSamples(c, index, input.samples, oldest);
  for (const o of input.outcomes) observeOutcome(c, o);
  for (const vm of input.removedVms ?? []) removeVm(c, index, vm);
  if (input.housekeeping !== false) {
    for (const rule of index.noData) evaluateNoData(c, rule);
    sweep(c, index);
  }

  return {
    state: { tracks: c.tracks, vms: c.vms, marks: c.marks, rings: c.rings ?? c.prevRings, nextId: c.nextId },
    events: c.events,
    transitions: c.transitions,
    changed: [...c.changed.values()],
    dropped: c.dropped,
    touchedTracks: [...c.touchedTracks],
    touchedVms: [...c.touchedVms],
  };
}

const labelKeys = new WeakMap<Labels, string>();

/** seriesKey, memoised per label object: sources reuse one labels object per series across cycles. */
function cachedSeriesKey(metric: string, labels: Labels): string {
  let lk = labelKeys.get(labels);
  if (lk === undefined) {
    lk = seriesKey('', labels);
    labelKeys.set(labels, lk);
  }
  return metric + lk;
}

/**
 * A series' key and its track keys per rule, built once per (labels object, metric): a key string made afresh for
 * every sample would be flattened and hashed again on every map lookup.
 */
interface SeriesKeys {
  readonly sk: string;
  readonly trackKeys: Map<string, string>;
  /** Which of `matchedFor`'s rules match this series' labels (labels objects are immutable, so it holds). */
  matchedFor: readonly AlertRule[] | null;
  matched: Uint8Array | null;
}

const seriesKeysCache = new WeakMap<Labels, Map<string, SeriesKeys>>();

/** The last labels object seen and its keys: a source sends a VM's metrics one after another with one labels object. */
let lastLabels: Labels | null = null;
let lastByMetric: Map<string, SeriesKeys> | null = null;

function seriesKeysOf(metric: string, labels: Labels): SeriesKeys {
  let byMetric = labels === lastLabels ? lastByMetric : seriesKeysCache.get(labels);
  if (!byMetric) {
    byMetric = new Map();
    seriesKeysCache.set(labels, byMetric);
  }
  lastLabels = labels;
  lastByMetric = byMetric;
  let keys = byMetric.get(metric);
  if (keys === undefined) {
    keys = { sk: cachedSeriesKey(metric, labels), trackKeys: new Map(), matchedFor: null, matched: null };
    byMetric.set(metric, keys);
  }
  return keys;
}

function trackKeyOf(keys: SeriesKeys, rule: string): string {
  let k = keys.trackKeys.get(rule);
  if (k === undefined) {
    k = trackKey(rule, keys.sk);
    keys.trackKeys.set(rule, k);
  }
  return k;
}

function withoutVm(labels: Labels): Labels {
  const rest: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) if (k !== 'vm') rest[k] = v;
  return rest;
}

function touchVm(c: Cycle, vm: string, labels: Labels, ts: number): VmTrack {
  const prev = c.vms.get(vm);
  if (prev) return prev;
  return {
    vm,
    labels: withoutVm(labels),
    firstSeenTs: ts,
    lastDataTs: null,
    lastOutcomeTs: null,
    lastError: null,
    failingSince: null,
    latest: {},
  };
}

/** The sample loop on its own, so the code optimised while it runs has nothing after it that it never saw run. */
function observeSamples(c: Cycle, index: RuleIndex, samples: readonly Sample[], oldest: number): void {
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (s.ts >= oldest) observeSample(c, index, s);
  }
}

function observeSample(c: Cycle, index: RuleIndex, s: Sample): void {
  const vm = s.labels.vm;
  if (vm !== undefined) {
    const t = draftVm(c, vm, s.labels, s.ts);
    if (isStandardMetric(s.metric)) t.latest[s.metric] = s.value;
    t.lastDataTs = Math.max(t.lastDataTs ?? s.ts, s.ts);
    t.lastError = null;
    t.failingSince = null;
  }
  const rules = index.byMetric.get(s.metric);
  if (!rules) return;
  const keys = seriesKeysOf(s.metric, s.labels);
  const sk = keys.sk;
  const windowMs = index.windowByMetric.get(s.metric);
  const ring = windowMs === undefined ? undefined : c.appendPoint(sk, s.ts, s.value, s.ts - windowMs);
  const tracked = c.isTracked(sk);
  const matched = matchesOf(keys, rules, s.labels);
  // Rules sharing an aggregate and window (avg over 5m, ...) compute it once per sample.
  const slots = index.slotsByMetric.get(s.metric)!;
  if (slotDone.length < rules.length) {
    slotDone = new Int32Array(rules.length * 2);
    slotValue = new Float64Array(rules.length * 2);
  }
  if (++slotStamp === 0x40000000) {
    slotStamp = 1;
    slotDone.fill(0);
  }
  const stamp = slotStamp;
  for (let r = 0; r < rules.length; r++) {
    if (matched[r] === 0) continue;
    const rule = rules[r]!;
    let value = s.value;
    const slot = slots[r]!;
    if (slot >= 0 && ring) {
      if (slotDone[slot] === stamp) value = slotValue[slot]!;
      else {
        const agg = rule.aggregate!;
        value = ring.aggregate(agg.fn, s.ts - agg.windowMs);
        slotDone[slot] = stamp;
        slotValue[slot] = value;
      }
    }
    const breach = compare(value, rule.comparison, rule.threshold);
    if (!breach && !tracked) continue;
    const key = trackKeyOf(keys, rule.name);
    const track = c.tracks.get(key);
    if (track && s.ts < track.lastSampleTs) continue;
    if (!track && !breach) continue;
    stepThreshold(c, rule, key, track, s, value, breach);
  }
}

/** Per rule of `rules`, 1 when its label matchers select the series: computed once per (series, rule list). */
function matchesOf(keys: SeriesKeys, rules: readonly AlertRule[], labels: Labels): Uint8Array {
  if (keys.matchedFor === rules && keys.matched) return keys.matched;
  const out = new Uint8Array(rules.length);
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r]!;
    out[r] = rule.matchers.length === 0 || rule.matches(labels) ? 1 : 0;
  }
  keys.matchedFor = rules;
  keys.matched = out;
  return out;
}

/** This sample's aggregate per slot: valid where `slotDone` holds the current stamp (no clearing per sample). */
let slotDone = new Int32Array(16);
let slotValue = new Float64Array(16);
let slotStamp = 0;

type MutableVmTrack = { -readonly [K in keyof VmTrack]: VmTrack[K] } & { latest: Record<string, number> };

/** This cycle's own copy of a VM track (copied once per cycle, then updated in place; the previous state is untouched). */
function draftVm(c: Cycle, vm: string, labels: Labels, ts: number): MutableVmTrack {
  if (c.lastDraft?.vm === vm) return c.lastDraft;
  let d = c.vmDrafts.get(vm);
  if (d) {
    c.lastDraft = d;
    return d;
  }
  const prev = touchVm(c, vm, labels, ts);
  d = { ...prev, latest: { ...prev.latest } };
  c.vmDrafts.set(vm, d);
  c.vms.set(vm, d);
  c.touchedVms.add(vm);
  c.lastDraft = d;
  return d;
}

function observeOutcome(c: Cycle, o: CollectionOutcome): void {
  const t = draftVm(c, o.vm, o.labels, o.ts);
  if (Object.keys(t.labels).length === 0) t.labels = withoutVm(o.labels);
  t.lastOutcomeTs = o.ts;
  if (o.success) {
    t.lastDataTs = Math.max(t.lastDataTs ?? o.ts, o.ts);
    t.lastError = null;
    t.failingSince = null;
  } else {
    t.lastError = o.errorMessage ?? 'collection failed';
    t.failingSince = t.failingSince ?? o.ts;
  }
}

function alertLabels(rule: AlertRule, seriesLabels: Labels): Labels {
  return Object.keys(rule.labels).length > 0 ? { ...seriesLabels, ...rule.labels } : seriesLabels;
}

/** What mutes this alert now (no labels built when nothing is muted at all, the usual case). */
function mutesOf(c: Cycle, a: Alert): readonly string[] {
  return c.mutes.length === 0 ? NO_MUTES : mutedBy(c.mutes, muteLabels(a));
}

function muteLabels(a: Alert): Labels {
  return { ...a.labels, alertname: a.rule, rule: a.rule, severity: a.severity };
}

function severityFor(rule: AlertRule, value: number, previous: Severity | null): Severity {
  const s =
    rule.severity === 'auto' ? autoSeverity(overagePercent(value, rule.threshold, rule.comparison)) : rule.severity;
  return previous ? maxSeverity(previous, s) : s;
}

function isWorse(rule: AlertRule, a: number, b: number): boolean {
  return rule.comparison === '<' || rule.comparison === '<=' ? a < b : a > b;
}

/** Recomputes title, message, annotations, recommendations and related metrics of an alert. */
function describe(c: Cycle, rule: AlertRule, a: Alert, streakStart: number): Alert {
  const vmTrack = a.vm ? c.vms.get(a.vm) : undefined;
  const subject = a.vm ?? seriesKey(a.metric, a.labels);
  let message: string;
  let category = metricInfo(a.metric).category;
  const resolution =
    a.state === 'resolved' && a.resolveReason
      ? {
          reason: a.resolveReason,
          activeMs: c.now - streakStart,
          silentMs: c.now - (a.lastValueAt ?? a.startsAt),
          vmRemoved: a.vm !== null && c.removedVms.has(a.vm),
        }
      : null;
  if (resolution) {
    if (rule.type === 'no_data') category = 'unreachable';
    message =
      rule.type === 'no_data'
        ? resolvedNoDataText(subject, resolution)
        : resolvedThresholdText(rule, subject, a.value ?? 0, resolution);
  } else if (rule.type === 'no_data') {
    category = 'unreachable';
    const silentFrom = vmTrack?.lastDataTs ?? vmTrack?.firstSeenTs ?? streakStart;
    message = noDataText(subject, c.now - silentFrom, vmTrack?.lastError ?? null, vmTrack?.lastDataTs === null);
  } else {
    message = thresholdText(rule, subject, a.value ?? 0, c.now - streakStart);
  }
  const values = {
    value: a.value,
    threshold: a.threshold,
    metric: a.metric,
    rule: a.rule,
    severity: a.severity,
    labels: a.labels,
  };
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(rule.annotations)) annotations[k] = renderTemplate(v, values);
  const recommendations = rule.recommendations
    ? rule.recommendations.map((r) => renderTemplate(r, values))
    : recommendationsFor(category, a.metric || 'data', subject);
  return {
    ...a,
    title: alertTitle(rule, subject),
    message,
    annotations,
    recommendations,
    resourceGroup: a.labels.resource_group ?? vmTrack?.labels.resource_group ?? null,
    source: a.labels.source ?? vmTrack?.labels.source ?? null,
    related: vmTrack ? relatedMetrics(vmTrack.latest, a.metric) : [],
  };
}

function newAlert(
  c: Cycle,
  rule: AlertRule,
  fp: string,
  labels: Labels,
  metric: string,
  value: number,
  ts: number,
): Alert {
  const id = String(c.nextId++);
  const base: Alert = {
    fingerprint: fp,
    id,
    rule: rule.name,
    metric,
    vm: labels.vm ?? null,
    labels: alertLabels(rule, labels),
    severity: severityFor(rule, value, null),
    state: 'pending',
    value,
    peakValue: value,
    threshold: rule.type === 'no_data' ? null : rule.threshold,
    comparison: rule.type === 'no_data' ? null : rule.comparison,
    startsAt: ts,
    firedAt: null,
    resolvedAt: null,
    resolveReason: null,
    lastEvaluatedAt: c.now,
    notificationCount: 0,
    lastNotifiedAt: null,
    acknowledged: null,
    flapping: false,
    title: '',
    message: '',
    annotations: {},
    recommendations: [],
    channels: rule.channels,
    kind: rule.type,
    notificationsSent: 0,
    lastValueAt: ts,
  };
  return describe(c, rule, base, ts);
}

function stepThreshold(
  c: Cycle,
  rule: AlertRule,
  key: string,
  track: SeriesTrack | undefined,
  s: Sample,
  value: number,
  breach: boolean,
): void {
  const active = track?.active ?? null;
  if (!active) {
    if (!breach) {
      c.setTrack(key, { ...track!, lastSampleTs: s.ts });
      return;
    }
    const fp = track?.fingerprint ?? fingerprint(rule.name, s.metric, s.labels);
    const alert = newAlert(c, rule, fp, s.labels, s.metric, value, s.ts);
    c.transition(alert, 'inactive', 'pending', null);
    const t: SeriesTrack = {
      fingerprint: fp,
      rule: rule.name,
      metric: s.metric,
      vm: s.labels.vm ?? null,
      labels: s.labels,
      active: alert,
      lastSampleTs: s.ts,
      lastBreachTs: s.ts,
      fireTimes: track?.fireTimes ?? [],
      flapNotifiedAt: track?.flapNotifiedAt ?? null,
      owed: false,
      suppressed: false,
    };
    if (s.ts - alert.startsAt >= rule.forMs) fire(c, rule, key, t, s.ts);
    else {
      c.changed.set(alert.id, alert);
      c.setTrack(key, t);
    }
    return;
  }
  const t = track!;
  if (active.state === 'pending') {
    if (!breach) {
      c.transition({ ...active, value }, 'pending', 'inactive', 'for_not_met');
      c.dropped.push(active.id);
      c.changed.delete(active.id);
      c.setTrack(key, t.fireTimes.length > 0 ? { ...t, active: null, lastSampleTs: s.ts } : null);
      return;
    }
    const updated = updateValue(c, rule, active, value, s.ts, false);
    const nt = { ...t, active: updated, lastSampleTs: s.ts, lastBreachTs: s.ts };
    if (s.ts - active.startsAt >= rule.forMs) fire(c, rule, key, nt, s.ts);
    else {
      c.changed.set(updated.id, updated);
      c.setTrack(key, nt);
    }
    return;
  }
  // firing
  const isRecovered = recovered(value, rule);
  const lastBreachTs = breach ? s.ts : t.lastBreachTs;
  if (
    isRecovered &&
    !(rule.keepFiringForMs > 0 && lastBreachTs !== null && s.ts - lastBreachTs < rule.keepFiringForMs)
  ) {
    const upd = { ...active, value, lastValueAt: s.ts };
    resolveTrack(c, rule, key, { ...t, active: upd, lastSampleTs: s.ts }, 'recovered');
    return;
  }
  const prevSeverity = active.severity;
  const updated = updateValue(c, rule, active, value, s.ts, breach);
  const nt: SeriesTrack = { ...t, active: updated, lastSampleTs: s.ts, lastBreachTs };
  if (breach) renotify(c, rule, key, nt, prevSeverity);
  else {
    c.changed.set(updated.id, updated);
    c.setTrack(key, nt);
  }
}

function updateValue(c: Cycle, rule: AlertRule, a: Alert, value: number, ts: number, countBreach: boolean): Alert {
  const peak = a.peakValue === null || isWorse(rule, value, a.peakValue) ? value : a.peakValue;
  // Texts (message, related metrics) are refreshed when the alert fires, re-notifies or resolves, and otherwise
  // every TEXT_REFRESH_MS of the alert's life, not on every sample. Each alert's refresh is offset by a phase taken
  // from its fingerprint: alerts raised together (an outage, a restart) then refresh spread over the period
  // instead of all in the same cycle.
  const phase = textRefreshPhase(a.fingerprint);
  const stale =
    Math.floor((c.now - a.startsAt + phase) / TEXT_REFRESH_MS) !==
    Math.floor((a.lastEvaluatedAt - a.startsAt + phase) / TEXT_REFRESH_MS);
  const severity = severityFor(rule, value, a.severity);
  const updated: Alert = {
    ...a,
    value,
    peakValue: peak,
    lastValueAt: ts,
    lastEvaluatedAt: c.now,
    severity,
    notificationCount: countBreach ? a.notificationCount + 1 : a.notificationCount,
  };
  if (severity !== a.severity)
    c.transition(updated, a.state, a.state, 'severity_raised', null, `${a.severity} -> ${severity}`);
  return stale ? describe(c, rule, updated, a.startsAt) : updated;
}

const TEXT_REFRESH_MS = 5 * 60_000;

/** A fixed offset in [0, TEXT_REFRESH_MS) per fingerprint (hex), from its first 8 digits. */
function textRefreshPhase(fp: string): number {
  const h = Number.parseInt(fp.slice(0, 8), 16);
  return Number.isFinite(h) ? h % TEXT_REFRESH_MS : 0;
}

/** pending → firing, deciding whether this firing notifies (silences, flapping, the per rule+VM floor). */
function fire(c: Cycle, rule: AlertRule, key: string, t: SeriesTrack, ts: number): void {
  const windowStart = c.now - c.settings.flapWindowMs;
  const fireTimes = [...t.fireTimes.filter((x) => x > windowStart), c.now];
  const flapping = fireTimes.length > c.settings.flapThreshold;
  let alert: Alert = { ...t.active!, state: 'firing', firedAt: ts, flapping, notificationCount: 1 };
  alert = describe(c, rule, alert, alert.startsAt);
  c.transition(alert, 'pending', 'firing', flapping ? 'flapping' : null);
  const muted = mutesOf(c, alert);
  let nt: SeriesTrack = syncSuppression(c, { ...t, active: alert, fireTimes, suppressed: false }, muted);
  if (muted.length > 0) {
    nt = { ...nt, owed: true };
    c.emit('suppressed', alert, false);
  } else if (flapping && t.flapNotifiedAt !== null && t.flapNotifiedAt > windowStart) {
    c.emit('fired', alert, false);
  } else if (!markAllows(c, alert, null)) {
    // The 15-minute floor holds for the first flapping notification too.
    c.emit('fired', alert, false);
  } else {
    alert = notified(c, alert);
    nt = { ...nt, active: alert, flapNotifiedAt: flapping ? c.now : nt.flapNotifiedAt };
    c.emit('fired', alert, true);
  }
  c.changed.set(alert.id, alert);
  c.setTrack(key, nt);
}

/** The minimum interval for the same rule and VM, unless the severity rose above the last notified one. */
function markAllows(c: Cycle, a: Alert, prevSeverity: Severity | null): boolean {
  const mark = c.marks.get(markKey(a.rule, a.vm, a.fingerprint));
  if (!mark) return true;
  if (severityRank(a.severity) > severityRank(mark.severity)) return true;
  if (prevSeverity !== null && severityRank(a.severity) > severityRank(prevSeverity)) return true;
  return c.now - mark.at >= c.settings.minRenotifyMs;
}

function notified(c: Cycle, a: Alert): Alert {
  c.marks.set(markKey(a.rule, a.vm, a.fingerprint), { at: c.now, severity: a.severity });
  return { ...a, lastNotifiedAt: c.now, notificationsSent: (a.notificationsSent ?? 0) + 1 };
}

function renotifyInterval(c: Cycle, rule: AlertRule, s: Severity): number {
  return Math.max(rule.renotifyIntervalMs ?? c.settings.renotifyMs[s], c.settings.minRenotifyMs);
}

/** A still-firing alert: re-notify when its interval has passed (or its severity rose), unless acked, muted or flapping. */
function renotify(c: Cycle, rule: AlertRule, key: string, t: SeriesTrack, prevSeverity: Severity): void {
  let a = t.active!;
  const mutes = mutesOf(c, a);
  let nt = syncSuppression(c, t, mutes);
  const rose = severityRank(a.severity) > severityRank(prevSeverity);
  const muted = mutes.length > 0;
  const flapMuted = a.flapping && t.flapNotifiedAt !== null && t.flapNotifiedAt > c.now - c.settings.flapWindowMs;
  const due =
    a.lastNotifiedAt === null
      ? markAllows(c, a, prevSeverity)
      : rose || c.now - a.lastNotifiedAt >= renotifyInterval(c, rule, a.severity);
  if (due && (a.acknowledged === null || rose) && !flapMuted) {
    if (muted) {
      if (!t.owed) {
        a = describe(c, rule, a, a.startsAt);
        nt = { ...nt, active: a, owed: true };
        c.emit('suppressed', a, false);
      }
    } else {
      // This notification also pays what a silence that just ended held back: nothing is owed any more.
      a = notified(c, describe(c, rule, a, a.startsAt));
      nt = { ...nt, active: a, owed: false };
      c.emit('refired', a, true);
    }
  }
  c.changed.set(a.id, a);
  c.setTrack(key, nt);
}

function resolveTrack(
  c: Cycle,
  rule: AlertRule | undefined,
  key: string,
  t: SeriesTrack,
  reason: ResolveReason,
  by: string | null = null,
  notes: string | null = null,
): Alert {
  const a = t.active!;
  const from: AlertState = a.state;
  let resolved: Alert = { ...a, state: 'resolved', resolvedAt: c.now, resolveReason: reason, lastEvaluatedAt: c.now };
  if (rule) resolved = describe(c, rule, resolved, a.startsAt);
  if (from === 'pending') {
    c.transition(resolved, 'pending', 'inactive', reason, by, notes);
    c.dropped.push(a.id);
    c.changed.delete(a.id);
  } else {
    c.transition(resolved, from, 'resolved', reason, by, notes);
    const muted = mutesOf(c, resolved).length > 0;
    const flapMuted = a.flapping && t.flapNotifiedAt !== null && t.flapNotifiedAt > c.now - c.settings.flapWindowMs;
    const notify = (a.notificationsSent ?? 0) > 0 && !muted && !flapMuted;
    c.emit(reason === 'expired' ? 'expired' : 'resolved', resolved, notify);
    c.changed.set(resolved.id, resolved);
  }
  const keep = t.fireTimes.some((x) => x > c.now - c.settings.flapWindowMs);
  c.setTrack(key, keep && reason !== 'rule_removed' ? { ...t, active: null, owed: false, suppressed: false } : null);
  return resolved;
}

function evaluateNoData(c: Cycle, rule: AlertRule): void {
  for (const vmTrack of c.vms.values()) {
    if (rule.matchers.length > 0 && !rule.matches({ ...vmTrack.labels, vm: vmTrack.vm })) continue;
    const key = trackKey(rule.name, `vm:${vmTrack.vm}`);
    const track = c.tracks.get(key);
    const lastGood = vmTrack.lastDataTs ?? vmTrack.firstSeenTs;
    const silentMs = c.now - lastGood;
    const failing = vmTrack.failingSince !== null;
    const breach = failing || silentMs >= rule.forMs;
    const active = track?.active ?? null;
    if (!breach) {
      if (!active) continue;
      if (active.state === 'pending') resolveTrack(c, rule, key, track!, 'recovered');
      else resolveTrack(c, rule, key, { ...track!, active: { ...active, value: 0 } }, 'recovered');
      continue;
    }
    const value = Math.round(silentMs / 1000);
    if (!active) {
      if (!failing && silentMs < rule.forMs) continue;
      const labels: Labels = { ...vmTrack.labels, vm: vmTrack.vm };
      const fp = track?.fingerprint ?? fingerprint(rule.name, '', labels);
      const alert = newAlert(c, rule, fp, labels, '', value, lastGood);
      c.transition(alert, 'inactive', 'pending', vmTrack.lastError ? 'collection_failed' : 'no_data');
      const t: SeriesTrack = {
        fingerprint: fp,
        rule: rule.name,
        metric: '',
        vm: vmTrack.vm,
        labels,
        active: alert,
        lastSampleTs: c.now,
        lastBreachTs: c.now,
        fireTimes: track?.fireTimes ?? [],
        flapNotifiedAt: track?.flapNotifiedAt ?? null,
        owed: false,
        suppressed: false,
      };
      if (silentMs >= rule.forMs) fire(c, rule, key, t, c.now);
      else {
        c.changed.set(alert.id, alert);
        c.setTrack(key, t);
      }
      continue;
    }
    const updated = describe(
      c,
      rule,
      { ...active, value, peakValue: Math.max(active.peakValue ?? 0, value), lastEvaluatedAt: c.now },
      active.startsAt,
    );
    const t = { ...track!, active: updated, lastSampleTs: c.now, lastBreachTs: c.now };
    if (active.state === 'pending') {
      if (silentMs >= rule.forMs) fire(c, rule, key, t, c.now);
      else {
        c.changed.set(updated.id, updated);
        c.setTrack(key, t);
      }
    } else {
      renotify(
        c,
        rule,
        key,
        { ...t, active: { ...updated, notificationCount: active.notificationCount + 1 } },
        active.severity,
      );
    }
  }
}

function removeVm(c: Cycle, index: RuleIndex, vm: string): void {
  c.removedVms.add(vm);
  for (const [key, t] of c.tracks) {
    if (t.vm !== vm) continue;
    if (t.active) resolveTrack(c, index.byName.get(t.rule), key, t, 'expired', null, 'VM removed from the fleet');
    c.setTrack(key, null);
  }
  for (const k of [...c.marks.keys()]) if (k.endsWith(`\u0000${vm}`)) c.marks.delete(k);
  c.vms.delete(vm);
  c.vmDrafts.delete(vm);
  c.lastDraft = null;
  c.touchedVms.add(vm);
}

const NO_MUTES: readonly string[] = [];

/** Records firing -> suppressed (and back) in history when what mutes a firing alert changes from none to some. */
function syncSuppression(c: Cycle, t: SeriesTrack, mutes: readonly string[]): SeriesTrack {
  const a = t.active;
  if (a?.state !== 'firing') return t;
  const muted = mutes.length > 0;
  if (muted === (t.suppressed === true)) return t;
  if (muted) c.transition(a, 'firing', 'suppressed', 'silenced', null, mutes.join(', '));
  else c.transition(a, 'suppressed', 'firing', 'silence_ended');
  return { ...t, suppressed: muted };
}

/** Per-cycle housekeeping over active tracks: expiry, removed rules, owed notifications, stale flap history. */
function sweep(c: Cycle, index: RuleIndex): void {
  const windowStart = c.now - c.settings.flapWindowMs;
  // forEach, not for-of: no [key, value] pair allocated per entry of these (large) maps.
  c.marks.forEach((m, k) => {
    if (c.now - m.at >= c.settings.minRenotifyMs) c.marks.delete(k);
  });
  c.tracks.forEach((t, key) => {
    const rule = index.byName.get(t.rule);
    if (!t.active) {
      if (!t.fireTimes.some((x) => x > windowStart)) c.setTrack(key, null);
      return;
    }
    if (!rule?.enabled) {
      resolveTrack(c, rule, key, t, 'rule_removed');
      return;
    }
    if (rule.type === 'threshold') {
      const ttl = rule.expireAfterMs ?? c.settings.expireAfterMs;
      if (c.now - t.lastSampleTs >= ttl) {
        resolveTrack(c, rule, key, t, 'expired');
        return;
      }
    }
    const a = t.active;
    if (a.state !== 'firing') return;
    const mutes = mutesOf(c, a);
    const st = syncSuppression(c, t, mutes);
    if (st.owed && mutes.length === 0) {
      const sent = notified(c, describe(c, rule, a, a.startsAt));
      c.changed.set(sent.id, sent);
      c.setTrack(key, { ...st, active: sent, owed: false });
      c.emit('refired', sent, true);
    } else if (st !== t) c.setTrack(key, st);
  });
}

/** The window each metric's `aggregate` rules need: the longest per metric. */
export function aggregateWindows(rules: readonly AlertRule[]): ReadonlyMap<string, number> {
  return indexRules(rules).windowByMetric;
}

/**
 * Rebuilds the per-series windows behind `aggregate` rules from stored samples (after a restart, or when a rule
 * gains an aggregate), merged with the points already held. Points outside a metric's window at `now` are dropped.
 */
export function seedRings(
  state: AlertEngineState,
  rules: readonly AlertRule[],
  samples: readonly Sample[],
  now: number,
): AlertEngineState {
  const windows = aggregateWindows(rules);
  const bySeries = new Map<string, Map<number, number>>();
  for (const s of samples) {
    const windowMs = windows.get(s.metric);
    if (windowMs === undefined || s.ts <= now - windowMs || s.ts > now) continue;
    const sk = cachedSeriesKey(s.metric, s.labels);
    let points = bySeries.get(sk);
    if (!points) {
      points = new Map();
      const held = state.rings.get(sk);
      if (held) for (let i = 0; i < held.ts.length; i++) points.set(held.ts[i]!, held.values[i]!);
      bySeries.set(sk, points);
    }
    if (!points.has(s.ts)) points.set(s.ts, s.value);
  }
  if (bySeries.size === 0) return state;
  const rings = new Map(state.rings);
  for (const [sk, points] of bySeries) {
    const ts = [...points.keys()].sort((a, b) => a - b);
    rings.set(sk, { ts, values: ts.map((t) => points.get(t)!) });
  }
  return { ...state, rings };
}

/**
 * After a restart: the time Vigil was down must not count as VMs being silent. Every VM without an active
 * no-data alert starts a fresh no-data window at `now` (active ones keep their history and resolve on data).
 */
export function freshNoDataWindows(
  state: AlertEngineState,
  rules: readonly AlertRule[],
  now: number,
): AlertEngineState {
  const noData = rules.filter((r) => r.type === 'no_data').map((r) => r.name);
  const vms = new Map(state.vms);
  for (const [vm, t] of state.vms) {
    if (noData.some((r) => state.tracks.get(trackKey(r, `vm:${vm}`))?.active)) continue;
    if ((t.lastDataTs ?? t.firstSeenTs) < now)
      vms.set(vm, { ...t, lastDataTs: now, failingSince: t.failingSince === null ? null : now });
  }
  return { ...state, vms };
}

/** Finds the active (pending or firing) alert with this id. */
export function findActive(state: AlertEngineState, id: string): { key: string; track: SeriesTrack } | null {
  for (const [key, track] of state.tracks) if (track.active?.id === id) return { key, track };
  return null;
}

export interface ActionResult extends EvaluationResult {
  readonly alert: Alert;
}

export class AlertActionError extends Error {
  readonly code: 'not_found' | 'not_firing';
  constructor(code: 'not_found' | 'not_firing', message: string) {
    super(message);
    this.name = 'AlertActionError';
    this.code = code;
  }
}

function actionCycle(state: AlertEngineState, now: number, settings: AlertingSettings): Cycle {
  return new Cycle(state, now, settings, []);
}

function finish(c: Cycle, alert: Alert): ActionResult {
  return {
    alert,
    state: { tracks: c.tracks, vms: c.vms, marks: c.marks, rings: c.rings ?? c.prevRings, nextId: c.nextId },
    events: c.events,
    transitions: c.transitions,
    changed: [...c.changed.values()],
    dropped: c.dropped,
    touchedTracks: [...c.touchedTracks],
    touchedVms: [...c.touchedVms],
  };
}

/** Acknowledges a firing alert: it stops re-notifying (until its severity rises) but still resolves on recovery. */
export function acknowledge(
  state: AlertEngineState,
  id: string,
  by: string,
  notes: string | null,
  now: number,
  settings: AlertingSettings = DEFAULT_SETTINGS,
): ActionResult {
  const found = findActive(state, id);
  if (!found) throw new AlertActionError('not_found', `Alert ${id} not found or no longer active`);
  const a = found.track.active!;
  if (a.state !== 'firing')
    throw new AlertActionError('not_firing', `Alert ${id} is ${a.state}; only a firing alert can be acknowledged`);
  const c = actionCycle(state, now, settings);
  const acked: Alert = { ...a, acknowledged: { by, at: now, notes } };
  c.transition(acked, 'firing', 'acknowledged', 'acknowledged', by, notes);
  c.changed.set(acked.id, acked);
  c.setTrack(found.key, { ...found.track, active: acked });
  c.emit('acknowledged', acked, false);
  return finish(c, acked);
}

/** Resolves an active alert by hand. A condition that still holds raises a new alert after `for` again. */
export function resolveManually(
  state: AlertEngineState,
  rules: readonly AlertRule[],
  id: string,
  by: string,
  notes: string | null,
  now: number,
  settings: AlertingSettings = DEFAULT_SETTINGS,
): ActionResult {
  const found = findActive(state, id);
  if (!found) throw new AlertActionError('not_found', `Alert ${id} not found or no longer active`);
  const c = actionCycle(state, now, settings);
  const rule = indexRules(rules).byName.get(found.track.rule);
  const resolved = resolveTrack(c, rule, found.key, found.track, 'manual', by, notes);
  return finish(c, resolved);
}
