import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../../config/index.ts';
import { runCli } from '../testing/run-cli.ts';

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
  assert.deepEqual(
    cfg.rules.map((x) => `${x.name}:${x.threshold}:${x.severity}:${x.for}`),
    [
      'high_cpu:80:warning:60000',
      'critical_cpu:95:critical:60000',
      'high_memory:85:warning:60000',
      'critical_memory:95:critical:60000',
      'disk_space:90:warning:60000',
      'vm_unreachable:undefined:warning:300000',
    ],
  );
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
