// The composition root against a real SQLite file, a fake clock and the demo source: cycles on the interval,
// alerts to the console channel, the HTTP API, and a stop that leaves everything stored.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { FakeClock } from '../clock.ts';
import { parseConfigText } from '../config/index.ts';
import { ServerStartError } from '../server/index.ts';
import { openStore } from '../store/open.ts';
import { AlertRepository } from '../store/sqlite/alert-repository.ts';
import type { CycleSummary } from './live-events.ts';
import { createLogger } from './logger.ts';
import { startVigil } from './run.ts';

function configFor(dir: string, extra = ''): string {
  return `storage:
  path: ${join(dir, 'metrics.db')}
collection:
  interval: 10s
sources:
  - type: demo
    vms: 3
    failure_rate: 0
server:
  port: 0
rules:
  - name: any_cpu
    metric: cpu_percent
    comparison: ">="
    threshold: 0
    for: 0s
    severity: critical
    notification_channels: [console]
notification_config:
  console: { color: false }
notifications:
  group_wait_ms: 0
${extra}`;
}

function text(stream: PassThrough): { value: string } {
  const out = { value: '' };
  stream.on('data', (d: Buffer) => {
    out.value += d.toString();
  });
  return out;
}

function consoleLines(out: string, re: RegExp): number {
  return out.split('\n').filter((l) => re.test(l)).length;
}

/** Polls (in real time) until `check` holds; fails after `ms`. */
async function until(what: string, check: () => boolean, ms = 10_000, debug?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${debug ? `: ${debug()}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-run-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('startVigil: collects every interval, alerts, notifies, serves, and stops with everything stored', () =>
  withDir(async (dir) => {
    const clock = new FakeClock(Date.UTC(2026, 2, 2, 12, 0, 5));
    const stdout = new PassThrough();
    const logs = new PassThrough();
    const notified = text(stdout);
    const log = text(logs);
    const cycles: { summary: CycleSummary; active: number }[] = [];
    const vigil = await startVigil({
      loaded: { config: parseConfigText(configFor(dir), join(dir, 'vigil.yaml'), { env: {}, home: dir }), path: null },
      clock,
      log: createLogger(logs, () => clock.now()),
      env: {},
      cwd: dir,
      home: dir,
      stdout,
      onCycle: (summary, active) => cycles.push({ summary, active }),
    });
    let stopped = false;
    try {
      assert.match(vigil.url ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.deepEqual(
        vigil.sources.map((s) => s.name),
        ['demo'],
      );

      // The first cycle runs at once.
      await until('the first cycle', () => cycles.length === 1);
      assert.equal(cycles[0]!.summary.targets, 3);
      assert.equal(cycles[0]!.summary.failures, 0);
      assert.equal(cycles[0]!.summary.samples, 21);
      assert.equal(cycles[0]!.active, 3, 'a rule every VM breaches fires for each');

      // Alert events reach the notification pipeline and its console channel.
      await until(
        'three console notifications',
        () => consoleLines(notified.value, /CRITICAL.* firing/) === 3,
        5000,
        () => notified.value + log.value,
      );
      assert.match(notified.value, /demo-[a-z]+-01/);

      const health = await fetch(`${vigil.url}/api/v1/health`);
      assert.equal(health.status, 200);
      const vms = (await (await fetch(`${vigil.url}/api/v1/vms`)).json()) as { vms: { vm: string }[] };
      assert.equal(vms.vms.length, 3);
      const status = (await (await fetch(`${vigil.url}/api/v1/status`)).json()) as {
        lastCycle: { targets: number };
        sources: { name: string; targets: number }[];
      };
      assert.equal(status.lastCycle.targets, 3);
      assert.deepEqual(
        status.sources.map((s) => [s.name, s.targets]),
        [['demo', 3]],
      );

      // The next cycle waits for the next interval boundary of the clock.
      await clock.advance(4_000);
      assert.equal(cycles.length, 1);
      await clock.advance(1_000);
      await until('the second cycle', () => cycles.length === 2);
      assert.equal(cycles[1]!.summary.at, Date.UTC(2026, 2, 2, 12, 0, 10));
      assert.equal(cycles[1]!.active, 3, 'the same alerts stay active; no new ones');
      assert.equal(vigil.engine.status().cycles, 2);

      await vigil.stop();
      stopped = true;
      await assert.rejects(fetch(`${vigil.url}/api/v1/health`), 'the server is closed');
    } finally {
      if (!stopped) await vigil.stop();
    }
    assert.doesNotMatch(log.value, /ERROR/);

    // Everything collected and every alert is in the database after the stop.
    const store = await openStore({ path: join(dir, 'metrics.db') });
    try {
      const vms = await store.listVms();
      assert.equal(vms.length, 3);
      assert.ok(vms.every((v) => v.lastOutcome?.ts === Date.UTC(2026, 2, 2, 12, 0, 10)));
      const firing = new AlertRepository(store.db).listAlerts({ states: ['firing'] });
      assert.equal(firing.length, 3);
      assert.ok(firing.every((a) => a.rule === 'any_cpu'));
    } finally {
      await store.close();
    }
  }));

test('startVigil: without the server there is no URL and the pipeline still runs', () =>
  withDir(async (dir) => {
    const clock = new FakeClock(Date.UTC(2026, 2, 2, 12, 0, 5));
    const stdout = new PassThrough();
    const notified = text(stdout);
    const cycles: CycleSummary[] = [];
    const vigil = await startVigil({
      loaded: { config: parseConfigText(configFor(dir), join(dir, 'vigil.yaml'), { env: {}, home: dir }), path: null },
      clock,
      log: createLogger(new PassThrough(), () => clock.now()),
      env: {},
      cwd: dir,
      server: false,
      stdout,
      onCycle: (s) => cycles.push(s),
    });
    try {
      assert.equal(vigil.url, null);
      await until('the first cycle', () => cycles.length === 1);
      await until('console notifications', () => /CRITICAL/.test(notified.value));
    } finally {
      await vigil.stop();
    }
  }));

test('startVigil: a port in use fails the start with a ServerStartError and closes what was opened', () =>
  withDir(async (dir) => {
    const busy: Server = createNetServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const clock = new FakeClock(Date.UTC(2026, 2, 2, 12, 0, 5));
      await assert.rejects(
        startVigil({
          loaded: {
            config: parseConfigText(configFor(dir), join(dir, 'vigil.yaml'), { env: {}, home: dir }),
            path: null,
          },
          clock,
          log: createLogger(new PassThrough(), () => clock.now()),
          env: {},
          cwd: dir,
          port,
          stdout: new PassThrough(),
        }),
        (e: Error) => e instanceof ServerStartError && e.message.includes(String(port)),
      );
      // The store was closed (its data readable by another opener) and nothing keeps running.
      const store = await openStore({ path: join(dir, 'metrics.db') });
      await store.close();
    } finally {
      await new Promise((r) => busy.close(r));
    }
  }));
