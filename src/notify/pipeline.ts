import { createHash } from 'node:crypto';
import type { Clock } from '../clock.ts';
import type { Alert, AlertEvent, Severity } from '../model/alert.ts';
import { backoffDelayMs, DEFAULT_RETRY, type RetryPolicy } from './backoff.ts';
import { FAILURE_SEVERITY } from './format.ts';
import type { Outbox, OutboxRow } from './outbox.ts';
import { type Batch, type BatchKind, type Channel, redact, type SendResult } from './types.ts';

export interface Route {
  readonly severities?: readonly Severity[];
  /** Every label must equal the given value (`vm`, `resource_group`, any alert label). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly channels: readonly string[];
}

export interface PipelineOptions {
  readonly channels: readonly Channel[];
  readonly outbox: Outbox;
  readonly clock: Clock;
  /** Used when an alert names no channels; the first matching route wins. */
  readonly routes?: readonly Route[];
  /** Used when no route matches. */
  readonly defaultChannels?: readonly string[];
  readonly groupWaitMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /** Parallel deliveries per channel without a rate limit. */
  readonly concurrencyPerChannel?: number;
  readonly random?: () => number;
  /** How long close() waits for attempts in flight before abandoning them (they stay pending). Default 5 s. */
  readonly closeGraceMs?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /**
   * Recent values of an alert's metric up to `now`, oldest first (the engine reads the last hours from the store),
   * for email charts. Read when the message is sent; `now` is the message's creation time, so retries show the
   * same chart.
   */
  readonly history?: HistoryFn;
}

/** How long a `notify test` row stays leased to the process that sends it. */
export const TEST_LEASE_MS = 10 * 60_000;

/** Due rows read per channel in one outbox query during a burst. */
const READ_AHEAD = 32;

export type HistoryFn = (alert: Alert, now: number) => readonly number[] | Promise<readonly number[]>;

/** Most points a chart gets: longer histories are averaged into this many buckets. */
export const CHART_MAX_POINTS = 240;

/** Averages `values` into at most `max` evenly sized buckets (order kept). */
export function downsample(values: readonly number[], max: number): number[] {
  if (values.length <= max) return [...values];
  const out: number[] = [];
  for (let b = 0; b < max; b++) {
    const from = Math.floor((b * values.length) / max);
    const to = Math.floor(((b + 1) * values.length) / max);
    let sum = 0;
    for (let i = from; i < to; i++) sum += values[i]!;
    out.push(sum / (to - from));
  }
  return out;
}

interface Group {
  readonly channel: string;
  readonly kind: BatchKind;
  readonly firstAt: number;
  readonly alerts: Map<string, Alert>;
}

/**
 * alert events → routing → grouping (per channel and kind, `groupWaitMs`) → durable outbox → delivery
 * with retries, backoff, Retry-After and per-channel rate limits → delivery log.
 */
export class NotificationPipeline {
  readonly groupWaitMs: number;
  private readonly channels = new Map<string, Channel>();
  private readonly outbox: Outbox;
  private readonly clock: Clock;
  private readonly routes: readonly Route[];
  private readonly defaultChannels: readonly string[];
  private readonly retry: RetryPolicy;
  private readonly concurrency: number;
  private readonly random: () => number;
  private readonly logFn: (level: 'info' | 'warn' | 'error', message: string) => void;
  private readonly groups = new Map<string, Group>();
  private readonly inFlight = new Set<number>();
  /** Due rows read from the outbox but not started yet, per channel, taken in order as slots free up. */
  private readonly ahead = new Map<string, OutboxRow[]>();
  /** Attempts in flight per channel. */
  private readonly busy = new Map<string, number>();
  private readonly running = new Set<Promise<unknown>>();
  /** Aborted when close() gives up waiting for attempts in flight. */
  private readonly stopping = new AbortController();
  private readonly closeGraceMs: number;
  private readonly readyAt = new Map<string, number>();
  private readonly allSecrets: string[];
  private readonly history: HistoryFn | undefined;
  private wake: AbortController | null = null;
  private seq = 0;

