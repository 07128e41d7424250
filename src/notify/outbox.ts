import type { Alert } from '../model/alert.ts';
import type { Batch, BatchKind } from './types.ts';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface OutboxRow {
  readonly id: number;
  readonly idempotencyKey: string;
  readonly channel: string;
  readonly batch: Batch;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly lastStatusCode: number | null;
  readonly lastError: string | null;
}

export interface AttemptRecord {
  readonly at: number;
  readonly ok: boolean;
  readonly statusCode: number | null;
  readonly detail: string;
  readonly durationMs: number;
  /** New row state after this attempt. */
  readonly status: DeliveryStatus;
  readonly nextAttemptAt: number;
}

export interface DeliveryLogEntry {
  readonly rowId: number;
  readonly channel: string;
  readonly kind: string;
  readonly idempotencyKey: string;
  readonly attempt: number;
  readonly at: number;
  readonly ok: boolean;
  readonly statusCode: number | null;
  readonly detail: string;
  readonly durationMs: number;
  readonly rowStatus: DeliveryStatus;
}

/** An event waiting in a grouping window, kept durably so a crash inside the window loses nothing. */
export interface StagedEvent {
  readonly channel: string;
  readonly kind: BatchKind;
  /** When the group it belongs to opened. */
  readonly firstAt: number;
  readonly alert: Alert;
}

/** Durable deliveries: a row exists before any attempt is made. */
export interface Outbox {
  /**
   * Writes a pending row (once per idempotency key). `firstAttemptAt` (default `now`) later than now leases the
   * row to the writer: no delivery loop picks it up before then.
   */
  enqueue(batch: Batch, now: number, firstAttemptAt?: number): OutboxRow;
  /** Keeps an event of an open group (one per channel, kind and fingerprint; the latest alert wins). */
  stage(event: StagedEvent): void;
  /** Every staged event, oldest group first. */
  staged(): StagedEvent[];
  /** Writes a group's rows (one, or one per recipient) and drops their staged events in one transaction. */
  enqueueGroup(batches: readonly Batch[], now: number): OutboxRow[];
  /**
   * Remembers which alerts a firing message told `channel` about, so their resolution is told once, when every
   * one of them has resolved. An alert still firing in an open group of the channel stays in that one; one that
   * had ended there (it fires again) moves to this group, and the resolved alerts of a group that this leaves
   * complete are returned, to be told now.
   */
  openGroup(channel: string, groupId: string, fingerprints: readonly string[]): Alert[];
  /**
   * Records that an alert of an open group resolved (`alert` null: ended without a resolve notice, e.g. silenced
   * or expired). Returns null when the alert is in no open group of the channel; else the group's resolved alerts
   * once every member has ended (and forgets the group), or an empty list while some are still firing.
   */
  endMember(channel: string, fingerprint: string, alert: Alert | null): Alert[] | null;
  /** Pending rows due at `now`, oldest first; only `channel`'s when given; never those in `exclude`. */
  due(now: number, limit: number, channel?: string, exclude?: ReadonlySet<number>): OutboxRow[];
  /** Earliest next attempt among pending rows, or null. */
  nextDueAt(): number | null;
  /** Earliest next attempt of each channel's pending rows, leaving out `exclude` (rows being attempted). */
  nextDueByChannel(exclude?: ReadonlySet<number>): Map<string, number>;
  recordAttempt(id: number, rec: AttemptRecord): void;
  get(id: number): OutboxRow | undefined;
  log(opts: { failedOnly?: boolean; limit?: number }): DeliveryLogEntry[];
  counts(): Record<DeliveryStatus, number>;
}

/** In-memory outbox (tests, `--db :memory:`). */
export class MemoryOutbox implements Outbox {
  private rows = new Map<number, OutboxRow>();
  private entries: DeliveryLogEntry[] = [];
  private stagedEvents = new Map<string, StagedEvent>();
  /** channel → fingerprint → its open group and, once ended, its resolved alert (null: ended silently). */
  private members = new Map<string, Map<string, { group: string; ended: boolean; alert: Alert | null }>>();
  private seq = 0;

