/**
 * Live fleet-pattern detection: periodically runs the pattern detectors on the store and turns each finding into
 * a `fleet_pattern_confidence` sample (labels: `pattern` plus its scope), so `pattern` rules alert on it.
 * A pattern that is no longer detected gets a 0 sample, which resolves its alert.
 */
import { FLEET_PATTERN_METRIC, type Sample, seriesKey } from '../../model/index.ts';
import type { Store } from '../../store/store.ts';
import type { FleetPattern, FleetPatternOverrides } from './fleet-patterns.ts';
import { readFleetPatterns } from './read.ts';

export function patternLabels(p: FleetPattern): Record<string, string> {
  const labels: Record<string, string> = { pattern: p.pattern };
  if (p.group) labels[p.group.label] = p.group.value;
  else if (p.affectedVms.length === 1) labels.vm = p.affectedVms[0]!;
  else labels.scope = 'fleet';
  return labels;
}

export class PatternMonitor {
  private overrides: FleetPatternOverrides;
  private active = new Map<string, Record<string, string>>();
  /** The findings of the last run, for status pages and messages. */
  last: FleetPattern[] = [];

  constructor(overrides: FleetPatternOverrides = {}) {
    this.overrides = overrides;
  }

  /** Applies new windows and thresholds (a config reload); the active scopes are kept so gone ones still resolve. */
  configure(overrides: FleetPatternOverrides): void {
    this.overrides = overrides;
  }

  async run(store: Store, now: number): Promise<Sample[]> {
    this.last = await readFleetPatterns(store, now, this.overrides);
    return this.samples(this.last, now);
  }

  /** Samples for the detected patterns, plus a 0 for each pattern scope that was active and is gone. */
  samples(found: readonly FleetPattern[], now: number): Sample[] {
    const out: Sample[] = [];
    const next = new Map<string, Record<string, string>>();
    for (const p of found) {
      const labels = patternLabels(p);
      const key = seriesKey(FLEET_PATTERN_METRIC, labels);
      // Several findings in one scope: the strongest wins (detectors return strongest first).
      if (next.has(key)) continue;
      next.set(key, labels);
      out.push({ metric: FLEET_PATTERN_METRIC, labels, ts: now, value: p.confidence });
    }
    for (const [key, labels] of this.active) {
      if (!next.has(key)) out.push({ metric: FLEET_PATTERN_METRIC, labels, ts: now, value: 0 });
    }
    this.active = next;
    return out;
  }
}
