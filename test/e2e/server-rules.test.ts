import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FakeClock } from '../../src/clock.ts';
import { RulesFile } from '../../src/server/rules-file.ts';
import { testServer } from '../../src/server/testing/harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type J = any;

test('rules CRUD writes the YAML config (comments kept), reloads the rules in force, admin only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
  const path = join(dir, 'vigil.yaml');
  writeFileSync(path, '# my fleet\nrules:\n  - name: high_cpu # hot\n    metric: cpu_percent\n    threshold: 80\n');
  const h = testServer({ clock: new FakeClock(), withAlerts: true, rulesFile: new RulesFile(path) });
  const { url, close } = await h.server.listen('127.0.0.1', 0);
  try {
    const admin = h.auth.create({ role: 'admin' }, 0).token;
    const op = h.auth.create({ role: 'operator' }, 0).token;
    const put = (token: string, name: string, body: unknown) =>
      fetch(`${url}/api/v1/rules/${name}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const rule = { metric: 'memory_percent', threshold: 90, for: '5m', severity: 'warning' };
    assert.equal((await put(op, 'high_mem', rule)).status, 403);
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

test('rules belong to tenants: reads are filtered, a tenant admin writes only its own, scoped to its series', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-rules-'));
  const path = join(dir, 'vigil.yaml');
  writeFileSync(
    path,
    'rules:\n  - name: high_cpu\n    metric: cpu_percent\n    threshold: 80\n    for: 0s\n  - name: c_disk\n    metric: disk_percent\n    threshold: 90\n    labels:\n      tenant: team-c\n',
  );
  const clock = new FakeClock(Date.UTC(2026, 2, 1));
  const h = testServer({ clock, withAlerts: true, rulesFile: new RulesFile(path) });
  const { url, close } = await h.server.listen('127.0.0.1', 0);
  try {
    const admin = h.auth.create({ role: 'admin', name: 'root' }, 0).token;
    const viewer = h.auth.create({ role: 'viewer' }, 0).token;
    const adminB = h.auth.create({ role: 'admin', tenant: 'team-b', name: 'b-admin' }, 0).token;
    const viewerB = h.auth.create({ role: 'viewer', tenant: 'team-b' }, 0).token;
    const viewerC = h.auth.create({ role: 'viewer', tenant: 'team-c' }, 0).token;
    const call = async (token: string, method: string, p: string, body?: unknown) => {
      const res = await fetch(`${url}${p}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as J };
    };
    const names = async (token: string) =>
      ((await call(token, 'GET', '/api/v1/rules')).json.rules as { name: string; tenant: string }[])
        .map((r) => `${r.name}@${r.tenant}`)
        .sort();

    // A tenant admin creates a rule: pinned to its tenant in the file.
    const put = await call(adminB, 'PUT', '/api/v1/rules/b_mem', {
      metric: 'memory_percent',
      threshold: 90,
      for: '0s',
      severity: 'critical',
    });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    assert.deepEqual(
      put.json.rules.map((r: J) => r.name),
      ['b_mem'],
      'the answer lists only its tenant rules',
    );
    assert.match(
      readFileSync(path, 'utf8'),
      /name: b_mem[\s\S]*labels:\n\s+tenant: team-b\n\s+match:\n\s+tenant: team-b/,
    );

    // Reads are filtered; the default tenant's admin sees all.
    assert.deepEqual(await names(viewerB), ['b_mem@team-b']);
    assert.deepEqual(await names(viewerC), ['c_disk@team-c']);
    assert.ok(!(await names(viewer)).some((n) => n.endsWith('@team-b') || n.endsWith('@team-c')));
    assert.ok((await names(viewer)).includes('high_cpu@default'));
    const all = await names(admin);
    assert.ok(all.includes('b_mem@team-b') && all.includes('c_disk@team-c') && all.includes('high_cpu@default'));

    // Cross-tenant writes are refused and change nothing.
    const before = readFileSync(path, 'utf8');
    assert.equal((await call(adminB, 'PATCH', '/api/v1/rules/high_cpu', { threshold: 1 })).status, 404);
    assert.equal((await call(adminB, 'PATCH', '/api/v1/rules/c_disk', { threshold: 1 })).status, 404);
    assert.equal((await call(adminB, 'DELETE', '/api/v1/rules/high_cpu')).status, 404);
    assert.equal((await call(adminB, 'POST', '/api/v1/rules/c_disk/disable')).status, 404);
    assert.equal(
      (await call(adminB, 'PUT', '/api/v1/rules/high_cpu', { metric: 'cpu_percent', threshold: 1 })).status,
      409,
    );
    const steal = await call(adminB, 'PATCH', '/api/v1/rules/b_mem', { labels: { tenant: 'default' } });
    assert.equal(steal.status, 403);
    assert.match(steal.json.error.message, /team-b token can only write team-b rules/);
    assert.equal((await call(viewerB, 'PATCH', '/api/v1/rules/b_mem', { threshold: 95 })).status, 403);
    assert.equal(readFileSync(path, 'utf8'), before);

    // Its own rule: editable, and labels replaced by a patch keep the tenant.
    const own = await call(adminB, 'PATCH', '/api/v1/rules/b_mem', { threshold: 95, labels: { team: 'payments' } });
    assert.equal(own.status, 200, JSON.stringify(own.json));
    assert.deepEqual(own.json.rules[0].labels, { team: 'payments', tenant: 'team-b' });

    // The tenant's rule fires on its own VMs only.
    const snap = (vm: string, tenant: string | undefined) => [
      {
        metric: 'memory_percent',
        labels: { vm, ...(tenant ? { tenant } : {}) },
        ts: clock.now(),
        value: 99,
      },
    ];
    await h.ingestor().ingest([...snap('a-01', undefined), ...snap('b-01', 'team-b')], [], 'push');
    const fired = h.alerts!.activeAlerts().filter((a) => a.rule === 'b_mem');
    assert.deepEqual(
      fired.map((a) => a.vm),
      ['b-01'],
    );

    assert.equal((await call(adminB, 'DELETE', '/api/v1/rules/b_mem')).status, 200);
    assert.doesNotMatch(readFileSync(path, 'utf8'), /b_mem/);
    assert.ok(h.auth.auditLog({ tenant: 'team-b' }).some((e) => e.action === 'rule.delete' && e.actor === 'b-admin'));
  } finally {
    await close();
    rmSync(dir, { recursive: true, force: true });
  }
});
