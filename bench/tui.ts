// Terminal dashboard first paint with 1,000 VMs in the store, as a long-running `vigil up` leaves it: `--hours` of
// one-minute history per VM (7 metrics and an outcome per minute), compacted by maintenance. Two measurements:
//  - in-process: build the dashboard data as `vigil dashboard` does in a terminal (the first read is a snapshot of
//    the file, the store opens after the paint) and render the real Ink App into a 140x40 terminal stream until the
//    first frame shows the table (modules already loaded);
//  - new process: `vigil dashboard` started in a pseudo-terminal (util-linux `script`), so it takes the live Ink
//    path, not the non-TTY snapshot; timed from spawn to the first output that contains the first VM's row (`script`,
//    a shell, Node's start-up, the early paint's modules, the config and the snapshot read included: that row is the
//    text main.ts paints before the CLI and Ink load), then `q` quits it once Ink runs.
// The pty run is made twice: with `--db`, and with the store named by a config file in the working directory (YAML
// parsed, a variable and a relative path resolved). The non-TTY snapshot (a pipe: one table, then exit) is reported
// separately. Target: first paint within 300 ms.
// Flags: --vms N (1000) --hours H (2) --runs R (5)
import { spawn, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { render as inkRender } from 'ink';
import { createElement } from 'react';
import { systemClock } from '../src/clock.ts';
import { DemoSource } from '../src/collect/demo/source.ts';
import { runCycle } from '../src/collect/scheduler.ts';
import { configSchema, type DemoSourceConfig } from '../src/config/index.ts';
import type { CollectionOutcome, Sample } from '../src/model/index.ts';
import { readFleet } from '../src/store/fleet.ts';
import { openStore } from '../src/store/open.ts';
import { AlertRepository } from '../src/store/sqlite/alert-repository.ts';
import { readFleetSnapshot } from '../src/store/sqlite/fleet-snapshot.ts';
import { App } from '../src/tui/app.ts';
import { STALE_MS } from '../src/tui/data.ts';
import { localDashboardData } from '../src/tui/local-data.ts';

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}

const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! * 10) / 10;
const MIN = 60_000;

/** One demo cycle as a template, repeated once a minute for `hours` (values jittered), written in batches. */
async function seed(path: string, vms: number, hours: number, now: number): Promise<{ firstVm: string }> {
  const config = configSchema.parse({ storage: { path }, sources: [{ type: 'demo', vms }] });
  const source = new DemoSource(config.sources[0] as DemoSourceConfig);
  const template = await runCycle([source], {
    now,
    clock: systemClock,
    intervalMs: MIN,
    timeoutMs: 30_000,
    maxWorkers: 10,
  });
  const store = await openStore(config.storage);
  const minutes = Math.max(1, Math.round(hours * 60));
  for (let m = minutes - 1; m >= 0; m--) {
    const shift = -m * MIN;
    const samples: Sample[] = template.samples.map((s, i) => ({
      ...s,
      ts: s.ts + shift,
      value: s.metric.endsWith('_percent')
        ? Math.min(100, Math.max(0, s.value + (((i * 31 + m * 17) % 11) - 5) / 2))
        : s.value * (0.9 + ((i + m) % 5) / 20),
    }));
    const outcomes: CollectionOutcome[] = template.outcomes.map((o) => ({ ...o, ts: o.ts + shift }));
    await store.write(samples, outcomes);
  }
  // Compact what a running `vigil up` would have compacted by now (2-hour blocks, hourly rollups).
  for (let i = 0; i < 10_000 && (await store.maintain(now, 1000)).more; i++);
  await store.close();
  return { firstVm: [...new Set(template.outcomes.map((o) => o.vm))].sort()[0]! };
}

/**
 * A terminal's output stream as Ink sees one: a size (ink-testing-library's has no rows, so Ink asks `tput` in a
 * child process on every render, which no real terminal pays) and everything written.
 */
class Terminal extends EventEmitter {
  readonly isTTY = true;
  output = '';
  readonly columns: number;
  readonly rows: number;
  constructor(columns: number, rows: number) {
    super();
    this.columns = columns;
    this.rows = rows;
  }
  write(frame: string): boolean {
    this.output += frame;
    return true;
  }
}

/** Keyboard input that never types: the first paint needs none. */
class TerminalInput extends EventEmitter {
  readonly isTTY = true;
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
  read(): null {
    return null;
  }
}

