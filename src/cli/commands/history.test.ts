import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../../server/testing/memory-store.ts';
import { formatTable } from '../format/table.ts';
import { historyCsv, historyRows, nearNames } from './history.ts';

const NOW = Date.UTC(2026, 0, 8);

async function fleet(): Promise<MemoryStore> {
  const store = new MemoryStore();
  const labels = { vm: 'web-01', resource_group: 'rg' };
  await store.write(
    [
      { metric: 'cpu_percent', labels, ts: NOW - 3_600_000, value: 12.5 },
      { metric: 'cpu_percent', labels: { vm: 'db-01' }, ts: NOW - 3_600_000, value: 1 },
    ],
    [
      {
        vm: 'web-01',
        labels: { resource_group: 'rg' },
        ts: NOW - 1_800_000,
        success: false,
        errorMessage: 'refused',
        durationMs: 1,
      },
    ],
  );
  return store;
}

test('history CSV has the exact seed header and ISO UTC timestamps', async () => {
  const rows = await historyRows(await fleet(), { vm: 'web-01', now: NOW, days: 7, resolution: 'raw' });
  assert.equal(
    historyCsv(rows),
    'timestamp,vm_name,cpu_percent,memory_percent,disk_percent,disk_read_bytes,disk_write_bytes,network_in_bytes,network_out_bytes,success,error_message,resource_group\n' +
      '2026-01-07T23:00:00.000Z,web-01,12.5,,,,,,,true,,rg\n' +
      '2026-01-07T23:30:00.000Z,web-01,,,,,,,,false,refused,rg\n',
  );
});

test('unknown VM is a clear error listing near names; bad --metric lists valid ones', async () => {
  const store = await fleet();
  await assert.rejects(
    historyRows(store, { vm: 'web-1', now: NOW, days: 7, resolution: 'auto' }),
    /unknown VM "web-1" \(did you mean: web-01\?\)/,
  );
  await assert.rejects(
    historyRows(store, { vm: 'web-01', now: NOW, days: 7, metric: 'cpu', resolution: 'auto' }),
    /--metric: unknown metric "cpu" \(expected one of cpu_percent/,
  );
  assert.deepEqual(nearNames('db01', ['db-01', 'web-01', 'zzzzzz']), ['db-01']);
});

test('formatTable aligns columns, numbers to the right', () => {
  assert.equal(
    formatTable(
      ['vm', 'cpu'],
      [
        ['a', '5'],
        ['bbb', '12.5'],
      ],
    ),
    'vm    cpu\na       5\nbbb  12.5',
  );
});
