/**
 * The collection scheduler: one cycle collects every source's targets in parallel (bounded by a global worker
 * count), in groups of `batchSize`, each group under a timeout; a `Collector` runs cycles on an interval aligned
 * to the clock and hands each result to an injected sink (the engine stores it).
 */
import type { Clock } from '../clock.ts';
import type { CollectionOutcome, Labels, Sample } from '../model/index.ts';
import type { CollectContext, Source, Target, TargetResult } from './source.ts';

/** A discovery that keeps failing: how often in a row, its message, and when to try again. */
export interface DiscoveryFailure {
  readonly count: number;
  readonly message: string;
  readonly retryAt: number;
}

/**
 * What the scheduler remembers between cycles: each source's last good target list and when it was discovered,
 * and a failing discovery's backoff.
 */
export class DiscoveryCache {
  private readonly entries = new Map<Source, { targets: readonly Target[]; at: number }>();
  private readonly failures = new Map<Source, DiscoveryFailure>();

  get(source: Source): { targets: readonly Target[]; at: number } | undefined {
    return this.entries.get(source);
  }

  set(source: Source, targets: readonly Target[], at: number): void {
    this.entries.set(source, { targets, at });
    this.failures.delete(source);
  }

  failure(source: Source): DiscoveryFailure | undefined {
    return this.failures.get(source);
  }

  fail(source: Source, failure: DiscoveryFailure): void {
    this.failures.set(source, failure);
  }
}

/**
 * When a discovery that failed `count` times in a row is tried again: after one interval, then doubling, at most
 * the source's discovery period (so a source that discovers every cycle keeps doing so), and never before the
 * time the error names (`retryAtMs`, e.g. Azure's Retry-After).
 */
export function discoveryRetryAt(now: number, count: number, intervalMs: number, everyMs: number, e: unknown): number {
  const backoffMs = Math.min(Math.max(everyMs, intervalMs), intervalMs * 2 ** Math.min(20, count - 1));
  const named = (e as { retryAtMs?: unknown } | null)?.retryAtMs;
  return Math.max(now + backoffMs, typeof named === 'number' && Number.isFinite(named) ? named : 0);
}

export interface CycleContext {
  /** The cycle's timestamp (epoch ms): the `ts` of outcomes and the `now` passed to sources. */
  readonly now: number;
  /** Measures durations and runs timeouts. */
  readonly clock: Clock;
  readonly intervalMs: number;
  /** Per batch (and per discovery) timeout. */
  readonly timeoutMs: number;
  /** Batches in flight at once, across all sources. */
  readonly maxWorkers: number;
  /** Aborts collection (shutdown). */
  readonly signal?: AbortSignal;
  /** Keeps target lists between cycles; without it every cycle discovers. */
  readonly discovery?: DiscoveryCache;
}

export interface SourceError {
  readonly source: string;
  readonly message: string;
}

export interface SourceCycleStats {
  readonly source: string;
  readonly type: string;
  readonly targets: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly samples: number;
  /** From the start of the cycle to this source's last batch finishing. */
  readonly durationMs: number;
  /** Discovery ran this cycle. */
  readonly discovered: boolean;
  readonly error: string | null;
  /** The source's own counters (API calls, throttling, ...), when it has them. */
  readonly stats?: Record<string, number>;
}

export interface CycleResult {
  readonly ts: number;
  readonly samples: Sample[];
  readonly outcomes: CollectionOutcome[];
  readonly sourceErrors: SourceError[];
  readonly durationMs: number;
  readonly perSource: SourceCycleStats[];
  /**
   * VMs a source listed at its previous discovery and no longer lists (deleted, or filtered out), that no other
   * source lists either: their alerts expire. Only a discovery that succeeded counts.
   */
  readonly removedVms: string[];
  /** One-time notes from sources (not errors): log them once. */
  readonly notices: SourceError[];
}

