// The alerting "done when": with the demo fleet running under `vigil up`, alerts are raised once per VM (not per
// cycle), shown by `vigil alerts`, acknowledged and silenced from the CLI, kept across a restart without
// re-notifying, resolved when the rule changes, and counted by `vigil patterns`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));

function config(threshold: number, comparison = '>='): string {
  return `storage:
  path: ./metrics.db
collection:
  interval: 10s
sources:
  - type: demo
    vms: 3
    failure_rate: 0
server:
  enabled: false
rules:
  - name: cpu_seen
    metric: cpu_percent
    threshold: ${threshold}
    comparison: "${comparison}"
    severity: warning
notification_config:
  log:
    type: file
    path: ./notifications.jsonl
notifications:
  default_channels: [log]
  group_wait_ms: 0
`;
}

interface Running {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

describe('alerts through vigil up and the CLI', () => {
  let dir: string;
  const env = () => ({ HOME: dir, PATH: process.env.PATH ?? '', USER: 'oncall' });
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, env: env(), encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `vigil ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const alerts = (...args: string[]) =>
    JSON.parse(cli('alerts', '--json', ...args)) as {
      id: string;
      vm: string;
      status: string;
      notificationCount?: number;
    }[];

  function start(): Running {
    const child = spawn(process.execPath, [bin, 'up'], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      text += d.toString();
    });
    return { child, out: () => text, exited: new Promise((r) => child.once('exit', (c) => r(c))) };
  }

  /** Waits for `re` in the output (after character `from`). */
  async function until(r: Running, re: RegExp, ms = 40_000, from = 0): Promise<void> {
    const deadline = Date.now() + ms;
    while (!re.test(r.out().slice(from))) {
      if (Date.now() > deadline || r.child.exitCode !== null)
        throw new Error(`timed out waiting for ${re}:\n${r.out()}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  async function stop(r: Running): Promise<void> {
    r.child.kill('SIGTERM');
    assert.equal(await r.exited, 0, r.out());
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-up-alerts-'));
    writeFileSync(join(dir, 'vigil.yaml'), config(0));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('raises once, acks, silences, survives a restart, resolves on a rule change', async () => {
    const first = start();
    try {
      await until(first, /cycle 2: 3 VMs/);
      const firing = alerts();
      assert.equal(firing.length, 3, JSON.stringify(firing));
      assert.ok(firing.every((a) => a.status === 'firing'));
      const [a, b] = firing;
      cli('alerts', 'ack', a!.id, '--notes', 'looking into it');
      cli('silence', 'add', '--match', `vm=${b!.vm}`, '--duration', '2h', '--reason', 'maintenance window');
      await until(first, /cycle 3: 3 VMs/);
      const byId = new Map(alerts().map((x) => [x.id, x]));
      assert.equal(byId.size, 3, 'still one alert per VM after three cycles');
      assert.equal(byId.get(a!.id)?.status, 'acknowledged');
      assert.equal(byId.get(b!.id)?.status, 'suppressed');
    } finally {
      if (first.child.exitCode === null) await stop(first);
    }
    const before = alerts();

    const second = start();
    try {
      await until(second, /cycle 1: 3 VMs/);
      const after = alerts();
      assert.deepEqual(
        after.map((x) => [x.id, x.status]).sort(),
        before.map((x) => [x.id, x.status]).sort(),
        'the restart neither forgets nor duplicates alerts',
      );
      // A rule edit resolves them without a restart.
      writeFileSync(join(dir, 'vigil.yaml'), config(100, '>'));
      await until(second, /config reloaded/);
      // Two cycle lines after the reload: the first may belong to a cycle whose samples met the old rule.
      const reloadedAt = second.out().search(/config reloaded/);
      await until(second, /cycle \d+: 3 VMs[\s\S]*cycle \d+: 3 VMs/, 40_000, reloadedAt);
      assert.equal(alerts().length, 0);
      assert.equal(alerts('--state', 'resolved').length, 3);
    } finally {
      if (second.child.exitCode === null) await stop(second);
    }
    const patterns = JSON.parse(cli('patterns', '--json')) as { totalAlerts?: number; total?: number };
    assert.match(JSON.stringify(patterns), /cpu_seen/);
  });
});
