import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryStore } from '../../server/testing/memory-store.ts';
import { historyCsv, historyRows } from './history.ts';
import { importCsv } from './import.ts';

const NOW = Date.UTC(2026, 0, 8);
const CSV =
  'timestamp,vm_name,cpu_percent,memory_percent,disk_percent,disk_read_bytes,disk_write_bytes,network_in_bytes,network_out_bytes,success,error_message,resource_group\n' +
  '2026-01-07T23:00:00.000Z,web-01,12.5,40,,,,,,true,,rg\n' +
  '2026-01-07T23:30:00.000Z,web-01,,,,,,,,false,"timeout, ""x""",rg\n';

test('import then export round-trips byte-identically', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-imp-'));
  writeFileSync(join(dir, 'a.csv'), CSV);
  const store = new MemoryStore();
  assert.deepEqual(await importCsv(store, join(dir, 'a.csv'), 'a.csv'), { rows: 2, samples: 2 });
  assert.equal(historyCsv(await historyRows(store, { vm: 'web-01', now: NOW, days: 7, resolution: 'raw' })), CSV);
});

test('a bad row names FILE:LINE and column, and nothing is written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-imp-'));
  writeFileSync(
    join(dir, 'b.csv'),
    'timestamp,vm_name,cpu_percent\n2026-01-07T23:00:00Z,web-01,5\n2026-01-07T23:01:00Z,web-01,abc\n',
  );
  const store = new MemoryStore();
  await assert.rejects(
    importCsv(store, join(dir, 'b.csv'), 'b.csv'),
    /^UserError: b\.csv:3: column cpu_percent: expected a number, got "abc"$/,
  );
  assert.equal((await store.listVms()).length, 0);
});
