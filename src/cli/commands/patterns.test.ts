// `vigil patterns`: alert statistics plus the fleet failure patterns present now (text and --json).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CollectionOutcome } from '../../model/index.ts';
import { openStore } from '../../store/open.ts';
import { vigilIn as vigil } from '../testing/run-cli.ts';

async function withDir(config: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-patterns-'));
  writeFileSync(join(dir, 'vigil.yaml'), config);
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** rg-a's three VMs fail their last collection (2 of them with only a 0.67 share when `a3` is up). */
async function partition(dir: string, a3Up = false): Promise<void> {
  const store = await openStore({ path: join(dir, 'metrics.db') });
  const ts = Date.now() - 30_000;
  const outcomes: CollectionOutcome[] = ['a1', 'a2', 'a3', 'b1', 'b2'].map((vm) => {
    const ok = vm.startsWith('b') || (a3Up && vm === 'a3');
    return {
      vm,
      labels: { resource_group: vm.startsWith('a') ? 'rg-a' : 'rg-b' },
      ts,
      success: ok,
      errorMessage: ok ? null : 'Connection timeout',
      durationMs: 40,
    };
  });
  await store.recordOutcomes(outcomes);
  await store.close();
}

test('vigil patterns prints the fleet failure patterns section and --json has fleet_patterns', () =>
  withDir('sources: []\n', async (dir) => {
    await partition(dir);
    const json = await vigil(dir, 'patterns', '--json');
    assert.equal(json.code, 0, json.err);
    const p = JSON.parse(json.out) as {
      totalAlerts: number;
      fleet_patterns: { pattern: string; affectedVms: string[] }[];
    };
    assert.equal(p.totalAlerts, 0);
    assert.deepEqual(
      p.fleet_patterns.map((f) => [f.pattern, f.affectedVms]),
      [['network_partition', ['a1', 'a2', 'a3']]],
    );
    const text = await vigil(dir, 'patterns');
    assert.match(text.out, /Alert patterns, last 7 days: 0 alerts/);
    assert.match(text.out, /Fleet failure patterns \(now\):\n {2}CRITICAL Failure Pattern Detected: network_partition/);
    const failures = await vigil(dir, 'failures');
    assert.match(failures.out, /^CRITICAL Failure Pattern Detected: network_partition \(confidence 1\.00\)/);
  }));

test('vigil patterns and failures use analytics.patterns from the config', () =>
  withDir('sources: []\nanalytics:\n  patterns:\n    network_partition:\n      min_share: 0.6\n', async (dir) => {
    await partition(dir, true);
    const p = JSON.parse((await vigil(dir, 'patterns', '--json')).out) as { fleet_patterns: { pattern: string }[] };
    assert.deepEqual(
      p.fleet_patterns.map((f) => f.pattern),
      ['network_partition'],
    );
    writeFileSync(join(dir, 'vigil.yaml'), 'sources: []\n');
    const none = JSON.parse((await vigil(dir, 'failures', '--json')).out) as unknown[];
    assert.deepEqual(none, []);
    assert.match((await vigil(dir, 'patterns')).out, /Fleet failure patterns \(now\):\n {2}No fleet failure pattern/);
  }));
