import type { Clock } from '../clock.ts';
import type { VigilConfig } from '../config/index.ts';
import type { Ingestor } from '../engine/ingest.ts';
import type { LiveEvents } from '../engine/live-events.ts';
import type { EngineStatus } from '../engine/status.ts';
import type { Alert, AlertState, AlertStatus, AlertTransition, LabelMatcher, Silence } from '../model/index.ts';
import type { AuthRepository } from '../store/sqlite/auth-repository.ts';
import type { Store } from '../store/store.ts';
import type { RulesFile } from './rules-file.ts';

/** The part of the alert service the API uses (`AlertService` from src/alerting satisfies it). */
export interface AlertsApi {
  activeAlerts(): Alert[];
  statusOf(alert: Alert, now: number): AlertStatus;
  ack(id: string, by: string, notes: string | null, now: number): Alert;
  resolve(id: string, by: string, notes: string | null, now: number): Alert;
  suppress(id: string, by: string, reason: string, now: number, durationMs?: number): Silence;
  listSilences(now: number, includeEnded?: boolean): Silence[];
  addSilence(
    input: { matchers: readonly LabelMatcher[]; startsAt?: number; endsAt: number; createdBy: string; reason: string },
    now: number,
  ): Silence;
  expireSilence(id: string, now: number): Silence;
  currentRules(): readonly unknown[];
  /** Replaces the rules in force (after the config file was edited). */
  reloadRules?(rules: VigilConfig['rules'], alerting?: VigilConfig['alerting']): void;
}

/** The part of the notification pipeline the API uses (`NotificationPipeline` satisfies it). */
export interface NotificationsApi {
  channelNames(): string[];
  /** Sends a clearly-labelled test message to one channel (one attempt, through the outbox). */
  sendTest(channel: string, now: number): Promise<{ ok: boolean; retryable: boolean; detail: string }>;
  /** Outbox rows by status (pending, delivered, failed). */
  outboxCounts?(): { pending: number; delivered: number; failed: number };
}

/** Stored alerts and their transitions (`AlertRepository` from src/store/sqlite satisfies it). */
export interface AlertHistoryApi {
  getAlert(id: string): Alert | null;
  listAlerts(q?: { states?: readonly AlertState[]; since?: number; limit?: number }): Alert[];
  history(q?: { alertId?: string; since?: number; limit?: number }): AlertTransition[];
}

/**
 * Everything the HTTP server needs; the engine (composition root) builds it.
 * Optional parts answer 503 `{error:{code:'unavailable'}}` until wired.
 */
export interface ServerDeps {
  readonly config: VigilConfig;
  readonly store: Store;
  readonly events: LiveEvents;
  readonly ingestor: Ingestor;
  /** Tokens and audit log; without it the API only runs unauthenticated on loopback. */
  readonly auth?: AuthRepository;
  readonly alerts?: AlertsApi;
  /** Resolved alerts and per-alert transition history. */
  readonly alertHistory?: AlertHistoryApi;
  /** The YAML config file rules are written to; without it `PUT/DELETE /api/v1/rules` answer 503. */
  readonly rulesFile?: RulesFile;
  readonly status: () => EngineStatus;
  readonly clock: Clock;
  /** The notification pipeline, for `POST /api/v1/test-alert` (operator) and the outbox gauges of `/metrics`. */
  readonly notifications?: NotificationsApi;
  /** Maximum request body in bytes (default 16 MiB). */
  readonly maxBodyBytes?: number;
}
