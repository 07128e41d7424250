import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { DEFAULT_RULES } from '../../src/alerting/default-rules.ts';
import { effectiveRules } from '../../src/alerting/rule.ts';
import { AlertService } from '../../src/alerting/service.ts';
import { vigilIn as vigil } from '../../src/cli/testing/run-cli.ts';
import { systemClock } from '../../src/clock.ts';
import { parseConfigText } from '../../src/config/index.ts';
import { alertingSchema } from '../../src/config/sections/rules.ts';
import { AlertRepository } from '../../src/store/sqlite/alert-repository.ts';

const CONFIG = `# Vigil config (comments must survive edits)
storage:
  path: ./metrics.db # the database
rules:
  # CPU above 80
  - name: high_cpu
    metric: cpu_percent
    threshold: 80.0
    comparison: ">"
    severity: warning
    enabled: true
    notification_channels: [email]
`;

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-alert-cli-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('vigil alert add/disable/enable/remove edit the config file and keep its comments', () =>
  withDir(async (dir) => {
    const file = join(dir, 'vigil.yaml');
    writeFileSync(file, CONFIG.replace('./metrics.db', join(dir, 'metrics.db')));
    let r = await vigil(
      dir,
      'alert',
      'add',
      'high_load',
      '--metric',
      'load1',
      '--threshold',
      '8',
      '--for',
      '5m',
      '--channels',
      'slack,email',
    );
    assert.equal(r.code, 0, r.err);
    r = await vigil(dir, 'alert', 'disable', 'high_cpu');
    assert.equal(r.code, 0, r.err);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /# Vigil config \(comments must survive edits\)/);
    assert.match(text, /# CPU above 80/);
    assert.match(text, /# the database/);
    const config = parseConfigText(text, file);
    assert.deepEqual(
      config.rules.map((x) => [x.name, x.enabled, x.for]),
      [
        ['high_cpu', false, undefined],
        ['high_load', true, 300_000],
      ],
    );
    assert.deepEqual(config.rules[1]!.notification_channels, ['slack', 'email']);

    r = await vigil(dir, 'alert', 'list', '--json');
    const listed = JSON.parse(r.out) as { name: string; origin: string }[];
    assert.deepEqual(
      listed.map((x) => x.name),
      ['high_cpu', 'high_load', 'vm_unreachable'],
    );
    r = await vigil(dir, 'alert', 'add', 'high_load', '--metric', 'load1', '--threshold', '9');
    assert.equal(r.code, 2);
    assert.match(r.err, /rule high_load already exists/);
    r = await vigil(dir, 'alert', 'add', 'bad', '--metric', 'cpu_percent', '--threshold', '150');
    assert.equal(r.code, 2);
    assert.match(r.err, /threshold/);
    r = await vigil(dir, 'alert', 'remove', 'high_load');
    assert.equal(r.code, 0, r.err);
    r = await vigil(dir, 'alert', 'enable', 'nope');
    assert.equal(r.code, 2);
    assert.match(r.err, /no rule named nope/);
    assert.equal(parseConfigText(readFileSync(file, 'utf8'), file).rules.length, 1);
  }));

test('vigil alerts lists, acks and resolves; silence add/list/expire; patterns', () =>
  withDir(async (dir) => {
    const dbPath = join(dir, 'metrics.db');
    writeFileSync(join(dir, 'vigil.yaml'), CONFIG.replace('./metrics.db', dbPath));
    // What `vigil up` would have recorded: two firing alerts.
    const db = new DatabaseSync(dbPath);
    const service = new AlertService({
      repository: new AlertRepository(db),
      rules: parseConfigText(CONFIG, 'x.yaml').rules,
    });
    const now = systemClock.now();
    service.ingest(
      [
        { metric: 'cpu_percent', labels: { vm: 'web-01', resource_group: 'rg' }, ts: now - 60_000, value: 92 },
        { metric: 'cpu_percent', labels: { vm: 'dev-vm-01' }, ts: now - 60_000, value: 99 },
      ],
      [],
      now - 60_000,
    );
    db.close();

    let r = await vigil(dir, 'alerts', '--json');
    assert.equal(r.code, 0, r.err);
    const alerts = JSON.parse(r.out) as { id: string; vm: string; status: string; message: string }[];
    assert.equal(alerts.length, 2);
    const web = alerts.find((a) => a.vm === 'web-01')!;
    assert.equal(web.status, 'firing');
    assert.equal(web.message, 'CPU is at 92.0% on web-01 (threshold 80%, exceeded by 15.0%)');

    r = await vigil(dir, 'alerts', 'ack', web.id, '--notes', 'looking into it');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Acknowledged alert \d+: High CPU Usage - web-01/);
    r = await vigil(dir, 'alerts', '--state', 'acknowledged', '--json');
    assert.deepEqual(
      (JSON.parse(r.out) as { vm: string }[]).map((a) => a.vm),
      ['web-01'],
    );

    r = await vigil(dir, 'silence', 'add', '--match', 'vm=dev-vm-01', '--duration', '2h', '--reason', 'load test');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Silence 1 added: vm=dev-vm-01/);
    r = await vigil(dir, 'alerts', '--state', 'suppressed');
    assert.match(r.out, /dev-vm-01/);
    r = await vigil(dir, 'silence', 'list');
    assert.match(r.out, /1\s+active\s+vm=dev-vm-01/);
    r = await vigil(dir, 'silence', 'expire', '1');
    assert.equal(r.code, 0, r.err);
    r = await vigil(dir, 'silence', 'list', '--json');
    assert.deepEqual(JSON.parse(r.out), []);
    r = await vigil(dir, 'silence', 'add', '--match', 'vm==', '--duration', 'soon');
    assert.equal(r.code, 2);

    const dev = alerts.find((a) => a.vm === 'dev-vm-01')!;
    r = await vigil(dir, 'alerts', 'resolve', dev.id, '--notes', 'killed the job');
    assert.equal(r.code, 0, r.err);
    r = await vigil(dir, 'alerts', 'resolve', dev.id);
    assert.equal(r.code, 1);
    assert.match(r.err, /not found or no longer active/);
    r = await vigil(dir, 'alerts', 'show', dev.id);
    assert.match(r.out, /firing → resolved \(manual\) by tester: killed the job/);
    r = await vigil(dir, 'alerts', '--state', 'bogus');
    assert.equal(r.code, 2);

    r = await vigil(dir, 'patterns', '--json');
    const p = JSON.parse(r.out) as { totalAlerts: number; mostCommonRule: string; mttaMinutes: number };
    assert.equal(p.totalAlerts, 2);
    assert.equal(p.mostCommonRule, 'high_cpu');
    r = await vigil(dir, 'patterns');
    assert.match(r.out, /Alert patterns, last 7 days: 2 alerts/);
    assert.match(r.out, /high_cpu caused 100% of 2 alerts/);
  }));

