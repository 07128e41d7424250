import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FleetRow } from '../store/fleet.ts';
import { cell, fitColumns, levelFor, mbPerSecond, sortRows, sparkline } from './format.ts';
import { renderFleetText } from './render-text.ts';

const row = (vm: string, metrics: FleetRow['metrics'], error?: string): FleetRow => ({
  vm,
  resourceGroup: 'rg-prod',
  source: 'demo',
  tenant: 'default',
  labels: {},
  ts: 0,
  metrics,
  success: !error,
  errorMessage: error ?? null,
});

test('colour bands follow the seed: green < 70, yellow 70-85, red > 85', () => {
  for (const [v, want] of [
    [0, 'ok'],
    [69.9, 'ok'],
    [70, 'warn'],
    [85, 'warn'],
    [85.1, 'bad'],
    [100, 'bad'],
  ] as const) {
    assert.equal(levelFor(v), want, `value ${v}`);
  }
});

test('bytes per interval become MB/s using the collection interval', () => {
  assert.equal(mbPerSecond(60_000_000, 60_000), 1);
  assert.equal(mbPerSecond(undefined, 60_000), undefined);
});

test('a failed VM shows ---- and the error in the status column', () => {
  const r = row('web-01', {}, 'Connection timeout');
  assert.equal(cell(r, 'cpu', 60_000).text, '----');
  assert.deepEqual(cell(r, 'status', 60_000), { text: 'ERROR: Connection timeout', level: 'bad' });
});

test('narrow terminals drop columns by priority, keeping VM name and CPU', () => {
  const wide = fitColumns(200).map((c) => c.key);
  assert.deepEqual(wide, ['vm', 'cpu', 'memory', 'disk', 'diskio', 'netio', 'status']);
  const narrow = fitColumns(50).map((c) => c.key);
  assert.ok(narrow.includes('vm') && narrow.includes('cpu'));
  assert.ok(!narrow.includes('diskio'), 'disk R/W goes first');
  assert.ok(fitColumns(50).reduce((s, c) => s + c.width + 1, 0) <= 50);
});

test('sorting by cpu puts the busiest first; by status puts failures first', () => {
  const rows = [row('a', { cpu_percent: 10 }), row('b', { cpu_percent: 90 }), row('c', {}, 'down')];
  assert.deepEqual(
    sortRows(rows, 'cpu').map((r) => r.vm),
    ['b', 'a', 'c'],
  );
  assert.equal(sortRows(rows, 'status')[0]!.vm, 'c');
});

test('sparkline scales into eight levels and resamples to the width', () => {
  assert.equal(sparkline([0, 50, 100], 3, { min: 0, max: 100 }), '▁▅█');
  assert.equal(
    sparkline(
      Array.from({ length: 100 }, (_, i) => i),
      10,
    ).length,
    10,
  );
});

test('text snapshot has the seed header, colours only when asked, and ERROR rows', () => {
  const rows = [row('web-01', { cpu_percent: 92, memory_percent: 50 }), row('db-01', {}, 'Connection timeout')];
  const plain = renderFleetText(rows, {
    width: 120,
    intervalMs: 60_000,
    color: false,
    updatedAt: Date.UTC(2026, 0, 1),
  });
  assert.match(plain, /Updated: 2026-01-01 00:00:00 UTC/);
  assert.match(plain, /VM Name\s+CPU%\s+Memory%\s+Disk%\s+Disk R\/W \(MB\/s\)\s+Network I\/O \(MB\/s\)\s+Status/);
  assert.match(plain, /db-01\s+----\s+ERROR: Connection timeout/);
  assert.doesNotMatch(plain, /\x1b\[/);
  const colored = renderFleetText(rows, { width: 120, intervalMs: 60_000, color: true, updatedAt: 0 });
  assert.match(colored, /\x1b\[31m\s*92\.0%/);
});
