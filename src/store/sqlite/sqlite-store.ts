/**
 * The embedded SQLite backend of the Store.
 *
 * Write path: every append is one transaction that inserts one `head_batches` row (series id, ts, value
 * triples) and registers new series, so an acknowledged append survives `kill -9` (WAL). The samples are also
 * kept in memory per series (the head) for queries. Maintenance moves each series' complete 2-hour blocks into
 * compressed chunks, recomputes the hourly and daily rollups those blocks touch, drops head batches that are
 * fully compacted, and applies retention, in steps bounded by a time budget.
 */
import { statSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Clock } from '../../clock.ts';
import {
  type CollectionOutcome,
  compileMatchers,
  type Labels,
  type Point,
  type Sample,
  type SeriesSelector,
  seriesKey,
  type VmStatus,
} from '../../model/index.ts';
import {
  addPoint,
  aggregatePoints,
  type Bucket,
  bucketValue,
  emptyBucket,
  mergeBucket,
  PERCENTILES,
} from '../aggregate.ts';
import { decodeChunk, encodeChunk } from '../codec/chunk.ts';
import {
  type Aggregation,
  DAY_MS,
  HOUR_MS,
  type LatestValue,
  type MaintenanceReport,
  type OutcomeQuery,
  type Retention,
  type SeriesQuery,
  type SeriesResult,
  type Store,
  type StoreStats,
  type Tier,
} from '../store.ts';
import { batchTriples, SeriesHead } from './head.ts';
import { METRICS_MIGRATIONS } from './metrics-schema.ts';
import { migrate } from './migrate.ts';
import { type OutcomeRow, readVmStatuses, toOutcome } from './vm-status.ts';
import { WalCheckpointer } from './wal-checkpointer.ts';

/** Raw samples are compacted per series in blocks of this width, aligned to multiples of it. */
export const BLOCK_MS = 2 * HOUR_MS;
/** A block is compacted only once this much time has passed after its end, so collection lag lands in the head. */
export const COMPACTION_GRACE_MS = 10 * 60_000;
const DEFAULT_BUDGET_MS = 20;
/**
 * `auto` treats a range starting this little before a tier's horizon as covered: a caller computes `now - 7 days`
 * a moment before the store reads its clock, and retention keeps a tier's data for at least a block or bucket
 * beyond its horizon anyway.
 */
export const TIER_SLACK_MS = 60_000;
const RETENTION_BATCH = 2000;

interface SeriesInfo {
  readonly id: number;
  readonly metric: string;
  readonly labels: Labels;
  readonly vm: string | null;
  lastTs: number;
  lastValue: number;
  /**
   * What compaction of this series has counted so far: every sample with `ts < compactedBelow` in a head batch
   * with `id <= compactedBatch` is in the chunks and rollups. Replay skips those samples, so a reopen never
   * counts them again; later batches (late samples written after that compaction) are still replayed.
   */
  compactedBelow: number;
  compactedBatch: number;
}

interface Round {
  readonly watermark: number;
  readonly pending: number[];
  /** Head batches whose samples this round compacts (all known to this process when the round started). */
  readonly batchIds: number[];
}

export interface SqliteStoreOptions {
  readonly path: string;
  readonly retention: Retention;
  readonly clock: Clock;
}

export class SqliteStore implements Store {
  readonly db: DatabaseSync;
  readonly path: string;
  private readonly retention: Retention;
  private readonly clock: Clock;
  private readonly seriesById = new Map<number, SeriesInfo>();
  private checkpointer: WalCheckpointer | null = null;
  private readonly idByKey = new Map<string, number>();
  /**
   * Series by labels object, then metric. Collectors reuse one labels object per VM across metrics and cycles, and
   * push ingest one per pushed label set across requests, so most lookups skip building the series key.
   */
  private readonly seriesByLabels = new WeakMap<Labels, Map<string, SeriesInfo>>();
  private readonly head = new Map<number, SeriesHead>();
  private headSamples = 0;
  private readonly lastSampleByVm = new Map<string, number>();
  private readonly vmsKnown = new Set<string>();
  /** Head batches this process holds in memory: only these may be deleted after their samples are compacted. */
  private readonly knownBatches: number[] = [];
  /** Highest head batch id read from the file, and the ids this process wrote above it (not to be read back). */
  private scannedBatchId = 0;
  private readonly ownUnscanned = new Set<number>();
  /** Highest head batch id whose samples are in memory (every batch at or below it is loaded, after a refresh). */
  private maxLoadedBatch = 0;
  /** The per-series compaction state is current up to this `compaction_seq` (bumped by every compacting step). */
  private compactionSeq = 0;
  /** The highest watermark any process sharing the file has stored. */
  private fileWatermark = 0;
  private maxSeriesId = 0;
  private watermark = 0;
  private round: Round | null = null;
  private dropped = 0;
  private closed = false;
  private readonly stmt: Record<string, StatementSync>;