test('the built-in vm_unreachable: disable/enable/remove do what they say and `alert list` shows its state', () =>
  withDir(async (dir) => {
    const file = join(dir, 'vigil.yaml');
    writeFileSync(file, CONFIG.replace('./metrics.db', join(dir, 'metrics.db')));
    const config = () => parseConfigText(readFileSync(file, 'utf8'), file);
    const inForce = () => effectiveRules(config().rules, config().alerting, DEFAULT_RULES);
    const listed = async () => {
      const r = await vigil(dir, 'alert', 'list', '--json');
      assert.equal(r.code, 0, r.err);
      return (JSON.parse(r.out) as { name: string; enabled: boolean; origin: string }[])
        .filter((x) => x.name === 'vm_unreachable')
        .map((x) => [x.enabled, x.origin]);
    };
    assert.deepEqual(await listed(), [[true, 'built-in']]);

    let r = await vigil(dir, 'alert', 'disable', 'vm_unreachable');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /vm_unreachable \(built in\) disabled: added it to .* with enabled: false/);
    assert.deepEqual(
      inForce()
        .filter((x) => x.type === 'no_data')
        .map((x) => [x.name, x.enabled]),
      [['vm_unreachable', false]],
    );
    assert.deepEqual(await listed(), [[false, 'config']]);
    r = await vigil(dir, 'alert', 'enable', 'vm_unreachable');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(await listed(), [[true, 'config']]);

    r = await vigil(dir, 'alert', 'remove', 'vm_unreachable');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Removed rule vm_unreachable/);
    assert.match(r.out, /set alerting\.vm_unreachable: false/);
    assert.equal(config().alerting.vm_unreachable, false);
    assert.ok(!inForce().some((x) => x.name === 'vm_unreachable'), 'the built-in rule does not come back');
    assert.deepEqual(await listed(), [[false, 'built-in (alerting.vm_unreachable: false)']]);
    r = await vigil(dir, 'alert', 'list');
    assert.match(
      r.out,
      /vm_unreachable\s+no data\s+5m\s+warning\s+no\s+-\s+built-in \(alerting\.vm_unreachable: false\)/,
    );
    r = await vigil(dir, 'alert', 'disable', 'vm_unreachable');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /already disabled; nothing changed/);
    r = await vigil(dir, 'alert', 'remove', 'vm_unreachable');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /already off/);

    r = await vigil(dir, 'alert', 'enable', 'vm_unreachable');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /set alerting\.vm_unreachable: true/);
    assert.deepEqual(
      inForce()
        .filter((x) => x.type === 'no_data')
        .map((x) => [x.name, x.enabled]),
      [['vm_unreachable', true]],
    );
    // Built in and not listed: remove turns it off.
    r = await vigil(dir, 'alert', 'remove', 'vm_unreachable');
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.out, /Removed rule/);
    assert.match(r.out, /built-in no-data rule vm_unreachable is off/);
    assert.ok(!inForce().some((x) => x.name === 'vm_unreachable'));
  }));

