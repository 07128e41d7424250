// `vigil dashboard` in a real pseudo-terminal (tmux): first screen, keys r, +, enter, esc, q, and a clean exit;
// then server mode against a running `vigil up`.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/open.ts';

const bin = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));
const socket = `vigil-test-${process.pid}`;
let dir = '';

/** tmux on a server of our own: a unique socket name under the test's temp directory, never the user's tmux. */
function tmux(...args: string[]): string {
  const env: NodeJS.ProcessEnv = { ...process.env, TMUX_TMPDIR: dir };
  delete env.TMUX;
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
}

function killSession(): void {
  try {
    tmux('kill-session', '-t', 'dash');
  } catch {
    // already gone
  }
}

async function screenMatching(re: RegExp, ms = 20_000): Promise<string> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    try {
      last = tmux('capture-pane', '-p', '-t', 'dash');
    } catch {
      // the session may be gone after the program exits
    }
    if (re.test(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`screen never matched ${re}; last screen:\n${last}`);
}

describe('vigil dashboard in a terminal', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-dash-'));
    writeFileSync(
      join(dir, 'vigil.yaml'),
      'storage:\n  path: ./metrics.db\nsources:\n  - type: demo\n    vms: 6\n    failure_rate: 0\nserver:\n  port: 0\n',
    );
    const r = spawnSync(process.execPath, [bin, 'demo', 'backfill', '--days', '1'], {
      cwd: dir,
      env: { HOME: dir, PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => {
    try {
      tmux('kill-server');
    } catch {
      // no sessions left: the server has exited already
    }
    rmSync(dir, { recursive: true, force: true });
  });

  function startInTmux(args: string[]): string {
    const exitFile = join(dir, `exit-${Date.now()}`);
    const cmd = [process.execPath, bin, ...args].map((a) => `'${a}'`).join(' ');
    tmux(
      'new-session',
      '-d',
      '-s',
      'dash',
      '-x',
      '140',
      '-y',
      '40',
      '-c',
      dir,
      // CI=true: a terminal on a build box (or CI itself) must still get the live dashboard.
      `env HOME='${dir}' TERM=xterm-256color CI=true ${cmd}; echo $? > '${exitFile}'; sleep 30`,
    );
    return exitFile;
  }

  async function exitCode(file: string): Promise<number> {
    for (let i = 0; i < 100; i++) {
      try {
        return Number(readFileSync(file, 'utf8').trim());
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('the dashboard did not exit');
  }

  it('shows the fleet, refreshes, changes speed, opens a VM, and quits with q', async () => {
    const exitFile = startInTmux(['dashboard', '--refresh-interval', '60']);
    try {
      // The table is on screen at once (as text, from a snapshot of the store), then Ink's live screen replaces
      // it: the same rows, with the key bar.
      const painted = await screenMatching(/demo-web-01/);
      assert.match(painted, /VM Name\s+CPU%\s+Memory%/);
      const first = await screenMatching(/Vigil — 6\/6 VMs/);
      assert.doesNotMatch(first, /Vigil fleet — /, 'the text snapshot is erased when the live screen starts');
      assert.match(first, /Updated: /);
      assert.match(first, /VM Name\s+CPU%\s+Memory%\s+Disk%\s+Disk R\/W \(MB\/s\)\s+Network I\/O \(MB\/s\)/);
      assert.match(first, /Press 'q' to quit \| 'r' to refresh \| Next auto-refresh in \d+s/);
      assert.equal((first.match(/^demo-/gm) ?? []).length, 6);

      // `r` collects now (standalone: the demo source, into the store) and restarts the countdown.
      await screenMatching(/Next auto-refresh in (5[0-8])s/);
      const pressedAt = Date.now();
      tmux('send-keys', '-t', 'dash', 'r');
      await screenMatching(/Next auto-refresh in (59|60)s/, 5000);

      // `+` is faster: 60 s → 45 s, so the countdown restarts below 46.
      tmux('send-keys', '-t', 'dash', '+');
      await screenMatching(/Next auto-refresh in (4[0-5]|[0-3]?\d)s/);

      tmux('send-keys', '-t', 'dash', 'Enter');
      const detail = await screenMatching(/Last 6 hours/);
      assert.match(detail, /\(esc to go back\)/);
      assert.match(detail, /demo-/);
      tmux('send-keys', '-t', 'dash', 'Escape');
      await screenMatching(/VM Name\s+CPU%/);

      tmux('send-keys', '-t', 'dash', 'q');
      assert.equal(await exitCode(exitFile), 0);

      // The refresh stored a collection of every VM made after the key was pressed.
      const store = await openStore({ path: join(dir, 'metrics.db') });
      try {
        const vms = await store.listVms();
        assert.equal(vms.length, 6);
        assert.ok(
          vms.every((v) => (v.lastOutcome?.ts ?? 0) >= pressedAt - 1000),
          JSON.stringify(vms.map((v) => [v.vm, v.lastOutcome?.ts, pressedAt])),
        );
      } finally {
        await store.close();
      }
    } finally {
      killSession();
    }
  });

  it('reads a running vigil up with --server', async () => {
    const up: ChildProcess = spawn(process.execPath, [bin, 'up', '--quiet'], {
      cwd: dir,
      env: { HOME: dir, PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      up.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const deadline = Date.now() + 20_000;
      while (!/dashboard: http/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const url = /dashboard: (http:\/\/\S+)/.exec(out)?.[1];
      assert.ok(url, out);
      const exitFile = startInTmux(['dashboard', '--server', url]);
      const screen = await screenMatching(/demo-db-01/);
      assert.match(screen, /Updated: /);
      tmux('send-keys', '-t', 'dash', 'q');
      assert.equal(await exitCode(exitFile), 0);
    } finally {
      killSession();
      up.kill('SIGTERM');
    }
  });
});
