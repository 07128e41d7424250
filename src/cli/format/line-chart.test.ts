import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineChart, shortNumber } from './line-chart.ts';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

/** Per plot column, the row of its `*` (0 = top), read back from the rendered text. */
function starRows(chart: string): (number | null)[] {
  const plot = chart.split('\n').slice(1, -2);
  const start = plot[0]!.indexOf('|') + 1;
  const width = Math.max(...plot.map((l) => l.length)) - start;
  return Array.from({ length: width }, (_, c) => {
    const r = plot.findIndex((l) => l[start + c] === '*');
    return r < 0 ? null : r;
  });
}

test('a rising ramp draws rising points, labelled min at the bottom and max at the top, within the size', () => {
  const ramp = Array.from({ length: 48 }, (_, i) => ({ ts: T0 + i * HOUR, value: i * 2 }));
  const chart = lineChart(ramp, { width: 60, height: 14, title: 'cpu_percent web-01' });
  const lines = chart.split('\n');
  assert.equal(lines.length, 14);
  assert.ok(
    lines.every((l) => l.length <= 60),
    lines.map((l) => l.length).join(','),
  );
  assert.equal(lines[0], 'cpu_percent web-01');
  const plot = lines.slice(1, -2);
  assert.match(plot[0]!, /^ *94 \|/, 'max label on the top row');
  assert.match(plot[plot.length - 1]!, /^ *0 \|/, 'min label on the bottom row');
  const rows = starRows(chart).filter((r) => r !== null) as number[];
  assert.equal(rows.length, 54, 'a continuous line: every plot column has its point');
  assert.equal(rows[0], plot.length - 1, 'starts at the bottom');
  assert.equal(rows[rows.length - 1], 0, 'ends at the top');
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i]! <= rows[i - 1]!, `column ${i} does not fall`);
  // Two days: the x axis is labelled by date, a tick at each UTC midnight.
  assert.match(lines[lines.length - 1]!, /^ {6}01-01 +01-02$/);
  assert.match(lines[lines.length - 2]!, /^ {5}\+\+-+\+-+$/);
});

test('a falling step is joined by a vertical line; a gap in the data stays blank; a flat series still draws', () => {
  const points = [
    ...Array.from({ length: 10 }, (_, i) => ({ ts: T0 + i * 60_000, value: 100 })),
    ...Array.from({ length: 10 }, (_, i) => ({ ts: T0 + (30 + i) * 60_000, value: 0 })),
  ];
  const chart = lineChart(points, { width: 50, height: 10 });
  const plot = chart.split('\n').slice(1, -2);
  const rows = starRows(chart);
  const firstLow = rows.findIndex((r) => r === plot.length - 1);
  assert.ok(
    rows.slice(0, 10).every((r) => r === 0),
    'the first ten minutes at the top',
  );
  assert.ok(
    rows.some((r) => r === null),
    'the 20 minutes without data leave blank columns',
  );
  assert.ok(firstLow > 0 && rows[firstLow - 1] === null, 'no line drawn across the gap');
  assert.match(chart.split('\n').at(-1)!, /00:00/, 'under a day: hours and minutes');

  const step = lineChart(
    Array.from({ length: 20 }, (_, i) => ({ ts: T0 + i * 60_000, value: i < 10 ? 100 : 0 })),
    { width: 50, height: 10 },
  );
  const stepPlot = step.split('\n').slice(1, -2);
  const drop = stepPlot[1]!.indexOf('|', 5);
  assert.ok(drop > 0, step);
  assert.ok(
    stepPlot.slice(1, -1).every((l) => l[drop] === '|'),
    'the drop from 100 to 0 is one vertical line between the two levels',
  );

  const flat = lineChart(
    [0, 1, 2].map((i) => ({ ts: T0 + i * HOUR, value: 5 })),
    { width: 40, height: 8 },
  );
  assert.equal(flat.split('\n').filter((l) => l.includes('*')).length, 1, 'one row holds every point');
  assert.equal(
    lineChart([], { width: 40, height: 8, title: 'memory_percent' }),
    'memory_percent: no data in the range',
  );
});

test('shortNumber keeps y labels short for byte counters', () => {
  assert.deepEqual([12.34, 980, 45_300, 5_000_000, 1.2e9, 250.6].map(shortNumber), [
    '12.3',
    '980',
    '45.3k',
    '5.0M',
    '1.2G',
    '251',
  ]);
});
