import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../store/open.ts';
import { vigilIn as vigil } from '../testing/run-cli.ts';

function withDir(config: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-collect-cli-'));
  writeFileSync(join(dir, 'vigil.yaml'), config);
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const CONFIG = `sources:
  - type: demo
    vms: 6
    failure_rate: 0.5
  - type: host
    vm: this-box
    mount: ${tmpdir()}
`;

test('vigil collect --once --no-store --json: one row per VM, per-source stats', () =>
  withDir(CONFIG, async (dir) => {
    const r = await vigil(dir, 'collect', '--once', '--no-store', '--json');
    assert.equal(r.code, 0, r.err);
    const json = JSON.parse(r.out);
    assert.equal(json.stored, false);
    assert.equal(json.rows.length, 7);
    const host = json.rows.find((x: { vm: string }) => x.vm === 'this-box');
    assert.equal(host.source, 'host');
    assert.equal(host.success, true);
    assert.ok(host.cpu_percent >= 0 && host.cpu_percent <= 100);
    assert.ok(host.memory_percent > 0);
    const demo = json.rows.filter((x: { source: string }) => x.source === 'demo');
    assert.equal(demo.length, 6);
    for (const row of demo) {
      if (row.success) assert.equal(typeof row.cpu_percent, 'number');
      else assert.equal(typeof row.error_message, 'string');
    }
    assert.deepEqual(
      json.sources.map((s: { source: string; targets: number }) => [s.source, s.targets]),
      [
        ['demo', 6],
        ['host', 1],
      ],
    );
  }));

test('vigil collect --once prints the fleet table with ERROR rows', () =>
  withDir(CONFIG.replace('failure_rate: 0.5', 'failure_rate: 1'), async (dir) => {
    const r = await vigil(dir, 'collect', '--once', '--no-store');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    // ERROR rows do not widen the metric columns.
    assert.match(lines[0]!, /^VM\s+SOURCE {2}CPU % {2}MEM % {2}DISK % {2}DISK R\/W MB\/s {2}NET IN\/OUT MB\/s$/);
    assert.match(r.out, /demo-web-01\s+demo\s+ERROR: \S/);
    assert.match(
      r.out,
      /this-box\s+host\s+\d+\.\d\s+\d+\.\d\s+\d+\.\d\s+\d+\.\d\d \/ \d+\.\d\d\s+\d+\.\d\d \/ \d+\.\d\d/,
    );
    assert.match(r.out, /7 VMs from 2 sources: 1 ok, 6 failed/);
  }));

test('vigil collect without --once and with a bad config give clear usage errors', () =>
  withDir(CONFIG, async (dir) => {
    let r = await vigil(dir, 'collect');
    assert.equal(r.code, 2);
    assert.match(r.err, /collect needs --once/);
    writeFileSync(join(dir, 'vigil.yaml'), 'sources:\n  - type: demo\n  - type: demo\n');
    r = await vigil(dir, 'collect', '--once', '--no-store');
    assert.equal(r.code, 2);
    assert.match(r.err, /two sources are named "demo"/);
    assert.doesNotMatch(r.err, /at .*\.ts:\d+/);
  }));

test('vigil collect --once stores the cycle', () =>
  withDir(CONFIG, async (dir) => {
    const r = await vigil(dir, 'collect', '--once', '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).stored, true);
    const { configSchema } = await import('../../config/index.ts');
    const storage = configSchema.parse({ storage: { path: join(dir, 'metrics.db') } }).storage;
    const store = await openStore(storage);
    try {
      const vms = (await store.listVms()).map((v) => v.vm).sort();
      assert.equal(vms.length, 7);
      assert.ok(vms.includes('this-box'));
    } finally {
      await store.close();
    }
  }));

test('fleet table: the latest sample of each metric, bytes per interval shown as MB/s of that interval', async () => {
  const { cycleRows, renderFleetTable } = await import('./collect.ts');
  const labels = { vm: 'az-1', source: 'azure', resource_group: 'rg' };
  const sample = (metric: string, ts: number, value: number) => ({ metric, labels, ts, value });
  const rows = cycleRows({
    ts: 3_000_000,
    samples: [
      sample('network_in_bytes', 120_000, 20_000_000), // the latest: 20 MB in a 10 s interval = 2 MB/s
      sample('network_in_bytes', 60_000, 90_000_000),
      sample('network_out_bytes', 120_000, 5_000_000),
      sample('cpu_percent', 60_000, 10),
    ],
    outcomes: [
      { vm: 'az-1', labels: { source: 'azure' }, ts: 3_000_000, success: true, errorMessage: null, durationMs: 1 },
    ],
    sourceErrors: [],
    durationMs: 1,
    perSource: [],
    removedVms: [],
    notices: [],
  });
  assert.equal(rows[0]!.metrics.network_in_bytes, 20_000_000);
  const table = renderFleetTable(rows, 10_000);
  assert.match(table, /az-1\s+azure\s+10\.0\s+-\s+-\s+- \/ -\s+2\.00 \/ 0\.50/);
});

test('vigil collect --once: a source that fails entirely (az missing) exits 1 with its error', () =>
  withDir(
    `sources:\n  - type: azure\n    subscription_id: 00000000-1111-2222-3333-444444444444\n    az_path: /nonexistent/az\n  - type: demo\n    vms: 2\n    failure_rate: 0\n`,
    async (dir) => {
      for (const json of [false, true]) {
        const r = await vigil(dir, 'collect', '--once', '--no-store', ...(json ? ['--json'] : []));
        assert.equal(r.code, 1, r.err);
        assert.match(r.err, /^vigil: source azure: discovery failed: Azure CLI \(az\) not found: install it/m);
        if (json) {
          const out = JSON.parse(r.out);
          assert.equal(out.rows.length, 2, 'the demo VMs are still collected and printed');
          assert.equal(out.sources[0].error.includes('Azure CLI (az) not found'), true);
        } else assert.match(r.out, /demo-web-01/);
      }
    },
  ));
