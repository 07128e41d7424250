import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, formatDuration, parseConfig, parseConfigText, parseDurationMs } from './index.ts';

const SEED = readFileSync(new URL('./fixtures/alert_rules.yaml', import.meta.url), 'utf8');

function errorOf(text: string, file = 'vigil.yaml', env: Record<string, string> = {}): string {
  try {
    parseConfigText(text, file, { env, home: '/home/x' });
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected a ConfigError');
}

const cases: Array<{ name: string; text: string; env?: Record<string, string>; expect: RegExp }> = [
  {
    name: 'wrong type pinned to file:line:col and path',
    text: 'rules:\n  - name: a\n    metric: cpu_percent\n    threshold: eighty\n',
    expect: /^vigil\.yaml:4:16 rules\[0\]\.threshold: .*number.*"eighty"/m,
  },
  { name: 'yaml syntax error has a location', text: 'storage:\n  path: [unclosed\n', expect: /^vigil\.yaml:\d+:\d+/m },
  { name: 'unknown top-level field', text: 'storge:\n  path: x\n', expect: /^vigil\.yaml:1:1 .*storge/m },
  {
    name: 'unknown source type lists the valid ones',
    text: 'sources:\n  - type: bogus\n',
    expect:
      /^vigil\.yaml:2:11 sources\[0\]\.type: unknown or missing type "bogus" \(expected one of host, demo, azure, ssh, prometheus\)/m,
  },
  {
    name: 'bad duration',
    text: 'storage:\n  retention:\n    raw: forever\n',
    expect: /^vigil\.yaml:3:10 storage\.retention\.raw: /m,
  },
  {
    name: 'missing env var at its location',
    text: 'storage:\n  path: ${VIGIL_NOPE}\n',
    expect: /^vigil\.yaml:2:\d+ .*VIGIL_NOPE/m,
  },
];

for (const c of cases) {
  test(`config error: ${c.name}`, () => {
    const msg = errorOf(c.text, 'vigil.yaml', c.env);
    assert.match(msg, c.expect);
    assert.doesNotMatch(msg, /\n\s+at /, 'no stack trace in the message');
  });
}

test('env interpolation: ${VAR} and ${VAR:-default}', () => {
  const cfg = parseConfigText('storage:\n  path: ${DB_DIR}/m.db\n  url: ${PG_URL:-postgres://x/y}\n', 'vigil.yaml', {
    env: { DB_DIR: '/data' },
    home: '/home/x',
  });
  assert.equal(cfg.storage.path, '/data/m.db');
  assert.equal(cfg.storage.url, 'postgres://x/y');
});

test('a whole ${VAR} reference reads as the number or boolean the field wants; text stays text', () => {
  const text = [
    'notification_config:',
    '  email:',
    '    enabled: ${MAIL_ON}',
    '    smtp_host: mail.example.com',
    '    smtp_port: ${SMTP_PORT}',
    '    password: ${SMTP_PASSWORD}',
    '    from_address: a@example.com',
    '    to_addresses: [b@example.com]',
    '',
  ].join('\n');
  const env = { MAIL_ON: 'true', SMTP_PORT: '2525', SMTP_PASSWORD: '123456' };
  const email = parseConfigText(text, 'vigil.yaml', { env, home: '/h' }).notification_config.email!;
  assert.equal(email.smtp_port, 2525);
  assert.equal(email.enabled, true);
  assert.equal(email.password, '123456', 'a digits-only secret stays a string');
  const bad = errorOf(text, 'vigil.yaml', { ...env, SMTP_PORT: '25x', MAIL_ON: 'yes' });
  assert.match(bad, /vigil\.yaml:5:16 notification_config\.email\.smtp_port: expected a number, got "25x"/);
  assert.match(bad, /vigil\.yaml:3:14 notification_config\.email\.enabled: expected true or false, got "yes"/);
});

test('JSON config file', () => {
  const cfg = parseConfigText(
    JSON.stringify({ rules: [{ name: 'r', metric: 'cpu_percent', threshold: 1 }] }),
    'vigil.json',
    { env: {}, home: '/h' },
  );
  assert.equal(cfg.rules[0]?.name, 'r');
});

test('the seed alert_rules.yaml loads unchanged as the main config', () => {
  const cfg = parseConfigText(SEED, 'alert_rules.yaml', { env: {}, home: '/h' });
  assert.deepEqual(
    cfg.rules.map((r) => [r.name, r.threshold, r.severity]),
    [
      ['high_cpu', 80, 'warning'],
      ['critical_cpu', 95, 'critical'],
      ['high_memory', 85, 'warning'],
      ['critical_memory', 95, 'critical'],
      ['disk_space', 90, 'warning'],
    ],
  );
});

test('the seed alert_rules.yaml works as an include', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cfg-'));
  writeFileSync(join(dir, 'alert_rules.yaml'), SEED);
  const cfg = parseConfigText('include: [alert_rules.yaml]\n', join(dir, 'vigil.yaml'), { env: {}, home: '/h' });
  assert.equal(cfg.rules.length, 5);
  assert.ok('email' in cfg.notification_config);
});

