import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_RULES } from '../../alerting/default-rules.ts';
import { effectiveRules } from '../../alerting/rule.ts';
import { parseConfigText, type VigilConfig } from '../../config/index.ts';
import { runCli } from '../testing/run-cli.ts';
import { effectiveRuleEntries } from './config.ts';

async function run(argv: string[], cwd: string, env: Record<string, string> = {}) {
  const r = await runCli(argv, { cwd, env });
  return { code: r.code, stdout: r.out, stderr: r.err };
}

test('config init writes a starter file that validates, and refuses to overwrite without --force', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  const r = await run(['config', 'init'], dir);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(join(dir, 'vigil.yaml'), 'utf8');
  const cfg = parseConfigText(text, join(dir, 'vigil.yaml'), { env: {}, home: dir });
  // The rules are the built-in defaults (generated from them, notification_channels included) ...
  assert.deepEqual(cfg.rules, DEFAULT_RULES);
  assert.match(text, /type: no_data +# a VM whose collection fails/);
  // ... and so is everything else: "the values below are the defaults" holds.
  const defaults = parseConfigText('', join(dir, 'vigil.yaml'), { env: {}, home: dir });
  assert.deepEqual({ ...cfg, rules: [] }, defaults);
  assert.match(text, /\$\{SLACK_WEBHOOK_URL\}/);
  const again = await run(['config', 'init'], dir);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists.*--force/);
  assert.equal((await run(['config', 'init', '--force'], dir)).code, 0);
  const v = await run(['config', 'validate', 'vigil.yaml'], dir);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stdout, /^ok vigil\.yaml: 6 rules \(6 enabled\)/);
});

test('config validate reports errors with location and exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  writeFileSync(join(dir, 'bad.yaml'), 'rules:\n  - name: a\n    metric: cpu_percent\n    threshold: eighty\n');
  const r = await run(['config', 'validate', 'bad.yaml'], dir);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.yaml:4:16 rules\[0\]\.threshold: expected a number, got "eighty"/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('config show masks secrets from env and URL credentials (YAML and JSON)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  writeFileSync(
    join(dir, 'vigil.yaml'),
    [
      'storage:',
      '  url: postgres://vigil:pgpass-123@127.0.0.1/vigil',
      'notification_config:',
      '  slack:',
      '    webhook_url: ${SLACK_WEBHOOK_URL}',
      '',
    ].join('\n'),
  );
  const secret = 'https://hooks.slack.com/services/T000/B000/super-secret-xyz';
  for (const argv of [
    ['config', 'show'],
    ['config', 'show', '--json'],
  ]) {
    const r = await run(argv, dir, { SLACK_WEBHOOK_URL: secret });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('super-secret-xyz'), 'webhook secret leaked');
    assert.ok(!r.stdout.includes('pgpass-123'), 'URL password leaked');
    assert.match(r.stdout, /\*\*\*\*/);
    assert.match(r.stdout, /retention/);
  }
});

