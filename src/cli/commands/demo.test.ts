import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../store/open.ts';
import { vigilIn as vigil } from '../testing/run-cli.ts';

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-demo-cli-'));
  writeFileSync(join(dir, 'vigil.yaml'), 'sources:\n  - type: demo\n    vms: 4\n    failure_rate: 0.05\n');
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('vigil demo backfill rejects bad arguments with exit 2', () =>
  withDir(async (dir) => {
    for (const [args, msg] of [
      [['--days', 'abc'], /invalid --days "abc"/],
      [['--days', '0'], /invalid --days/],
      [['--vms', '2.5'], /invalid --vms "2.5"/],
      [['--step', 'often'], /invalid --step "often"/],
      [['--step', '10ms'], /invalid --step/],
    ] as const) {
      const r = await vigil(dir, 'demo', 'backfill', ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, msg);
    }
  }));

test('vigil demo backfill --json writes the history into the store', () =>
  withDir(async (dir) => {
    const r = await vigil(dir, 'demo', 'backfill', '--days', '2', '--step', '10m', '--json');
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out);
    assert.equal(s.vms, 4);
    assert.equal(s.stepMs, 600_000);
    assert.equal(s.outcomes, 4 * (2 * 144 + 1));
    assert.equal(s.samples, (s.outcomes - s.failedCollections) * 7);
    const { configSchema } = await import('../../config/index.ts');
    const store = await openStore(configSchema.parse({ storage: { path: join(dir, 'metrics.db') } }).storage);
    try {
      assert.deepEqual((await store.listVms()).map((v) => v.vm).sort(), [
        'demo-api-01',
        'demo-cache-01',
        'demo-db-01',
        'demo-web-01',
      ]);
      assert.equal((await store.stats()).series, 4 * 7);
    } finally {
      await store.close();
    }
    // Human summary.
    const h = await vigil(dir, 'demo', 'backfill', '--days', '1', '--vms', '2', '--step', '1h');
    assert.equal(h.code, 0, h.err);
    assert.match(
      h.out,
      /^Backfilled 1 day of 2 demo VMs every 1h .*: [\d,]+ samples and 50 collection outcomes .* samples\/s, into /,
    );
  }));
