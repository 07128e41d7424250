// Fleet failure patterns (seed P1-P4, adapted to VM collection outcomes and samples). Pure function of its inputs
// and `now`; every window and minimum is configurable; every confidence is clamped to [0, 1].
import type { Labels } from '../../model/labels.ts';
import type { CollectionOutcome } from '../../model/outcome.ts';
import type { Sample } from '../../model/sample.ts';
import { mannKendallZ, median, theilSen } from '../trend.ts';

export type FleetPatternName =
  | 'cascading_failures'
  | 'resource_exhaustion'
  | 'network_partition'
  | 'heartbeat_degradation'
  | 'load_imbalance'
  | 'disk_io_contention';

export interface FleetPattern {
  readonly pattern: FleetPatternName;
  /** 0-1. */
  readonly confidence: number;
  /** Seed P4: confidence > 0.8 → critical, else warning. */
  readonly severity: 'critical' | 'warning';
  /** `Failure Pattern Detected: <pattern>` */
  readonly title: string;
  readonly affectedVms: readonly string[];
  /** The group the pattern is about (network partition, load imbalance, disk contention). */
  readonly group: { readonly label: string; readonly value: string } | null;
  readonly evidence: readonly string[];
  readonly detectedAt: number;
}

/** Each pattern's switch, window and thresholds (config: `analytics.patterns.<pattern>`, docs/configuration.md). */
export interface FleetPatternConfig {
  readonly cascading: { enabled: boolean; windowMs: number; minVms: number; minEvents: number; breachPercent: number };
  readonly resourceExhaustion: { enabled: boolean; windowMs: number; saturationPercent: number; minEvents: number };
  readonly networkPartition: {
    enabled: boolean;
    windowMs: number;
    groupLabels: readonly string[];
    minGroupVms: number;
    minShare: number;
    maxOthersShare: number;
  };
  readonly heartbeat: {
    enabled: boolean;
    windowMs: number;
    /** Attempts in the window (each third, compared, needs a third of them). */
    minAttempts: number;
    /** Median latency of the last third ≥ minRatio × the first third's … */
    minRatio: number;
    /** … and at least minIncreaseMs higher. */
    minIncreaseMs: number;
  };
  readonly loadImbalance: {
    enabled: boolean;
    windowMs: number;
    groupLabel: string;
    minVms: number;
    spreadPercent: number;
  };
  readonly diskContention: {
    enabled: boolean;
    windowMs: number;
    lookbackMs: number;
    groupLabel: string;
    minVms: number;
    ioFactor: number;
  };
}

/** Defaults: the seed's windows where it had one (300/600/180 s), longer where a trend needs history. */
export const DEFAULT_FLEET_PATTERN_CONFIG: FleetPatternConfig = {
  cascading: { enabled: true, windowMs: 300_000, minVms: 3, minEvents: 5, breachPercent: 90 },
  resourceExhaustion: { enabled: true, windowMs: 600_000, saturationPercent: 95, minEvents: 3 },
  networkPartition: {
    enabled: true,
    windowMs: 180_000,
    groupLabels: ['resource_group', 'region', 'source'],
    minGroupVms: 2,
    minShare: 0.7,
    maxOthersShare: 0.3,
  },
  heartbeat: { enabled: true, windowMs: 3_600_000, minAttempts: 30, minRatio: 1.5, minIncreaseMs: 500 },
  loadImbalance: { enabled: true, windowMs: 600_000, groupLabel: 'resource_group', minVms: 2, spreadPercent: 40 },
  diskContention: {
    enabled: true,
    windowMs: 600_000,
    lookbackMs: 3_600_000,
    groupLabel: 'resource_group',
    minVms: 2,
    ioFactor: 3,
  },
};

export interface FleetPatternInput {
  readonly outcomes: readonly CollectionOutcome[];
  readonly samples: readonly Sample[];
  readonly now: number;
}

export type FleetPatternOverrides = { readonly [K in keyof FleetPatternConfig]?: Partial<FleetPatternConfig[K]> };

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);
const round3 = (x: number) => Math.round(x * 1000) / 1000;
const NETWORK_ERROR = /network|connection|connect|timeout|timed out|unreachable|refused|reset/i;