test('bin/vigil.js exits 2 on a bad config without a stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  writeFileSync(join(dir, 'vigil.yaml'), 'storge: 1\n');
  const bin = fileURLToPath(new URL('../../../bin/vigil.js', import.meta.url));
  const r = spawnSync(process.execPath, [bin, 'config', 'validate'], {
    cwd: dir,
    env: { HOME: dir, PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /vigil\.yaml:1:1 storge: unknown field "storge"/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

/** `config show` output read back: same effective config (rules in force, everything else equal). */
function assertSameEffective(back: VigilConfig, original: VigilConfig): void {
  assert.deepEqual(
    back.rules,
    effectiveRuleEntries(original).map((e) => e.rule),
  );
  // What the alert engine compiles from each (src/alerting/service.ts) is the same.
  const compiled = (c: VigilConfig) =>
    effectiveRules(c.rules, c.alerting, DEFAULT_RULES).map(({ matches: _fn, ...data }) => data);
  assert.deepEqual(compiled(back), compiled(original));
  assert.deepEqual({ ...back, rules: [], include: [] }, { ...original, rules: [], include: [] });
}

test('config show round-trips: its output (YAML and JSON) validates and reads back as the same config', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  writeFileSync(
    join(dir, 'extra.yaml'),
    'rules:\n  - name: slow_disk\n    metric: disk_percent\n    threshold: 70\n    for: 2m\n    notification_channels: [ops]\n' +
      'notification_config:\n  ops:\n    type: file\n    path: ops.jsonl\n',
  );
  writeFileSync(
    join(dir, 'vigil.yaml'),
    [
      'include: [extra.yaml]',
      'storage: { path: data/m.db, retention: { raw: 2d, hourly: 45d }, maintenance_interval: 90s }',
      'collection: { interval: 90s, timeout: 45s, max_workers: 4 }',
      'sources:',
      '  - type: demo',
      '    vms: 3',
      'rules:',
      '  - name: cpu',
      '    metric: cpu_percent',
      '    threshold: 90',
      '    for: 1m30s',
      '    keep_firing_for: 2m',
      '    aggregate: avg',
      '    window: 10m',
      'alerting:',
      '  renotify: { warning: 45m }',
      '  maintenance_windows:',
      '    - { name: patch, schedule: "0 2 * * 6", duration: 2h }',
      'analytics:',
      '  patterns:',
      '    cascading_failures: { window: 10m, min_vms: 4 }',
      'notification_config:',
      '  console: { color: false }',
      'notifications:',
      '  default_channels: [console]',
      '',
    ].join('\n'),
  );
  const original = parseConfigText(readFileSync(join(dir, 'vigil.yaml'), 'utf8'), join(dir, 'vigil.yaml'), {
    env: {},
    home: dir,
  });
  for (const [argv, name] of [
    [['config', 'show'], 'shown.yaml'],
    [['config', 'show', '--json'], 'shown.json'],
  ] as const) {
    const r = await run([...argv], dir);
    assert.equal(r.code, 0, r.stderr);
    if (name === 'shown.yaml') {
      assert.match(r.stdout, /^ {2}interval: 1m30s$/m);
      assert.match(r.stdout, /^ {4}raw: 2d$/m);
      // The built-in no-data rule is in force too (alerting.vm_unreachable): shown, and marked.
      assert.match(r.stdout, /# built in: alerting\.vm_unreachable.*\n\s+- name: vm_unreachable/);
      assert.match(r.stdout, /included files \(extra\.yaml\) are shown inline/);
    }
    const shown = join(dir, 'out', name);
    mkdirSync(join(dir, 'out'), { recursive: true });
    writeFileSync(shown, r.stdout);
    const v = await run(['config', 'validate', shown], dir);
    assert.equal(v.code, 0, v.stderr);
    assertSameEffective(parseConfigText(r.stdout, shown, { env: {}, home: dir }), original);
  }
});

test('config show with no rules shows the built-in default rules, marked, and reads back the same', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  const r = await run(['config', 'show'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /rules: \[\]/);
  assert.match(
    r.stdout,
    /# No rules are configured: the built-in default rules below apply\.\nrules:\n\s+# built-in default rule\n\s+- name: high_cpu/,
  );
  const original = parseConfigText('', join(dir, 'vigil.yaml'), { env: {}, home: dir });
  const back = parseConfigText(r.stdout, join(dir, 'shown.yaml'), { env: {}, home: dir });
  assert.deepEqual(back.rules, DEFAULT_RULES);
  assertSameEffective(back, original);
  const off = await run(['config', 'show', '--json'], dir, {});
  assert.equal(JSON.parse(off.stdout).rules.length, DEFAULT_RULES.length);
});

test('config show masks custom webhook headers and tokens in URL query strings; the output still validates', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  writeFileSync(
    join(dir, 'vigil.yaml'),
    [
      'notification_config:',
      '  webhook:',
      '    url: https://hooks.example.com/in?token=tok-aaa111&team=ops&sig=sig-bbb222',
      '    headers:',
      '      X-Api-Key: key-ccc333',
      '      Authorization: Bearer auth-ddd444',
      '      X-Team: platform-ops',
      '  teams:',
      '    webhook_url: https://prod.example.logic.azure.com/workflows/wf-eee555/triggers/manual/paths/invoke?sig=sig-fff666',
      '  pager:',
      '    type: webhook',
      '    url: https://relay.example.com/notify?code=code-ggg777&key=key-hhh888',
      '',
    ].join('\n'),
  );
  for (const argv of [
    ['config', 'show'],
    ['config', 'show', '--json'],
  ]) {
    const r = await run(argv, dir);
    assert.equal(r.code, 0, r.stderr);
    for (const secret of [
      'tok-aaa111',
      'sig-bbb222',
      'key-ccc333',
      'auth-ddd444',
      'wf-eee555',
      'sig-fff666',
      'code-ggg777',
      'key-hhh888',
    ])
      assert.ok(!r.stdout.includes(secret), `${secret} leaked`);
    assert.match(r.stdout, /platform-ops/, 'a header that is no secret stays');
    assert.match(r.stdout, /team=ops/, 'a query parameter that is no secret stays');
    assert.match(r.stdout, /token=\*\*\*\*/);
    const shown = join(dir, argv.length === 3 ? 'shown.json' : 'shown.yaml');
    writeFileSync(shown, r.stdout);
    const v = await run(['config', 'validate', shown], dir);
    assert.equal(v.code, 0, v.stderr);
  }
});

test('config validate and vigil up: bad channel settings are located config errors (exit 2)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  writeFileSync(
    join(dir, 'vigil.yaml'),
    [
      'notification_config:',
      '  email:',
      '    smtp_host: smtp.example.com',
      '    smtp_port: "abc"',
      '    from_address: a@example.com',
      '    to_addresses: [ops@example.com]',
      '',
    ].join('\n'),
  );
  for (const argv of [
    ['config', 'validate'],
    ['up', '--no-server', '--quiet'],
    ['notify', 'test', 'email'],
  ]) {
    const r = await run(argv, dir);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /vigil\.yaml:4:16 notification_config\.email\.smtp_port: expected a number, got "abc"/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('config validate: an unconfigured channel in a route fails; in a rule it is a warning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  writeFileSync(
    join(dir, 'routes.yaml'),
    'notifications:\n  routes:\n    - severities: [critical]\n      channels: [slack]\n',
  );
  const bad = await run(['config', 'validate', 'routes.yaml'], dir);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /routes\.yaml:4:18 notifications\.routes\[0\]\.channels\[0\]: channel "slack" is not configured/,
  );
  writeFileSync(
    join(dir, 'rules.yaml'),
    'rules:\n  - name: r\n    metric: cpu_percent\n    threshold: 5\n    notification_channels: [slack]\n',
  );
  const warn = await run(['config', 'validate', 'rules.yaml'], dir);
  assert.equal(warn.code, 0, warn.stderr);
  assert.match(
    warn.stderr,
    /^warning: .*rules\.yaml:5:29 rules\[0\]\.notification_channels\[0\]: channel "slack" is not configured/m,
  );
});
