import { type AlertingConfig, alertingSchema, type RuleConfig } from '../config/sections/rules.ts';
import type {
  Alert,
  AlertEvent,
  AlertStatus,
  CollectionOutcome,
  LabelMatcher,
  Sample,
  Silence,
} from '../model/index.ts';
import type { AlertRepository } from '../store/sqlite/alert-repository.ts';
import { DEFAULT_RULES } from './default-rules.ts';
import {
  type ActionResult,
  type AlertEngineState,
  acknowledge,
  aggregateWindows,
  type EvaluationResult,
  evaluate,
  freshNoDataWindows,
  resolveManually,
  type SeriesTrack,
  seedRings,
  type VmTrack,
} from './evaluate.ts';
import { type AlertingSettings, type AlertRule, effectiveRules, settingsFromConfig } from './rule.ts';
import { activeMutes, compileMaintenanceWindows, configSilences, type MaintenanceWindow, mutedBy } from './silences.ts';

const PERSIST_REFRESH_MS = 5 * 60_000;
/** Batches smaller than this between regular cycles are treated as pushes (see `run`). */
const SMALL_BATCH = 100;
const HOUSEKEEPING_MS = 5_000;

/** What must be durable at once when it changes: state, severity, breach count, peak, ack, notifications, flapping. */
function trackSignature(t: SeriesTrack): string {
  const a = t.active;
  return `${a?.id}|${a?.state}|${a?.severity}|${a?.notificationCount}|${a?.peakValue}|${a?.acknowledged?.at}|${a?.notificationsSent}|${a?.flapping}|${t.fireTimes.length}|${t.owed}|${t.suppressed}|${t.flapNotifiedAt}`;
}

function vmSignature(t: VmTrack): string {
  return `${t.failingSince}|${t.lastError}|${Object.keys(t.labels).length}`;
}

export interface AlertServiceOptions {
  readonly repository: AlertRepository;
  /** The config's `rules:` (an empty list means the default rules). */
  readonly rules: readonly RuleConfig[];
  /** The config's `alerting:` section (defaults when omitted). */
  readonly alerting?: AlertingConfig;
  readonly onEvent?: (event: AlertEvent) => void;
}

export interface NewSilence {
  readonly matchers: readonly LabelMatcher[];
  readonly startsAt?: number;
  readonly endsAt: number;
  readonly createdBy: string;
  readonly reason: string;
}

export class SilenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SilenceError';
  }
}

/**
 * The alerting stage as the engine uses it: holds the evaluation state, persists every change
 * through the repository and hands events to listeners (the notification pipeline).
 * It holds no clock: every call takes `now`. Restarting restores the state, so nothing re-notifies or is forgotten.
 */
export class AlertService {
  private readonly repo: AlertRepository;
  private rules: AlertRule[] = [];
  private settings: AlertingSettings;
  private alertingConfig: AlertingConfig;
  private windows: MaintenanceWindow[] = [];
  private state: AlertEngineState;
  private dataVersion: number;
  private readonly listeners = new Set<(e: AlertEvent) => void>();
  /** True until the first state change after loading: no-data windows restart then. */
  private restored = true;
  private lastHousekeepingAt = Number.NEGATIVE_INFINITY;
  /** What was last written per track and VM, so value-only updates are written at most every PERSIST_REFRESH_MS. */
  private readonly persistedTracks = new Map<string, { sig: string; at: number }>();
  private readonly persistedVms = new Map<string, string>();
  /** Tracks whose latest value (only) was not written yet: `flush` writes them (at shutdown). */
  private readonly unsaved = new Set<string>();

  constructor(opts: AlertServiceOptions) {
    this.repo = opts.repository;
    this.alertingConfig = opts.alerting ?? alertingSchema.parse({});
    this.settings = settingsFromConfig(this.alertingConfig);
    this.applyRules(opts.rules, this.alertingConfig);
    if (opts.onEvent) this.listeners.add(opts.onEvent);
    this.state = this.repo.loadState();
    this.dataVersion = this.repo.dataVersion();
  }