function pattern(
  name: FleetPatternName,
  confidence: number,
  affectedVms: Iterable<string>,
  evidence: string[],
  now: number,
  group: FleetPattern['group'] = null,
): FleetPattern {
  const c = round3(clamp01(confidence));
  return {
    pattern: name,
    confidence: c,
    severity: c > 0.8 ? 'critical' : 'warning',
    title: `Failure Pattern Detected: ${name}`,
    affectedVms: [...new Set(affectedVms)].sort(),
    group,
    evidence,
    detectedAt: now,
  };
}

export function mergeConfig(o: FleetPatternOverrides = {}): FleetPatternConfig {
  const d = DEFAULT_FLEET_PATTERN_CONFIG;
  return {
    cascading: { ...d.cascading, ...o.cascading },
    resourceExhaustion: { ...d.resourceExhaustion, ...o.resourceExhaustion },
    networkPartition: { ...d.networkPartition, ...o.networkPartition },
    heartbeat: { ...d.heartbeat, ...o.heartbeat },
    loadImbalance: { ...d.loadImbalance, ...o.loadImbalance },
    diskContention: { ...d.diskContention, ...o.diskContention },
  };
}

const SATURATION_METRICS = new Set(['cpu_percent', 'memory_percent', 'disk_percent']);

/** Detects every fleet failure pattern present at `now`, strongest first. */
export function detectFleetPatterns(input: FleetPatternInput, overrides: FleetPatternOverrides = {}): FleetPattern[] {
  const cfg = mergeConfig(overrides);
  const on = <T extends { enabled: boolean }>(c: T, detect: (i: FleetPatternInput, c: T) => FleetPattern[]) =>
    c.enabled ? detect(input, c) : [];
  const found = [
    ...on(cfg.cascading, detectCascading),
    ...on(cfg.resourceExhaustion, detectResourceExhaustion),
    ...on(cfg.networkPartition, detectNetworkPartition),
    ...on(cfg.heartbeat, detectHeartbeatDegradation),
    ...on(cfg.loadImbalance, detectLoadImbalance),
    ...on(cfg.diskContention, detectDiskContention),
  ];
  return found.sort((a, b) => b.confidence - a.confidence || a.pattern.localeCompare(b.pattern));
}

const inWindow = (ts: number, now: number, windowMs: number) => ts > now - windowMs && ts <= now;

/** Several VMs failing or breaching within minutes of each other (P1: confidence grows with the VM count, 5 VMs → 1). */
export function detectCascading(input: FleetPatternInput, c: FleetPatternConfig['cascading']): FleetPattern[] {
  const firstEvent = new Map<string, number>();
  let events = 0;
  const note = (vm: string, ts: number) => {
    events++;
    firstEvent.set(vm, Math.min(firstEvent.get(vm) ?? ts, ts));
  };
  for (const o of input.outcomes) if (!o.success && inWindow(o.ts, input.now, c.windowMs)) note(o.vm, o.ts);
  for (const s of input.samples)
    if (
      SATURATION_METRICS.has(s.metric) &&
      s.value >= c.breachPercent &&
      s.labels.vm &&
      inWindow(s.ts, input.now, c.windowMs)
    )
      note(s.labels.vm, s.ts);
  if (firstEvent.size < c.minVms || events < c.minEvents) return [];
  const order = [...firstEvent.entries()].sort((a, b) => a[1] - b[1]);
  const spanS = Math.round((order[order.length - 1][1] - order[0][1]) / 1000);
  return [
    pattern(
      'cascading_failures',
      firstEvent.size / 5,
      firstEvent.keys(),
      [
        `${firstEvent.size} VMs failed or breached ${c.breachPercent}% within ${Math.round(c.windowMs / 60_000)} min (${events} events, first to last ${spanS} s)`,
        `order: ${order.map(([vm]) => vm).join(' → ')}`,
      ],
      input.now,
    ),
  ];
}

