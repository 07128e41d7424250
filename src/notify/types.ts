import type { Alert } from '../model/alert.ts';

/** What one message is about. */
export type BatchKind = 'firing' | 'resolved' | 'test' | 'notification_failed';

/** One message to one channel: a group of alerts that share the channel and kind. */
export interface Batch {
  readonly channel: string;
  readonly kind: BatchKind;
  readonly groupKey: string;
  /** Unique per delivery; sent as Idempotency-Key where the receiver supports it. */
  readonly idempotencyKey: string;
  readonly createdAt: number;
  readonly alerts: readonly Alert[];
  /** For `notification_failed`: which channel failed and why (already redacted). */
  readonly failure?: { readonly channel: string; readonly detail: string; readonly attempts: number };
  /** For channels that deliver per recipient (SMS): the one recipient of this row; absent means all. */
  readonly recipient?: string;
  /** Recent values of the charted alert's metric by fingerprint (oldest first); added at send time, not stored. */
  readonly series?: Readonly<Record<string, readonly number[]>>;
}

/** The outcome of one delivery attempt. */
export interface SendResult {
  readonly ok: boolean;
  /** Whether trying again may succeed (5xx, 429, timeouts, refused connections). */
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly statusCode?: number;
  /** Human-readable, never containing secrets. */
  readonly detail: string;
}

/** A configured delivery target. */
export interface Channel {
  readonly name: string;
  readonly type: string;
  /** Receivers that de-duplicate on a key we send (webhook, PagerDuty). */
  readonly idempotent: boolean;
  /** Minimum spacing between two sends (rate limit), 0 for none. */
  readonly minIntervalMs: number;
  /** Whether resolved notifications are sent to this channel. */
  readonly sendResolved: boolean;
  /** Severities this channel accepts (null: all). */
  readonly severities: readonly string[] | null;
  /**
   * Set by channels that send one request per recipient (SMS): the pipeline writes one outbox row per recipient,
   * so each is retried and recorded on its own and a retry never resends to a recipient that already got it.
   */
  readonly recipients?: readonly string[];
  /** Secret strings this channel holds; they are scrubbed from every detail and log line. */
  readonly secrets: readonly string[];
  send(batch: Batch, signal?: AbortSignal): Promise<SendResult>;
  close?(): Promise<void>;
}

/** Replaces every occurrence of each secret with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out;
}