  /** Subscribes to alert events; returns the unsubscribe function. */
  onEvent(listener: (e: AlertEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The rules in force (compiled). */
  currentRules(): readonly AlertRule[] {
    return this.rules;
  }

  /** Replaces the rules (and optionally the alerting settings) without losing state; alerts of removed rules resolve next cycle. */
  reloadRules(rules: readonly RuleConfig[], alerting?: AlertingConfig): void {
    if (alerting) {
      this.alertingConfig = alerting;
      this.settings = settingsFromConfig(alerting);
    }
    this.applyRules(rules, this.alertingConfig);
  }

  private applyRules(rules: readonly RuleConfig[], alerting: AlertingConfig): void {
    this.rules = effectiveRules(rules, alerting, DEFAULT_RULES);
    this.windows = compileMaintenanceWindows(alerting);
  }

  /** Evaluates newly stored samples and outcomes at `now`. Also call it with empty arrays on a timer (no-data rules, expiry). */
  ingest(
    samples: readonly Sample[],
    outcomes: readonly CollectionOutcome[],
    now: number,
    removedVms: readonly string[] = [],
  ): AlertEvent[] {
    return this.run(samples, outcomes, now, removedVms, false);
  }

  private run(
    samples: readonly Sample[],
    outcomes: readonly CollectionOutcome[],
    now: number,
    removedVms: readonly string[],
    force: boolean,
  ): AlertEvent[] {
    // Small pushes between cycles skip the whole-fleet passes, which run at least every HOUSEKEEPING_MS.
    const housekeeping =
      force ||
      removedVms.length > 0 ||
      samples.length + outcomes.length >= SMALL_BATCH ||
      now - this.lastHousekeepingAt >= HOUSEKEEPING_MS;
    if (housekeeping) this.lastHousekeepingAt = now;
    const result = this.write(now, () =>
      evaluate(
        this.rules,
        { samples, outcomes, now, silences: this.silencesAt(now), maintenance: this.windows, removedVms, housekeeping },
        this.state,
        this.settings,
      ),
    );
    return this.publish(result);
  }

  /** The window each metric's `aggregate` rules need, so the caller can re-read those samples from the store. */
  aggregateWindows(): ReadonlyMap<string, number> {
    return aggregateWindows(this.rules);
  }

  /**
   * Rebuilds the windows behind `aggregate` rules from stored samples (at start, or after a rule gained an
   * aggregate): they live in memory only, and the metrics store already holds every sample they need.
   */
  restoreWindows(samples: readonly Sample[], now: number): void {
    this.state = seedRings(this.state, this.rules, samples, now);
  }

  /** Writes what was held back (latest values of firing alerts); call at shutdown so a restart starts from them. */
  flush(now: number): void {
    if (this.unsaved.size === 0) return;
    this.repo.transaction(() => {
      const keys: string[] = [];
      const changed: Alert[] = [];
      for (const key of this.unsaved) {
        const t = this.state.tracks.get(key);
        if (!t) continue;
        keys.push(key);
        if (t.active) changed.push(t.active);
        this.persistedTracks.set(key, { sig: trackSignature(t), at: now });
      }
      this.repo.save(
        { state: this.state, events: [], transitions: [], changed, dropped: [], touchedTracks: keys, touchedVms: [] },
        this.state,
      );
      this.unsaved.clear();
    });
  }

  /** A cycle with no new data: no-data rules, expiry, silences that ended. */
  tick(now: number): AlertEvent[] {
    return this.run([], [], now, [], true);
  }

  /** VMs deleted from the fleet: their alerts expire. */
  removeVms(vms: readonly string[], now: number): AlertEvent[] {
    return this.ingest([], [], now, vms);
  }

  ack(id: string, by: string, notes: string | null, now: number): Alert {
    const result = this.write(now, () => acknowledge(this.state, id, by, notes, now, this.settings));
    this.publish(result);
    return result.alert;
  }

  resolve(id: string, by: string, notes: string | null, now: number): Alert {
    const result = this.write(now, () => resolveManually(this.state, this.rules, id, by, notes, now, this.settings));
    this.publish(result);
    return result.alert;
  }

  addSilence(input: NewSilence, now: number): Silence {
    const startsAt = input.startsAt ?? now;
    if (input.matchers.length === 0) throw new SilenceError('a silence needs at least one matcher (e.g. vm=web-01)');
    if (input.endsAt <= startsAt) throw new SilenceError('a silence must end after it starts');
    return this.repo.transaction(() => {
      const silence: Silence = {
        id: this.repo.nextSilenceId(),
        matchers: input.matchers,
        startsAt,
        endsAt: input.endsAt,
        createdBy: input.createdBy,
        reason: input.reason,
        createdAt: now,
        expiredAt: null,
      };
      this.repo.insertSilence(silence);
      return silence;
    });
  }

  /**
   * Suppresses one alert for a while (default 24 h, as the seed's suppress): a silence matching its rule and
   * series labels, so it and its later occurrences notify no one until the silence ends.
   */
  suppress(id: string, by: string, reason: string, now: number, durationMs = 24 * 3_600_000): Silence {
    const alert = this.repo.getAlert(id);
    if (!alert) throw new SilenceError(`Alert ${id} not found`);
    const matchers: LabelMatcher[] = [{ name: 'alertname', op: '=', value: alert.rule }];
    for (const [name, value] of Object.entries(alert.labels)) matchers.push({ name, op: '=', value });
    return this.addSilence(
      { matchers, startsAt: now, endsAt: now + durationMs, createdBy: by, reason: reason || `suppress alert ${id}` },
      now,
    );
  }

  expireSilence(id: string, now: number): Silence {
    const found = this.repo.getSilence(id);
    if (!found) throw new SilenceError(`Silence ${id} not found`);
    if (found.expiredAt !== null || found.endsAt <= now) return found;
    return this.repo.transaction(() => this.repo.expireSilence(id, now)!);
  }

  /** Silences from the database (active or scheduled; all with `includeEnded`) plus those in the config file. */
  listSilences(now: number, includeEnded = false): Silence[] {
    return [...configSilences(this.alertingConfig, now), ...this.repo.listSilences(now, includeEnded)];
  }

  /** Pending and firing alerts, as the engine holds them now. */
  activeAlerts(): Alert[] {
    const out: Alert[] = [];
    for (const t of this.state.tracks.values()) if (t.active) out.push(t.active);
    return out.sort((a, b) => Number(b.id) - Number(a.id));
  }

  /** The one status UIs show: acknowledged and suppressed refine firing; suppressed is computed from silences now. */
  statusOf(alert: Alert, now: number): AlertStatus {
    if (alert.state !== 'firing') return alert.state;
    if (alert.acknowledged) return 'acknowledged';
    const mutes = activeMutes(this.silencesAt(now), this.windows, now);
    return mutedBy(mutes, { ...alert.labels, alertname: alert.rule, rule: alert.rule, severity: alert.severity })
      .length > 0
      ? 'suppressed'
      : 'firing';
  }

  private silencesAt(now: number): Silence[] {
    return [...configSilences(this.alertingConfig, now), ...this.repo.listSilences(now)];
  }

  /** Runs a state change in one transaction, first picking up changes another process (the CLI) committed. */
  private write<T extends EvaluationResult | ActionResult>(now: number, step: () => T): T {
    return this.repo.transaction(() => {
      const version = this.repo.dataVersion();
      if (version !== this.dataVersion) {
        this.mergeExternalChanges();
        this.dataVersion = version;
      }
      if (this.restored) {
        this.state = freshNoDataWindows(this.state, this.rules, now);
        this.restored = false;
      }
      const previous = this.state;
      const result = step();
      this.repo.save(this.worthWriting(result, now), previous);
      this.state = result.state;
      return result;
    });
  }

  /**
   * Another process (the CLI, the API of another instance) committed to the database: takes over its acks and
   * manual resolves. Everything else (counts, values, peaks, windows, VM liveness) is fresher in memory, so the
   * in-memory state is kept, and alerts another process rewrote from its older copy are written back.
   */
  private mergeExternalChanges(): void {
    const stored = this.repo.loadState();
    const tracks = new Map(this.state.tracks);
    const rewrite: string[] = [];
    for (const [key, mine] of this.state.tracks) {
      const a = mine.active;
      if (!a) continue;
      const theirs = stored.tracks.get(key);
      if (theirs?.active?.id === a.id) {
        const ack = theirs.active.acknowledged;
        if (ack && a.acknowledged?.at !== ack.at) {
          tracks.set(key, { ...mine, active: { ...a, acknowledged: ack } });
          rewrite.push(key);
        }
      } else if (this.repo.getAlert(a.id)?.state === 'resolved') {
        // Resolved by hand elsewhere: the stored track (flap history) or none.
        if (theirs) tracks.set(key, theirs);
        else tracks.delete(key);
        this.persistedTracks.delete(key);
        this.unsaved.delete(key);
      }
    }
    this.state = { ...this.state, tracks, nextId: Math.max(this.state.nextId, stored.nextId) };
    if (rewrite.length === 0) return;
    const changed = rewrite.map((k) => this.state.tracks.get(k)!.active!);
    this.repo.save(
      { state: this.state, events: [], transitions: [], changed, dropped: [], touchedTracks: rewrite, touchedVms: [] },
      this.state,
    );
    for (const k of rewrite) this.unsaved.delete(k);
  }

  /**
   * Narrows a result to what must be durable: state changes, breach counts, peaks, acks, notifications and
   * flapping always (only the rows that changed); a value that changed alone at most every PERSIST_REFRESH_MS
   * and at `flush`; VM liveness only when its failure status or labels change (after a restart no-data windows
   * start afresh anyway).
   */
  private worthWriting(result: EvaluationResult, now: number): EvaluationResult {
    const tracks: string[] = [];
    const alertIds = new Set<string>();
    for (const key of result.touchedTracks) {
      const t = result.state.tracks.get(key);
      if (!t) {
        tracks.push(key);
        this.persistedTracks.delete(key);
        this.unsaved.delete(key);
        continue;
      }
      const sig = trackSignature(t);
      const prev = this.persistedTracks.get(key);
      if (prev && prev.sig === sig && now - prev.at < PERSIST_REFRESH_MS) {
        this.unsaved.add(key);
        continue;
      }
      this.persistedTracks.set(key, { sig, at: now });
      this.unsaved.delete(key);
      tracks.push(key);
      if (t.active) alertIds.add(t.active.id);
    }
    const vms: string[] = [];
    for (const vm of result.touchedVms) {
      const t = result.state.vms.get(vm);
      if (!t) {
        vms.push(vm);
        this.persistedVms.delete(vm);
        continue;
      }
      const sig = vmSignature(t);
      if (this.persistedVms.get(vm) === sig) continue;
      this.persistedVms.set(vm, sig);
      vms.push(vm);
    }
    return {
      ...result,
      changed: result.changed.filter((a) => a.state === 'resolved' || alertIds.has(a.id)),
      touchedTracks: tracks,
      touchedVms: vms,
    };
  }

  private publish(result: EvaluationResult): AlertEvent[] {
    for (const e of result.events) {
      for (const l of this.listeners) {
        try {
          l(e);
        } catch {
          // A failing listener must not break alerting or other listeners.
        }
      }
    }
    return result.events;
  }
}
