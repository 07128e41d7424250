import type { DatabaseSync } from 'node:sqlite';

/**
 * Forward-only schema migrations, versioned per component ("metrics", "alerts", "outbox", ...)
 * so each part of Vigil owns its tables without editing a shared list.
 * `steps[i]` upgrades the component from version i to i+1; steps already applied are skipped.
 */
export function migrate(db: DatabaseSync, component: string, steps: readonly string[]): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);
  const row = db.prepare('SELECT version FROM schema_migrations WHERE component = ?').get(component) as
    | { version: number }
    | undefined;
  const current = row?.version ?? 0;
  if (current > steps.length) {
    throw new Error(
      `database schema for ${component} is version ${current}, newer than this Vigil supports (${steps.length}); upgrade Vigil`,
    );
  }
  for (let v = current; v < steps.length; v++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(steps[v]!);
      db.prepare(
        `INSERT INTO schema_migrations (component, version, applied_at) VALUES (?, ?, ?)
         ON CONFLICT(component) DO UPDATE SET version = excluded.version, applied_at = excluded.applied_at`,
      ).run(component, v + 1, Date.now());
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
  }
  return steps.length;
}