/** A VM saturated (CPU, memory or disk ≥ saturationPercent) and then failed its collections. */
export function detectResourceExhaustion(
  input: FleetPatternInput,
  c: FleetPatternConfig['resourceExhaustion'],
): FleetPattern[] {
  const firstSaturation = new Map<string, { ts: number; metric: string; value: number; n: number }>();
  for (const s of input.samples) {
    const vm = s.labels.vm;
    if (!vm || !SATURATION_METRICS.has(s.metric) || s.value < c.saturationPercent) continue;
    if (!inWindow(s.ts, input.now, c.windowMs)) continue;
    const prev = firstSaturation.get(vm);
    if (!prev) firstSaturation.set(vm, { ts: s.ts, metric: s.metric, value: s.value, n: 1 });
    else {
      prev.n++;
      if (s.ts < prev.ts) Object.assign(prev, { ts: s.ts, metric: s.metric, value: s.value });
    }
  }
  const out: FleetPattern[] = [];
  for (const [vm, sat] of firstSaturation) {
    const after = input.outcomes.filter((o) => o.vm === vm && o.ts > sat.ts && o.ts <= input.now);
    const failed = after.filter((o) => !o.success);
    if (failed.length === 0 || sat.n + failed.length < c.minEvents) continue;
    out.push(
      pattern(
        'resource_exhaustion',
        failed.length / after.length,
        [vm],
        [
          `${vm}: ${sat.metric} reached ${sat.value.toFixed(1)}% at ${new Date(sat.ts).toISOString()}`,
          `then ${failed.length} of ${after.length} collections failed (last: ${failed[failed.length - 1].errorMessage ?? 'error'})`,
        ],
        input.now,
      ),
    );
  }
  return out;
}

/** The latest outcome per VM inside the window. */
function latestOutcomes(outcomes: readonly CollectionOutcome[], now: number, windowMs: number) {
  const latest = new Map<string, CollectionOutcome>();
  for (const o of outcomes) {
    if (!inWindow(o.ts, now, windowMs)) continue;
    const prev = latest.get(o.vm);
    if (!prev || prev.ts <= o.ts) latest.set(o.vm, o);
  }
  return latest;
}

/** All (or most) VMs of one resource group, region or source failing while the others are fine. */
export function detectNetworkPartition(
  input: FleetPatternInput,
  c: FleetPatternConfig['networkPartition'],
): FleetPattern[] {
  const latest = latestOutcomes(input.outcomes, input.now, c.windowMs);
  if (latest.size === 0) return [];
  const out: FleetPattern[] = [];
  for (const label of c.groupLabels) {
    const groups = new Map<string, CollectionOutcome[]>();
    for (const o of latest.values()) {
      const v = o.labels[label];
      if (v === undefined) continue;
      const list = groups.get(v) ?? [];
      list.push(o);
      groups.set(v, list);
    }
    if (groups.size < 2) continue; // "while others are fine" needs others
    for (const [value, members] of groups) {
      if (members.length < c.minGroupVms) continue;
      const failing = members.filter((o) => !o.success);
      const share = failing.length / members.length;
      const others = [...latest.values()].filter((o) => o.labels[label] !== value);
      const othersShare = others.filter((o) => !o.success).length / others.length;
      if (share < c.minShare || othersShare > c.maxOthersShare) continue;
      const networky = failing.filter((o) => NETWORK_ERROR.test(o.errorMessage ?? '')).length / failing.length;
      out.push(
        pattern(
          'network_partition',
          share * (1 - othersShare) * (networky >= 0.7 ? 1 : 0.8),
          failing.map((o) => o.vm),
          [
            `${failing.length} of ${members.length} VMs with ${label}=${value} failing; ${Math.round(othersShare * 100)}% of the other ${others.length} VMs failing`,
            `errors: ${[...new Set(failing.map((o) => o.errorMessage ?? 'error'))].slice(0, 3).join('; ')}`,
          ],
          input.now,
          { label, value },
        ),
      );
    }
  }
  return out;
}

/** How far back the enabled detectors look: the longest of their windows (disk contention's baseline included). */
export function fleetPatternLookbackMs(overrides: FleetPatternOverrides = {}): number {
  const c = mergeConfig(overrides);
  const windows = [
    c.cascading.enabled ? c.cascading.windowMs : 0,
    c.resourceExhaustion.enabled ? c.resourceExhaustion.windowMs : 0,
    c.networkPartition.enabled ? c.networkPartition.windowMs : 0,
    c.heartbeat.enabled ? c.heartbeat.windowMs : 0,
    c.loadImbalance.enabled ? c.loadImbalance.windowMs : 0,
    c.diskContention.enabled ? Math.max(c.diskContention.lookbackMs, c.diskContention.windowMs) : 0,
  ];
  return Math.max(...windows);
}

/**
 * A VM's collection latency trending up, or timeouts becoming frequent. Latency: with at least `minAttempts` in the
 * window, the median of the last third of the attempts against the median of the first third (medians, so a few slow
 * attempts do not count) is at least `minRatio` times and `minIncreaseMs` higher, and the whole window rises
 * monotonically (Mann-Kendall Z > 2.33, Theil-Sen slope > 0). Noise around a steady level, or a 70 → 120 ms wobble,
 * is not degradation.
 */
