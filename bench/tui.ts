// Terminal dashboard first paint with 1,000 VMs in the store: in-process (open the store, read the fleet, render the
// Ink app until the first frame shows the table), and as a user sees it (a new `vigil dashboard` process printing
// its snapshot, Node start-up included). Target: first paint within 300 ms.
// Flags: --vms N (1000) --runs R (7)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { render } from 'ink-testing-library';
import { createElement } from 'react';
import { systemClock } from '../src/clock.ts';
import { DemoSource } from '../src/collect/demo/source.ts';
import { runCycle } from '../src/collect/scheduler.ts';
import { configSchema, type DemoSourceConfig } from '../src/config/index.ts';
import { openStore } from '../src/store/open.ts';
import { AlertRepository } from '../src/store/sqlite/alert-repository.ts';
import { App } from '../src/tui/app.ts';
import { localDashboardData } from '../src/tui/local-data.ts';

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}

const median = (xs: number[]) => Math.round([...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! * 10) / 10;

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const vms = flag(args, 'vms', 1000);
  const runs = flag(args, 'runs', 7);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-tui-'));
  const path = join(dir, 'metrics.db');
  try {
    const config = configSchema.parse({ storage: { path }, sources: [{ type: 'demo', vms }] });
    const seed = await openStore(config.storage);
    const source = new DemoSource(config.sources[0] as DemoSourceConfig);
    const r = await runCycle([source], {
      now: systemClock.now(),
      clock: systemClock,
      intervalMs: 60_000,
      timeoutMs: 30_000,
      maxWorkers: 10,
    });
    await seed.write(r.samples, r.outcomes);
    await seed.close();
    const firstVm = [...new Set(r.outcomes.map((o) => o.vm))].sort()[0]!;

    const inProcess: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const store = await openStore(config.storage);
      const data = localDashboardData({
        store,
        sources: async () => [],
        collection: config.collection,
        clock: systemClock,
        alerts: new AlertRepository(store.db),
      });
      const app = render(createElement(App, { data, refreshS: 60, color: true, now: () => systemClock.now() }));
      for (let spin = 0; spin < 20_000 && !(app.lastFrame() ?? '').includes(firstVm); spin++)
        await new Promise((res) => setImmediate(res));
      inProcess.push(performance.now() - t0);
      app.unmount();
      await data.close();
    }

    const bin = fileURLToPath(new URL('../bin/vigil.js', import.meta.url));
    const process_: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      const out = spawnSync(process.execPath, [bin, '--db', path, 'dashboard'], {
        cwd: dir,
        env: { HOME: dir, PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
      });
      process_.push(performance.now() - t0);
      if (out.status !== 0 || !out.stdout.includes(firstVm)) throw new Error(`dashboard failed: ${out.stderr}`);
    }
    return {
      vms,
      firstPaintInProcessMs: { median: median(inProcess), all: inProcess.map((x) => Math.round(x)) },
      newProcessSnapshotMs: { median: median(process_), all: process_.map((x) => Math.round(x)) },
      target: 'first paint <= 300 ms',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