  constructor(opts: SqliteStoreOptions) {
    this.path = opts.path;
    this.retention = opts.retention;
    this.clock = opts.clock;
    this.db = new DatabaseSync(opts.path, { timeout: 5000 });
    this.db.exec('PRAGMA journal_mode = WAL');
    // NORMAL in WAL mode: a committed transaction survives a killed process; only an OS crash may lose the last ones.
    this.db.exec('PRAGMA synchronous = NORMAL');
    // Checkpoints run beside this connection (WalCheckpointer, started by the first maintain()) or at close,
    // never inside a COMMIT.
    this.db.exec('PRAGMA wal_autocheckpoint = 0');
    this.db.exec('PRAGMA foreign_keys = ON');
    // Compaction rewrites chunks and rollups spread over the file: a larger page cache keeps that off the disk.
    this.db.exec('PRAGMA cache_size = -32000');
    migrate(this.db, 'metrics', METRICS_MIGRATIONS);
    const p = (sql: string) => this.db.prepare(sql);
    this.stmt = {
      insertSeries: p('INSERT INTO series (key, metric, labels, vm) VALUES (?, ?, ?, ?) RETURNING id'),
      insertBatch: p('INSERT INTO head_batches (min_ts, max_ts, data) VALUES (?, ?, ?) RETURNING id'),
      insertVm: p('INSERT INTO vms (vm, labels) VALUES (?, ?) ON CONFLICT(vm) DO NOTHING'),
      insertOutcome: p(
        'INSERT INTO outcomes (vm, ts, success, error, duration_ms, labels) VALUES (?, ?, ?, ?, ?, ?) RETURNING id',
      ),
      upsertVmOutcome: p(
        `INSERT INTO vms (vm, labels, last_outcome_id) VALUES (?, ?, ?)
         ON CONFLICT(vm) DO UPDATE SET labels = json_patch(vms.labels, excluded.labels),
           last_outcome_id = CASE WHEN vms.last_outcome_id IS NULL
             OR (SELECT ts FROM outcomes WHERE id = vms.last_outcome_id) <= ? THEN excluded.last_outcome_id
             ELSE vms.last_outcome_id END`,
      ),
      chunksInRange: p(
        'SELECT start_ts, data FROM chunks WHERE series_id = ? AND start_ts > ? AND start_ts <= ? ORDER BY start_ts',
      ),
      chunkAt: p('SELECT data FROM chunks WHERE series_id = ? AND start_ts = ?'),
      chunkExists: p('SELECT 1 FROM chunks WHERE series_id = ? AND start_ts = ?'),
      upsertChunk: p(
        `INSERT INTO chunks (series_id, start_ts, end_ts, count, data) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(series_id, start_ts) DO UPDATE SET end_ts = excluded.end_ts, count = excluded.count, data = excluded.data`,
      ),
      hourlyAt: p('SELECT count, sum, min, max, last, last_ts FROM rollup_hourly WHERE series_id = ? AND bucket = ?'),
      hourlyRange: p(
        'SELECT bucket, count, sum, min, max, last, last_ts FROM rollup_hourly WHERE series_id = ? AND bucket >= ? AND bucket < ?',
      ),
      upsertHourly: p('INSERT OR REPLACE INTO rollup_hourly VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      dailyFromHourly: p(
        `SELECT sum(count) AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
           (SELECT last FROM rollup_hourly h2 WHERE h2.series_id = ?1 AND h2.bucket >= ?2 AND h2.bucket < ?3
              ORDER BY last_ts DESC LIMIT 1) AS last, max(last_ts) AS last_ts
         FROM rollup_hourly WHERE series_id = ?1 AND bucket >= ?2 AND bucket < ?3`,
      ),
      dailyAt: p('SELECT count, sum, min, max, last, last_ts FROM rollup_daily WHERE series_id = ? AND bucket = ?'),
      upsertDaily: p('INSERT OR REPLACE INTO rollup_daily VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      updateLast: p('UPDATE series SET last_ts = ?, last_value = ? WHERE id = ? AND (last_ts IS NULL OR last_ts <= ?)'),
      setCompacted: p('UPDATE series SET compacted_below = ?, compacted_batch = ?, compacted_seq = ? WHERE id = ?'),
      compactedSince: p('SELECT id, compacted_below, compacted_batch FROM series WHERE compacted_seq > ?'),
      batchesFrom: p('SELECT id, data FROM head_batches WHERE id > ? ORDER BY id'),
      setMeta: p('INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)'),
      getMeta: p('SELECT value FROM store_meta WHERE key = ?'),
      batchIdsAbove: p('SELECT id FROM head_batches WHERE id > ? ORDER BY id'),
      batchData: p('SELECT data FROM head_batches WHERE id = ?'),
    };
    this.loadSeries();
    const wm = this.db.prepare("SELECT value FROM store_meta WHERE key = 'watermark'").get() as
      | { value: number }
      | undefined;
    this.watermark = wm?.value ?? 0;
    this.fileWatermark = this.watermark;
    this.compactionSeq = (this.stmt.getMeta!.get('compaction_seq') as { value: number } | undefined)?.value ?? 0;
    for (const r of this.db.prepare('SELECT vm FROM vms').all() as { vm: string }[]) this.vmsKnown.add(r.vm);
    this.replayHead();
  }

  // ---- writes ----

  async append(samples: readonly Sample[]): Promise<void> {
    this.write_(samples, []);
  }

  async recordOutcomes(outcomes: readonly CollectionOutcome[]): Promise<void> {
    this.write_([], outcomes);
  }

  async write(samples: readonly Sample[], outcomes: readonly CollectionOutcome[]): Promise<void> {
    this.write_(samples, outcomes);
  }

  private write_(samples: readonly Sample[], outcomes: readonly CollectionOutcome[]): void {
    this.assertOpen();
    validate(samples, outcomes);
    if (samples.length === 0 && outcomes.length === 0) return;
    const triples = new Float64Array(samples.length * 3);
    /** The series of each stored sample, in order (NaN samples are dropped). */
    const seriesOf: SeriesInfo[] = [];
    let n = 0;
    let minTs = Number.POSITIVE_INFINITY;
    let maxTs = Number.NEGATIVE_INFINITY;
    const created: SeriesInfo[] = [];
    this.db.exec('BEGIN IMMEDIATE');
    try {
      // Under the write lock: series another process created are loaded, not inserted a second time.
      this.refreshSeries();
      let lastLabels: Labels | null = null;
      let byMetric: Map<string, SeriesInfo> | undefined;
      for (const s of samples) {
        if (Number.isNaN(s.value)) {
          this.dropped++;
          continue;
        }
        // Samples of one labels object usually come together (one VM's metrics): one identity lookup for them.
        if (s.labels !== lastLabels) {
          lastLabels = s.labels;
          byMetric = this.seriesByLabels.get(s.labels);
        }
        let info = byMetric?.get(s.metric);
        if (info === undefined) {
          info = this.seriesFor(s.metric, s.labels, created);
          byMetric = this.seriesByLabels.get(s.labels);
        }
        seriesOf.push(info);
        triples[n++] = info.id;
        triples[n++] = s.ts;
        triples[n++] = s.value;
        if (s.ts < minTs) minTs = s.ts;
        if (s.ts > maxTs) maxTs = s.ts;
      }
      let batchId = -1;
      if (n > 0) {
        const data = new Uint8Array(triples.buffer, 0, n * 8);
        batchId = (this.stmt.insertBatch!.get(minTs, maxTs, data) as { id: number }).id;
      }
      for (const o of outcomes) {
        const labels = JSON.stringify(o.labels);
        const { id } = this.stmt.insertOutcome!.get(
          o.vm,
          o.ts,
          o.success ? 1 : 0,
          o.errorMessage,
          o.durationMs,
          labels,
        ) as { id: number };
        this.stmt.upsertVmOutcome!.run(o.vm, labels, id, o.ts);
      }
      this.db.exec('COMMIT');
      if (batchId >= 0) {
        this.knownBatches.push(batchId);
        this.ownUnscanned.add(batchId);
        if (batchId > this.maxLoadedBatch) this.maxLoadedBatch = batchId;
      }
    } catch (e) {
      this.db.exec('ROLLBACK');
      if (created.length > 0) {
        // The identity cache outlives a request (pushed label sets are reused): drop the rolled-back ids from it.
        const gone = new Set(created);
        for (const s of samples) {
          const byMetric = this.seriesByLabels.get(s.labels);
          const info = byMetric?.get(s.metric);
          if (info !== undefined && gone.has(info)) byMetric!.delete(s.metric);
        }
        for (const s of created) this.forgetSeries(s);
      }
      throw e;
    }
    for (const o of outcomes) this.vmsKnown.add(o.vm);
    for (let i = 0, j = 0; j < seriesOf.length; i += 3, j++) {
      this.addToSeriesHead(seriesOf[j]!, triples[i + 1]!, triples[i + 2]!);
    }
  }

  private seriesFor(metric: string, labels: Labels, created: SeriesInfo[]): SeriesInfo {
    let byMetric = this.seriesByLabels.get(labels);
    const cached = byMetric?.get(metric);
    if (cached !== undefined) return cached;
    const key = seriesKey(metric, labels);
    const known = this.idByKey.get(key);
    let info = known === undefined ? undefined : this.seriesById.get(known);
    if (info === undefined) {
      const vm = labels.vm ?? null;
      const { id } = this.stmt.insertSeries!.get(key, metric, JSON.stringify(labels), vm) as { id: number };
      info = {
        id,
        metric,
        labels: { ...labels },
        vm,
        lastTs: Number.NEGATIVE_INFINITY,
        lastValue: 0,
        compactedBelow: 0,
        compactedBatch: 0,
      };
      this.registerSeries(info, key);
      created.push(info);
      if (vm !== null && !this.vmsKnown.has(vm)) {
        const { vm: _vm, ...rest } = labels;
        this.stmt.insertVm!.run(vm, JSON.stringify(rest));
        this.vmsKnown.add(vm);
      }
    }
    if (!byMetric) {
      byMetric = new Map();
      this.seriesByLabels.set(labels, byMetric);
    }
    byMetric.set(metric, info);
    return info;
  }

  private registerSeries(info: SeriesInfo, key: string): void {
    this.seriesById.set(info.id, info);
    this.idByKey.set(key, info.id);
    if (info.id > this.maxSeriesId) this.maxSeriesId = info.id;
  }

  private forgetSeries(info: SeriesInfo): void {
    this.seriesById.delete(info.id);
    this.idByKey.delete(seriesKey(info.metric, info.labels));
    if (info.vm !== null) this.vmsKnown.delete(info.vm);
  }

  private addToHead(id: number, ts: number, value: number): void {
    this.addToSeriesHead(this.seriesById.get(id)!, ts, value);
  }

  private addToSeriesHead(info: SeriesInfo, ts: number, value: number): void {
    let h = this.head.get(info.id);
    if (!h) {
      h = new SeriesHead();
      this.head.set(info.id, h);
    }
    const before = h.size;
    h.add(ts, value);
    this.headSamples += h.size - before;
    if (ts >= info.lastTs) {
      info.lastTs = ts;
      info.lastValue = value;
    }
    if (info.vm !== null && ts > (this.lastSampleByVm.get(info.vm) ?? Number.NEGATIVE_INFINITY)) {
      this.lastSampleByVm.set(info.vm, ts);
    }
  }

  // ---- loading ----

  /** Loads series created since the last load (by this or another process sharing the file). */
  private loadSeries(): void {
    const rows = this.db
      .prepare(
        'SELECT id, key, metric, labels, vm, last_ts, last_value, compacted_below, compacted_batch FROM series WHERE id > ? ORDER BY id',
      )
      .all(this.maxSeriesId) as {
      id: number;
      compacted_below: number;
      compacted_batch: number;
      key: string;
      metric: string;
      labels: string;
      vm: string | null;
      last_ts: number | null;
      last_value: number | null;
    }[];
    for (const r of rows) {
      if (this.seriesById.has(r.id)) continue;
      const info: SeriesInfo = {
        id: r.id,
        metric: r.metric,
        labels: JSON.parse(r.labels) as Labels,
        vm: r.vm,
        lastTs: r.last_ts ?? Number.NEGATIVE_INFINITY,
        lastValue: r.last_value ?? 0,
        compactedBelow: r.compacted_below,
        compactedBatch: r.compacted_batch,
      };
      this.registerSeries(info, r.key);
      if (
        r.vm !== null &&
        r.last_ts !== null &&
        r.last_ts > (this.lastSampleByVm.get(r.vm) ?? Number.NEGATIVE_INFINITY)
      ) {
        this.lastSampleByVm.set(r.vm, r.last_ts);
      }
    }
  }

  private refreshSeries(): void {
    const row = this.db.prepare('SELECT max(id) AS m FROM series').get() as { m: number | null };
    if ((row.m ?? 0) > this.maxSeriesId) this.loadSeries();
  }

  /** Rebuilds the in-memory head from the durable head batches (after a restart or crash). */
  private replayHead(): void {
    for (const r of this.db.prepare('SELECT id, data FROM head_batches ORDER BY id').iterate() as Iterable<{
      id: number;
      data: Uint8Array;
    }>) {
      this.replayBatch(r.id, r.data);
    }
  }

  private replayBatch(batchId: number, bytes: Uint8Array): void {
    const triples = batchTriples(bytes);
    for (let i = 0; i < triples.length; i += 3) {
      // Series ids are small integers: as such (not as doubles) they hash fast in the Map (replay is start-up time).
      const id = triples[i]! | 0;
      // A series another process created after our last look is committed with the batch: load it first.
      let info = this.seriesById.get(id);
      if (!info) {
        this.loadSeries();
        info = this.seriesById.get(id);
        if (!info) continue;
      }
      const ts = triples[i + 1]!;
      // Already in the chunks and rollups: a batch that straddles the watermark is kept whole on disk.
      if (ts < info.compactedBelow && batchId <= info.compactedBatch) continue;
      this.addToSeriesHead(info, ts, triples[i + 2]!);
    }
    this.knownBatches.push(batchId);
    if (batchId > this.scannedBatchId) this.scannedBatchId = batchId;
    if (batchId > this.maxLoadedBatch) this.maxLoadedBatch = batchId;
  }

  /**
   * Picks up the compaction state other processes sharing the file stored since the last look. Where another
   * process compacted a series this one holds in memory, the head copies of the samples it counted are dropped
   * (and the later samples below its watermark re-read from their batches), so neither queries nor this
   * process' own compaction count them again. One meta lookup when nothing changed.
   */
  private refreshCompactionState(): void {
    const seq = (this.stmt.getMeta!.get('compaction_seq') as { value: number } | undefined)?.value ?? 0;
    if (seq === this.compactionSeq) return;
    const rows = this.stmt.compactedSince!.all(this.compactionSeq) as {
      id: number;
      compacted_below: number;
      compacted_batch: number;
    }[];
    this.compactionSeq = seq;
    const stale: SeriesInfo[] = [];
    for (const r of rows) {
      const info = this.seriesById.get(r.id);
      if (!info || r.compacted_batch <= info.compactedBatch) continue;
      info.compactedBelow = Math.max(info.compactedBelow, r.compacted_below);
      info.compactedBatch = r.compacted_batch;
      const h = this.head.get(info.id);
      if (h && h.firstTs < info.compactedBelow) stale.push(info);
    }
    if (stale.length === 0) return;
    let from = Number.POSITIVE_INFINITY;
    for (const info of stale) {
      const h = this.head.get(info.id)!;
      this.headSamples -= h.takeBefore(info.compactedBelow).ts.length;
      if (h.size === 0) this.head.delete(info.id);
      from = Math.min(from, info.compactedBatch);
    }
    const ids = new Set(stale.map((s) => s.id));
    for (const r of this.stmt.batchesFrom!.iterate(from) as Iterable<{ id: number; data: Uint8Array }>) {
      const t = batchTriples(r.data);
      for (let i = 0; i < t.length; i += 3) {
        const id = t[i]!;
        if (!ids.has(id)) continue;
        const info = this.seriesById.get(id)!;
        if (r.id > info.compactedBatch && t[i + 1]! < info.compactedBelow) this.addToHead(id, t[i + 1]!, t[i + 2]!);
      }
    }
  }

  /**
   * Picks up what other processes sharing the file wrote since the last look: new series, head batches (ids
   * only grow) and the watermark their maintenance reached. Cheap when nothing changed: two index lookups.
   */
  private refreshFromFile(): void {
    this.refreshSeries();
    this.refreshCompactionState();
    const ids = this.stmt.batchIdsAbove!.all(this.scannedBatchId) as { id: number }[];
    for (const { id } of ids) {
      if (this.ownUnscanned.has(id)) {
        this.scannedBatchId = Math.max(this.scannedBatchId, id);
        continue;
      }
      const row = this.stmt.batchData!.get(id) as { data: Uint8Array } | undefined;
      if (row) this.replayBatch(id, row.data);
    }
    this.ownUnscanned.clear();
    const wm = this.stmt.getMeta!.get('watermark') as { value: number } | undefined;
    if (wm && wm.value > this.fileWatermark) this.fileWatermark = wm.value;
  }

  // ---- reads ----

  async query(q: SeriesQuery): Promise<SeriesResult[]> {
    this.assertOpen();
    const matched = this.match(q.selector);
    const agg: Aggregation = q.aggregation ?? 'avg';
    const { tier, exactEdges } = this.pickTier(q, agg);
    const groups = new Map<string, { metric: string; labels: Labels; members: SeriesInfo[] }>();
    for (const s of matched) {
      const labels = q.groupBy ? Object.fromEntries(q.groupBy.map((k) => [k, s.labels[k] ?? ''])) : s.labels;
      const metric = q.selector.metric ?? s.metric;
      const key = q.groupBy ? `${q.selector.metric ? '' : s.metric}\u0000${JSON.stringify(labels)}` : String(s.id);
      const g = groups.get(key);
      if (g) g.members.push(s);
      else groups.set(key, { metric, labels, members: [s] });
    }
    const out: SeriesResult[] = [];
    const rollups = tier === 'raw' ? null : this.readRollups(tier, matched, q, agg, exactEdges);
    for (const g of groups.values()) {
      const points =
        tier === 'raw'
          ? this.rawGroup(g.members, q.from, q.to, q.stepMs, agg)
          : this.rollupGroup(tier, g.members, rollups!, q.stepMs, agg);
      out.push({ metric: g.metric, labels: g.labels, tier, points });
    }
    return out;
  }

  async latest(selector: SeriesSelector, since?: number): Promise<LatestValue[]> {
    this.assertOpen();
    const out: LatestValue[] = [];
    for (const s of this.match(selector)) {
      if (s.lastTs === Number.NEGATIVE_INFINITY) continue;
      if (since !== undefined && s.lastTs < since) continue;
      out.push({ metric: s.metric, labels: s.labels, ts: s.lastTs, value: s.lastValue });
    }
    return out;
  }

  async listVms(): Promise<VmStatus[]> {
    this.assertOpen();
    this.refreshFromFile();
    return readVmStatuses(this.db, this.lastSampleByVm);
  }

  async outcomes(q: OutcomeQuery): Promise<CollectionOutcome[]> {
    this.assertOpen();
    const rows = (q.vm === undefined
      ? this.db
          .prepare(
            'SELECT vm, ts, success, error, duration_ms, labels FROM outcomes WHERE ts >= ? AND ts <= ? ORDER BY ts, id',
          )
          .all(q.from, q.to)
      : this.db
          .prepare(
            'SELECT vm, ts, success, error, duration_ms, labels FROM outcomes WHERE vm = ? AND ts >= ? AND ts <= ? ORDER BY ts, id',
          )
          .all(q.vm, q.from, q.to)) as unknown as OutcomeRow[];
    return rows.map(toOutcome);
  }

  async series(selector: SeriesSelector): Promise<{ metric: string; labels: Labels }[]> {
    this.assertOpen();
    return this.match(selector).map((s) => ({ metric: s.metric, labels: s.labels }));
  }

  async stats(): Promise<StoreStats> {
    this.assertOpen();
    const chunk = this.db.prepare('SELECT coalesce(sum(count), 0) AS n FROM chunks').get() as { n: number };
    let fileBytes = 0;
    for (const suffix of ['', '-wal']) {
      try {
        fileBytes += statSync(this.path + suffix).size;
      } catch {
        // no WAL file right after a checkpoint
      }
    }
    return {
      series: this.seriesById.size,
      vms: (this.db.prepare('SELECT count(*) AS n FROM vms').get() as { n: number }).n,
      headSamples: this.headSamples,
      chunkSamples: chunk.n,
      fileBytes,
    };
  }

  /** Samples refused because their value was NaN (not storable in rollups), since open. */
  get droppedSamples(): number {
    return this.dropped;
  }

  private match(selector: SeriesSelector): SeriesInfo[] {
    this.refreshFromFile();
    const test = compileMatchers(selector.matchers);
    const out: SeriesInfo[] = [];
    for (const s of this.seriesById.values()) {
      if (selector.metric !== undefined && s.metric !== selector.metric) continue;
      if (test(s.labels)) out.push(s);
    }
    return out;
  }

  /**
   * `auto` reads the finest tier whose retention covers `from`. A step of whole hours with an aggregation the
   * rollups answer exactly reads the hourly tier for the whole hours inside the range, which returns the same
   * values as raw from far fewer rows; partial hours at either end are computed from raw samples (`exactEdges`).
   */
  private pickTier(q: SeriesQuery, agg: Aggregation): { tier: Tier; exactEdges: boolean } {
    const r = q.resolution ?? 'auto';
    if (r !== 'auto') return { tier: r, exactEdges: false };
    const now = this.clock.now();
    if (q.from >= now - this.retention.rawMs - TIER_SLACK_MS) {
      const exactOnRollups = !(agg in PERCENTILES);
      const wholeHourInside = Math.ceil(q.from / HOUR_MS) * HOUR_MS + HOUR_MS - 1 <= q.to;
      const hourly = q.stepMs !== undefined && q.stepMs % HOUR_MS === 0 && exactOnRollups && wholeHourInside;
      return { tier: hourly ? 'hourly' : 'raw', exactEdges: hourly };
    }
    if (q.from >= now - this.retention.hourlyMs - TIER_SLACK_MS) return { tier: 'hourly', exactEdges: false };
    return { tier: 'daily', exactEdges: false };
  }

  /** One series' raw points in [from, to]: chunks merged with the head (the head wins on equal timestamps). */
  private rawPoints(s: SeriesInfo, from: number, to: number): { ts: number[]; values: number[] } {
    const ts: number[] = [];
    const values: number[] = [];
    const rows = this.stmt.chunksInRange!.all(s.id, from - BLOCK_MS, to) as { start_ts: number; data: Uint8Array }[];
    for (const r of rows) {
      const c = decodeChunk(r.data);
      for (let i = 0; i < c.ts.length; i++) {
        const t = c.ts[i]!;
        if (t >= from && t <= to) {
          ts.push(t);
          values.push(c.values[i]!);
        }
      }
    }
    const h = this.head.get(s.id);
    if (!h || h.size === 0) return { ts, values };
    const [a, b] = h.range(from, to);
    if (a === b) return { ts, values };
    if (ts.length === 0 || h.ts[a]! > ts[ts.length - 1]!) {
      for (let i = a; i < b; i++) {
        ts.push(h.ts[i]!);
        values.push(h.values[i]!);
      }
      return { ts, values };
    }
    // Late samples in the head overlap compacted data: the head wins on equal timestamps.
    return mergeSorted({ ts, values }, h.ts.slice(a, b), h.values.slice(a, b));
  }

  private rawGroup(
    members: SeriesInfo[],
    from: number,
    to: number,
    stepMs: number | undefined,
    agg: Aggregation,
  ): Point[] {
    if (members.length === 1 && stepMs === undefined) {
      const { ts, values } = this.rawPoints(members[0]!, from, to);
      return ts.map((t, i) => ({ ts: t, value: values[i]! }));
    }
    // Buckets keyed by step start (or exact timestamp without a step), pooling every member's values.
    const buckets = new Map<number, { values: number[]; lastTs: number; last: number }>();
    for (const s of members) {
      const { ts, values } = this.rawPoints(s, from, to);
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i]!;
        const k = stepMs ? Math.floor(t / stepMs) * stepMs : t;
        let b = buckets.get(k);
        if (!b) {
          b = { values: [], lastTs: t, last: values[i]! };
          buckets.set(k, b);
        }
        b.values.push(values[i]!);
        if (t >= b.lastTs) {
          b.lastTs = t;
          b.last = values[i]!;
        }
      }
    }
    return [...buckets.entries()]
      .sort((x, y) => x[0] - y[0])
      .map(([k, b]) => ({ ts: k, value: agg === 'last' ? b.last : aggregatePoints(agg, b.values) }));
  }

  /**
   * Rollup buckets of every matched series in the query range, per series and bucket start: the stored rows
   * corrected for the head, whose samples maintenance has not folded in yet. A head sample in a block that is
   * already compacted (a late or replacing sample) makes its hour be recomputed from raw data, as compaction
   * will, so a replaced value is never counted twice.
   */
  private readRollups(
    tier: Tier,
    matched: SeriesInfo[],
    q: SeriesQuery,
    agg: Aggregation,
    exactEdges: boolean,
  ): Map<number, Map<number, Bucket>> {
    const width = tier === 'hourly' ? HOUR_MS : DAY_MS;
    let from = Math.floor(q.from / width) * width;
    let to = q.to;
    const edges: [number, number][] = [];
    if (exactEdges) {
      const innerFrom = Math.ceil(q.from / HOUR_MS) * HOUR_MS;
      const innerTo = Math.floor((q.to + 1) / HOUR_MS) * HOUR_MS - 1;
      if (innerFrom > q.from) edges.push([q.from, innerFrom - 1]);
      if (innerTo < q.to) edges.push([innerTo + 1, q.to]);
      from = innerFrom;
      to = innerTo;
    }
    const heads = this.headByHour(matched, from, to);
    const late = heads.some((h) => h.lateHours.size > 0);
    const table = tier === 'hourly' ? 'rollup_hourly' : 'rollup_daily';
    const bySeries = new Map<number, Map<number, Bucket>>();
    const ids = JSON.stringify(matched.map((s) => s.id));
    const step = q.stepMs !== undefined && q.stepMs > width ? Math.floor(q.stepMs / width) * width : width;
    // Grouping in SQL is only possible when no stored bucket has to be replaced afterwards.
    const groupInSql = step > width && agg !== 'last' && !(agg in PERCENTILES) && !late;
    const inIds = 'series_id IN (SELECT value FROM json_each(?))';
    let rows: ({ series_id: number; bucket: number } & BucketRow)[];
    if (!groupInSql) {
      rows = this.db
        .prepare(
          `SELECT series_id, bucket, count, sum, min, max, last, last_ts FROM ${table}
           WHERE ${inIds} AND bucket >= ? AND bucket <= ?`,
        )
        .all(ids, from, to) as unknown as typeof rows;
    } else {
      // Whole days of a step of whole days come from the daily rows (24 times fewer), the rest from the hourly.
      const dayFrom = Math.ceil(from / DAY_MS) * DAY_MS;
      const dayTo = Math.floor((to + 1) / DAY_MS) * DAY_MS;
      const viaDaily = tier === 'hourly' && step % DAY_MS === 0 && dayFrom < dayTo;
      const source = viaDaily
        ? `SELECT series_id, bucket, count, sum, min, max, last_ts FROM rollup_daily
             WHERE ${inIds} AND bucket >= ${dayFrom} AND bucket < ${dayTo}
           UNION ALL
           SELECT series_id, bucket, count, sum, min, max, last_ts FROM rollup_hourly
             WHERE ${inIds} AND bucket >= ?1 AND bucket <= ?2 AND (bucket < ${dayFrom} OR bucket >= ${dayTo})`
        : `SELECT series_id, bucket, count, sum, min, max, last_ts FROM ${table}
             WHERE ${inIds} AND bucket >= ?1 AND bucket <= ?2`;
      rows = this.db
        .prepare(
          `SELECT series_id, (bucket / ${step}) * ${step} AS bucket, sum(count) AS count, sum(sum) AS sum,
             min(min) AS min, max(max) AS max, 0 AS last, max(last_ts) AS last_ts
           FROM (${source.replaceAll('json_each(?)', 'json_each(?3)')}) GROUP BY series_id, bucket / ${step}`,
        )
        .all(from, to, ids) as unknown as typeof rows;
    }
    const seriesMap = (id: number): Map<number, Bucket> => {
      let m = bySeries.get(id);
      if (!m) {
        m = new Map();
        bySeries.set(id, m);
      }
      return m;
    };
    for (const r of rows) seriesMap(r.series_id).set(r.bucket, fromRow(r));
    const hourlyHorizon = this.clock.now() - this.retention.hourlyMs;
    for (const { series, hours, lateHours } of heads) {
      const m = seriesMap(series.id);
      if (tier === 'hourly') {
        for (const [hour, points] of hours) {
          if (lateHours.has(hour)) m.set(hour, this.exactHour(series, hour));
          else addPoints(m, hour, points);
        }
        continue;
      }
      const lateDays = new Set([...lateHours].map((h) => Math.floor(h / DAY_MS) * DAY_MS));
      for (const [hour, points] of hours) {
        const day = Math.floor(hour / DAY_MS) * DAY_MS;
        if (!lateDays.has(day) || day < hourlyHorizon) addPoints(m, day, points);
      }
      // A day with a replaced sample is rebuilt from its hourly rows, the replaced hours recomputed.
      for (const day of lateDays) {
        if (day < hourlyHorizon) continue;
        const b = emptyBucket();
        const stored = this.stmt.hourlyRange!.all(series.id, day, day + DAY_MS) as unknown as ({
          bucket: number;
        } & BucketRow)[];
        const storedHours = new Map(stored.map((r) => [r.bucket, fromRow(r)]));
        for (let hour = day; hour < day + DAY_MS; hour += HOUR_MS) {
          const points = hours.get(hour);
          let hb = storedHours.get(hour);
          if (lateHours.has(hour)) hb = this.exactHour(series, hour);
          else if (points) {
            hb ??= emptyBucket();
            for (let i = 0; i < points.ts.length; i++) addPoint(hb, points.ts[i]!, points.values[i]!);
          }
          if (hb && hb.count > 0) mergeBucket(b, hb);
        }
        m.set(day, b);
      }
    }
    for (const [a, b] of edges) {
      for (const s of matched) {
        const { ts, values } = this.rawPoints(s, a, b);
        if (ts.length === 0) continue;
        addPoints(seriesMap(s.id), Math.floor(a / HOUR_MS) * HOUR_MS, { ts, values });
      }
    }
    return bySeries;
  }

  /** Per series, its head samples in [from, to] by hour, and the hours whose block is already compacted. */
  private headByHour(
    matched: SeriesInfo[],
    from: number,
    to: number,
  ): { series: SeriesInfo; hours: Map<number, { ts: number[]; values: number[] }>; lateHours: Set<number> }[] {
    // Chunks exist only below the highest watermark a round has reached; samples above it are never late.
    const globalBelow = Math.max(this.watermark, this.round?.watermark ?? 0, this.fileWatermark);
    const out = [];
    for (const series of matched) {
      const h = this.head.get(series.id);
      if (!h || h.size === 0) continue;
      const [a, b] = h.range(from, to);
      if (a === b) continue;
      const compactedBelow = Math.max(globalBelow, series.compactedBelow);
      const hours = new Map<number, { ts: number[]; values: number[] }>();
      const lateHours = new Set<number>();
      const blocks = new Map<number, boolean>();
      for (let i = a; i < b; i++) {
        const t = h.ts[i]!;
        const hour = Math.floor(t / HOUR_MS) * HOUR_MS;
        let p = hours.get(hour);
        if (!p) {
          p = { ts: [], values: [] };
          hours.set(hour, p);
        }
        p.ts.push(t);
        p.values.push(h.values[i]!);
        if (t < compactedBelow) {
          const block = Math.floor(t / BLOCK_MS) * BLOCK_MS;
          let compacted = blocks.get(block);
          if (compacted === undefined) {
            compacted = this.stmt.chunkExists!.get(series.id, block) !== undefined;
            blocks.set(block, compacted);
          }
          if (compacted) lateHours.add(hour);
        }
      }
      out.push({ series, hours, lateHours });
    }
    return out;
  }

  /** One hour's bucket from raw data (chunks merged with the head), as compaction computes it. */
  private exactHour(s: SeriesInfo, hour: number): Bucket {
    const b = emptyBucket();
    const { ts, values } = this.rawPoints(s, hour, hour + HOUR_MS - 1);
    for (let i = 0; i < ts.length; i++) addPoint(b, ts[i]!, values[i]!);
    return b;
  }

  private rollupGroup(
    tier: Tier,
    members: SeriesInfo[],
    rollups: Map<number, Map<number, Bucket>>,
    stepMs: number | undefined,
    agg: Aggregation,
  ): Point[] {
    const width = tier === 'hourly' ? HOUR_MS : DAY_MS;
    const step = stepMs !== undefined && stepMs > width ? Math.floor(stepMs / width) * width : width;
    const merged = new Map<number, { bucket: Bucket; means: number[] }>();
    for (const s of members) {
      const m = rollups.get(s.id);
      if (!m) continue;
      for (const [k0, b] of m) {
        const k = Math.floor(k0 / step) * step;
        let e = merged.get(k);
        if (!e) {
          e = { bucket: emptyBucket(), means: [] };
          merged.set(k, e);
        }
        mergeBucket(e.bucket, b);
        e.means.push(b.sum / b.count);
      }
    }
    return [...merged.entries()]
      .sort((x, y) => x[0] - y[0])
      .map(([k, e]) => ({ ts: k, value: bucketValue(agg, e.bucket, e.means) }));
  }

  // ---- maintenance ----

  async maintain(now: number, budgetMs = DEFAULT_BUDGET_MS): Promise<MaintenanceReport> {
    this.assertOpen();
    // A process that maintains runs for a while and writes: it keeps the WAL short from a worker thread.
    if (!this.checkpointer && this.path !== ':memory:') this.checkpointer = new WalCheckpointer(this.path);
    this.refreshFromFile();
    const started = performance.now();
    const overBudget = () => performance.now() - started > budgetMs;
    let chunksWritten = 0;
    let rollupBuckets = 0;
    let deleted = 0;
    const target = Math.floor((now - COMPACTION_GRACE_MS) / BLOCK_MS) * BLOCK_MS;
    if (this.round === null) {
      const watermark = Math.max(target, this.watermark);
      const pending: number[] = [];
      for (const [id, h] of this.head) {
        if (h.firstTs < Math.max(watermark, this.seriesById.get(id)!.compactedBelow)) pending.push(id);
      }
      if (pending.length > 0 || target > this.watermark) {
        this.round = { watermark, pending, batchIds: this.knownBatches.slice() };
      }
    }
    const round = this.round;
    if (round) {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        // Under the write lock: what other processes compacted meanwhile is dropped from the head first.
        this.refreshFromFile();
        let compacted = false;
        const seq = ((this.stmt.getMeta!.get('compaction_seq') as { value: number } | undefined)?.value ?? 0) + 1;
        while (round.pending.length > 0 && !overBudget()) {
          const r = this.compactSeries(round.pending.pop()!, round.watermark, now, seq);
          chunksWritten += r.chunks;
          rollupBuckets += r.buckets;
          compacted = true;
        }
        if (compacted) {
          this.stmt.setMeta!.run('compaction_seq', seq);
          this.compactionSeq = seq;
        }
        if (round.pending.length === 0) {
          deleted += this.dropCompactedBatches(round);
          this.watermark = round.watermark;
          this.stmt.setMeta!.run('watermark', this.watermark);
          this.round = null;
        }
        this.db.exec('COMMIT');
      } catch (e) {
        this.db.exec('ROLLBACK');
        this.round = null;
        throw e;
      }
    }
    let retentionLeft = false;
    if (!overBudget()) {
      const r = this.applyRetention(now);
      deleted += r.deleted;
      retentionLeft = r.more;
    } else {
      retentionLeft = true;
    }
    return { chunksWritten, rollupBuckets, deleted, more: this.round !== null || retentionLeft };
  }

  /**
   * Moves one series' head samples older than `watermark` into chunks and refreshes the rollups they touch, and
   * records how far the series is compacted (below which timestamp, from which head batches), so a replay of the
   * head batches never adds those samples a second time.
   */
  private compactSeries(
    id: number,
    roundWatermark: number,
    now: number,
    seq: number,
  ): { chunks: number; buckets: number } {
    const info = this.seriesById.get(id)!;
    // Never below what is already recorded: the invariant on (compactedBelow, compactedBatch) must keep holding.
    const watermark = Math.max(roundWatermark, info.compactedBelow);
    info.compactedBelow = watermark;
    info.compactedBatch = this.maxLoadedBatch;
    this.stmt.setCompacted!.run(watermark, this.maxLoadedBatch, seq, id);
    const h = this.head.get(id);
    if (!h) return { chunks: 0, buckets: 0 };
    const taken = h.takeBefore(watermark);
    this.headSamples -= taken.ts.length;
    if (h.size === 0) this.head.delete(id);
    const rawHorizon = now - this.retention.rawMs;
    const hourlyHorizon = now - this.retention.hourlyMs;
    let chunks = 0;
    let buckets = 0;
    let lastTs = Number.NEGATIVE_INFINITY;
    let lastValue = 0;
    const days = new Set<number>();
    for (let i = 0; i < taken.ts.length; ) {
      const block = Math.floor(taken.ts[i]! / BLOCK_MS) * BLOCK_MS;
      let j = i;
      while (j < taken.ts.length && taken.ts[j]! < block + BLOCK_MS) j++;
      let ts = taken.ts.slice(i, j);
      let values = taken.values.slice(i, j);
      const keepRaw = block + BLOCK_MS > rawHorizon;
      const existing = this.stmt.chunkAt!.get(id, block) as { data: Uint8Array } | undefined;
      if (existing) ({ ts, values } = mergeSorted(decodeChunk(existing.data), ts, values));
      if (keepRaw || existing) {
        this.stmt.upsertChunk!.run(id, block, ts[ts.length - 1]!, ts.length, encodeChunk(ts, values));
        chunks++;
      }
      // With the whole block at hand, its hourly buckets are recomputed exactly; without it (raw already past
      // retention) the new samples are added to what the buckets hold.
      const hours = new Map<number, Bucket>();
      for (let k = 0; k < ts.length; k++) {
        const hour = Math.floor(ts[k]! / HOUR_MS) * HOUR_MS;
        let b = hours.get(hour);
        if (!b) {
          b = emptyBucket();
          if (!keepRaw && !existing) {
            const row = this.stmt.hourlyAt!.get(id, hour) as BucketRow | undefined;
            if (row) b = fromRow(row);
          }
          hours.set(hour, b);
        }
        addPoint(b, ts[k]!, values[k]!);
      }
      for (const [hour, b] of hours) {
        this.stmt.upsertHourly!.run(id, hour, b.count, b.sum, b.min, b.max, b.last, b.lastTs);
        days.add(Math.floor(hour / DAY_MS) * DAY_MS);
        buckets++;
      }
      if (ts[ts.length - 1]! >= lastTs) {
        lastTs = ts[ts.length - 1]!;
        lastValue = values[values.length - 1]!;
      }
      i = j;
    }
    for (const day of days) {
      if (day >= hourlyHorizon) {
        const r = this.stmt.dailyFromHourly!.get(id, day, day + DAY_MS) as unknown as BucketRow;
        this.stmt.upsertDaily!.run(id, day, r.count, r.sum, r.min, r.max, r.last, r.last_ts);
      } else {
        // The day's hourly rows may already be gone: add the new samples to the stored daily bucket.
        const b = emptyBucket();
        const stored = this.stmt.dailyAt!.get(id, day) as BucketRow | undefined;
        if (stored) mergeBucket(b, fromRow(stored));
        for (let k = 0; k < taken.ts.length; k++) {
          const t = taken.ts[k]!;
          if (t >= day && t < day + DAY_MS) addPoint(b, t, taken.values[k]!);
        }
        this.stmt.upsertDaily!.run(id, day, b.count, b.sum, b.min, b.max, b.last, b.lastTs);
      }
      buckets++;
    }
    if (lastTs > Number.NEGATIVE_INFINITY) this.stmt.updateLast!.run(lastTs, lastValue, id, lastTs);
    return { chunks, buckets };
  }

  private dropCompactedBatches(round: Round): number {
    const ids = new Set(round.batchIds);
    const stillNeeded = new Set<number>();
    const rows = this.db
      .prepare('SELECT id, max_ts FROM head_batches WHERE id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify(round.batchIds)) as { id: number; max_ts: number }[];
    const drop: number[] = [];
    for (const r of rows) {
      if (r.max_ts < round.watermark) drop.push(r.id);
      else stillNeeded.add(r.id);
    }
    const del = this.db.prepare('DELETE FROM head_batches WHERE id IN (SELECT value FROM json_each(?))');
    for (let i = 0; i < drop.length; i += 5000) del.run(JSON.stringify(drop.slice(i, i + 5000)));
    // Keep the ids still in use and those written after the round started.
    const keep = this.knownBatches.filter((id) => !ids.has(id) || stillNeeded.has(id));
    this.knownBatches.length = 0;
    this.knownBatches.push(...keep);
    return drop.length;
  }

  private applyRetention(now: number): { deleted: number; more: boolean } {
    let deleted = 0;
    let more = false;
    const steps: [string, number][] = [
      [
        'DELETE FROM chunks WHERE (series_id, start_ts) IN (SELECT series_id, start_ts FROM chunks WHERE start_ts < ? LIMIT ?)',
        now - this.retention.rawMs - BLOCK_MS,
      ],
      [
        'DELETE FROM rollup_hourly WHERE (series_id, bucket) IN (SELECT series_id, bucket FROM rollup_hourly WHERE bucket < ? LIMIT ?)',
        now - this.retention.hourlyMs - HOUR_MS,
      ],
      [
        'DELETE FROM rollup_daily WHERE (series_id, bucket) IN (SELECT series_id, bucket FROM rollup_daily WHERE bucket < ? LIMIT ?)',
        now - this.retention.dailyMs - DAY_MS,
      ],
      // Outcomes back no-data rules and failure analysis over weeks: kept as long as hourly data.
      [
        'DELETE FROM outcomes WHERE id IN (SELECT id FROM outcomes WHERE ts < ? AND id NOT IN (SELECT last_outcome_id FROM vms WHERE last_outcome_id IS NOT NULL) LIMIT ?)',
        now - this.retention.hourlyMs,
      ],
    ];
    for (const [sql, horizon] of steps) {
      const r = this.db.prepare(sql).run(horizon, RETENTION_BATCH);
      deleted += Number(r.changes);
      if (Number(r.changes) >= RETENTION_BATCH) more = true;
    }
    return { deleted, more };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.checkpointer?.close();
    try {
      this.db.exec('PRAGMA wal_checkpoint(PASSIVE)');
    } catch {
      // Another process holds the file busy: its own checkpoints (or the next open) take the WAL over.
    }
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the metrics store is closed');
  }
}

