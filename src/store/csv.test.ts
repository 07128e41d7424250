import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CsvSyntaxError, csvRecords, parseDecimal, parseIsoTimestamp } from './csv.ts';

async function read(...chunks: string[]) {
  const out: [number, string[]][] = [];
  for await (const r of csvRecords(
    (async function* () {
      yield* chunks;
    })(),
  ))
    out.push([r.line, r.fields]);
  return out;
}

test('csvRecords: quoted commas, quotes and line breaks, CRLF, BOM, empty lines, any chunk split', async () => {
  const text = '\uFEFFa,b,c\r\n1,"x, ""y""",\r\n\n2,"line one\nline two",z\n3,,"end"';
  const expected: [number, string[]][] = [
    [1, ['a', 'b', 'c']],
    [2, ['1', 'x, "y"', '']],
    [4, ['2', 'line one\nline two', 'z']],
    [6, ['3', '', 'end']],
  ];
  assert.deepEqual(await read(text), expected);
  // Every split point, including inside "" and between CR and LF.
  for (let i = 1; i < text.length; i++)
    assert.deepEqual(await read(text.slice(0, i), text.slice(i)), expected, `split at ${i}`);
});

test('csvRecords: malformed quoting names the line', async () => {
  const fails = async (text: string, line: number, re: RegExp) =>
    assert.rejects(read(text), (e: unknown) => e instanceof CsvSyntaxError && e.line === line && re.test(e.message));
  await fails('a,b\n1,"open\n2,3\n', 2, /quoted field is never closed/);
  await fails('a,b\n1,"x"y\n', 2, /"y" after a closing quote/);
  await fails('a,b\n1,x"y\n', 2, /quote inside an unquoted field/);
});

test('parseDecimal accepts what String(number) writes and nothing looser', () => {
  for (const [text, v] of [
    ['12.5', 12.5],
    ['-3', -3],
    ['0.25', 0.25],
    ['1e+21', 1e21],
    ['5e-7', 5e-7],
    ['.5', 0.5],
  ] as const)
    assert.equal(parseDecimal(text), v, text);
  for (const text of ['0x10', ' 7 ', '7 ', '', '1,5', 'Infinity', 'NaN', '1e999', '0b1', '--1', '1.2.3'])
    assert.equal(parseDecimal(text), null, JSON.stringify(text));
});

test('parseIsoTimestamp: UTC without a zone, offsets, fractions; impossible dates and times refused', () => {
  const t = Date.UTC(2026, 0, 7, 23, 0, 0);
  assert.equal(parseIsoTimestamp('2026-01-07T23:00:00.000Z'), t);
  assert.equal(parseIsoTimestamp('2026-01-07T23:00:00Z'), t);
  assert.equal(parseIsoTimestamp('2026-01-07T23:00'), t, 'no zone: UTC, not local time');
  assert.equal(parseIsoTimestamp('2026-01-07 23:00:00'), t);
  assert.equal(parseIsoTimestamp('2026-01-08T01:30:00+02:30'), t);
  assert.equal(parseIsoTimestamp('2026-01-07T18:00:00-0500'), t);
  assert.equal(parseIsoTimestamp('2026-01-07T23:00:00.1234Z'), t + 123);
  assert.equal(parseIsoTimestamp('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
  assert.match(String(parseIsoTimestamp('2026-02-30T00:00:00Z')), /no such date 2026-02-30/);
  assert.match(String(parseIsoTimestamp('2026-13-01T00:00:00Z')), /no such date/);
  assert.match(String(parseIsoTimestamp('2026-01-01T24:00:00Z')), /no such time of day 24:00:00/);
  assert.match(String(parseIsoTimestamp('2026-01-01T10:00:00+25:00')), /no such UTC offset/);
  for (const text of ['2026-01-07', '1767826800000', 'yesterday', '2026-1-7T23:00:00Z', ' 2026-01-07T23:00:00Z'])
    assert.match(String(parseIsoTimestamp(text)), /expected an ISO-8601 time/, text);
});
