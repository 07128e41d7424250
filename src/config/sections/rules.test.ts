import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError } from '../errors.ts';
import { parseConfigText } from '../load.ts';
import { ruleSchema } from './rules.ts';

function seedYaml(): string {
  const seed = readFileSync(new URL('../../../../shared/seeds/000_d8a3ef0c2af21b1e.txt', import.meta.url), 'utf8');
  const start = seed.indexOf('```yaml\nrules:');
  return seed.slice(start + 8, seed.indexOf('```', start + 8));
}

// The seed's file as the repository keeps it, for a checkout without ../shared beside it.
const SEED_RULES = readFileSync(new URL('../fixtures/alert_rules.yaml', import.meta.url), 'utf8');

test("the seed's alert_rules.yaml loads unchanged", () => {
  let text = SEED_RULES;
  try {
    text = seedYaml();
  } catch {
    // The shared seed file is not part of the repository; the fixture above is a copy of it.
  }
  const config = parseConfigText(text, 'alert_rules.yaml');
  assert.ok(config.rules.length >= 1);
  const cpu = config.rules.find((r) => r.name === 'high_cpu')!;
  assert.equal(cpu.threshold, 80);
  assert.equal(cpu.comparison, '>');
  assert.equal(cpu.type, 'threshold');
  assert.equal(config.alerting.min_renotify_interval, 15 * 60_000);
});

test('unknown rule fields are an error, located in the file', () => {
  const text = 'rules:\n  - name: high_cpu\n    metric: cpu_percent\n    threshold: 80\n    treshold_typo: 3\n';
  assert.throws(
    () => parseConfigText(text, 'vigil.yaml'),
    (e: unknown) =>
      e instanceof ConfigError &&
      /vigil\.yaml:5:5 rules\[0\]\.treshold_typo: unknown field "treshold_typo"/.test(e.message),
  );
});

test('seed A26-A29 validation: threshold, comparison, metric name, percent range', () => {
  const base = { name: 'r', metric: 'cpu_percent', threshold: 50 };
  assert.match(ruleSchema.safeParse({ ...base, threshold: 'not_a_number' }).error!.issues[0]!.message, /invalid/i);
  for (const c of ['>', '<', '>=', '<=', '==', '!='])
    assert.ok(ruleSchema.safeParse({ ...base, comparison: c }).success, c);
  assert.match(ruleSchema.safeParse({ ...base, comparison: '=>' }).error!.issues[0]!.message, /comparison/i);
  assert.ok(ruleSchema.safeParse({ ...base, metric: 'disk_io_rate' }).success);
  for (const bad of ['cpu; DROP TABLE', 'cpu$(whoami)', '../etc']) {
    assert.match(ruleSchema.safeParse({ ...base, metric: bad }).error!.issues[0]!.message, /metric/i);
  }
  for (const t of [0, 50, 100]) assert.ok(ruleSchema.safeParse({ ...base, threshold: t }).success);
  for (const t of [-10, 150])
    assert.match(ruleSchema.safeParse({ ...base, threshold: t }).error!.issues[0]!.message, /threshold/i);
});

test('extended fields: durations, aggregate/window, no-data rules, hysteresis direction', () => {
  const r = ruleSchema.parse({
    name: 'r',
    metric: 'cpu_percent',
    threshold: 80,
    for: '5m',
    aggregate: 'avg',
    window: '10m',
    keep_firing_for: 120,
    recovery_threshold: 70,
  });
  assert.equal(r.for, 300_000);
  assert.equal(r.window, 600_000);
  assert.equal(r.keep_firing_for, 120_000);
  assert.ok(ruleSchema.parse({ name: 'down', type: 'no_data' }));
  assert.match(
    ruleSchema.safeParse({ name: 'x', metric: 'cpu_percent' }).error!.issues[0]!.message,
    /threshold is required/,
  );
  assert.match(
    ruleSchema.safeParse({ name: 'x', type: 'no_data', threshold: 3 }).error!.issues[0]!.message,
    /no_data rule takes no threshold/,
  );
  assert.match(
    ruleSchema.safeParse({ name: 'x', metric: 'cpu_percent', threshold: 80, recovery_threshold: 90 }).error!.issues[0]!
      .message,
    /healthy side/,
  );
  assert.match(
    ruleSchema.safeParse({ name: 'x', metric: 'm', threshold: 1, window: '5m' }).error!.issues[0]!.message,
    /window needs aggregate/,
  );
  assert.match(
    ruleSchema.safeParse({ name: 'x', metric: 'm', threshold: 1, match: { vm: '=~(' } }).error!.issues[0]!.message,
    /invalid regex/,
  );
});

test('alerting section: maintenance windows and defaults', () => {
  const c = parseConfigText(
    'alerting:\n  min_renotify_interval: 10m\n  maintenance_windows:\n    - name: patch\n      schedule: "0 2 * * 6"\n      duration: 2h\n      match: { resource_group: prod }\n',
    'vigil.yaml',
  );
  assert.equal(c.alerting.min_renotify_interval, 600_000);
  assert.equal(c.alerting.maintenance_windows[0]!.duration, 7_200_000);
  assert.equal(c.alerting.renotify.critical, 300_000);
  assert.throws(() => parseConfigText('alerting:\n  bogus: 1\n', 'vigil.yaml'), /unknown field "bogus"/);
});
