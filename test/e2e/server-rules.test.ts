import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FakeClock } from '../../src/clock.ts';
import { RulesFile } from '../../src/server/rules-file.ts';
import { testServer } from '../../src/server/testing/harness.ts';

test('rules CRUD writes the YAML config (comments kept), reloads the rules in force, admin only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
  const path = join(dir, 'vigil.yaml');
  writeFileSync(path, '# my fleet\nrules:\n  - name: high_cpu # hot\n    metric: cpu_percent\n    threshold: 80\n');
  const h = testServer({ clock: new FakeClock(), withAlerts: true, rulesFile: new RulesFile(path) });
  const { url, close } = await h.server.listen('127.0.0.1', 0);
  try {
    const admin = h.auth.create({ role: 'admin' }, 0).token;
    const op = h.auth.create({ role: 'operator' }, 0).token;
    const teamAdmin = h.auth.create({ role: 'admin', tenant: 'team-b' }, 0).token;
    const put = (token: string, name: string, body: unknown) =>
      fetch(`${url}/api/v1/rules/${name}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const rule = { metric: 'memory_percent', threshold: 90, for: '5m', severity: 'warning' };
    assert.equal((await put(op, 'high_mem', rule)).status, 403);
    assert.equal((await put(teamAdmin, 'high_mem', rule)).status, 403);
    const ok = await put(admin, 'high_mem', rule);
    assert.equal(ok.status, 200, await ok.clone().text());
    const names = ((await ok.json()) as { rules: { name: string }[] }).rules.map((r) => r.name);
    assert.ok(names.includes('high_cpu') && names.includes('high_mem'), names.join());
    const text = readFileSync(path, 'utf8');
    assert.match(text, /# my fleet/);
    assert.match(text, /# hot/);
    assert.match(text, /name: high_mem/);

    const bad = await put(admin, 'broken', { metric: 'cpu_percent', threshold: 'high' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'invalid_rule');
    assert.doesNotMatch(readFileSync(path, 'utf8'), /broken/);

    const patch = (token: string, name: string, body: unknown) =>
      fetch(`${url}/api/v1/rules/${name}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await patch(op, 'high_mem', { threshold: 95 })).status, 403);
    const patched = await patch(admin, 'high_mem', { threshold: 95, for: null, notification_channels: ['console'] });
    assert.equal(patched.status, 200, await patched.clone().text());
    const hm = ((await patched.json()) as { rules: { name: string; threshold: number; forMs: number }[] }).rules.find(
      (r) => r.name === 'high_mem',
    );
    assert.deepEqual([hm?.threshold, hm?.forMs], [95, 0]);
    assert.match(
      readFileSync(path, 'utf8'),
      /- name: high_mem\n\s+metric: memory_percent\n\s+threshold: 95\n\s+severity: warning\n\s+notification_channels:/,
    );
    assert.equal((await patch(admin, 'nope', { threshold: 1 })).status, 404);
    assert.equal((await patch(admin, 'high_mem', { name: 'other' })).status, 400);

    const dis = await fetch(`${url}/api/v1/rules/high_cpu/disable`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(dis.status, 200);
    assert.match(readFileSync(path, 'utf8'), /enabled: false/);
    const del = await fetch(`${url}/api/v1/rules/high_mem`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(del.status, 200);
    assert.doesNotMatch(readFileSync(path, 'utf8'), /high_mem/);
    const missing = await fetch(`${url}/api/v1/rules/nope`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(missing.status, 404);
    assert.ok(h.auth.auditLog().some((e) => e.action === 'rule.put' && e.target === 'high_mem'));
  } finally {
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
});