export function detectHeartbeatDegradation(
  input: FleetPatternInput,
  c: FleetPatternConfig['heartbeat'],
): FleetPattern[] {
  const byVm = new Map<string, CollectionOutcome[]>();
  for (const o of input.outcomes) {
    if (!inWindow(o.ts, input.now, c.windowMs)) continue;
    const list = byVm.get(o.vm) ?? [];
    list.push(o);
    byVm.set(o.vm, list);
  }
  const out: FleetPattern[] = [];
  for (const [vm, list] of byVm) {
    if (list.length < c.minAttempts) continue;
    list.sort((a, b) => a.ts - b.ts);
    const third = Math.max(1, Math.floor(list.length / 3));
    const med = (xs: CollectionOutcome[]) => median(xs.map((o) => o.durationMs));
    const early = med(list.slice(0, third));
    const late = med(list.slice(-third));
    const ratio = early > 0 ? late / early : late > 0 ? Number.POSITIVE_INFINITY : 1;
    const increase = late - early;
    const timeouts = (xs: CollectionOutcome[]) =>
      xs.filter((o) => !o.success && /timeout|timed out/i.test(o.errorMessage ?? '')).length;
    const earlyTimeouts = timeouts(list.slice(0, third));
    const lateTimeouts = timeouts(list.slice(-third));
    // The rank trend test and the slope are O(n²): only for the rare VM whose medians already moved enough.
    const medianUp = ratio >= c.minRatio && increase >= c.minIncreaseMs;
    const latencies = list.map((o) => o.durationMs);
    const mk = medianUp ? mannKendallZ(latencies) : 0;
    const slope = medianUp
      ? theilSen(
          list.map((o) => (o.ts - list[0].ts) / 60_000),
          latencies,
          20_000,
        ).slope
      : 0;
    // A monotonic rise significant at the 1 % level (one-sided), not two noisy thirds that happen to differ.
    const latencyUp = medianUp && mk > 2.33 && slope > 0;
    const timeoutsUp = lateTimeouts > earlyTimeouts && lateTimeouts >= 2;
    if (!latencyUp && !timeoutsUp) continue;
    // 0.5 at the minimum ratio and increase, 1 at twice them.
    const latencyConfidence = latencyUp
      ? Math.min((ratio - 1) / (2 * (c.minRatio - 1)), c.minIncreaseMs > 0 ? increase / (2 * c.minIncreaseMs) : 1)
      : 0;
    const confidence = Math.max(latencyConfidence, timeoutsUp ? lateTimeouts / third : 0);
    out.push(
      pattern(
        'heartbeat_degradation',
        confidence,
        [vm],
        [
          `${vm}: median collection latency ${Math.round(early)} ms → ${Math.round(late)} ms (×${Number.isFinite(ratio) ? ratio.toFixed(1) : '∞'}, +${slope.toFixed(0)} ms/min) over ${list.length} attempts`,
          `timeouts: ${earlyTimeouts} early, ${lateTimeouts} late${latencyUp ? `; trend test Z = ${mk.toFixed(1)}` : ''}`,
        ],
        input.now,
      ),
    );
  }
  return out;
}

function groupMeans(
  samples: readonly Sample[],
  metricTest: (m: string) => boolean,
  from: number,
  to: number,
): Map<string, { labels: Labels; sum: number; n: number }> {
  const byVm = new Map<string, { labels: Labels; sum: number; n: number }>();
  for (const s of samples) {
    const vm = s.labels.vm;
    if (!vm || !metricTest(s.metric) || s.ts <= from || s.ts > to || !Number.isFinite(s.value)) continue;
    const e = byVm.get(vm) ?? { labels: s.labels, sum: 0, n: 0 };
    e.sum += s.value;
    e.n++;
    byVm.set(vm, e);
  }
  return byVm;
}

