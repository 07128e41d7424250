/**
 * Wires the analytics that feed alerting: live anomaly scores for the metrics `anomaly` rules watch, and
 * periodic fleet-pattern detection when a `pattern` rule exists. Both are stored as series and evaluated by the
 * same rules engine, so they alert, silence and resolve like any threshold rule.
 */
import { LiveAnomalyScorer } from '../analyze/anomaly/live.ts';
import type { FleetPatternOverrides } from '../analyze/patterns/fleet-patterns.ts';
import { PatternMonitor } from '../analyze/patterns/monitor.ts';
import type { RuleConfig } from '../config/sections/rules.ts';
import { ANOMALY_SCORE_METRIC, FLEET_PATTERN_METRIC, type Sample, STANDARD_METRICS } from '../model/index.ts';
import type { Store } from '../store/store.ts';

/** What the enabled rules ask for: which metrics to score, and whether to look for fleet patterns. */
export function derivedNeeds(rules: readonly RuleConfig[]): { anomalyMetrics: string[]; patterns: boolean } {
  const metrics = new Set<string>();
  let patterns = false;
  for (const r of rules) {
    if (!r.enabled) continue;
    if (r.type === 'anomaly') {
      for (const m of r.metric ? [r.metric] : STANDARD_METRICS) metrics.add(m);
    }
    if (r.type === 'pattern') patterns = true;
  }
  metrics.delete(ANOMALY_SCORE_METRIC);
  metrics.delete(FLEET_PATTERN_METRIC);
  return { anomalyMetrics: [...metrics], patterns };
}

export interface DerivedSignalsDeps {
  readonly store: Store;
  /** Evaluates derived samples (the alert service's `ingest`). */
  readonly evaluate: (samples: readonly Sample[], now: number) => void;
  /** How often fleet patterns are looked for. */
  readonly patternIntervalMs: number;
}

export class DerivedSignals {
  private scorer: LiveAnomalyScorer | null = null;
  private monitor: PatternMonitor | null = null;
  private lastPatternRun = Number.NEGATIVE_INFINITY;
  private readonly deps: DerivedSignalsDeps;

  constructor(deps: DerivedSignalsDeps) {
    this.deps = deps;
  }

  /**
   * Applies the rules in force and the fleet-pattern settings (`analytics.patterns`), at start and on every config
   * reload; primes new anomaly baselines from history.
   */
  async configure(rules: readonly RuleConfig[], now: number, patterns: FleetPatternOverrides = {}): Promise<void> {
    const needs = derivedNeeds(rules);
    const same =
      this.scorer !== null &&
      needs.anomalyMetrics.length === this.scorer.watched.size &&
      needs.anomalyMetrics.every((m) => this.scorer!.watched.has(m));
    if (needs.anomalyMetrics.length === 0) this.scorer = null;
    else if (!same) {
      const scorer = new LiveAnomalyScorer(needs.anomalyMetrics);
      await scorer.prime(this.deps.store, now);
      this.scorer = scorer;
    }
    if (!needs.patterns) this.monitor = null;
    else if (this.monitor) this.monitor.configure(patterns);
    else this.monitor = new PatternMonitor(patterns);
  }

  /** After-ingest hook: scores the new samples, stores the scores and evaluates them. */
  async afterIngest(samples: readonly Sample[], now: number): Promise<number> {
    if (!this.scorer) return 0;
    const scores = this.scorer.score(samples);
    if (scores.length === 0) return 0;
    await this.deps.store.append(scores);
    this.deps.evaluate(scores, now);
    return scores.length;
  }

  /** Timer hook: looks for fleet patterns when due; returns the samples written. */
  async tick(now: number): Promise<number> {
    if (!this.monitor || now - this.lastPatternRun < this.deps.patternIntervalMs) return 0;
    this.lastPatternRun = now;
    const samples = await this.monitor.run(this.deps.store, now);
    if (samples.length === 0) return 0;
    await this.deps.store.append(samples);
    this.deps.evaluate(samples, now);
    return samples.length;
  }
}
