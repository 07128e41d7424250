// `vigil up` end to end: starts on a fresh HOME with a config file, collects, serves the API, applies a rule
// edited in the config file without a restart, and stops cleanly on SIGTERM with everything stored.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestReceiver } from '../../src/notify/test-receiver.ts';
import { openStore } from '../../src/store/open.ts';

const bin = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));

function config(extraRules = ''): string {
  return `storage:
  path: ./data/metrics.db
collection:
  interval: 10s
sources:
  - type: demo
    vms: 4
    failure_rate: 0
server:
  port: 0
rules:
  - name: high_cpu
    metric: cpu_percent
    threshold: 80
${extraRules}`;
}

/** Collects the child's stdout and resolves when a line matches. */
function waitFor(child: ChildProcess, out: { text: string }, re: RegExp, ms = 30_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = out.text.match(re);
      if (m) {
        clearInterval(timer);
        clearTimeout(deadline);
        resolve(m);
      }
    };
    const timer = setInterval(check, 50);
    const deadline = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`timed out waiting for ${re}; output so far:\n${out.text}`));
    }, ms);
    child.once('exit', () => {
      check();
    });
  });
}

describe('vigil up', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-up-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('collects, serves, reloads rules from the config file, stops cleanly on SIGTERM, and keeps its data across a restart', async () => {
    writeFileSync(join(dir, 'vigil.yaml'), config());
    const first = startUp(dir);
    let firstCycleAt: number;
    try {
      const [, url] = await first.waitFor(/dashboard: (http:\/\/127\.0\.0\.1:\d+)/);
      await first.waitFor(/cycle 1: 4 VMs, 4 ok, 0 failed, 28 samples/);
      // The startup banner comes before the first status line.
      assert.ok(first.out.text.indexOf('Press Ctrl-C') < first.out.text.indexOf('cycle 1:'), first.out.text);
      const health = await fetch(`${url}/api/v1/health`);
      assert.equal(health.status, 200);
      const status = (await (await fetch(`${url}/api/v1/status`)).json()) as {
        lastCycle: { at: number };
        sources: { name: string }[];
      };
      assert.deepEqual(
        status.sources.map((s) => s.name),
        ['demo'],
      );
      firstCycleAt = status.lastCycle.at;
      const cli = spawnSyncVigil(dir, ['status', '--server', url!, '--json']);
      assert.equal(cli.status, 0, cli.stderr);
      const report = JSON.parse(cli.stdout) as { vms: { total: number; up: number } };
      assert.deepEqual(report.vms, { total: 4, up: 4, failed: 0, silent: 0 });

      // A rule added to the file is picked up by the running process.
      writeFileSync(
        join(dir, 'vigil.yaml'),
        config('  - name: any_cpu\n    metric: cpu_percent\n    threshold: 0\n    comparison: ">="\n'),
      );
      await first.waitFor(/config reloaded: alert rules updated/, 15_000);
      const rules = (await (await fetch(`${url}/api/v1/rules`)).json()) as { rules: { name: string }[] };
      assert.ok(
        rules.rules.some((r) => r.name === 'any_cpu'),
        JSON.stringify(rules),
      );

      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0, first.out.text);
      assert.match(first.out.text, /SIGTERM: stopping/);
      assert.match(first.out.text, /Vigil stopped; everything collected is stored/);
      assert.doesNotMatch(first.out.text, /\n\s+at /);
    } finally {
      first.kill();
    }

    // Restarted on the same database: the first run's samples are served next to the new ones.
    const second = startUp(dir);
    try {
      const [, url] = await second.waitFor(/dashboard: (http:\/\/127\.0\.0\.1:\d+)/);
      await second.waitFor(/cycle 1: 4 VMs/);
      const q = new URLSearchParams({
        metric: 'cpu_percent',
        vm: 'demo-web-01',
        resolution: 'raw',
        from: String(firstCycleAt - 60_000),
        to: String(Date.now()),
      });
      const series = (await (await fetch(`${url}/api/v1/series?${q}`)).json()) as {
        results: { points: { ts: number }[] }[];
      };
      const ts = series.results[0]?.points.map((p) => p.ts) ?? [];
      assert.ok(ts.includes(firstCycleAt), `the first run's sample at ${firstCycleAt} is served: ${ts}`);
      assert.ok(
        ts.some((t) => t > firstCycleAt),
        `the second run's sample is there too: ${ts}`,
      );
      second.child.kill('SIGINT');
      assert.equal(await second.exited, 0, second.out.text);
      assert.match(second.out.text, /SIGINT: stopping/);
    } finally {
      second.kill();
    }

    const store = await openStore({ path: join(dir, 'data', 'metrics.db') });
    const vms = await store.listVms();
    assert.ok(
      vms.every((v) => /^demo-[a-z]+-\d\d$/.test(v.vm)),
      JSON.stringify(vms.map((v) => v.vm)),
    );
    assert.equal(vms.length, 4);
    assert.ok(vms.every((v) => v.lastOutcome?.success === true && v.lastSampleTs !== null));
    await store.close();
  });

  it('POST /api/v1/test-alert sends a labelled test message through the configured channels', async () => {
    const good = await new TestReceiver().start();
    const bad = await new TestReceiver().start();
    bad.fallback = { status: 500, body: 'receiver down' };
    writeFileSync(
      join(dir, 'vigil.yaml'),
      `${config()}notification_config:
  webhook:
    url: ${good.url}/hook
  pager:
    type: webhook
    url: ${bad.url}/pager
`,
    );
    const up = startUp(dir);
    try {
      const [, url] = await up.waitFor(/dashboard: (http:\/\/127\.0\.0\.1:\d+)/);
      const post = (body: unknown) =>
        fetch(`${url}/api/v1/test-alert`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const one = await post({ channel: 'webhook' });
      const oneBody = (await one.json()) as { ok: boolean; results: { channel: string; ok: boolean }[] };
      assert.equal(one.status, 200, JSON.stringify(oneBody));
      assert.deepEqual(
        oneBody.results.map((r) => [r.channel, r.ok]),
        [['webhook', true]],
      );
      assert.equal(good.received.length, 1);
      assert.equal(good.received[0]!.url, '/hook');
      const payload = JSON.parse(good.received[0]!.body) as { kind: string; title: string; alerts: unknown[] };
      assert.equal(payload.kind, 'test');
      assert.match(payload.title, /^\[TEST\] /);
      assert.equal(bad.received.length, 0, 'a named channel is the only one sent to');

      // Without a channel: every configured channel, and a failing one is reported, not hidden.
      const all = await post({});
      const allBody = (await all.json()) as {
        error: { code: string; message: string; details: { results: { channel: string; ok: boolean }[] } };
      };
      assert.equal(all.status, 502);
      assert.equal(allBody.error.code, 'delivery_failed');
      assert.match(allBody.error.message, /pager: .*500/);
      assert.deepEqual(allBody.error.details.results.map((r) => [r.channel, r.ok]).sort(), [
        ['pager', false],
        ['webhook', true],
      ]);
      assert.equal(good.received.length, 2);
      assert.equal(bad.received.length, 1);

      // /metrics of the running engine: outbox depth and the demo source's self-metrics.
      await up.waitFor(/cycle 1: 4 VMs/);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const value = (series: string) =>
        Number(metrics.match(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm'))?.[1]);
      assert.equal(value('vigil_notification_outbox{status="delivered"}'), 2, metrics);
      assert.equal(
        value('vigil_notification_outbox{status="pending"}') + value('vigil_notification_outbox{status="failed"}'),
        1,
      );
      assert.equal(value('vigil_source_targets{source="demo",type="demo"}'), 4);
      assert.ok(value('vigil_source_collections_total{source="demo",type="demo",outcome="success"}') >= 4);
      assert.ok(value('vigil_collection_cycle_duration_seconds_count') >= 1);
      assert.ok(value('vigil_ingest_samples_total{origin="collect"}') >= 28);

      const unknown = await post({ channel: 'nope' });
      assert.equal(unknown.status, 404);
      assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /configured: /);
    } finally {
      up.kill();
      await good.stop();
      await bad.stop();
    }
  });

  it('refuses a non-loopback address without API tokens, with a clear message and no stack trace', () => {
    writeFileSync(join(dir, 'vigil.yaml'), config());
    const r = spawnSyncVigil(dir, ['up', '--host', '0.0.0.0']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0.*vigil token create/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});

/** `vigil up` as a child process in `dir`, with its output collected. */
function startUp(dir: string) {
  const child = spawn(process.execPath, [bin, 'up'], {
    cwd: dir,
    env: { HOME: dir, PATH: process.env.PATH ?? '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { text: '' };
  child.stdout!.on('data', (d: Buffer) => {
    out.text += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out.text += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    out,
    exited,
    waitFor: (re: RegExp, ms?: number) => waitFor(child, out, re, ms),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

function spawnSyncVigil(dir: string, args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], {
    cwd: dir,
    env: { HOME: dir, PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
    timeout: 30_000,
  });
}
