import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { eraseLines } from 'ansi-escapes';
import { FakeClock } from '../clock.ts';
import { openStore } from '../store/open.ts';
import type { CliIo } from './context.ts';
import { dashboardArgs, discardEarlyPaint, paintDashboardEarly, takeEarlyPaint } from './early-dashboard.ts';
import { main } from './main.ts';

const args: Array<[string, string[], ReturnType<typeof dashboardArgs>]> = [
  ['plain', ['dashboard'], { refreshS: 60 }],
  [
    'program options before, dashboard options after',
    ['-c', 'v.yaml', '--db', 'm.db', 'dashboard', '--refresh-interval', '30', '--resource-group', 'rg-a'],
    { config: 'v.yaml', db: 'm.db', refreshS: 30, resourceGroup: 'rg-a' },
  ],
  ['program options after the command', ['dashboard', '--db', 'm.db'], { db: 'm.db', refreshS: 60 }],
  [
    '--name=value forms',
    ['--config=v.yaml', 'dashboard', '--refresh-interval=300'],
    { config: 'v.yaml', refreshS: 300 },
  ],
  ['the last of a repeated option', ['dashboard', '--db', 'a.db', '--db', 'b.db'], { db: 'b.db', refreshS: 60 }],
  ['server mode', ['dashboard', '--server', 'http://127.0.0.1:7070'], null],
  ['a token', ['dashboard', '--token', 't'], null],
  ['help', ['dashboard', '--help'], null],
  ['version', ['-V'], null],
  ['an unknown option', ['dashboard', '--refresh', '30'], null],
  ['a dashboard option before the command', ['--refresh-interval', '30', 'dashboard'], null],
  ['another command', ['status'], null],
  ['no command', ['--db', 'm.db'], null],
  ['an extra argument', ['dashboard', 'web-01'], null],
  ['a missing value', ['dashboard', '--db'], null],
  ['an option where a value belongs', ['dashboard', '--db', '--help'], null],
  ['an interval below the bound', ['dashboard', '--refresh-interval', '5'], null],
  ['an interval above the bound', ['dashboard', '--refresh-interval', '301'], null],
  ['an interval that is not a number', ['dashboard', '--refresh-interval', 'fast'], null],
  ['an empty interval', ['dashboard', '--refresh-interval='], null],
];

for (const [name, argv, expected] of args) {
  test(`dashboardArgs: ${name}`, () => assert.deepEqual(dashboardArgs(argv), expected));
}

const T0 = Date.UTC(2026, 2, 1, 12);

/** Runs `fn` in a working directory with a config (by default: m.db, 2-minute interval) and a store of three VMs in m.db, one failing. */
async function inFleetDir(configText: string | undefined, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-early-'));
  writeFileSync(join(dir, 'vigil.yaml'), configText ?? 'storage:\n  path: m.db\ncollection:\n  interval: 2m\n');
  const store = await openStore({ path: join(dir, 'm.db') }, { clock: new FakeClock(T0) });
  const labels = (vm: string) => ({ vm, resource_group: 'rg-a' });
  await store.write(
    ['web-02', 'db-01'].flatMap((vm, i) => [
      { metric: 'cpu_percent', labels: labels(vm), ts: T0, value: 50 + i * 40 },
      { metric: 'network_in_bytes', labels: labels(vm), ts: T0, value: 240e6 },
    ]),
    ['web-02', 'db-01', 'web-01'].map((vm) => ({
      vm,
      labels: labels(vm),
      ts: T0,
      success: vm !== 'web-01',
      errorMessage: vm === 'web-01' ? 'Connection timeout' : null,
      durationMs: 10,
    })),
  );
  await store.close();
  try {
    await fn(dir);
  } finally {
    // A command run in-process reports failure through process.exitCode, which must not become this file's.
    process.exitCode = undefined;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A terminal as the CLI sees one: a TTY of `rows` lines, everything written captured. */
function terminalIo(dir: string, rows: number, env: Record<string, string> = {}): CliIo & { out: () => string } {
  const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 120, rows });
  const stderr = new PassThrough();
  let out = '';
  stdout.on('data', (d) => {
    out += d;
  });
  return { stdout, stderr, env: { HOME: dir, ...env }, cwd: dir, out: () => out };
}