/** `vigil ARGS` in a pty: ms from spawn until its output shows `needle`; then `q`, and wait for the exit. */
function firstPaintInPty(bin: string, args: string, dir: string, needle: string): Promise<number> {
  const cmd = `stty cols 140 rows 40; exec '${process.execPath}' '${bin}' ${args}`;
  const t0 = performance.now();
  const child = spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], {
    cwd: dir,
    env: { HOME: dir, PATH: process.env.PATH ?? '', TERM: 'xterm-256color' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let paintedMs: number | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no first paint within 20 s; output so far: ${JSON.stringify(out.slice(-500))}`));
    }, 20_000);
    child.stdout.on('data', (d: Buffer) => {
      if (paintedMs !== null) return;
      // Colour codes sit around cells, never inside a VM name.
      out += d.toString('utf8');
      if (out.includes(needle)) {
        paintedMs = performance.now() - t0;
        child.stdin.write('q');
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start \`script\` (util-linux) for a pseudo-terminal: ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (paintedMs === null) reject(new Error(`dashboard exited (${code}) before painting: ${out.slice(-500)}`));
      else if (code !== 0) reject(new Error(`dashboard exited with ${code} after q`));
      else resolve(paintedMs);
    });
  });
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const vms = flag(args, 'vms', 1000);
  const hours = flag(args, 'hours', 2);
  const runs = flag(args, 'runs', 5);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-tui-'));
  const path = join(dir, 'metrics.db');
  try {
    const tSeed = performance.now();
    const { firstVm } = await seed(path, vms, hours, systemClock.now());
    const seedMs = Math.round(performance.now() - tSeed);
    const config = configSchema.parse({ storage: { path } });

    const inProcess: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      // As `vigil dashboard` in a terminal: paint from the file's snapshot, open the store after.
      const data = localDashboardData({
        open: async () => {
          const store = await openStore(config.storage);
          return { store, alerts: new AlertRepository(store.db) };
        },
        firstPaint: readFleetSnapshot(path, { staleMs: STALE_MS }),
        sources: async () => [],
        collection: config.collection,
        clock: systemClock,
      });
      const term = new Terminal(140, 40);
      const app = inkRender(createElement(App, { data, refreshS: 60, color: true, now: () => systemClock.now() }), {
        stdout: term as unknown as NodeJS.WriteStream,
        stdin: new TerminalInput() as unknown as NodeJS.ReadStream,
        stderr: new Terminal(140, 40) as unknown as NodeJS.WriteStream,
        exitOnCtrlC: false,
        patchConsole: false,
        interactive: true,
      });
      for (let spin = 0; spin < 200_000 && !term.output.includes(firstVm); spin++)
        await new Promise((res) => setImmediate(res));
      const ms = performance.now() - t0;
      if (!term.output.includes(firstVm)) throw new Error('in-process: the table never painted');
      inProcess.push(ms);
      // Let the store open and the second read land before the next run, as it would on screen.
      await new Promise((res) => setTimeout(res, 400));
      app.unmount();
      await data.close();
    }

    // Where the time goes: the snapshot read the first paint waits for, and what it no longer waits for
    // (opening the store, which replays its durable head, and one fleet read from it).
    const snapshotMs: number[] = [];
    const openMs: number[] = [];
    const fleetMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      readFleetSnapshot(path, { staleMs: STALE_MS });
      const t1 = performance.now();
      const store = await openStore(config.storage);
      const t2 = performance.now();
      await readFleet(store, { staleMs: STALE_MS });
      fleetMs.push(performance.now() - t2);
      openMs.push(t2 - t1);
      snapshotMs.push(t1 - t0);
      await store.close();
    }

    const bin = fileURLToPath(new URL('../bin/vigil.js', import.meta.url));
    const pty: number[] = [];
    for (let i = 0; i < runs; i++) pty.push(await firstPaintInPty(bin, `--db '${path}' dashboard`, dir, firstVm));
    // As most users run it: the store named by a config file (YAML parsed, variables and relative path resolved).
    const configured = join(dir, 'configured');
    mkdirSync(configured);
    writeFileSync(
      join(configured, 'vigil.yaml'),
      'storage:\n  path: ${VIGIL_DATA:-..}/metrics.db\ncollection:\n  interval: 1m\n  timeout: 20s\n',
    );
    const ptyConfigured: number[] = [];
    for (let i = 0; i < runs; i++) ptyConfigured.push(await firstPaintInPty(bin, 'dashboard', configured, firstVm));

    const snapshot: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const out = spawnSync(process.execPath, [bin, '--db', path, 'dashboard'], {
        cwd: dir,
        env: { HOME: dir, PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
      });
      snapshot.push(performance.now() - t0);
      if (out.status !== 0 || !out.stdout.includes(firstVm))
        throw new Error(`dashboard snapshot failed: ${out.stderr}`);
    }
    const round = (xs: number[]) => xs.map((x) => Math.round(x));
    return {
      vms,
      historyHours: hours,
      seedMs,
      firstPaintInProcessMs: { median: median(inProcess), all: round(inProcess) },
      inProcessPhasesMs: {
        snapshot: median(snapshotMs),
        openStoreAfterPaint: median(openMs),
        readFleetAfterOpen: median(fleetMs),
      },
      firstPaintNewProcessPtyMs: { median: median(pty), all: round(pty) },
      firstPaintNewProcessPtyWithConfigFileMs: { median: median(ptyConfigured), all: round(ptyConfigured) },
      nonTtySnapshotNewProcessMs: { median: median(snapshot), all: round(snapshot) },
      target: 'first paint <= 300 ms',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