test('relative paths are relative to the config file; absolute and ~ paths are kept', () => {
  const text = `storage:
  path: data/metrics.db
sources:
  - type: ssh
    key_file: keys/id_ed25519
    known_hosts: ~/.ssh/known_hosts
    hosts:
      - host: 10.0.0.5
        key_file: /etc/vigil/host.key
        jump: { host: bastion, key_file: keys/jump }
  - type: prometheus
    targets_file: targets.yaml
notification_config:
  file:
    path: log/alerts.jsonl
  audit:
    type: file
    path: ../audit.jsonl
`;
  const c = parseConfigText(text, '/etc/vigil/vigil.yaml', { env: {}, home: '/home/ops' });
  assert.equal(c.storage.path, '/etc/vigil/data/metrics.db');
  const ssh = c.sources[0] as Extract<(typeof c.sources)[number], { type: 'ssh' }>;
  assert.equal(ssh.key_file, '/etc/vigil/keys/id_ed25519');
  assert.equal(ssh.known_hosts, '~/.ssh/known_hosts');
  assert.equal(ssh.hosts[0]?.key_file, '/etc/vigil/host.key');
  assert.equal(ssh.hosts[0]?.jump?.key_file, '/etc/vigil/keys/jump');
  const prom = c.sources[1] as Extract<(typeof c.sources)[number], { type: 'prometheus' }>;
  assert.equal(prom.targets_file, '/etc/vigil/targets.yaml');
  assert.equal(c.notification_config.file?.path, '/etc/vigil/log/alerts.jsonl');
  assert.equal(c.notification_config.audit?.path, '/etc/audit.jsonl');
});