  openGroup(channel: string, groupId: string, fingerprints: readonly string[]): Alert[] {
    let m = this.members.get(channel);
    if (!m) {
      m = new Map();
      this.members.set(channel, m);
    }
    const left = new Set<string>();
    for (const f of fingerprints) {
      const prev = m.get(f);
      if (prev && !prev.ended) continue;
      if (prev) left.add(prev.group);
      m.set(f, { group: groupId, ended: false, alert: null });
    }
    return [...left].flatMap((g) => this.completed(m, g) ?? []);
  }
  endMember(channel: string, fingerprint: string, alert: Alert | null): Alert[] | null {
    const m = this.members.get(channel);
    const me = m?.get(fingerprint);
    if (!m || !me) return null;
    me.ended = true;
    me.alert = alert;
    return this.completed(m, me.group) ?? [];
  }
  /** A group whose members have all ended: forgotten, and its resolved alerts returned; else null. */
  private completed(
    m: Map<string, { group: string; ended: boolean; alert: Alert | null }>,
    group: string,
  ): Alert[] | null {
    const members = [...m.entries()].filter(([, v]) => v.group === group);
    if (members.some(([, v]) => !v.ended)) return null;
    for (const [f] of members) m.delete(f);
    return members.flatMap(([, v]) => (v.alert ? [v.alert] : []));
  }

  stage(event: StagedEvent): void {
    const key = `${event.channel}\u0000${event.kind}\u0000${event.alert.fingerprint}`;
    const prev = this.stagedEvents.get(key);
    this.stagedEvents.set(key, prev ? { ...event, firstAt: prev.firstAt } : event);
  }
  staged(): StagedEvent[] {
    return [...this.stagedEvents.values()].sort((a, b) => a.firstAt - b.firstAt);
  }
  enqueueGroup(batches: readonly Batch[], now: number): OutboxRow[] {
    const rows = batches.map((b) => this.enqueue(b, now));
    for (const b of batches)
      for (const a of b.alerts) this.stagedEvents.delete(`${b.channel}\u0000${b.kind}\u0000${a.fingerprint}`);
    return rows;
  }

  enqueue(batch: Batch, now: number, firstAttemptAt = now): OutboxRow {
    const existing = [...this.rows.values()].find((r) => r.idempotencyKey === batch.idempotencyKey);
    if (existing) return existing;
    const row: OutboxRow = {
      id: ++this.seq,
      idempotencyKey: batch.idempotencyKey,
      channel: batch.channel,
      batch,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: firstAttemptAt,
      createdAt: now,
      updatedAt: now,
      lastStatusCode: null,
      lastError: null,
    };
    this.rows.set(row.id, row);
    return row;
  }
  due(now: number, limit: number, channel?: string, exclude?: ReadonlySet<number>): OutboxRow[] {
    return [...this.rows.values()]
      .filter(
        (r) =>
          r.status === 'pending' &&
          r.nextAttemptAt <= now &&
          (channel === undefined || r.channel === channel) &&
          !exclude?.has(r.id),
      )
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.id - b.id)
      .slice(0, limit);
  }
  nextDueAt(): number | null {
    let t: number | null = null;
    for (const r of this.rows.values())
      if (r.status === 'pending' && (t === null || r.nextAttemptAt < t)) t = r.nextAttemptAt;
    return t;
  }
  nextDueByChannel(exclude?: ReadonlySet<number>): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.rows.values()) {
      if (r.status !== 'pending' || exclude?.has(r.id)) continue;
      const t = out.get(r.channel);
      if (t === undefined || r.nextAttemptAt < t) out.set(r.channel, r.nextAttemptAt);
    }
    return out;
  }
  recordAttempt(id: number, rec: AttemptRecord): void {
    const r = this.rows.get(id);
    if (!r) return;
    const next: OutboxRow = {
      ...r,
      attempts: r.attempts + 1,
      status: rec.status,
      nextAttemptAt: rec.nextAttemptAt,
      updatedAt: rec.at,
      lastStatusCode: rec.statusCode,
      lastError: rec.ok ? null : rec.detail,
    };
    this.rows.set(id, next);
    this.entries.push({
      rowId: id,
      channel: r.channel,
      kind: r.batch.kind,
      idempotencyKey: r.idempotencyKey,
      attempt: next.attempts,
      at: rec.at,
      ok: rec.ok,
      statusCode: rec.statusCode,
      detail: rec.detail,
      durationMs: rec.durationMs,
      rowStatus: rec.status,
    });
  }
  get(id: number): OutboxRow | undefined {
    return this.rows.get(id);
  }
  log(opts: { failedOnly?: boolean; limit?: number }): DeliveryLogEntry[] {
    const list = opts.failedOnly
      ? this.entries.filter((e) => this.rows.get(e.rowId)?.status === 'failed')
      : this.entries;
    return list.slice(-(opts.limit ?? 100)).reverse();
  }
  counts(): Record<DeliveryStatus, number> {
    const c = { pending: 0, delivered: 0, failed: 0 };
    for (const r of this.rows.values()) c[r.status]++;
    return c;
  }
}
