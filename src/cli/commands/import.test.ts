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

test('bad input is refused with FILE:LINE and the column, before anything is written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-imp-'));
  const header = 'timestamp,vm_name,cpu_percent';
  const cases: [string, RegExp][] = [
    [
      `${header}\n2026-02-30T00:00:00Z,web-01,5\n`,
      /^c\.csv:2: column timestamp: no such date 2026-02-30, got "2026-02-30T00:00:00Z"$/,
    ],
    [`${header}\n2026-01-07,web-01,5\n`, /^c\.csv:2: column timestamp: expected an ISO-8601 time/],
    [`${header}\n2026-01-07T00:00:00Z,web-01,0x10\n`, /^c\.csv:2: column cpu_percent: expected a number, got "0x10"$/],
    [`${header}\n2026-01-07T00:00:00Z,web-01, 7 \n`, /^c\.csv:2: column cpu_percent: expected a number, got " 7 "$/],
    [`${header}\n2026-01-07T00:00:00Z,web 01,5\n`, /^c\.csv:2: column vm_name: expected 1-64 letters.*got "web 01"$/],
    [`${header}\n2026-01-07T00:00:00Z,,5\n`, /^c\.csv:2: column vm_name: expected 1-64 letters.*got ""$/],
    [`${header},cpu_percent\n`, /^c\.csv:1: column "cpu_percent" appears twice in the header \(columns 3 and 4\)$/],
    [`${header}\n2026-01-07T00:00:00Z,web-01,"5\n`, /^c\.csv:2: malformed CSV: a quoted field is never closed$/],
    [`${header}\n2026-01-07T00:00:00Z,web-01\n`, /^c\.csv:2: expected 3 fields, got 2$/],
  ];
  for (const [text, re] of cases) {
    writeFileSync(join(dir, 'c.csv'), text);
    const store = new MemoryStore();
    await assert.rejects(importCsv(store, join(dir, 'c.csv'), 'c.csv'), (e: Error) => {
      assert.equal(e.name, 'UserError', e.stack);
      assert.match(e.message, re);
      return true;
    });
    assert.equal((await store.listVms()).length, 0, text);
  }
  await assert.rejects(importCsv(new MemoryStore(), join(dir, 'missing.csv'), 'missing.csv'), {
    name: 'UserError',
    message: 'cannot read missing.csv: no such file',
    exitCode: 2,
  });
  await assert.rejects(importCsv(new MemoryStore(), dir, 'somedir'), {
    message: 'cannot read somedir: is a directory, not a CSV file',
  });
});

test('a BOM, CRLF lines and times without a zone (UTC) import; an error message with a line break round-trips', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-imp-'));
  writeFileSync(
    join(dir, 'd.csv'),
    '\uFEFFtimestamp,vm_name,cpu_percent,success,error_message\r\n' +
      '2026-01-07T22:00:00,web-01,1.5,true,\r\n' +
      '2026-01-07T23:00:00Z,web-01,,false,"ssh: handshake failed\nConnection reset, ""peer"""\r\n',
  );
  const store = new MemoryStore();
  assert.deepEqual(await importCsv(store, join(dir, 'd.csv'), 'd.csv'), { rows: 2, samples: 1 });
  const rows = await historyRows(store, { vm: 'web-01', now: NOW, days: 7, resolution: 'raw' });
  assert.deepEqual(
    rows.map((r) => [r.ts, r.cpu_percent, r.errorMessage]),
    [
      [Date.UTC(2026, 0, 7, 22), 1.5, null],
      [Date.UTC(2026, 0, 7, 23), null, 'ssh: handshake failed\nConnection reset, "peer"'],
    ],
  );
  const exported = historyCsv(rows);
  writeFileSync(join(dir, 'e.csv'), exported);
  const again = new MemoryStore();
  await importCsv(again, join(dir, 'e.csv'), 'e.csv');
  assert.equal(historyCsv(await historyRows(again, { vm: 'web-01', now: NOW, days: 7, resolution: 'raw' })), exported);
});

test('a write that fails part way says how many rows were stored; maintenance runs at the 20 ms budget', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-imp-'));
  const lines = ['timestamp,vm_name,cpu_percent'];
  for (let i = 0; i < 12_000; i++)
    lines.push(`${new Date(NOW - 86_400_000 + i * 1000).toISOString()},web-01,${i % 100}`);
  writeFileSync(join(dir, 'big.csv'), `${lines.join('\n')}\n`);
  const store = new MemoryStore();
  let writes = 0;
  const budgets: (number | undefined)[] = [];
  const failing = Object.assign(Object.create(store) as MemoryStore, {
    write: async (...args: Parameters<MemoryStore['write']>) => {
      if (++writes === 3) throw new Error('database is locked');
      return store.write(...args);
    },
  });
  await assert.rejects(importCsv(failing, join(dir, 'big.csv'), 'big.csv'), {
    name: 'UserError',
    message: 'big.csv: the import stopped after 10000 of 12000 rows were stored (up to line 10001): database is locked',
    exitCode: 1,
  });
  const ok = Object.assign(Object.create(store) as MemoryStore, {
    maintain: async (_now: number, budgetMs?: number) => {
      budgets.push(budgetMs);
      return store.maintain();
    },
  });
  await importCsv(ok, join(dir, 'big.csv'), 'big.csv');
  assert.ok(budgets.length > 0 && budgets.every((b) => b === undefined || b <= 20), String(budgets));
});