test('paintDashboardEarly writes a screenful from the configured store and hands the rows over once', () =>
  inFleetDir(undefined, async (dir) => {
    // 5 lines: title, header, two VMs (one line is left for the cursor).
    const io = terminalIo(dir, 5, { NO_COLOR: '1' });
    await paintDashboardEarly(['dashboard'], io, T0);
    const lines = io.out().split('\n');
    assert.equal(lines[0], 'Vigil fleet — 3 VMs — Updated: 2026-03-01 12:00:00 UTC');
    assert.match(lines[1]!, /^VM Name +CPU% +Memory%/);
    assert.match(lines[2]!, /^db-01 +90\.0% .* 2\.00\/-- +OK$/, 'MB/s with the configured 2-minute interval');
    assert.match(lines[3]!, /^web-01 +---- .*ERROR: Connection timeout/);
    assert.equal(lines[4], '');
    assert.ok(!io.out().includes('\x1b['), 'NO_COLOR');
    const taken = takeEarlyPaint();
    assert.equal(taken?.storePath, join(dir, 'm.db'));
    assert.deepEqual(taken?.rows.map((r) => r.vm).sort(), ['db-01', 'web-01', 'web-02']);
    assert.equal(taken?.lines, 4);
    assert.equal(takeEarlyPaint(), undefined);
  }));

test('paintDashboardEarly: colours, the resource group filter, and --db over the config', () =>
  inFleetDir('storage:\n  path: elsewhere.db\n', async (dir) => {
    const io = terminalIo(dir, 40);
    await paintDashboardEarly(['dashboard', '--db', 'm.db', '--resource-group', 'rg-b'], io, T0);
    assert.equal(io.out(), '', 'no VM in rg-b: nothing painted');
    assert.equal(takeEarlyPaint()?.lines, 0);
    await paintDashboardEarly(['--db', join(dir, 'm.db'), 'dashboard', '--resource-group', 'rg-a'], io, T0);
    assert.match(io.out(), /\x1b\[31m +90\.0% *\x1b\[0m/, 'red above 85 %');
    assert.match(io.out(), /^db-01 .* 4\.00\/-- /m, 'MB/s with the default 1-minute interval');
    assert.equal(takeEarlyPaint()?.lines, 5);
  }));

test('paintDashboardEarly paints nothing off a terminal, for server mode, or without a store file', () =>
  inFleetDir(undefined, async (dir) => {
    const pipe = { ...terminalIo(dir, 40), stdout: new PassThrough() };
    await paintDashboardEarly(['dashboard'], pipe, T0);
    assert.equal(takeEarlyPaint(), undefined);
    const io = terminalIo(dir, 40);
    await paintDashboardEarly(['dashboard', '--server', 'http://127.0.0.1:1'], io, T0);
    await paintDashboardEarly(['dashboard', '--db', join(dir, 'none.db')], io, T0);
    assert.equal(io.out(), '');
    assert.deepEqual(takeEarlyPaint()?.rows, [], 'no file yet: no VMs, nothing painted');
    await discardEarlyPaint(io);
    assert.equal(io.out(), '', 'nothing painted, nothing to erase');
  }));

test('a config error after the early paint erases the table before the error is printed', () =>
  inFleetDir('storage:\n  path: m.db\nrulez: []\n', async (dir) => {
    const io = terminalIo(dir, 40);
    let err = '';
    io.stderr.on('data', (d) => {
      err += d;
    });
    assert.equal(await main(['dashboard'], io), 2);
    const out = io.out();
    const painted = out.slice(0, out.indexOf('\x1b[2K'));
    assert.match(painted, /^Vigil fleet — 3 VMs/);
    assert.equal(out.slice(painted.length), eraseLines(painted.split('\n').length));
    assert.match(err, /vigil\.yaml:3:1 rulez: unknown field "rulez"/);
    assert.equal(takeEarlyPaint(), undefined);
  }));

test('the early paint loads no package and none of the CLI, schema, store or Ink modules it exists to get ahead of', () => {
  // A fresh process records every module the early paint's import graph resolves.
  const script = `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); seen.push(r.url); return r; } });
    await import(${JSON.stringify(new URL('./early-dashboard.ts', import.meta.url).href)});
    process.stdout.write(JSON.stringify(seen));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const src = new URL('../', import.meta.url).href;
  const loaded = (JSON.parse(run.stdout) as string[])
    .filter((u) => !u.startsWith('node:'))
    .map((u) => (u.startsWith(src) ? u.slice(src.length) : u));
  assert.ok(loaded.includes('store/sqlite/fleet-snapshot.ts'), loaded.join(' '));
  assert.deepEqual(
    loaded.filter(
      (u) =>
        u.includes('node_modules') ||
        /^(config\/(schema|load|index)|store\/open|cli\/(program|context)|tui\/app)\.ts$/.test(u),
    ),
    [],
  );
});
