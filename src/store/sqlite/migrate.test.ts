import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { openStore } from '../open.ts';
import { AlertRepository } from './alert-repository.ts';
import { migrate } from './migrate.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-migrate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const V1 = 'CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL) STRICT';
const V2 = 'ALTER TABLE notes ADD COLUMN author TEXT';

test('from an empty database every step applies, in order', () => {
  const db = new DatabaseSync(':memory:');
  assert.equal(migrate(db, 'notes', [V1, V2]), 2);
  db.prepare('INSERT INTO notes (text, author) VALUES (?, ?)').run('x', 'y');
  assert.deepEqual(
    { ...(db.prepare('SELECT version FROM schema_migrations WHERE component = ?').get('notes') as object) },
    { version: 2 },
  );
  db.close();
});

test('from a previous version only the new steps apply, and data is kept', () => {
  const path = join(dir, 'prev.db');
  const old = new DatabaseSync(path);
  migrate(old, 'notes', [V1]);
  old.prepare('INSERT INTO notes (text) VALUES (?)').run('kept');
  old.close();
  const db = new DatabaseSync(path);
  migrate(db, 'notes', [V1, V2]);
  assert.deepEqual(
    db
      .prepare('SELECT text, author FROM notes')
      .all()
      .map((r) => ({ ...r })),
    [{ text: 'kept', author: null }],
  );
  db.close();
});

test('a database from a newer Vigil is refused, a failing step leaves the previous version', () => {
  const db = new DatabaseSync(':memory:');
  migrate(db, 'notes', [V1, V2]);
  assert.throws(
    () => migrate(db, 'notes', [V1]),
    /schema for notes is version 2, newer than this Vigil supports \(1\); upgrade Vigil/,
  );
  assert.throws(() => migrate(db, 'notes', [V1, V2, 'CREATE TABLE broken (; nonsense']));
  assert.deepEqual(
    { ...(db.prepare("SELECT version FROM schema_migrations WHERE component = 'notes'").get() as object) },
    { version: 2 },
  );
  db.close();
});

test('the real components share one file: metrics then alerts, reopened', async () => {
  const path = join(dir, 'real.db');
  const store = await openStore({ path });
  await store.append([{ metric: 'cpu_percent', labels: { vm: 'a' }, ts: 1_700_000_000_000, value: 5 }]);
  new AlertRepository(store.db);
  await store.close();
  const again = await openStore({ path });
  new AlertRepository(again.db);
  const components = again.db
    .prepare('SELECT component FROM schema_migrations ORDER BY component')
    .all()
    .map((r) => r.component);
  assert.ok(components.includes('metrics') && components.length >= 2, String(components));
  assert.equal((await again.latest({ metric: 'cpu_percent' }))[0]?.value, 5);
  await again.close();
});