/** High spread of mean CPU across the VMs of one group. */
export function detectLoadImbalance(input: FleetPatternInput, c: FleetPatternConfig['loadImbalance']): FleetPattern[] {
  const byVm = groupMeans(input.samples, (m) => m === 'cpu_percent', input.now - c.windowMs, input.now);
  const groups = new Map<string, { vm: string; cpu: number }[]>();
  for (const [vm, e] of byVm) {
    const g = e.labels[c.groupLabel];
    if (g === undefined) continue;
    const list = groups.get(g) ?? [];
    list.push({ vm, cpu: e.sum / e.n });
    groups.set(g, list);
  }
  const out: FleetPattern[] = [];
  for (const [value, list] of groups) {
    if (list.length < c.minVms) continue;
    list.sort((a, b) => b.cpu - a.cpu);
    const spread = list[0].cpu - list[list.length - 1].cpu;
    if (spread < c.spreadPercent) continue;
    const confidence = 0.5 + (0.5 * (spread - c.spreadPercent)) / Math.max(1, 100 - c.spreadPercent);
    out.push(
      pattern(
        'load_imbalance',
        confidence,
        [list[0].vm, list[list.length - 1].vm],
        [
          `${c.groupLabel}=${value}: CPU spread ${spread.toFixed(1)} pp over ${Math.round(c.windowMs / 60_000)} min (${list[0].vm} ${list[0].cpu.toFixed(1)}%, ${list[list.length - 1].vm} ${list[list.length - 1].cpu.toFixed(1)}%)`,
          `${list.length} VMs: ${list.map((x) => `${x.vm} ${x.cpu.toFixed(0)}%`).join(', ')}`,
        ],
        input.now,
        { label: c.groupLabel, value },
      ),
    );
  }
  return out;
}

const IO_METRICS = new Set(['disk_read_bytes', 'disk_write_bytes']);

/** Several VMs of one group doing several times their usual disk I/O at the same time (shared storage contention). */
export function detectDiskContention(
  input: FleetPatternInput,
  c: FleetPatternConfig['diskContention'],
): FleetPattern[] {
  const recent = groupMeans(input.samples, (m) => IO_METRICS.has(m), input.now - c.windowMs, input.now);
  const before = groupMeans(input.samples, (m) => IO_METRICS.has(m), input.now - c.lookbackMs, input.now - c.windowMs);
  const groups = new Map<string, { vm: string; ratio: number }[]>();
  for (const [vm, e] of recent) {
    const g = e.labels[c.groupLabel];
    const b = before.get(vm);
    if (g === undefined || !b) continue;
    const base = b.sum / b.n;
    const ratio = base > 0 ? e.sum / e.n / base : e.sum > 0 ? Number.POSITIVE_INFINITY : 1;
    const list = groups.get(g) ?? [];
    list.push({ vm, ratio });
    groups.set(g, list);
  }
  const out: FleetPattern[] = [];
  for (const [value, list] of groups) {
    const hot = list.filter((x) => x.ratio >= c.ioFactor);
    if (hot.length < c.minVms) continue;
    out.push(
      pattern(
        'disk_io_contention',
        (hot.length / list.length) * Math.min(1, 0.5 + hot.length / (2 * c.minVms + 2)),
        hot.map((x) => x.vm),
        [
          `${c.groupLabel}=${value}: ${hot.length} of ${list.length} VMs at ≥ ${c.ioFactor}× their usual disk I/O at the same time`,
          hot.map((x) => `${x.vm} ×${Number.isFinite(x.ratio) ? x.ratio.toFixed(1) : '∞'}`).join(', '),
        ],
        input.now,
        { label: c.groupLabel, value },
      ),
    );
  }
  return out;
}

/** What an alert raised for a pattern carries: a stable key per (pattern, group or VMs), P4 severity, texts. */
export interface PatternAlertDraft {
  readonly key: string;
  readonly rule: string;
  readonly severity: 'critical' | 'warning';
  readonly summary: string;
  readonly description: string;
  readonly labels: Readonly<Record<string, string>>;
}

export function patternAlertDraft(p: FleetPattern): PatternAlertDraft {
  const scope = p.group ? `${p.group.label}=${p.group.value}` : `vms=${p.affectedVms.join(',')}`;
  const labels: Record<string, string> = { pattern: p.pattern };
  if (p.group) labels[p.group.label] = p.group.value;
  if (p.affectedVms.length === 1) labels.vm = p.affectedVms[0];
  return {
    key: `${p.pattern}|${scope}`,
    rule: `pattern:${p.pattern}`,
    severity: p.severity,
    summary: `${p.title} (confidence ${p.confidence.toFixed(2)}): ${p.affectedVms.join(', ')}`,
    description: p.evidence.join('\n'),
    labels,
  };
}
