import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import type { AlertEngineState, EvaluationResult, NotifyMark, SeriesTrack, VmTrack } from '../../alerting/evaluate.ts';
import type { Alert, AlertState, AlertTransition, Severity, Silence } from '../../model/index.ts';
import { migrate } from './migrate.ts';

const STEPS = [
  `CREATE TABLE alerts (
     id TEXT PRIMARY KEY,
     fingerprint TEXT NOT NULL,
     rule TEXT NOT NULL,
     vm TEXT,
     state TEXT NOT NULL,
     severity TEXT NOT NULL,
     starts_at INTEGER NOT NULL,
     fired_at INTEGER,
     resolved_at INTEGER,
     acked_at INTEGER,
     data TEXT NOT NULL
   ) STRICT;
   CREATE INDEX alerts_state ON alerts(state);
   CREATE INDEX alerts_fired ON alerts(fired_at);
   CREATE INDEX alerts_vm ON alerts(vm);
   CREATE TABLE alert_history (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     alert_id TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     rule TEXT NOT NULL,
     vm TEXT,
     at INTEGER NOT NULL,
     from_state TEXT NOT NULL,
     to_state TEXT NOT NULL,
     value REAL,
     severity TEXT NOT NULL,
     reason TEXT,
     by TEXT,
     notes TEXT
   ) STRICT;
   CREATE INDEX alert_history_alert ON alert_history(alert_id);
   CREATE INDEX alert_history_at ON alert_history(at);
   CREATE TABLE silences (
     id TEXT PRIMARY KEY,
     matchers TEXT NOT NULL,
     starts_at INTEGER NOT NULL,
     ends_at INTEGER NOT NULL,
     created_by TEXT NOT NULL,
     reason TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expired_at INTEGER
   ) STRICT;
   CREATE INDEX silences_ends ON silences(ends_at);
   CREATE TABLE alert_tracks (key TEXT PRIMARY KEY, data TEXT NOT NULL) STRICT;
   CREATE TABLE alert_vms (vm TEXT PRIMARY KEY, data TEXT NOT NULL) STRICT;
   CREATE TABLE alert_marks (key TEXT PRIMARY KEY, at INTEGER NOT NULL, severity TEXT NOT NULL) STRICT;
   CREATE TABLE alert_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;`,
];

export interface AlertQuery {
  readonly states?: readonly AlertState[];
  readonly vm?: string;
  readonly rule?: string;
  readonly severity?: Severity;
  /** Alerts that fired (or, for still-pending ones, started) at or after this time. */
  readonly since?: number;
  /** Default 1000; `Infinity` for all. */
  readonly limit?: number;
}

export interface HistoryQuery {
  readonly alertId?: string;
  readonly since?: number;
  readonly limit?: number;
}

/**
 * Persistence of alerts, their history (every transition), silences and the engine's bookkeeping,
 * in the alerting component's own tables of a SQLite database.
 */
