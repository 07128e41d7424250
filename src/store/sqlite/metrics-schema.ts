/**
 * Schema of the metrics store, as forward-only migrations of the "metrics" component.
 * Samples land in `head_batches` (one row per append, the durable head); maintenance moves complete 2-hour
 * blocks of each series into compressed `chunks` and keeps hourly and daily rollups up to date.
 */
export const METRICS_MIGRATIONS: readonly string[] = [
  `CREATE TABLE series (
     id INTEGER PRIMARY KEY,
     key TEXT NOT NULL UNIQUE,
     metric TEXT NOT NULL,
     labels TEXT NOT NULL,
     vm TEXT,
     last_ts INTEGER,
     last_value REAL
   ) STRICT;
   CREATE TABLE head_batches (
     id INTEGER PRIMARY KEY,
     min_ts INTEGER NOT NULL,
     max_ts INTEGER NOT NULL,
     data BLOB NOT NULL
   ) STRICT;
   CREATE TABLE chunks (
     series_id INTEGER NOT NULL,
     start_ts INTEGER NOT NULL,
     end_ts INTEGER NOT NULL,
     count INTEGER NOT NULL,
     data BLOB NOT NULL,
     PRIMARY KEY (series_id, start_ts)
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX chunks_start ON chunks (start_ts);
   CREATE TABLE rollup_hourly (
     series_id INTEGER NOT NULL,
     bucket INTEGER NOT NULL,
     count INTEGER NOT NULL,
     sum REAL NOT NULL,
     min REAL NOT NULL,
     max REAL NOT NULL,
     last REAL NOT NULL,
     last_ts INTEGER NOT NULL,
     PRIMARY KEY (series_id, bucket)
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX rollup_hourly_bucket ON rollup_hourly (bucket);
   CREATE TABLE rollup_daily (
     series_id INTEGER NOT NULL,
     bucket INTEGER NOT NULL,
     count INTEGER NOT NULL,
     sum REAL NOT NULL,
     min REAL NOT NULL,
     max REAL NOT NULL,
     last REAL NOT NULL,
     last_ts INTEGER NOT NULL,
     PRIMARY KEY (series_id, bucket)
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX rollup_daily_bucket ON rollup_daily (bucket);
   CREATE TABLE outcomes (
     id INTEGER PRIMARY KEY,
     vm TEXT NOT NULL,
     ts INTEGER NOT NULL,
     success INTEGER NOT NULL,
     error TEXT,
     duration_ms REAL NOT NULL,
     labels TEXT NOT NULL
   ) STRICT;
   CREATE INDEX outcomes_vm_ts ON outcomes (vm, ts);
   CREATE INDEX outcomes_ts ON outcomes (ts);
   CREATE TABLE vms (
     vm TEXT PRIMARY KEY,
     labels TEXT NOT NULL,
     last_outcome_id INTEGER
   ) STRICT;
   CREATE TABLE store_meta (
     key TEXT PRIMARY KEY,
     value INTEGER NOT NULL
   ) STRICT;`,
  // 2: head batch ids never reused (AUTOINCREMENT), so a process can pick up batches another process wrote by
  // reading the ids above the highest it has seen.
  `CREATE TABLE head_batches_v2 (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     min_ts INTEGER NOT NULL,
     max_ts INTEGER NOT NULL,
     data BLOB NOT NULL
   ) STRICT;
   INSERT INTO head_batches_v2 (id, min_ts, max_ts, data) SELECT id, min_ts, max_ts, data FROM head_batches;
   DROP TABLE head_batches;
   ALTER TABLE head_batches_v2 RENAME TO head_batches;`,
  // 3: how far each series is compacted. Every sample of the series with ts < compacted_below in a head batch with
  // id <= compacted_batch is in the chunks and rollups, so replaying the head batches at open skips it (a batch that
  // straddles the watermark is kept whole). compacted_seq is the store_meta 'compaction_seq' of that step, so other
  // processes find the series that changed. A v2 file kept one global watermark: every series already compacted is
  // taken as compacted below it from every batch in the file (a late sample that arrived after the last round and was
  // not yet compacted is the one case this misses).
  `ALTER TABLE series ADD COLUMN compacted_below INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE series ADD COLUMN compacted_batch INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE series ADD COLUMN compacted_seq INTEGER NOT NULL DEFAULT 0;
   UPDATE series SET
     compacted_below = coalesce((SELECT value FROM store_meta WHERE key = 'watermark'), 0),
     compacted_batch = coalesce((SELECT max(id) FROM head_batches), 0)
   WHERE last_ts IS NOT NULL;`,
];
