import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeChunk, encodeChunk } from './chunk.ts';

function roundTrip(ts: number[], values: number[]): Uint8Array {
  const buf = encodeChunk(ts, values);
  const back = decodeChunk(buf);
  assert.deepEqual([...back.ts], ts);
  assert.equal(back.values.length, values.length);
  for (let i = 0; i < values.length; i++)
    assert.ok(Object.is(back.values[i], values[i]), `value ${i}: ${back.values[i]} vs ${values[i]}`);
  return buf;
}

function increasing(start: number, gaps: number[]): number[] {
  const out = [start];
  for (const g of gaps) out.push(out[out.length - 1]! + g);
  return out;
}

describe('chunk codec', () => {
  it('round-trips empty and single-sample chunks', () => {
    roundTrip([], []);
    roundTrip([1_700_000_000_000], [42.5]);
    roundTrip([5], [Number.NaN]);
  });

  it('round-trips any doubles bit-exactly, including NaN, infinities and -0', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 2 ** 40 }), fc.double()), { maxLength: 300 }),
        (start, rows) => {
          roundTrip(
            increasing(
              start,
              rows.slice(1).map((r) => r[0]),
            ).slice(0, rows.length),
            rows.map((r) => r[1]),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('round-trips short decimals and large integers exactly', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.integer({ min: -1_000_000, max: 100_000_000 }).map((i) => i / 100),
            fc.integer({ min: 0, max: 2 ** 48 }),
          ),
          {
            minLength: 1,
            maxLength: 400,
          },
        ),
        fc.array(fc.integer({ min: -2000, max: 2000 }), { maxLength: 400 }),
        (values, jitter) => {
          const ts = values.map((_, i) => 1_700_000_000_000 + i * 60_000 + (jitter[i] ?? 0));
          roundTrip(ts, values);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('costs about one bit per regular timestamp and a couple of bytes per 2-decimal gauge value', () => {
    const n = 120;
    const ts = Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 60_000);
    const values = ts.map((_, i) => Math.round((50 + 20 * Math.sin(i / 20) + ((i * 7919) % 13) / 10) * 100) / 100);
    const bytes = roundTrip(ts, values).length;
    assert.ok(bytes / n < 2, `${bytes} bytes for ${n} samples`);
    const flat = roundTrip(
      ts,
      ts.map(() => 12),
    ).length;
    assert.ok(flat < 40, `constant series took ${flat} bytes`);
  });
});
