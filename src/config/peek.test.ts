import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from './load.ts';
import { peekStoreSettings } from './peek.ts';

/** A working directory and a home, each empty, with `files` written into the working directory. */
function dirs(files: Record<string, string> = {}): { cwd: string; home: string } {
  const root = mkdtempSync(join(tmpdir(), 'vigil-peek-'));
  const cwd = join(root, 'work');
  const home = join(root, 'home');
  mkdirSync(cwd);
  mkdirSync(home);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(cwd, name, '..'), { recursive: true });
    writeFileSync(join(cwd, name), text);
  }
  return { cwd, home };
}

// Whatever the peek reads, it must read as the loader does: the dashboard reuses its first screen only when the
// store paths agree, and shows MB/s computed with the interval meanwhile.
const agreeing: Array<{ name: string; files?: Record<string, string>; config?: string; env?: Record<string, string> }> =
  [
    { name: 'no config file: the default store under home' },
    { name: 'a path relative to the config file', files: { 'vigil.yaml': 'storage:\n  path: data/m.db\n' } },
    {
      name: '--config in another folder',
      files: { 'etc/vigil.yaml': 'storage:\n  path: m.db\ncollection:\n  interval: 5m\n' },
      config: 'etc/vigil.yaml',
    },
    { name: 'a ~/ path', files: { 'vigil.yaml': 'storage:\n  path: ~/x/m.db\n' } },
    { name: 'an absolute path', files: { 'vigil.yaml': 'storage:\n  path: /var/lib/vigil/m.db\n' } },
    {
      name: 'variables, with and without defaults',
      files: { 'vigil.yaml': 'storage:\n  path: ${DATA}/m.db\ncollection:\n  interval: ${EVERY:-2m}\n' },
      env: { DATA: '/srv' },
    },
    {
      name: 'a whole-value variable read as seconds',
      files: { 'vigil.yaml': 'collection:\n  interval: ${EVERY}\n' },
      env: { EVERY: '300' },
    },
    { name: 'interval in seconds', files: { 'vigil.yaml': 'collection:\n  interval: 120\n  timeout: 10s\n' } },
    { name: 'a JSON file', files: { 'vigil.json': '{"storage": {"path": "j.db"}, "collection": {"interval": "1h"}}' } },
    { name: 'empty sections', files: { 'vigil.yml': 'storage: {}\nsources: []\n' } },
    { name: 'an empty file', files: { 'vigil.yaml': '' } },
  ];

for (const c of agreeing) {
  test(`peekStoreSettings agrees with loadConfig: ${c.name}`, async () => {
    const { cwd, home } = dirs(c.files);
    const env = c.env ?? {};
    const { config } = loadConfig({ ...(c.config ? { path: c.config } : {}), cwd, home, env });
    const peeked = await peekStoreSettings({ ...(c.config ? { config: c.config } : {}), cwd, home, env });
    assert.deepEqual(peeked, { storagePath: config.storage.path, intervalMs: config.collection.interval });
  });
}

test('peekStoreSettings: --db replaces the configured path, as loadEffectiveConfig does', async () => {
  const { cwd, home } = dirs({ 'vigil.yaml': 'storage:\n  path: m.db\ncollection:\n  interval: 30s\n' });
  assert.deepEqual(await peekStoreSettings({ db: 'other.db', cwd, home, env: {} }), {
    storagePath: 'other.db',
    intervalMs: 30_000,
  });
});

test('peekStoreSettings: a config in ~/.vigil is found as the loader finds it', async () => {
  const { cwd, home } = dirs();
  mkdirSync(join(home, '.vigil'));
  writeFileSync(join(home, '.vigil', 'config.yaml'), 'storage:\n  path: here.db\n');
  const peeked = await peekStoreSettings({ cwd, home, env: {} });
  assert.equal(peeked?.storagePath, join(home, '.vigil', 'here.db'));
  assert.equal(peeked?.storagePath, loadConfig({ cwd, home, env: {} }).config.storage.path);
});

// Null: the peek does not guess; the full loader runs next and reports (or, for PostgreSQL, the dashboard has no
// store file to paint from).
const refused: Array<{ name: string; files?: Record<string, string>; config?: string }> = [
  { name: 'a PostgreSQL URL', files: { 'vigil.yaml': 'storage:\n  url: postgres://u:p@127.0.0.1/vigil\n' } },
  { name: 'an unset variable', files: { 'vigil.yaml': 'storage:\n  path: ${NOPE}/m.db\n' } },
  { name: 'bad YAML', files: { 'vigil.yaml': 'storage:\n  path: [unclosed\n' } },
  { name: 'a duplicate key', files: { 'vigil.yaml': 'storage:\n  path: a.db\n  path: b.db\n' } },
  { name: 'an interval below 10 s', files: { 'vigil.yaml': 'collection:\n  interval: 5s\n' } },
  { name: 'an interval that is not a duration', files: { 'vigil.yaml': 'collection:\n  interval: often\n' } },
  { name: 'a path that is not text', files: { 'vigil.yaml': 'storage:\n  path: [a, b]\n' } },
  { name: 'storage that is not a mapping', files: { 'vigil.yaml': 'storage: m.db\n' } },
  { name: 'a document that is not a mapping', files: { 'vigil.yaml': '- storage\n' } },
  { name: 'a --config file that does not exist', config: 'missing.yaml' },
];

for (const c of refused) {
  test(`peekStoreSettings refuses ${c.name}`, async () => {
    const { cwd, home } = dirs(c.files);
    assert.equal(await peekStoreSettings({ ...(c.config ? { config: c.config } : {}), cwd, home, env: {} }), null);
    // ... and the loader does not accept it as a SQLite config either.
    let accepted: string | undefined;
    try {
      accepted = loadConfig({ ...(c.config ? { path: c.config } : {}), cwd, home, env: {} }).config.storage.url;
    } catch {
      return;
    }
    assert.match(accepted ?? '', /^postgres:/);
  });
}