interface BucketRow {
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  last_ts: number;
}

/** Adds points to the bucket at `key`, creating it when absent. */
function addPoints(m: Map<number, Bucket>, key: number, points: { ts: number[]; values: number[] }): void {
  let b = m.get(key);
  if (!b) {
    b = emptyBucket();
    m.set(key, b);
  }
  for (let i = 0; i < points.ts.length; i++) addPoint(b, points.ts[i]!, points.values[i]!);
}

function fromRow(r: BucketRow): Bucket {
  return { count: r.count, sum: r.sum, min: r.min, max: r.max, last: r.last, lastTs: r.last_ts };
}

/** Merges sorted chunk data with sorted newer samples; the newer value wins on equal timestamps. */
function mergeSorted(
  old: { ts: ArrayLike<number>; values: ArrayLike<number> },
  ts: number[],
  values: number[],
): { ts: number[]; values: number[] } {
  const mt: number[] = [];
  const mv: number[] = [];
  let i = 0;
  let j = 0;
  while (i < old.ts.length || j < ts.length) {
    if (j >= ts.length || (i < old.ts.length && old.ts[i]! < ts[j]!)) {
      mt.push(old.ts[i]!);
      mv.push(old.values[i++]!);
    } else {
      if (i < old.ts.length && old.ts[i] === ts[j]) i++;
      mt.push(ts[j]!);
      mv.push(values[j++]!);
    }
  }
  return { ts: mt, values: mv };
}

function validate(samples: readonly Sample[], outcomes: readonly CollectionOutcome[]): void {
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (typeof s.metric !== 'string' || s.metric === '')
      throw new TypeError(`sample ${i}: metric must be a non-empty string`);
    if (!Number.isSafeInteger(s.ts) || s.ts < 0) {
      throw new TypeError(`sample ${i} (${s.metric}): timestamp must be epoch milliseconds, got ${s.ts}`);
    }
    if (typeof s.value !== 'number') throw new TypeError(`sample ${i} (${s.metric}): value must be a number`);
  }
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i]!;
    if (typeof o.vm !== 'string' || o.vm === '') throw new TypeError(`outcome ${i}: vm must be a non-empty string`);
    if (!Number.isSafeInteger(o.ts) || o.ts < 0)
      throw new TypeError(`outcome ${i} (${o.vm}): timestamp must be epoch milliseconds`);
  }
}