export class AlertRepository {
  readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
    migrate(db, 'alerts', STEPS);
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE), so concurrent writers (CLI, `vigil up`) serialise. */
  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  /** Changes whenever another connection commits; lets a running service notice CLI acks and silences. */
  dataVersion(): number {
    return (this.db.prepare('PRAGMA data_version').get() as { data_version: number }).data_version;
  }

  loadState(): AlertEngineState {
    const tracks = new Map<string, SeriesTrack>();
    for (const r of this.db.prepare('SELECT key, data FROM alert_tracks').all() as { key: string; data: string }[]) {
      // Tracks saved before `suppressed` was always written lack it.
      const t = JSON.parse(r.data) as SeriesTrack;
      tracks.set(r.key, { ...t, suppressed: t.suppressed === true });
    }
    const vms = new Map<string, VmTrack>();
    for (const r of this.db.prepare('SELECT vm, data FROM alert_vms').all() as { vm: string; data: string }[]) {
      vms.set(r.vm, JSON.parse(r.data) as VmTrack);
    }
    const marks = new Map<string, NotifyMark>();
    for (const r of this.db.prepare('SELECT key, at, severity FROM alert_marks').all() as {
      key: string;
      at: number;
      severity: NotifyMark['severity'];
    }[]) {
      marks.set(r.key, { at: r.at, severity: r.severity });
    }
    const meta = this.db.prepare("SELECT value FROM alert_meta WHERE key = 'next_id'").get() as
      | { value: number }
      | undefined;
    const maxId = this.db.prepare('SELECT MAX(CAST(id AS INTEGER)) AS m FROM alerts').get() as { m: number | null };
    const nextId = Math.max(meta?.value ?? 1, (maxId.m ?? 0) + 1);
    return { tracks, vms, marks, rings: new Map(), nextId };
  }

  /**
   * Persists what an evaluation (or an ack/resolve) changed. Call inside `transaction`.
   * With `previous` (the state the result was computed from), only changed re-notification marks are written.
   */
  save(result: EvaluationResult, previous?: AlertEngineState): void {
    const { state } = result;
    const upsertAlert = this.db.prepare(
      `INSERT INTO alerts (id, fingerprint, rule, vm, state, severity, starts_at, fired_at, resolved_at, acked_at, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET state = excluded.state, severity = excluded.severity, fired_at = excluded.fired_at,
         resolved_at = excluded.resolved_at, acked_at = excluded.acked_at, data = excluded.data`,
    );
    for (const a of result.changed) {
      upsertAlert.run(
        a.id,
        a.fingerprint,
        a.rule,
        a.vm,
        a.state,
        a.severity,
        a.startsAt,
        a.firedAt,
        a.resolvedAt,
        a.acknowledged?.at ?? null,
        JSON.stringify(a),
      );
    }
    const del = this.db.prepare('DELETE FROM alerts WHERE id = ?');
    for (const id of result.dropped) del.run(id);
    this.appendHistory(result.transitions);
    const putTrack = this.db.prepare('INSERT OR REPLACE INTO alert_tracks (key, data) VALUES (?, ?)');
    const delTrack = this.db.prepare('DELETE FROM alert_tracks WHERE key = ?');
    for (const key of result.touchedTracks) {
      const t = state.tracks.get(key);
      if (t) putTrack.run(key, JSON.stringify(t));
      else delTrack.run(key);
    }
    const putVm = this.db.prepare('INSERT OR REPLACE INTO alert_vms (vm, data) VALUES (?, ?)');
    const delVm = this.db.prepare('DELETE FROM alert_vms WHERE vm = ?');
    for (const vm of result.touchedVms) {
      const t = state.vms.get(vm);
      if (t) putVm.run(vm, JSON.stringify(t));
      else delVm.run(vm);
    }
    const putMark = this.db.prepare('INSERT OR REPLACE INTO alert_marks (key, at, severity) VALUES (?, ?, ?)');
    if (previous) {
      // Marks are replaced, never mutated: only entries whose object changed need writing.
      for (const [k, m] of state.marks) if (previous.marks.get(k) !== m) putMark.run(k, m.at, m.severity);
      const delMark = this.db.prepare('DELETE FROM alert_marks WHERE key = ?');
      for (const k of previous.marks.keys()) if (!state.marks.has(k)) delMark.run(k);
    } else {
      this.db.exec('DELETE FROM alert_marks');
      for (const [k, m] of state.marks) putMark.run(k, m.at, m.severity);
    }
    this.db
      .prepare(
        "INSERT INTO alert_meta (key, value) VALUES ('next_id', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      )
      .run(state.nextId);
  }

  private appendHistory(transitions: readonly AlertTransition[]): void {
    if (transitions.length === 0) return;
    const ins = this.db.prepare(
      `INSERT INTO alert_history (alert_id, fingerprint, rule, vm, at, from_state, to_state, value, severity, reason, by, notes)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const t of transitions) {
      ins.run(t.alertId, t.fingerprint, t.rule, t.vm, t.at, t.from, t.to, t.value, t.severity, t.reason, t.by, t.notes);
    }
  }

  getAlert(id: string): Alert | null {
    const row = this.db.prepare('SELECT data FROM alerts WHERE id = ?').get(id) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as Alert) : null;
  }

  /** Alerts, newest first. */
  listAlerts(q: AlertQuery = {}): Alert[] {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (q.states && q.states.length > 0) {
      where.push(`state IN (${q.states.map(() => '?').join(',')})`);
      args.push(...q.states);
    }
    if (q.vm !== undefined) {
      where.push('vm = ?');
      args.push(q.vm);
    }
    if (q.rule !== undefined) {
      where.push('rule = ?');
      args.push(q.rule);
    }
    if (q.severity !== undefined) {
      where.push('severity = ?');
      args.push(q.severity);
    }
    if (q.since !== undefined) {
      where.push('COALESCE(fired_at, starts_at) >= ?');
      args.push(q.since);
    }
    const sql = `SELECT data FROM alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY COALESCE(fired_at, starts_at) DESC, CAST(id AS INTEGER) DESC LIMIT ?`;
    const limit = q.limit ?? 1000;
    args.push(Number.isFinite(limit) ? limit : -1); // SQLite: a negative LIMIT is no limit
    return (this.db.prepare(sql).all(...args) as { data: string }[]).map((r) => JSON.parse(r.data) as Alert);
  }

  /** Transitions, oldest first. */
  history(q: HistoryQuery = {}): AlertTransition[] {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (q.alertId !== undefined) {
      where.push('alert_id = ?');
      args.push(q.alertId);
    }
    if (q.since !== undefined) {
      where.push('at >= ?');
      args.push(q.since);
    }
    args.push(q.limit ?? 10_000);
    const rows = this.db
      .prepare(`SELECT * FROM alert_history ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`)
      .all(...args) as Record<string, unknown>[];
    return rows.map((r) => ({
      alertId: r.alert_id as string,
      fingerprint: r.fingerprint as string,
      rule: r.rule as string,
      vm: (r.vm as string | null) ?? null,
      at: r.at as number,
      from: r.from_state as AlertTransition['from'],
      to: r.to_state as AlertTransition['to'],
      value: (r.value as number | null) ?? null,
      severity: r.severity as AlertTransition['severity'],
      reason: (r.reason as string | null) ?? null,
      by: (r.by as string | null) ?? null,
      notes: (r.notes as string | null) ?? null,
    }));
  }

  insertSilence(s: Silence): void {
    this.db
      .prepare(
        `INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, reason, created_at, expired_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(s.id, JSON.stringify(s.matchers), s.startsAt, s.endsAt, s.createdBy, s.reason, s.createdAt, s.expiredAt);
  }

  expireSilence(id: string, at: number): Silence | null {
    this.db.prepare('UPDATE silences SET expired_at = ? WHERE id = ? AND expired_at IS NULL').run(at, id);
    return this.getSilence(id);
  }

  getSilence(id: string): Silence | null {
    const row = this.db.prepare('SELECT * FROM silences WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return row ? toSilence(row) : null;
  }

  /** Silences not yet over at `now` (active or scheduled), or all of them. */
  listSilences(now: number, includeEnded = false): Silence[] {
    const rows = (
      includeEnded
        ? this.db.prepare('SELECT * FROM silences ORDER BY starts_at DESC').all()
        : this.db
            .prepare(
              'SELECT * FROM silences WHERE ends_at > ? AND (expired_at IS NULL OR expired_at > ?) ORDER BY starts_at',
            )
            .all(now, now)
    ) as Record<string, unknown>[];
    return rows.map(toSilence);
  }

  /**
   * Retention: deletes resolved alerts resolved before `before`, history lines older than it, and silences that
   * ended before it. Active alerts and their history are kept whatever their age. Returns the rows deleted.
   */
  prune(before: number): { alerts: number; history: number; silences: number } {
    return this.transaction(() => {
      const alerts = this.db
        .prepare("DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < ?")
        .run(before).changes;
      const history = this.db
        .prepare(
          `DELETE FROM alert_history WHERE at < ?
           AND alert_id NOT IN (SELECT id FROM alerts WHERE state IN ('pending', 'firing'))`,
        )
        .run(before).changes;
      const silences = this.db
        .prepare('DELETE FROM silences WHERE MIN(ends_at, COALESCE(expired_at, ends_at)) < ?')
        .run(before).changes;
      return { alerts: Number(alerts), history: Number(history), silences: Number(silences) };
    });
  }

  nextSilenceId(): string {
    const row = this.db.prepare('SELECT MAX(CAST(id AS INTEGER)) AS m FROM silences').get() as { m: number | null };
    return String((row.m ?? 0) + 1);
  }
}

function toSilence(r: Record<string, unknown>): Silence {
  return {
    id: r.id as string,
    matchers: JSON.parse(r.matchers as string) as Silence['matchers'],
    startsAt: r.starts_at as number,
    endsAt: r.ends_at as number,
    createdBy: r.created_by as string,
    reason: r.reason as string,
    createdAt: r.created_at as number,
    expiredAt: (r.expired_at as number | null) ?? null,
  };
}