  constructor(opts: PipelineOptions) {
    for (const c of opts.channels) this.channels.set(c.name, c);
    this.outbox = opts.outbox;
    this.clock = opts.clock;
    this.routes = opts.routes ?? [];
    this.defaultChannels = opts.defaultChannels ?? [];
    this.groupWaitMs = opts.groupWaitMs ?? 10_000;
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.concurrency = opts.concurrencyPerChannel ?? 8;
    this.random = opts.random ?? Math.random;
    this.logFn = opts.log ?? (() => {});
    this.history = opts.history;
    this.closeGraceMs = opts.closeGraceMs ?? 5000;
    this.allSecrets = opts.channels.flatMap((c) => c.secrets);
    const known = new Set(this.channels.keys());
    for (const name of [...this.defaultChannels, ...this.routes.flatMap((r) => r.channels)])
      if (!known.has(name)) throw new Error(`notification route names unknown channel "${name}"`);
  }

  channelNames(): string[] {
    return [...this.channels.keys()];
  }

  /** Channels for one alert: its rule's channels, else the first matching route, else the defaults. */
  route(alert: Alert): string[] {
    if (alert.channels.length > 0) return [...alert.channels];
    for (const r of this.routes) {
      if (r.severities && !r.severities.includes(alert.severity)) continue;
      const labels: Record<string, string | null | undefined> = { ...alert.labels, vm: alert.vm ?? alert.labels.vm };
      if (r.labels && !Object.entries(r.labels).every(([k, v]) => labels[k] === v)) continue;
      return [...r.channels];
    }
    return [...this.defaultChannels];
  }

  /** Accepts the engine's events (those with `notify: true` and kind fired/refired/resolved). */
  handle(events: readonly AlertEvent[], now: number): void {
    for (const ev of events) {
      // An alert that ends (resolved, silenced or not, or expired) leaves its firing group even when nobody is told.
      const ends = ev.kind === 'resolved' || ev.kind === 'expired';
      if (!ev.notify && !ends) continue;
      const kind: BatchKind | null =
        ev.kind === 'fired' || ev.kind === 'refired' ? 'firing' : ev.kind === 'resolved' ? 'resolved' : null;
      if (!kind && !ends) continue;
      for (const name of this.route(ev.alert)) {
        const ch = this.channels.get(name);
        if (!ch) {
          if (ev.notify)
            this.logFn('warn', `alert ${ev.alert.rule} names unknown notification channel "${name}"; skipped`);
          continue;
        }
        if (ch.severities && !ch.severities.includes(ev.alert.severity)) continue;
        if (ends) {
          if (!ch.sendResolved) continue;
          // A firing message's resolution is told once, when every alert it listed has ended.
          const tell = ev.notify && kind === 'resolved';
          const whole = this.outbox.endMember(name, ev.alert.fingerprint, tell ? ev.alert : null);
          if (whole === null) {
            if (tell) this.addToGroup(name, 'resolved', ev.alert, now);
          } else for (const a of whole) this.addToGroup(name, 'resolved', a, now);
          continue;
        }
        this.addToGroup(name, 'firing', ev.alert, now);
      }
    }
    this.flush(now);
    this.wake?.abort();
  }

  private addToGroup(channel: string, kind: BatchKind, alert: Alert, now: number): void {
    const key = `${channel}\u0000${kind}`;
    let g = this.groups.get(key);
    if (!g) {
      g = { channel, kind, firstAt: now, alerts: new Map() };
      this.groups.set(key, g);
    }
    g.alerts.set(alert.fingerprint, alert);
    // durable at once: a crash inside the window loses nothing (with no window, flush below writes the row)
    if (this.groupWaitMs > 0) this.outbox.stage({ channel, kind, firstAt: g.firstAt, alert });
  }

  /**
   * Reopens the groups a previous process left staged (killed inside a grouping window) and writes those whose
   * wait has elapsed. `run` does this first; call it once per process that delivers.
   */
  resume(now: number): number {
    for (const e of this.outbox.staged()) {
      const key = `${e.channel}\u0000${e.kind}`;
      let g = this.groups.get(key);
      if (!g) {
        g = { channel: e.channel, kind: e.kind, firstAt: e.firstAt, alerts: new Map() };
        this.groups.set(key, g);
      }
      if (!g.alerts.has(e.alert.fingerprint)) g.alerts.set(e.alert.fingerprint, e.alert);
    }
    return this.flush(now);
  }

