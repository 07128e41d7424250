import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { AlertService } from '../../alerting/service.ts';
import { ruleSchema } from '../../config/sections/rules.ts';
import type { AlertEvent, Sample } from '../../model/index.ts';
import { AlertRepository } from './alert-repository.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MIN = 60_000;
const RULES = [
  ruleSchema.parse({ name: 'high_cpu', metric: 'cpu_percent', threshold: 80, for: '2m', severity: 'critical' }),
];

function cpu(vm: string, value: number, ts: number): Sample {
  return { metric: 'cpu_percent', labels: { vm }, ts, value };
}

function withDb(fn: (path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-alerts-'));
  try {
    fn(join(dir, 'alerts.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function open(
  path: string,
  events: AlertEvent[] = [],
): { db: DatabaseSync; service: AlertService; repo: AlertRepository } {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000');
  const repo = new AlertRepository(db);
  const service = new AlertService({ repository: repo, rules: RULES, onEvent: (e) => events.push(e) });
  return { db, service, repo };
}

test('restart restores pending timers and firing alerts: neither re-notifies nor forgets', () => {
  withDb((path) => {
    const events: AlertEvent[] = [];
    const first = open(path, events);
    first.service.ingest([cpu('web-01', 90, T0)], [], T0);
    first.service.ingest([cpu('web-01', 90, T0 + MIN)], [], T0 + MIN);
    first.db.close();

    // The pending alert's streak survives the restart: it fires at +2 min, counted from the first sample.
    const second = open(path, events);
    second.service.ingest([cpu('web-01', 90, T0 + 2 * MIN)], [], T0 + 2 * MIN);
    assert.deepEqual(
      events.map((e) => [e.kind, e.notify]),
      [['fired', true]],
    );
    second.service.ingest([cpu('web-01', 91, T0 + 3 * MIN)], [], T0 + 3 * MIN);
    second.db.close();

    const third = open(path, events);
    for (let m = 4; m < 17; m++) third.service.ingest([cpu('web-01', 92, T0 + m * MIN)], [], T0 + m * MIN);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['fired'],
      'no re-notification inside 15 minutes across restarts',
    );
    third.service.ingest([cpu('web-01', 93, T0 + 17 * MIN)], [], T0 + 17 * MIN);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['fired', 'refired'],
    );
    const active = third.service.activeAlerts();
    assert.equal(active.length, 1);
    assert.equal(active[0]!.peakValue, 93);
    assert.equal(active[0]!.startsAt, T0);
    third.db.close();
  });
});

test('every transition is recorded in history; listAlerts filters by state and VM', () => {
  withDb((path) => {
    const { db, service, repo } = open(path);
    for (let m = 0; m <= 2; m++)
      service.ingest([cpu('web-01', 90, T0 + m * MIN), cpu('web-02', 95, T0 + m * MIN)], [], T0 + m * MIN);
    const [a2, a1] = service.activeAlerts();
    service.ack(a1!.id, 'alice', 'on it', T0 + 3 * MIN);
    service.resolve(a2!.id, 'bob', 'rebooted', T0 + 4 * MIN);
    service.ingest([cpu('web-01', 40, T0 + 5 * MIN)], [], T0 + 5 * MIN);
    assert.deepEqual(
      repo.history({ alertId: a1!.id }).map((h) => [h.from, h.to, h.by]),
      [
        ['inactive', 'pending', null],
        ['pending', 'firing', null],
        ['firing', 'acknowledged', 'alice'],
        ['firing', 'resolved', null],
      ],
    );
    assert.deepEqual(repo.history({ alertId: a2!.id }).at(-1), {
      alertId: a2!.id,
      fingerprint: a2!.fingerprint,
      rule: 'high_cpu',
      vm: 'web-02',
      at: T0 + 4 * MIN,
      from: 'firing',
      to: 'resolved',
      value: 95,
      severity: 'critical',
      reason: 'manual',
      by: 'bob',
      notes: 'rebooted',
    });
    assert.equal(repo.listAlerts({ states: ['resolved'] }).length, 2);
    assert.equal(repo.listAlerts({ vm: 'web-01' })[0]!.acknowledged?.by, 'alice');
    assert.equal(repo.listAlerts({ states: ['firing'] }).length, 0);
    assert.throws(() => service.ack('999', 'x', null, T0), /Alert 999 not found/);
    db.close();
  });
});

test('an ack or silence from another process (the CLI) is seen by the running service', () => {
  withDb((path) => {
    const events: AlertEvent[] = [];
    const running = open(path, events);
    for (let m = 0; m <= 2; m++) running.service.ingest([cpu('web-01', 90, T0 + m * MIN)], [], T0 + m * MIN);
    const id = running.service.activeAlerts()[0]!.id;

    const cli = open(path);
    cli.service.ack(id, 'carol', null, T0 + 3 * MIN);
    const silence = cli.service.addSilence(
      {
        matchers: [{ name: 'vm', op: '=', value: 'web-02' }],
        endsAt: T0 + 60 * MIN,
        createdBy: 'carol',
        reason: 'maintenance',
      },
      T0 + 3 * MIN,
    );
    cli.db.close();

    for (let m = 3; m < 40; m++)
      running.service.ingest([cpu('web-01', 90, T0 + m * MIN), cpu('web-02', 99, T0 + m * MIN)], [], T0 + m * MIN);
    const kinds = events.map((e) => `${e.kind}:${e.alert.vm}:${e.notify}`);
    assert.deepEqual(
      kinds,
      ['fired:web-01:true', 'suppressed:web-02:false'],
      'acked alert does not re-notify; silenced VM does not notify',
    );
    assert.equal(running.service.activeAlerts().find((a) => a.vm === 'web-01')!.acknowledged?.by, 'carol');
    const web02 = running.service.activeAlerts().find((a) => a.vm === 'web-02')!;
    assert.equal(running.service.statusOf(web02, T0 + 40 * MIN), 'suppressed');
    assert.deepEqual(
      running.service.listSilences(T0 + 40 * MIN).map((s) => s.id),
      [silence.id],
    );
    running.service.expireSilence(silence.id, T0 + 41 * MIN);
    assert.deepEqual(running.service.listSilences(T0 + 41 * MIN), []);
    running.service.ingest([cpu('web-02', 99, T0 + 42 * MIN)], [], T0 + 42 * MIN);
    assert.equal(events.at(-1)!.kind, 'refired');
    assert.equal(events.at(-1)!.notify, true);
    running.db.close();
  });
});

test('migrations are idempotent and versioned under the "alerts" component', () => {
  withDb((path) => {
    const db = new DatabaseSync(path);
    new AlertRepository(db);
    new AlertRepository(db);
    const row = db.prepare("SELECT version FROM schema_migrations WHERE component = 'alerts'").get() as {
      version: number;
    };
    assert.equal(row.version, 1);
    db.close();
  });
});

test('a restart after downtime does not raise vm_unreachable for every VM, but keeps a firing one', () => {
  withDb((path) => {
    const events: AlertEvent[] = [];
    const first = open(path, events);
    first.service.ingest([cpu('web-01', 10, T0), cpu('web-02', 10, T0)], [], T0);
    // web-02 stops reporting: vm_unreachable fires after 5 minutes.
    for (let m = 1; m <= 6; m++) first.service.ingest([cpu('web-01', 10, T0 + m * MIN)], [], T0 + m * MIN);
    assert.deepEqual(
      events.map((e) => `${e.kind}:${e.alert.rule}:${e.alert.vm}`),
      ['fired:vm_unreachable:web-02'],
    );
    first.db.close();

    // Vigil was down for 10 minutes. web-01 gets a fresh window; web-02's alert is still firing, not re-notified.
    const second = open(path, events);
    second.service.tick(T0 + 16 * MIN);
    assert.equal(events.length, 1);
    assert.deepEqual(
      second.service.activeAlerts().map((a) => `${a.rule}:${a.vm}:${a.state}`),
      ['vm_unreachable:web-02:firing'],
    );
    second.service.ingest([cpu('web-02', 10, T0 + 17 * MIN)], [], T0 + 17 * MIN);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['fired', 'resolved'],
    );
    second.db.close();
  });
});

test('suppress: a 24-hour silence for the rule and series of one alert', () => {
  withDb((path) => {
    const events: AlertEvent[] = [];
    const { db, service } = open(path, events);
    for (let m = 0; m <= 2; m++)
      service.ingest([cpu('web-01', 90, T0 + m * MIN), cpu('web-02', 90, T0 + m * MIN)], [], T0 + m * MIN);
    const web01 = service.activeAlerts().find((a) => a.vm === 'web-01')!;
    const s = service.suppress(web01.id, 'dave', '', T0 + 3 * MIN);
    assert.equal(s.endsAt - s.startsAt, 24 * 3_600_000);
    assert.deepEqual(s.matchers[0], { name: 'alertname', op: '=', value: 'high_cpu' });
    assert.equal(service.statusOf(web01, T0 + 4 * MIN), 'suppressed');
    const web02 = service.activeAlerts().find((a) => a.vm === 'web-02')!;
    assert.equal(service.statusOf(web02, T0 + 4 * MIN), 'firing');
    assert.throws(() => service.suppress('404', 'dave', '', T0), /Alert 404 not found/);
    db.close();
  });
});

test('prune: old resolved alerts, their history and ended silences go; active alerts stay', () => {
  withDb((path) => {
    const { db, service, repo } = open(path);
    for (let m = 0; m <= 2; m++)
      service.ingest([cpu('web-01', 90, T0 + m * MIN), cpu('web-02', 90, T0 + m * MIN)], [], T0 + m * MIN);
    service.ingest([cpu('web-01', 10, T0 + 3 * MIN)], [], T0 + 3 * MIN);
    service.addSilence(
      { matchers: [{ name: 'vm', op: '=', value: 'x' }], endsAt: T0 + 10 * MIN, createdBy: 'a', reason: '' },
      T0,
    );
    const out = repo.prune(T0 + 60 * MIN);
    assert.deepEqual(out, { alerts: 1, history: 3, silences: 1 });
    assert.deepEqual(
      repo.listAlerts().map((a) => a.vm),
      ['web-02'],
    );
    assert.equal(repo.history().length, 2, 'the firing alert keeps its history');
    db.close();
  });
});
