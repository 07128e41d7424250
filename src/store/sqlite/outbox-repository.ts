import type { DatabaseSync } from 'node:sqlite';
import type { Alert } from '../../model/alert.ts';
import type {
  AttemptRecord,
  DeliveryLogEntry,
  DeliveryStatus,
  Outbox,
  OutboxRow,
  StagedEvent,
} from '../../notify/outbox.ts';
import type { Batch, BatchKind } from '../../notify/types.ts';
import { migrate } from './migrate.ts';

const STEPS = [
  `CREATE TABLE notify_outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     idempotency_key TEXT NOT NULL UNIQUE,
     channel TEXT NOT NULL,
     kind TEXT NOT NULL,
     batch TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending','delivered','failed')),
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     last_status_code INTEGER,
     last_error TEXT
   ) STRICT;
   CREATE INDEX notify_outbox_due ON notify_outbox (status, next_attempt_at);
   CREATE TABLE notify_delivery_log (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     row_id INTEGER NOT NULL REFERENCES notify_outbox(id),
     attempt INTEGER NOT NULL,
     at INTEGER NOT NULL,
     ok INTEGER NOT NULL,
     status_code INTEGER,
     detail TEXT NOT NULL,
     duration_ms INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX notify_delivery_log_row ON notify_delivery_log (row_id);`,
  // channels deliver independently: due rows are read per channel
  `CREATE INDEX notify_outbox_channel_due ON notify_outbox (status, channel, next_attempt_at);`,
  // events inside a grouping window, so neither SIGTERM nor kill -9 loses them
  `CREATE TABLE notify_staged (
     channel TEXT NOT NULL,
     kind TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     first_at INTEGER NOT NULL,
     alert TEXT NOT NULL,
     PRIMARY KEY (channel, kind, fingerprint)
   ) STRICT;`,
  // the alerts each firing message told a channel about, so their resolution is told once the whole group ended
  `CREATE TABLE notify_group_members (
     channel TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     group_id TEXT NOT NULL,
     ended INTEGER NOT NULL DEFAULT 0,
     alert TEXT,
     PRIMARY KEY (channel, fingerprint)
   ) STRICT;
   CREATE INDEX notify_group_members_group ON notify_group_members (channel, group_id);`,
];

interface Raw {
  id: number;
  idempotency_key: string;
  channel: string;
  batch: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  updated_at: number;
  last_status_code: number | null;
  last_error: string | null;
}

function toRow(r: Raw): OutboxRow {
  return {
    id: r.id,
    idempotencyKey: r.idempotency_key,
    channel: r.channel,
    batch: JSON.parse(r.batch) as Batch,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
  };
}

