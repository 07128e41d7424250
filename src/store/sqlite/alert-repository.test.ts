import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { AlertService } from '../../alerting/service.ts';
import { alertingSchema, ruleSchema } from '../../config/sections/rules.ts';
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

const BAND_RULES = [
  ruleSchema.parse({
    name: 'high_cpu',
    metric: 'cpu_percent',
    threshold: 80,
    recovery_threshold: 70,
    severity: 'critical',
  }),
];

function openWith(
  path: string,
  rules = BAND_RULES,
): { db: DatabaseSync; service: AlertService; repo: AlertRepository } {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000');
  const repo = new AlertRepository(db);
  const alerting = alertingSchema.parse({ vm_unreachable: false });
  return { db, service: new AlertService({ repository: repo, rules, alerting }), repo };
}

test('restart restores breach count and peak as of the last breach, without a shutdown flush', () => {
  withDb((path) => {
    const first = openWith(path);
    // Ten breaches in ten minutes (well inside the 5-minute value refresh for most of them).
    for (let m = 0; m < 10; m++) first.service.ingest([cpu('web-01', 90 + m, T0 + m * MIN)], [], T0 + m * MIN);
    const before = first.service.activeAlerts()[0]!;
    assert.equal(before.notificationCount, 10);
    first.db.close(); // a crash: no flush

    const second = openWith(path);
    const after = second.service.activeAlerts()[0]!;
    assert.equal(after.notificationCount, 10);
    assert.equal(after.peakValue, 99);
    assert.equal(after.value, 99);
    assert.equal(second.repo.getAlert(after.id)!.notificationCount, 10, 'the alerts row too, not only the track');
    second.db.close();
  });
});

test('flush at shutdown writes the latest value of a firing alert that changed nothing else', () => {
  withDb((path) => {
    const first = openWith(path);
    first.service.ingest([cpu('web-01', 90, T0)], [], T0);
    // Between the recovery threshold and the threshold: still firing, no breach, only the value moves.
    first.service.ingest([cpu('web-01', 75, T0 + MIN)], [], T0 + MIN);
    first.service.ingest([cpu('web-01', 74, T0 + 2 * MIN)], [], T0 + 2 * MIN);
    assert.equal(first.repo.getAlert(first.service.activeAlerts()[0]!.id)!.value, 90, 'value-only changes wait');
    first.service.flush(T0 + 2 * MIN);
    first.db.close();
    const second = openWith(path);
    const a = second.service.activeAlerts()[0]!;
    assert.deepEqual([a.value, a.peakValue, a.notificationCount, a.lastValueAt], [74, 90, 1, T0 + 2 * MIN]);
    assert.equal(second.repo.getAlert(a.id)!.value, 74);
    second.db.close();
  });
});

test('an ack from the CLI (another process) keeps the running service counts and values; a CLI resolve is taken over', () => {
  withDb((path) => {
    const running = openWith(path);
    running.service.ingest([cpu('web-01', 90, T0), cpu('web-02', 90, T0)], [], T0);
    for (let m = 1; m <= 6; m++) running.service.ingest([cpu('web-01', 91, T0 + m * MIN)], [], T0 + m * MIN);
    running.service.ingest([cpu('web-01', 75, T0 + 7 * MIN)], [], T0 + 7 * MIN); // value only, not yet written
    const [web02, web01] = running.service.activeAlerts();

    const cli = openWith(path);
    cli.service.ack(web01!.id, 'carol', 'looking', T0 + 8 * MIN);
    cli.service.resolve(web02!.id, 'carol', 'rebooted', T0 + 8 * MIN);
    cli.db.close();

    running.service.tick(T0 + 8 * MIN);
    const active = running.service.activeAlerts();
    assert.deepEqual(
      active.map((a) => `${a.rule}@${a.vm}`),
      ['high_cpu@web-01'],
      'the resolve from the CLI holds',
    );
    const a = active[0]!;
    assert.deepEqual([a.notificationCount, a.value, a.peakValue], [7, 75, 91], 'nothing rolled back');
    assert.equal(a.acknowledged?.by, 'carol');
    const row = running.repo.getAlert(a.id)!;
    assert.deepEqual([row.notificationCount, row.value, row.acknowledged?.by], [7, 75, 'carol']);
    running.service.ingest([cpu('web-01', 95, T0 + 9 * MIN)], [], T0 + 9 * MIN);
    assert.equal(running.service.activeAlerts()[0]!.notificationCount, 8);
    assert.equal(running.repo.getAlert(web02!.id)!.resolveReason, 'manual');
    running.db.close();
  });
});

test('a track saved before `suppressed` was always written loads as not suppressed', () => {
  withDb((path) => {
    const first = open(path);
    first.service.ingest([cpu('web-01', 90, T0)], [], T0);
    const [row] = first.db.prepare('SELECT key, data FROM alert_tracks').all() as { key: string; data: string }[];
    assert.ok(row);
    const { suppressed: _, ...old } = JSON.parse(row.data) as Record<string, unknown>;
    first.db.prepare('UPDATE alert_tracks SET data = ? WHERE key = ?').run(JSON.stringify(old), row.key);
    first.db.close();

    const second = open(path);
    const [track] = [...second.repo.loadState().tracks.values()];
    assert.equal(track?.suppressed, false);
    assert.equal(track?.active?.state, 'pending');
    second.db.close();
  });
});
