import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitWidths, formatTable, terminalWidth } from './table.ts';

const header = ['VM', 'METRIC', 'NOW', 'RECOMMENDATION'];
const rows = [
  ['db-01', 'disk_percent', '80.5', 'Clean disk (logs, temp files, old snapshots) or grow the disk'],
  ['web-01', 'cpu_percent', '91', 'Resize the VM or scale out'],
];

test('formatTable fits the width: the lowest-priority, widest text column is cut with …, numbers kept', () => {
  const out = formatTable(header, rows, { width: 50, priority: [3, 2, 1, 0] });
  const lines = out.split('\n');
  for (const l of lines) assert.ok(l.length <= 50, `${l.length}: ${l}`);
  assert.equal(lines[1], 'db-01   disk_percent  80.5  Clean disk (logs, tem…');
  assert.equal(lines[2], 'web-01  cpu_percent     91  Resize the VM or scal…');
});

test('formatTable: a wide enough terminal or no terminal leaves values whole', () => {
  const whole = formatTable(header, rows, { width: undefined });
  assert.match(whole, /old snapshots\) or grow the disk$/m);
  assert.equal(formatTable(header, rows, { width: 200 }), whole);
});

test('formatTable: after the low-priority column is at its minimum, the next one shrinks; numbers never', () => {
  const out = formatTable(header, rows, { width: 30, priority: [3, 2, 1, 0] });
  const lines = out.split('\n');
  // Text columns stop at 4 characters or their header: RECOMMENDATION 14, METRIC 6, VM 4.
  assert.equal(lines[0], 'VM    METRIC   NOW  RECOMMENDATION');
  assert.equal(lines[1], 'db-…  disk_…  80.5  Clean disk (l…');
  // 80.5 is never cut, whatever the width
  assert.match(formatTable(header, rows, { width: 5 }), /80\.5/);
});

test('fitWidths: widest first within a priority, down to the minimums', () => {
  assert.deepEqual(fitWidths([10, 20, 30], [4, 4, 4], [0, 0, 0], 44), [10, 15, 15]);
  assert.deepEqual(fitWidths([10, 20, 30], [4, 4, 4], [0, 0, 0], 34), [10, 10, 10]);
  // Priority 1 keeps column 0 whole until the others are at their minimum.
  assert.deepEqual(fitWidths([10, 20, 30], [4, 4, 4], [1, 0, 0], 20), [8, 4, 4]);
  // Nothing left to cut: as narrow as allowed, wider than asked.
  assert.deepEqual(fitWidths([10, 20, 30], [4, 4, 4], [0, 0, 0], 5), [4, 4, 4]);
  assert.deepEqual(fitWidths([10, 20], [4, 4], [0, 0], undefined), [10, 20]);
});

test('terminalWidth: a TTY stream gives its columns, a pipe none', () => {
  assert.equal(terminalWidth({ isTTY: true, columns: 91 }), 91);
  assert.equal(terminalWidth({ isTTY: false, columns: 91 }), undefined);
  assert.equal(terminalWidth({}), undefined);
});