  /**
   * Writes every group whose wait has elapsed (every group with `all`, as at shutdown) to the outbox and drops
   * its staged events; returns how many rows were written.
   */
  flush(now: number, all = false): number {
    let n = 0;
    for (const [key, g] of this.groups) {
      if (!all && now < g.firstAt + this.groupWaitMs) continue;
      this.groups.delete(key);
      const alerts = [...g.alerts.values()];
      const ids = alerts
        .map((a) => `${a.id}:${a.state}`)
        .sort()
        .join(',');
      const hash = createHash('sha256').update(`${g.channel}|${g.kind}|${g.firstAt}|${ids}`).digest('hex').slice(0, 24);
      const batch: Batch = {
        channel: g.channel,
        kind: g.kind,
        groupKey: `${g.channel}/${g.kind}`,
        idempotencyKey: hash,
        createdAt: now,
        alerts,
      };
      this.outbox.enqueueGroup(this.rowsOf(batch), now);
      n++;
      if (g.kind === 'firing' && this.channels.get(g.channel)?.sendResolved) {
        // Alerts that fire again leave their old group; one left complete by that is told resolved now.
        const resolved = this.outbox.openGroup(
          g.channel,
          hash,
          alerts.map((a) => a.fingerprint),
        );
        for (const a of resolved) this.addToGroup(g.channel, 'resolved', a, now);
      }
    }
    return n;
  }

  /** The rows a message becomes: one, or one per recipient for channels that deliver per recipient (SMS). */
  private rowsOf(batch: Batch): Batch[] {
    const to = this.channels.get(batch.channel)?.recipients;
    if (!to || to.length < 2) return [batch];
    return to.map((recipient, i) => ({ ...batch, recipient, idempotencyKey: `${batch.idempotencyKey}:to${i + 1}` }));
  }

  /** Adds the charted alerts' recent metric values (email only), read at send time up to the batch's creation. */
  private async withSeries(batch: Batch, ch: Channel): Promise<Batch> {
    if (!this.history || ch.type !== 'email' || batch.series || batch.alerts.length === 0) return batch;
    const series: Record<string, readonly number[]> = {};
    for (const a of batch.alerts.slice(0, 1)) {
      try {
        series[a.fingerprint] = downsample(await this.history(a, batch.createdAt), CHART_MAX_POINTS);
      } catch (e) {
        this.logFn('warn', `chart history for ${a.fingerprint} unavailable: ${(e as Error).message}`);
      }
    }
    return { ...batch, series };
  }

  /** Attempts that may run at once on a channel: 1 when rate-limited, else `concurrencyPerChannel`. */
  private width(ch: Channel | undefined): number {
    return ch && ch.minIntervalMs === 0 ? this.concurrency : 1;
  }

  /**
   * When something next needs doing (a group to flush or a row to attempt), or null. A channel whose every slot
   * is busy is left out: its attempt wakes the loop when it ends.
   */
  nextWakeAt(): number | null {
    let t: number | null = null;
    for (const [name, at] of this.outbox.nextDueByChannel(this.inFlight)) {
      const ch = this.channels.get(name);
      if ((this.busy.get(name) ?? 0) >= this.width(ch)) continue;
      const when = ch && ch.minIntervalMs > 0 ? Math.max(at, this.readyAt.get(name) ?? 0) : at;
      if (t === null || when < t) t = when;
    }
    for (const g of this.groups.values()) {
      const at = g.firstAt + this.groupWaitMs;
      if (t === null || at < t) t = at;
    }
    return t;
  }

  /**
   * Starts an attempt for every due row that has a free slot on its channel and returns at once: each channel
   * delivers on its own, so a slow or hanging channel never holds up another. A rate-limited channel starts at
   * most one row and only once its interval has passed; the rest wait (never dropped). `skip` leaves rows out
   * (and collects the ones started).
   */
  private dispatch(now: number, skip?: Set<number>): Array<{ id: number; run: Promise<boolean> }> {
    const started: Array<{ id: number; run: Promise<boolean> }> = [];
    const free = (name: string) => this.width(this.channels.get(name)) - (this.busy.get(name) ?? 0);
    // Channels with rows read ahead need no query; the outbox is asked only when a channel with a free slot has
    // none, so a burst costs one read per READ_AHEAD rows, not one per attempt.
    const due = new Map<string, number>();
    for (const [name, rows] of this.ahead) if (rows.length > 0) due.set(name, now);
    if ([...this.channels.keys()].some((n) => !due.has(n) && free(n) > 0) || due.size === 0) {
      const held = new Set([...this.inFlight, ...[...this.ahead.values()].flat().map((r) => r.id)]);
      for (const [name, at] of this.outbox.nextDueByChannel(held)) if (!due.has(name)) due.set(name, at);
    }
    for (const [name, at] of due) {
      if (at > now) continue;
      const ch = this.channels.get(name);
      const slots = free(name);
      if (slots <= 0) continue;
      if (ch && ch.minIntervalMs > 0 && (this.readyAt.get(name) ?? 0) > now) continue;
      let ahead = this.ahead.get(name) ?? [];
      if (ahead.length === 0) {
        ahead = this.outbox.due(now, Math.max(slots, READ_AHEAD), name, new Set([...this.inFlight, ...(skip ?? [])]));
        this.ahead.set(name, ahead);
      }
      for (const row of ahead.splice(0, slots)) {
        skip?.add(row.id);
        this.inFlight.add(row.id);
        this.busy.set(name, (this.busy.get(name) ?? 0) + 1);
        // Resolves to whether the row may still be pending (a retryable failure): deliverDue keeps skipping those.
        const run = (row.batch.kind === 'test' ? this.abandonTest(row).then(() => false) : this.attempt(row, ch))
          .then(
            (r) => typeof r === 'object' && !r.ok && r.retryable,
            (e: Error) => {
              this.logFn('error', `notification to ${name} not recorded: ${e.message}`);
              return true;
            },
          )
          .finally(() => {
            this.inFlight.delete(row.id);
            this.busy.set(name, (this.busy.get(name) ?? 1) - 1);
            this.running.delete(run);
            this.wake?.abort();
          });
        this.running.add(run);
        started.push({ id: row.id, run });
      }
    }
    return started;
  }