test('a config without rules: removing vm_unreachable keeps the other defaults and does not bring it back', () =>
  withDir(async (dir) => {
    const file = join(dir, 'vigil.yaml');
    writeFileSync(file, `storage:\n  path: ${join(dir, 'metrics.db')}\n`);
    const r = await vigil(dir, 'alert', 'remove', 'vm_unreachable');
    assert.equal(r.code, 0, r.err);
    const config = parseConfigText(readFileSync(file, 'utf8'), file);
    assert.deepEqual(
      effectiveRules(config.rules, config.alerting, DEFAULT_RULES).map((x) => x.name),
      ['high_cpu', 'critical_cpu', 'high_memory', 'critical_memory', 'disk_space'],
    );
  }));

test('vigil alerts: --state filters before --limit; --vm lists one VM only', () =>
  withDir(async (dir) => {
    const dbPath = join(dir, 'metrics.db');
    writeFileSync(join(dir, 'vigil.yaml'), CONFIG.replace('./metrics.db', dbPath));
    const db = new DatabaseSync(dbPath);
    const service = new AlertService({
      repository: new AlertRepository(db),
      rules: parseConfigText(CONFIG, 'x.yaml').rules,
      alerting: alertingSchema.parse({ vm_unreachable: false }), // only the threshold rule's alerts
    });
    const now = systemClock.now();
    const at = (vm: string, value: number, ts: number) => ({ metric: 'cpu_percent', labels: { vm }, ts, value });
    // Fired in this order, so the newest (web-03) comes first in listings.
    for (const [i, vm] of ['web-01', 'web-02', 'web-03'].entries())
      service.ingest([at(vm, 90, now - 10 * 60_000 + i * 60_000)], [], now - 10 * 60_000 + i * 60_000);
    service.ingest([at('web-02', 40, now - 5 * 60_000)], [], now - 5 * 60_000); // web-02 resolves
    service.ingest([at('web-02', 95, now - 4 * 60_000)], [], now - 4 * 60_000); // and fires again
    const byVm = Object.fromEntries(service.activeAlerts().map((a) => [a.vm, a.id]));
    service.ack(byVm['web-01']!, 'alice', null, now - 3 * 60_000);
    db.close();
    const list = async (...args: string[]) => {
      const r = await vigil(dir, 'alerts', '--json', ...args);
      assert.equal(r.code, 0, r.err);
      return (JSON.parse(r.out) as { vm: string; status: string }[]).map((a) => `${a.vm}:${a.status}`);
    };
    let r = await vigil(dir, 'silence', 'add', '--match', 'vm=web-03', '--duration', '1h', '--reason', 'load test');
    assert.equal(r.code, 0, r.err);

    assert.deepEqual(await list('--state', 'acknowledged', '--limit', '1'), ['web-01:acknowledged']);
    assert.deepEqual(await list('--state', 'suppressed', '--limit', '1'), ['web-03:suppressed']);
    assert.deepEqual(await list('--state', 'firing', '--limit', '1'), ['web-02:firing']);
    assert.deepEqual(await list('--limit', '2'), ['web-02:firing', 'web-03:suppressed']);
    assert.deepEqual(await list('--vm', 'web-02'), ['web-02:firing']);
    assert.deepEqual(await list('--vm', 'web-02', '--state', 'resolved'), ['web-02:resolved']);
    assert.deepEqual(await list('--vm', 'web-01'), ['web-01:acknowledged']);
    assert.deepEqual(await list('--severity', 'critical'), []);
    r = await vigil(dir, 'alerts', '--vm', 'nope');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'No active alerts.\n');
  }));