/** The durable outbox in SQLite: a row per delivery (written before any attempt) and a log line per attempt. */
export class OutboxRepository implements Outbox {
  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
    migrate(db, 'outbox', STEPS);
  }

  enqueue(batch: Batch, now: number, firstAttemptAt = now): OutboxRow {
    this.db
      .prepare(
        `INSERT INTO notify_outbox (idempotency_key, channel, kind, batch, status, next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT(idempotency_key) DO NOTHING`,
      )
      .run(batch.idempotencyKey, batch.channel, batch.kind, JSON.stringify(batch), firstAttemptAt, now, now);
    return toRow(
      this.db
        .prepare('SELECT * FROM notify_outbox WHERE idempotency_key = ?')
        .get(batch.idempotencyKey) as unknown as Raw,
    );
  }

  stage(e: StagedEvent): void {
    this.db
      .prepare(
        `INSERT INTO notify_staged (channel, kind, fingerprint, first_at, alert) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (channel, kind, fingerprint) DO UPDATE SET alert = excluded.alert`,
      )
      .run(e.channel, e.kind, e.alert.fingerprint, e.firstAt, JSON.stringify(e.alert));
  }

  staged(): StagedEvent[] {
    const rows = this.db
      .prepare('SELECT channel, kind, first_at, alert FROM notify_staged ORDER BY first_at, rowid')
      .all() as Array<{ channel: string; kind: BatchKind; first_at: number; alert: string }>;
    return rows.map((r) => ({
      channel: r.channel,
      kind: r.kind,
      firstAt: r.first_at,
      alert: JSON.parse(r.alert) as Alert,
    }));
  }

  enqueueGroup(batches: readonly Batch[], now: number): OutboxRow[] {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const rows = batches.map((b) => this.enqueue(b, now));
      const del = this.db.prepare('DELETE FROM notify_staged WHERE channel = ? AND kind = ? AND fingerprint = ?');
      for (const b of batches) for (const a of b.alerts) del.run(b.channel, b.kind, a.fingerprint);
      this.db.exec('COMMIT');
      return rows;
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  openGroup(channel: string, groupId: string, fingerprints: readonly string[]): Alert[] {
    const find = this.db.prepare(
      'SELECT group_id, ended FROM notify_group_members WHERE channel = ? AND fingerprint = ?',
    );
    const put = this.db.prepare(
      'INSERT OR REPLACE INTO notify_group_members (channel, fingerprint, group_id, ended, alert) VALUES (?, ?, ?, 0, NULL)',
    );
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const left = new Set<string>();
      for (const f of fingerprints) {
        const prev = find.get(channel, f) as { group_id: string; ended: number } | undefined;
        if (prev && prev.ended === 0) continue;
        if (prev) left.add(prev.group_id);
        put.run(channel, f, groupId);
      }
      const out = [...left].flatMap((g) => this.completed(channel, g) ?? []);
      this.db.exec('COMMIT');
      return out;
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  endMember(channel: string, fingerprint: string, alert: Alert | null): Alert[] | null {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const me = this.db
        .prepare('SELECT group_id FROM notify_group_members WHERE channel = ? AND fingerprint = ?')
        .get(channel, fingerprint) as { group_id: string } | undefined;
      let out: Alert[] | null = null;
      if (me) {
        this.db
          .prepare('UPDATE notify_group_members SET ended = 1, alert = ? WHERE channel = ? AND fingerprint = ?')
          .run(alert ? JSON.stringify(alert) : null, channel, fingerprint);
        out = this.completed(channel, me.group_id) ?? [];
      }
      this.db.exec('COMMIT');
      return out;
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  /** A group whose members have all ended: deleted, and its resolved alerts returned; else null. In a transaction. */
  private completed(channel: string, group: string): Alert[] | null {
    const rows = this.db
      .prepare('SELECT ended, alert FROM notify_group_members WHERE channel = ? AND group_id = ?')
      .all(channel, group) as { ended: number; alert: string | null }[];
    if (rows.some((r) => r.ended === 0)) return null;
    this.db.prepare('DELETE FROM notify_group_members WHERE channel = ? AND group_id = ?').run(channel, group);
    return rows.flatMap((r) => (r.alert ? [JSON.parse(r.alert) as Alert] : []));
  }

  due(now: number, limit: number, channel?: string, exclude?: ReadonlySet<number>): OutboxRow[] {
    // Rows being attempted are left out in SQL, so `limit` rows come back and no row is parsed only to be dropped.
    const skip = JSON.stringify([...(exclude ?? [])]);
    const rows =
      channel === undefined
        ? this.db
            .prepare(
              `SELECT * FROM notify_outbox WHERE status = 'pending' AND next_attempt_at <= ?
                AND id NOT IN (SELECT value FROM json_each(?)) ORDER BY next_attempt_at, id LIMIT ?`,
            )
            .all(now, skip, limit)
        : this.db
            .prepare(
              `SELECT * FROM notify_outbox WHERE status = 'pending' AND channel = ? AND next_attempt_at <= ?
                AND id NOT IN (SELECT value FROM json_each(?)) ORDER BY next_attempt_at, id LIMIT ?`,
            )
            .all(channel, now, skip, limit);
    return (rows as unknown as Raw[]).map(toRow);
  }

  nextDueByChannel(exclude?: ReadonlySet<number>): Map<string, number> {
    // Index walks, not a scan of every pending row: the channels with pending rows one index seek each (a loose
    // index scan), then per channel its earliest row not being attempted.
    const channels = this.db
      .prepare(
        `WITH RECURSIVE c(name) AS (
           SELECT MIN(channel) FROM notify_outbox WHERE status = 'pending'
           UNION ALL
           SELECT (SELECT MIN(channel) FROM notify_outbox WHERE status = 'pending' AND channel > c.name)
             FROM c WHERE c.name IS NOT NULL)
         SELECT name FROM c WHERE name IS NOT NULL`,
      )
      .all() as Array<{ name: string }>;
    const first = this.db.prepare(
      `SELECT next_attempt_at AS t FROM notify_outbox INDEXED BY notify_outbox_channel_due
        WHERE status = 'pending' AND channel = ? AND id NOT IN (SELECT value FROM json_each(?))
        ORDER BY next_attempt_at LIMIT 1`,
    );
    const skip = JSON.stringify([...(exclude ?? [])]);
    const out = new Map<string, number>();
    for (const { name } of channels) {
      const r = first.get(name, skip) as { t: number } | undefined;
      if (r) out.set(name, r.t);
    }
    return out;
  }

  nextDueAt(): number | null {
    const r = this.db.prepare(`SELECT MIN(next_attempt_at) AS t FROM notify_outbox WHERE status = 'pending'`).get() as {
      t: number | null;
    };
    return r.t;
  }

  recordAttempt(id: number, rec: AttemptRecord): void {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      this.db
        .prepare(
          `UPDATE notify_outbox SET attempts = attempts + 1, status = ?, next_attempt_at = ?, updated_at = ?,
             last_status_code = ?, last_error = ? WHERE id = ?`,
        )
        .run(rec.status, rec.nextAttemptAt, rec.at, rec.statusCode, rec.ok ? null : rec.detail, id);
      this.db
        .prepare(
          `INSERT INTO notify_delivery_log (row_id, attempt, at, ok, status_code, detail, duration_ms)
           VALUES (?, (SELECT attempts FROM notify_outbox WHERE id = ?), ?, ?, ?, ?, ?)`,
        )
        .run(id, id, rec.at, rec.ok ? 1 : 0, rec.statusCode, rec.detail, Math.round(rec.durationMs));
      this.db.exec('COMMIT');
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  get(id: number): OutboxRow | undefined {
    const r = this.db.prepare('SELECT * FROM notify_outbox WHERE id = ?').get(id) as unknown as Raw | undefined;
    return r ? toRow(r) : undefined;
  }

  log(opts: { failedOnly?: boolean; limit?: number }): DeliveryLogEntry[] {
    const rows = this.db
      .prepare(
        `SELECT l.row_id, o.channel, o.kind, o.idempotency_key, l.attempt, l.at, l.ok, l.status_code, l.detail,
                l.duration_ms, o.status
           FROM notify_delivery_log l JOIN notify_outbox o ON o.id = l.row_id
          ${opts.failedOnly ? `WHERE o.status = 'failed'` : ''}
          ORDER BY l.id DESC LIMIT ?`,
      )
      .all(opts.limit ?? 100) as Array<Record<string, number | string | null>>;
    return rows.map((r) => ({
      rowId: r.row_id as number,
      channel: r.channel as string,
      kind: r.kind as string,
      idempotencyKey: r.idempotency_key as string,
      attempt: r.attempt as number,
      at: r.at as number,
      ok: r.ok === 1,
      statusCode: r.status_code as number | null,
      detail: r.detail as string,
      durationMs: r.duration_ms as number,
      rowStatus: r.status as DeliveryStatus,
    }));
  }

  counts(): Record<DeliveryStatus, number> {
    const c = { pending: 0, delivered: 0, failed: 0 };
    for (const r of this.db.prepare('SELECT status, COUNT(*) AS n FROM notify_outbox GROUP BY status').all() as Array<{
      status: DeliveryStatus;
      n: number;
    }>)
      c[r.status] = r.n;
    return c;
  }
}