  /**
   * Attempts every due row once (each channel on its own; a rate-limited channel at most one row per call) and
   * waits for those attempts. `nextWakeAt` says when to come back. For tests and one-shot tools; `run` is the loop.
   */
  async deliverDue(now: number): Promise<number> {
    // Rows attempted in this call that are still pending (a retry due at once) are not attempted again; rows that
    // left 'pending' are forgotten, so each query skips only those few, not every row seen so far.
    const seen = new Set<number>();
    const mine = new Set<Promise<void>>();
    let done = 0;
    for (;;) {
      for (const { id, run } of this.dispatch(now, seen)) {
        const p = run.then((mayBePending) => {
          done++;
          mine.delete(p);
          if (!mayBePending) seen.delete(id);
        });
        mine.add(p);
      }
      if (mine.size === 0) return done;
      await Promise.race(mine);
    }
  }

  /**
   * A test row whose lease ran out: the process that wrote it (`vigil notify test`) died before recording the
   * result. Nobody waits for it any more, and it may have been sent: recorded as failed, never resent.
   */
  private async abandonTest(row: OutboxRow): Promise<void> {
    const at = this.clock.now();
    this.outbox.recordAttempt(row.id, {
      at,
      ok: false,
      statusCode: null,
      detail: 'test message left unfinished by the process that sent it; not resent',
      durationMs: 0,
      status: 'failed',
      nextAttemptAt: at,
    });
  }

  private async attempt(
    row: OutboxRow,
    ch: Channel | undefined,
    maxAttempts = this.retry.maxAttempts,
  ): Promise<SendResult> {
    if (!ch) {
      const result = { ok: false, retryable: false, detail: `channel "${row.channel}" is not configured` };
      this.outbox.recordAttempt(row.id, {
        at: this.clock.now(),
        ok: false,
        statusCode: null,
        detail: result.detail,
        durationMs: 0,
        status: 'failed',
        nextAttemptAt: this.clock.now(),
      });
      return result;
    }
    if (ch.minIntervalMs > 0) this.readyAt.set(ch.name, this.clock.now() + ch.minIntervalMs);
    const started = this.clock.now();
    let result: SendResult;
    try {
      result = await ch.send(await this.withSeries(row.batch, ch), this.stopping.signal);
    } catch (e) {
      result = { ok: false, retryable: true, detail: `channel error: ${(e as Error).message}` };
    }
    // Abandoned at shutdown: not counted; the row stays pending and is sent again after a restart.
    if (!result.ok && this.stopping.signal.aborted) return result;
    const at = this.clock.now();
    const detail = redact(result.detail, [...ch.secrets, ...this.allSecrets]);
    const attempts = row.attempts + 1;
    const exhausted = !result.ok && (!result.retryable || attempts >= maxAttempts);
    const status = result.ok ? 'delivered' : exhausted ? 'failed' : 'pending';
    const nextAttemptAt =
      status === 'pending' ? at + backoffDelayMs(this.retry, attempts, this.random, result.retryAfterMs) : at;
    this.outbox.recordAttempt(row.id, {
      at,
      ok: result.ok,
      statusCode: result.statusCode ?? null,
      detail,
      durationMs: at - started,
      status,
      nextAttemptAt,
    });
    if (status === 'failed') {
      this.logFn('error', `notification to ${ch.name} failed after ${attempts} attempt(s): ${detail}`);
      if (row.batch.kind === 'firing' || row.batch.kind === 'resolved') this.raiseFailure(row, detail, attempts, at);
    } else if (status === 'pending') {
      this.logFn('warn', `notification to ${ch.name} attempt ${attempts} failed (${detail}); retrying`);
    }
    return { ...result, detail };
  }