/** `timeout after 30s`, `timeout after 1.5s`. */
export function timeoutMessage(timeoutMs: number): string {
  const s = timeoutMs / 1000;
  return `timeout after ${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}

class TimeoutError extends Error {}

/** Collection stopped because Vigil is shutting down (the cycle's signal aborted). */
export const CANCELLED_MESSAGE = 'cancelled: Vigil is shutting down';

class CancelledError extends Error {
  constructor() {
    super(CANCELLED_MESSAGE);
  }
}

/**
 * Runs `work` with an AbortSignal that fires after `timeoutMs` (or when `parent` aborts). Resolves with the work's
 * value, or rejects with a TimeoutError at the deadline even if the work ignores the signal.
 */
async function withTimeout<T>(
  clock: Clock,
  timeoutMs: number,
  parent: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ctrl = new AbortController();
  const timer = new AbortController();
  const onParentAbort = () => ctrl.abort(parent?.reason);
  if (parent?.aborted) ctrl.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  const deadline = clock.sleep(timeoutMs, timer.signal).then(
    () => {
      const err = new TimeoutError(timeoutMessage(timeoutMs));
      ctrl.abort(err);
      throw err;
    },
    () => new Promise<never>(() => {}), // cancelled: the work won
  );
  // Shutdown also ends the wait, even for work that ignores the signal.
  let onCancel = () => {};
  const cancelled = new Promise<never>((_, reject) => {
    onCancel = () => reject(new CancelledError());
    if (parent?.aborted) onCancel();
    else parent?.addEventListener('abort', onCancel, { once: true });
  });
  cancelled.catch(() => {});
  try {
    return await Promise.race([Promise.resolve().then(() => work(ctrl.signal)), deadline, cancelled]);
  } finally {
    timer.abort();
    parent?.removeEventListener('abort', onParentAbort);
    parent?.removeEventListener('abort', onCancel);
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}

/** The labels of a target's series: the target's own, plus `vm`, `source` and `tenant` always present. */
function seriesLabels(source: Source, target: Target): Labels {
  return {
    ...target.labels,
    vm: target.vm,
    source: target.labels.source ?? source.name,
    tenant: target.labels.tenant ?? 'default',
  };
}

function withoutVm(labels: Labels): Labels {
  const { vm: _vm, ...rest } = labels;
  return rest;
}

interface Batch {
  readonly source: Source;
  readonly targets: readonly Target[];
}

/** Collects every source once. Never throws for a source's or target's failure: they become outcomes and errors. */
export async function runCycle(sources: readonly Source[], ctx: CycleContext): Promise<CycleResult> {
  const { clock } = ctx;
  const started = clock.now();
  const sourceErrors: SourceError[] = [];
  const discovered = new Map<Source, boolean>();
  const dropped = new Set<string>();
  const collectCtx = (signal: AbortSignal): CollectContext => ({ now: ctx.now, intervalMs: ctx.intervalMs, signal });

  // 1. Targets of every source (discovery when due), in parallel.
  const targetLists = await Promise.all(
    sources.map(async (source) => {
      const cached = ctx.discovery?.get(source);
      const failure = ctx.discovery?.failure(source);
      const every = source.discoverEveryMs ?? 0;
      if (failure && ctx.now < failure.retryAt) {
        // Backing off a failing discovery: the previous targets are collected, the error still stands.
        discovered.set(source, false);
        sourceErrors.push({ source: source.name, message: failure.message });
        return cached?.targets ?? [];
      }
      if (!failure && cached && ctx.now - cached.at < every) {
        discovered.set(source, false);
        return cached.targets;
      }
      discovered.set(source, true);
      try {
        const targets = await withTimeout(clock, ctx.timeoutMs, ctx.signal, (signal) =>
          source.discover(collectCtx(signal)),
        );
        if (cached) {
          const listed = new Set(targets.map((t) => t.vm));
          for (const t of cached.targets) if (!listed.has(t.vm)) dropped.add(t.vm);
        }
        ctx.discovery?.set(source, targets, ctx.now);
        return targets;
      } catch (e) {
        const message = `discovery failed: ${errorText(e)}`;
        sourceErrors.push({ source: source.name, message });
        const count = (failure?.count ?? 0) + 1;
        ctx.discovery?.fail(source, {
          count,
          message,
          retryAt: discoveryRetryAt(ctx.now, count, ctx.intervalMs, every, e),
        });
        return cached?.targets ?? [];
      }
    }),
  );

  // 2. Batches, run by a pool of workers shared by all sources.
  const batches: Batch[] = [];
  sources.forEach((source, i) => {
    const targets = targetLists[i]!;
    const size = Math.max(1, source.batchSize ?? 1);
    for (let j = 0; j < targets.length; j += size) batches.push({ source, targets: targets.slice(j, j + size) });
  });

  const samples: Sample[] = [];
  const outcomes: CollectionOutcome[] = [];
  const perSourceEnd = new Map<Source, number>();
  const counts = new Map<Source, { ok: number; failed: number; samples: number }>();
  for (const s of sources) counts.set(s, { ok: 0, failed: 0, samples: 0 });

  const record = (source: Source, target: Target, error: string | null, got: readonly Sample[], durationMs: number) => {
    const labels = seriesLabels(source, target);
    const c = counts.get(source)!;
    for (const s of got) {
      samples.push({ metric: s.metric, ts: s.ts, value: s.value, labels: { ...labels, ...s.labels, vm: target.vm } });
    }
    c.samples += got.length;
    if (error === null) c.ok++;
    else c.failed++;
    outcomes.push({
      vm: target.vm,
      labels: withoutVm(labels),
      ts: ctx.now,
      success: error === null,
      errorMessage: error,
      durationMs,
    });
  };

  const runBatch = async (batch: Batch) => {
    const t0 = clock.now();
    let results: readonly TargetResult[] | null = null;
    let failure: string | null = null;
    if (ctx.signal?.aborted) {
      // Shutting down: batches not yet started are not started.
      for (const target of batch.targets) record(batch.source, target, CANCELLED_MESSAGE, [], 0);
      perSourceEnd.set(batch.source, clock.now());
      return;
    }
    try {
      results = await withTimeout(clock, ctx.timeoutMs, ctx.signal, (signal) =>
        batch.source.collect(batch.targets, collectCtx(signal)),
      );
    } catch (e) {
      failure = errorText(e);
    }
    const durationMs = Math.max(0, clock.now() - t0);
    const remaining = new Set(batch.targets);
    for (const r of results ?? []) {
      // Match by identity first, then by VM name (a source may rebuild target objects).
      const target = remaining.has(r.target) ? r.target : [...remaining].find((t) => t.vm === r.target.vm);
      if (!target) continue;
      remaining.delete(target);
      record(batch.source, target, r.error ?? null, r.samples, durationMs);
    }
    for (const target of remaining) {
      record(batch.source, target, failure ?? 'no result returned by the source', [], durationMs);
    }
    perSourceEnd.set(batch.source, clock.now());
  };

  let next = 0;
  const workers = Math.max(1, Math.min(ctx.maxWorkers, batches.length));
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = next++; i < batches.length; i = next++) await runBatch(batches[i]!);
    }),
  );

  // A problem of the whole source met while collecting (e.g. `az` logged out): one source error, not N VM errors.
  for (const source of sources) {
    if (sourceErrors.some((e) => e.source === source.name)) continue;
    let problem: string | null = null;
    try {
      problem = source.problem?.() ?? null;
    } catch {
      problem = null;
    }
    if (problem) sourceErrors.push({ source: source.name, message: problem });
  }

  const perSource: SourceCycleStats[] = sources.map((source, i) => {
    const c = counts.get(source)!;
    const stats = safeStats(source);
    return {
      source: source.name,
      type: source.type,
      targets: targetLists[i]!.length,
      succeeded: c.ok,
      failed: c.failed,
      samples: c.samples,
      durationMs: Math.max(0, (perSourceEnd.get(source) ?? clock.now()) - started),
      discovered: discovered.get(source) ?? false,
      error: sourceErrors.find((e) => e.source === source.name)?.message ?? null,
      ...(stats ? { stats } : {}),
    };
  });

  for (const list of targetLists) for (const t of list) dropped.delete(t.vm);
  const notices: SourceError[] = [];
  for (const source of sources) {
    try {
      for (const message of source.takeNotices?.() ?? []) notices.push({ source: source.name, message });
    } catch {
      // a source's notes are best effort
    }
  }
  return {
    ts: ctx.now,
    samples,
    outcomes,
    sourceErrors,
    durationMs: Math.max(0, clock.now() - started),
    perSource,
    removedVms: [...dropped],
    notices,
  };
}

function safeStats(source: Source): Record<string, number> | undefined {
  try {
    return source.stats?.();
  } catch {
    return undefined;
  }
}

/** How long `Collector.stop()` lets the cycle in flight finish before cancelling it. */
export const STOP_GRACE_MS = 5000;

export interface CollectorOptions {
  readonly sources: readonly Source[];
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly maxWorkers: number;
  /** Receives every cycle's result (the engine stores it); awaited before the next cycle. */
  readonly onCycle: (result: CycleResult) => Promise<void> | void;
  /** Told when `onCycle` fails; the loop goes on. */
  readonly onError?: (error: Error) => void;
  /** Aborting it cancels collection in flight (a forced shutdown); `stop()` alone lets the cycle finish. */
  readonly signal?: AbortSignal;
}

/**
 * Runs a cycle at start, then at every multiple of `intervalMs` of the clock. A cycle that overruns skips the
 * ticks it missed. `stop()` cancels the wait and resolves once the cycle in flight (and its sink) has finished.
 */
export class Collector {
  private readonly opts: CollectorOptions;
  private readonly discovery = new DiscoveryCache();
  private stopping: AbortController | null = null;
  /** Aborted when a stop's grace period runs out: cancels the cycle in flight. */
  private cancelCycle = new AbortController();
  private loop: Promise<void> | null = null;
  private cycles = 0;

  constructor(opts: CollectorOptions) {
    this.opts = opts;
  }

  get cycleCount(): number {
    return this.cycles;
  }

  get running(): boolean {
    return this.loop !== null;
  }

  /** One cycle now, through the sink. */
  async runOnce(): Promise<CycleResult> {
    const { clock, intervalMs, timeoutMs, maxWorkers } = this.opts;
    const signal = this.opts.signal
      ? AbortSignal.any([this.opts.signal, this.cancelCycle.signal])
      : this.cancelCycle.signal;
    const result = await runCycle(this.opts.sources, {
      now: clock.now(),
      clock,
      intervalMs,
      timeoutMs,
      maxWorkers,
      discovery: this.discovery,
      signal,
    });
    this.cycles++;
    // A VM whose collection was cut short by the shutdown did not fail: its outcome is not stored, so no
    // no-data rule or fleet failure pattern sees a fleet-wide "failure" at every restart.
    const kept = result.outcomes.filter((o) => o.errorMessage !== CANCELLED_MESSAGE);
    try {
      await this.opts.onCycle(kept.length === result.outcomes.length ? result : { ...result, outcomes: kept });
    } catch (e) {
      this.opts.onError?.(e instanceof Error ? e : new Error(String(e)));
    }
    return result;
  }

  start(): void {
    if (this.loop) return;
    const stop = new AbortController();
    this.stopping = stop;
    this.opts.signal?.addEventListener('abort', () => stop.abort(), { once: true });
    this.loop = (async () => {
      const { clock, intervalMs } = this.opts;
      while (!stop.signal.aborted) {
        await this.runOnce();
        if (stop.signal.aborted) break;
        const now = clock.now();
        const nextTick = (Math.floor(now / intervalMs) + 1) * intervalMs;
        try {
          await clock.sleep(nextTick - now, stop.signal);
        } catch {
          break;
        }
      }
    })();
  }

  /**
   * Stops the loop; resolves after the in-flight cycle has been handed to the sink. The cycle gets `graceMs` to
   * finish; then what is still being collected is cancelled (a hung VM must not hold a shutdown for the whole
   * per-VM timeout) and the cycle is handed over with what it has.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    this.stopping?.abort();
    const graceOver = new AbortController();
    this.opts.clock.sleep(graceMs, graceOver.signal).then(
      () => this.cancelCycle.abort(),
      () => {},
    );
    try {
      await loop;
    } finally {
      graceOver.abort();
      this.loop = null;
      this.stopping = null;
      this.cancelCycle = new AbortController();
    }
  }

  /** Closes the sources (after `stop()`). */
  async close(): Promise<void> {
    await this.stop();
    await Promise.all(this.opts.sources.map((s) => s.close?.().catch(() => {})));
  }
}
