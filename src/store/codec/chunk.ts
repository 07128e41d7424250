/**
 * Compressed chunk of one series' samples (timestamps strictly increasing).
 *
 * Timestamps: first value and first delta as varints, then delta-of-delta in Gorilla-style prefix buckets,
 * so a regular interval costs one bit per sample.
 * Values, one of two encodings, whichever the data allows and is smaller:
 *  - decimal: monitoring values are mostly short decimals or integers, so values are scaled by 10^d to exact
 *    integers and their deltas bit-packed in groups of 32 with one width per group (VictoriaMetrics' idea);
 *  - xor: Gorilla's XOR of consecutive IEEE-754 doubles, bit-exact for any value including NaN and ±Infinity.
 */
import { BitReader, BitWriter, bitWidth, unzigzag, zigzag } from './bits.ts';

const FORMAT = 1;
const MODE_DECIMAL = 0;
const MODE_XOR = 1;
const GROUP = 32;
const MAX_SCALE = 9;
const MAX_SAFE = 2 ** 53 - 1;

export interface DecodedChunk {
  readonly ts: Float64Array;
  readonly values: Float64Array;
}

export function encodeChunk(ts: ArrayLike<number>, values: ArrayLike<number>): Uint8Array {
  const n = ts.length;
  if (n !== values.length) throw new Error('encodeChunk: timestamps and values differ in length');
  const scale = decimalScale(values);
  if (scale !== null && scale <= 4) return encode(ts, values, MODE_DECIMAL, scale);
  const xor = encode(ts, values, MODE_XOR, 0);
  if (scale === null) return xor;
  const dec = encode(ts, values, MODE_DECIMAL, scale);
  return dec.length <= xor.length ? dec : xor;
}

export function decodeChunk(buf: Uint8Array): DecodedChunk {
  const r = new BitReader(buf);
  const format = r.read(8);
  if (format !== FORMAT) throw new Error(`unknown chunk format ${format}`);
  const n = r.varint();
  const ts = new Float64Array(n);
  const values = new Float64Array(n);
  if (n === 0) return { ts, values };
  const mode = r.read(8);
  const scale = r.read(8);
  ts[0] = r.varint();
  let delta = 0;
  if (n > 1) {
    delta = unzigzag(r.varint());
    ts[1] = ts[0] + delta;
  }
  if (mode === MODE_DECIMAL) {
    const p = 10 ** scale;
    let cur = unzigzag(r.varint());
    values[0] = cur / p;
    for (let i = 1; i < n; i += GROUP) {
      const end = Math.min(n, i + GROUP);
      const w = r.read(6);
      for (let j = i; j < end; j++) {
        cur += unzigzag(r.readWide(w));
        values[j] = cur / p;
      }
    }
  } else {
    readXor(r, values);
  }
  for (let i = 2; i < n; i++) {
    delta += readDod(r);
    ts[i] = ts[i - 1]! + delta;
  }
  return { ts, values };
}

function encode(ts: ArrayLike<number>, values: ArrayLike<number>, mode: number, scale: number): Uint8Array {
  const n = ts.length;
  const w = new BitWriter(32 + n * 3);
  w.write(FORMAT, 8);
  w.varint(n);
  if (n === 0) return w.bytes();
  w.write(mode, 8);
  w.write(scale, 8);
  w.varint(ts[0]!);
  if (n > 1) w.varint(zigzag(ts[1]! - ts[0]!));
  if (mode === MODE_DECIMAL) {
    const p = 10 ** scale;
    let prev = Math.round(values[0]! * p);
    w.varint(zigzag(prev));
    const zz = new Array<number>(GROUP);
    for (let i = 1; i < n; i += GROUP) {
      const end = Math.min(n, i + GROUP);
      let width = 0;
      for (let j = i; j < end; j++) {
        const cur = Math.round(values[j]! * p);
        const z = zigzag(cur - prev);
        prev = cur;
        zz[j - i] = z;
        const b = bitWidth(z);
        if (b > width) width = b;
      }
      w.write(width, 6);
      for (let j = i; j < end; j++) w.writeWide(zz[j - i]!, width);
    }
  } else {
    writeXor(w, values);
  }
  let delta = n > 1 ? ts[1]! - ts[0]! : 0;
  for (let i = 2; i < n; i++) {
    const d = ts[i]! - ts[i - 1]!;
    writeDod(w, d - delta);
    delta = d;
  }
  return w.bytes();
}

/** The smallest number of decimals that represents every value exactly, or null when none up to 9 does. */
function decimalScale(values: ArrayLike<number>): number | null {
  let scale = 0;
  let p = 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || Object.is(v, -0)) return null;
    while (!exact(v, p)) {
      if (++scale > MAX_SCALE) return null;
      p = 10 ** scale;
    }
  }
  // Deltas of scaled values must stay exact integers, so bound the scaled magnitude by 2^50 (zigzag deltas then fit 53 bits).
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]! * p) > MAX_SAFE / 8) return null;
  return scale;
}