test('channel settings are checked by each channel schema, at their location', () => {
  const text = [
    'notification_config:',
    '  email:',
    '    smtp_host: smtp.example.com',
    '    smtp_port: "abc"',
    '    from_address: a@example.com',
    '    to_addresses: [ops@example.com]',
    '    smtp_prot: 25',
    '  pager:',
    '    type: pagerdutty',
    '  hook:',
    '    type: webhook',
    '    url: https://example.com/x',
    '    secret: 12345',
    '',
  ].join('\n');
  const msg = errorOf(text);
  assert.match(msg, /^vigil\.yaml:4:16 notification_config\.email\.smtp_port: expected a number, got "abc"$/m);
  assert.match(msg, /^vigil\.yaml:7:5 notification_config\.email\.smtp_prot: unknown field "smtp_prot"$/m);
  assert.match(msg, /^vigil\.yaml:9:11 notification_config\.pager\.type: unknown channel type "pagerdutty"/m);
  // A secret's found value is never echoed.
  assert.match(
    msg,
    /^vigil\.yaml:13:13 notification_config\.hook\.secret: expected a string, got a number \(value not shown/m,
  );
  assert.doesNotMatch(msg, /12345/);
});

test('a disabled channel may leave required settings out; what it sets is still checked', () => {
  const cfg = parseConfigText('notification_config:\n  slack:\n    enabled: false\n', 'vigil.yaml', { env: {} });
  assert.equal(cfg.notification_config.slack?.enabled, false);
  assert.match(
    errorOf('notification_config:\n  slack:\n    enabled: false\n    webhok_url: x\n'),
    /^vigil\.yaml:4:5 notification_config\.slack\.webhok_url: unknown field "webhok_url"/m,
  );
});

test('the seed alert_rules.yaml: every channel field is accepted, no warnings', () => {
  const { config, warnings } = parseConfig(SEED, 'alert_rules.yaml', { env: {}, home: '/h' });
  assert.deepEqual(warnings, []);
  const nc = config.notification_config;
  assert.equal(nc.email?.smtp_host, 'smtp.gmail.com');
  assert.equal(nc.email?.smtp_port, 587);
  assert.deepEqual(nc.email?.to_addresses, ['admin@example.com']);
  assert.equal(nc.slack?.enabled, false);
  assert.equal(nc.slack?.webhook_url, 'https://hooks.slack.com/services/XXX');
  assert.equal(nc.webhook?.url, 'https://example.com/alerts');
});

test('channel names: routes and default_channels must be configured; rules may name an unconfigured type (warning)', () => {
  assert.match(
    errorOf('notifications:\n  default_channels: [pagerduty]\n'),
    /^vigil\.yaml:2:22 notifications\.default_channels\[0\]: channel "pagerduty" is not configured in notification_config/m,
  );
  assert.match(
    errorOf('notifications:\n  routes:\n    - channels: [console, pagr]\nnotification_config:\n  console: {}\n'),
    /^vigil\.yaml:3:27 notifications\.routes\[0\]\.channels\[1\]: unknown notification channel "pagr"/m,
  );
  const { warnings } = parseConfig(
    'rules:\n  - name: a\n    metric: cpu_percent\n    threshold: 1\n    notification_channels: [slack]\n',
    'vigil.yaml',
    { env: {} },
  );
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]?.line, 5);
  assert.match(warnings[0]?.message ?? '', /channel "slack" is not configured.*rule a /);
  assert.match(
    errorOf('rules:\n  - name: a\n    metric: cpu_percent\n    threshold: 1\n    notification_channels: [slak]\n'),
    /^vigil\.yaml:5:29 rules\[0\]\.notification_channels\[0\]: unknown notification channel "slak"/m,
  );
});

test('channel names in included rules files are checked, located in the included file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-cfg-'));
  writeFileSync(
    join(dir, 'rules.yaml'),
    'rules:\n  - name: a\n    metric: cpu_percent\n    threshold: 1\n    notification_channels: [ops]\n',
  );
  writeFileSync(join(dir, 'channels.yaml'), 'notification_config:\n  ops:\n    type: console\n');
  // A channel configured in one include may be used by another file's rules and by the main file's routes.
  const ok = parseConfigText(
    'include: [rules.yaml, channels.yaml]\nnotifications:\n  default_channels: [ops]\n',
    join(dir, 'vigil.yaml'),
    { env: {} },
  );
  assert.equal(ok.rules[0]?.notification_channels[0], 'ops');
  const msg = errorOf('include: [rules.yaml]\n', join(dir, 'vigil.yaml'));
  assert.match(
    msg,
    new RegExp(
      `^${join(dir, 'rules.yaml')}:5:29 rules\\[0\\]\\.notification_channels\\[0\\]: unknown notification channel "ops"`,
      'm',
    ),
  );
});

test('durations format back to text that parses to the same milliseconds', () => {
  for (const ms of [
    0,
    1,
    250,
    1000,
    1500,
    59_999,
    60_000,
    90_000,
    3_600_000,
    5_400_000,
    86_400_000,
    7 * 86_400_000 + 1,
    1500.5,
  ]) {
    assert.equal(parseDurationMs(formatDuration(ms)), ms, `${ms} -> ${formatDuration(ms)}`);
  }
});
