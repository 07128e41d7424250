import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { AuthRepository } from '../../store/sqlite/auth-repository.ts';
import { vigilIn } from '../testing/run-cli.ts';

test('vigil token create/revoke write the audit log (who, what, tenant), never the secret', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-token-cli-'));
  try {
    writeFileSync(join(dir, 'vigil.yaml'), 'rules: []\n');
    const created = await vigilIn(
      dir,
      'token',
      'create',
      '--role',
      'operator',
      '--tenant',
      'team-b',
      '--name',
      'agent',
      '--json',
    );
    assert.equal(created.code, 0, created.err);
    const { token, id } = JSON.parse(created.out) as { token: string; id: string };
    const revoked = await vigilIn(dir, 'token', 'revoke', id);
    assert.equal(revoked.code, 0, revoked.err);
    const missing = await vigilIn(dir, 'token', 'revoke', id);
    assert.notEqual(missing.code, 0);

    const db = new DatabaseSync(join(dir, 'metrics.db'));
    const log = new AuthRepository(db).auditLog();
    db.close();
    assert.deepEqual(
      log.map((e) => [e.action, e.target, e.actor, e.tenant]),
      [
        ['token.revoke', id, 'cli:tester', 'team-b'],
        ['token.create', id, 'cli:tester', 'team-b'],
      ],
      'a failed revoke writes nothing',
    );
    assert.deepEqual(JSON.parse(log[1]!.detail!), { name: 'agent', role: 'operator' });
    const secret = token.split('_').slice(2).join('_');
    assert.ok(!JSON.stringify(log).includes(secret), 'no secret in the audit log');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
