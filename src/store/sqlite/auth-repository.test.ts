import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { AuthRepository } from './auth-repository.ts';

const T0 = Date.UTC(2026, 0, 1);

test('tokens are stored as hashes only, verify by secret, revoke ends access', () => {
  const db = new DatabaseSync(':memory:');
  const auth = new AuthRepository(db);
  assert.equal(auth.hasActiveTokens(), false);
  const { token, info } = auth.create({ role: 'operator', tenant: 'team-b', name: 'agent' }, T0);
  const secret = /^vgl_[0-9a-f]{12}_([A-Za-z0-9_-]{32})$/.exec(token)?.[1];
  assert.ok(secret, token);
  // (The secret is base64url, so it may hold '_' itself: take all 32 characters, not the part after the last '_'.)
  const dump = JSON.stringify(db.prepare('SELECT * FROM api_tokens').all());
  assert.ok(!dump.includes(secret), 'secret not stored');
  assert.deepEqual(auth.verify(token, T0 + 1)?.tenant, 'team-b');
  assert.equal(auth.verify(`${token}x`, T0), null);
  assert.equal(auth.hasActiveTokens(), true);
  assert.equal(auth.revoke(info.id, T0 + 2), true);
  assert.equal(auth.revoke(info.id, T0 + 3), false);
  assert.equal(auth.verify(token, T0 + 4), null);
  assert.equal(auth.hasActiveTokens(), false);
  assert.throws(() => auth.create({ role: 'root' as 'admin' }, T0), /unknown role/);
  // Migrations are idempotent: a second repository on the same db keeps the data.
  assert.equal(new AuthRepository(db).list().length, 1);
});

test('audit log: newest first, filtered by tenant', () => {
  const auth = new AuthRepository(new DatabaseSync(':memory:'));
  auth.audit({ at: T0, actor: 'a', tenant: 'default', action: 'ingest', target: 'samples', detail: '{"samples":3}' });
  auth.audit({ at: T0 + 1, actor: 'b', tenant: 'team-b', action: 'alert.ack', target: 'x', detail: null });
  assert.deepEqual(
    auth.auditLog().map((e) => e.actor),
    ['b', 'a'],
  );
  assert.deepEqual(
    auth.auditLog({ tenant: 'team-b' }).map((e) => e.action),
    ['alert.ack'],
  );
  assert.equal(auth.auditLog({ since: T0 + 1 }).length, 1);
});