  /**
   * The internal `notification_failed` alert (severity `FAILURE_SEVERITY`), sent to every other channel whose
   * severity filter accepts it.
   */
  private raiseFailure(row: OutboxRow, detail: string, attempts: number, now: number): void {
    for (const ch of this.channels.values()) {
      if (ch.name === row.channel) continue;
      if (ch.severities && !ch.severities.includes(FAILURE_SEVERITY)) continue;
      const batch: Batch = {
        channel: ch.name,
        kind: 'notification_failed',
        groupKey: `${ch.name}/notification_failed`,
        idempotencyKey: `${row.idempotencyKey}:failed:${ch.name}`,
        createdAt: now,
        alerts: [],
        failure: { channel: row.channel, detail, attempts },
      };
      this.outbox.enqueueGroup(this.rowsOf(batch), now);
    }
  }

  /**
   * Sends a clearly-labelled test message and returns the outcome: one attempt, made by this process, recorded
   * in the outbox (the row is leased to this process, so no other delivery loop picks it up).
   */
  async sendTest(channel: string, now: number): Promise<SendResult> {
    const ch = this.channels.get(channel);
    if (!ch)
      return {
        ok: false,
        retryable: false,
        detail: `unknown channel "${channel}"; configured: ${this.channelNames().join(', ') || 'none'}`,
      };
    const batch: Batch = {
      channel,
      kind: 'test',
      groupKey: `${channel}/test`,
      idempotencyKey: `test:${channel}:${now}:${++this.seq}`,
      createdAt: now,
      alerts: [],
    };
    // leased to this process: a delivery loop sharing the outbox (a running `vigil up`) never sends it too
    const row = this.outbox.enqueue(batch, now, now + TEST_LEASE_MS);
    this.inFlight.add(row.id);
    try {
      return await this.attempt(row, ch, 1);
    } finally {
      this.inFlight.delete(row.id);
    }
  }

  /**
   * The delivery loop: flush groups, start attempts for due rows (never waiting for them), sleep until the next
   * wake (or until `handle` is called or an attempt ends). Resumes rows left pending by a previous process at once.
   */
  async run(signal: AbortSignal): Promise<void> {
    this.resume(this.clock.now());
    while (!signal.aborted) {
      const now = this.clock.now();
      this.flush(now);
      this.dispatch(now);
      const next = this.nextWakeAt();
      const now2 = this.clock.now();
      if (next !== null && next <= now2) continue;
      this.wake = new AbortController();
      const both = AbortSignal.any([signal, this.wake.signal]);
      try {
        await this.clock.sleep(next === null ? 60_000 : next - now2, both);
      } catch {
        // woken by handle() or stopped
      }
      this.wake = null;
    }
  }

  /**
   * Stops delivering: writes the groups still inside their window to the outbox, waits up to `closeGraceMs` for
   * attempts in flight, then abandons the rest (they stay pending for the next start), and closes the channels.
   * Call after the `run` loop has stopped.
   */
  async close(): Promise<void> {
    // groups still inside their window become rows now (durable; sent after a restart), not lost
    const flushed = this.flush(this.clock.now(), true);
    if (flushed > 0)
      this.logFn('info', `notification shutdown: ${flushed} grouped message(s) queued for the next start`);
    if (this.running.size > 0) {
      const grace = new AbortController();
      const all = Promise.allSettled([...this.running]).then(() => grace.abort());
      await this.clock.sleep(this.closeGraceMs, grace.signal).catch(() => {});
      if (this.running.size > 0) {
        this.logFn(
          'warn',
          `notification shutdown: ${this.running.size} delivery attempt(s) abandoned, sent on restart`,
        );
        this.stopping.abort();
        // channels that cannot be interrupted (SMTP) get one more second; a result after that is not recorded
        const late = new AbortController();
        await Promise.race([all, this.clock.sleep(1000, late.signal).catch(() => {})]);
        late.abort();
      }
    }
    for (const c of this.channels.values()) await c.close?.();
  }
}