function exact(v: number, p: number): boolean {
  const scaled = Math.round(v * p);
  return Math.abs(scaled) <= MAX_SAFE && scaled / p === v;
}

// Delta-of-delta buckets: '0' | '10'+7 | '110'+12 | '1110'+20 | '11110'+32 | '11111'+53 bits (zigzag).
function writeDod(w: BitWriter, dod: number): void {
  if (dod === 0) {
    w.write(0, 1);
    return;
  }
  const z = zigzag(dod);
  if (z < 1 << 7) {
    w.write(0b10, 2);
    w.write(z, 7);
  } else if (z < 1 << 12) {
    w.write(0b110, 3);
    w.write(z, 12);
  } else if (z < 1 << 20) {
    w.write(0b1110, 4);
    w.write(z, 20);
  } else if (z < 2 ** 32) {
    w.write(0b11110, 5);
    w.write(z, 32);
  } else {
    w.write(0b11111, 5);
    w.writeWide(z, 53);
  }
}

function readDod(r: BitReader): number {
  if (!r.bit()) return 0;
  if (!r.bit()) return unzigzag(r.read(7));
  if (!r.bit()) return unzigzag(r.read(12));
  if (!r.bit()) return unzigzag(r.read(20));
  if (!r.bit()) return unzigzag(r.read(32));
  return unzigzag(r.readWide(53));
}

// Gorilla XOR on the two 32-bit halves of each double.
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = 1;
const LO = 0;

function writeXor(w: BitWriter, values: ArrayLike<number>): void {
  f64[0] = values[0]!;
  let prevHi = u32[HI]!;
  let prevLo = u32[LO]!;
  w.write(prevHi, 32);
  w.write(prevLo, 32);
  let lead = -1;
  let trail = 0;
  for (let i = 1; i < values.length; i++) {
    f64[0] = values[i]!;
    const hi = u32[HI]!;
    const lo = u32[LO]!;
    const xh = (hi ^ prevHi) >>> 0;
    const xl = (lo ^ prevLo) >>> 0;
    prevHi = hi;
    prevLo = lo;
    if (xh === 0 && xl === 0) {
      w.write(0, 1);
      continue;
    }
    const l = Math.min(xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl), 31);
    const t = xl !== 0 ? ctz32(xl) : 32 + ctz32(xh);
    if (lead >= 0 && l >= lead && t >= trail) {
      w.write(0b10, 2);
      writeRange(w, xh, xl, trail, 64 - lead - trail);
    } else {
      lead = l;
      trail = t;
      const len = 64 - l - t;
      w.write(0b11, 2);
      w.write(l, 5);
      w.write(len - 1, 6);
      writeRange(w, xh, xl, t, len);
    }
  }
}

function readXor(r: BitReader, out: Float64Array): void {
  let hi = r.read(32);
  let lo = r.read(32);
  u32[HI] = hi;
  u32[LO] = lo;
  out[0] = f64[0]!;
  let lead = 0;
  let trail = 0;
  for (let i = 1; i < out.length; i++) {
    if (r.bit()) {
      if (r.bit()) {
        lead = r.read(5);
        const len = r.read(6) + 1;
        trail = 64 - lead - len;
      }
      const [xh, xl] = readRange(r, trail, 64 - lead - trail);
      hi = (hi ^ xh) >>> 0;
      lo = (lo ^ xl) >>> 0;
    }
    u32[HI] = hi;
    u32[LO] = lo;
    out[i] = f64[0]!;
  }
}

/** Writes bits [from, from+len) of the 64-bit value (hi, lo), most significant first. */
function writeRange(w: BitWriter, hi: number, lo: number, from: number, len: number): void {
  let h: number;
  let l: number;
  if (from === 0) {
    h = hi;
    l = lo;
  } else if (from < 32) {
    l = ((lo >>> from) | (hi << (32 - from))) >>> 0;
    h = hi >>> from;
  } else {
    l = hi >>> (from - 32);
    h = 0;
  }
  if (len > 32) {
    w.write(h, len - 32);
    w.write(l, 32);
  } else {
    w.write(l, len);
  }
}

function readRange(r: BitReader, from: number, len: number): [number, number] {
  let h = 0;
  let l: number;
  if (len > 32) {
    h = r.read(len - 32);
    l = r.read(32);
  } else {
    l = r.read(len);
  }
  if (from === 0) return [h >>> 0, l >>> 0];
  if (from < 32) return [((h << from) | (l >>> (32 - from))) >>> 0, (l << from) >>> 0];
  return [(l << (from - 32)) >>> 0, 0];
}

function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}
