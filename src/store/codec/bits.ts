/**
 * Bit-level writer and reader for the chunk codec. JavaScript bit operators are 32-bit, so fields wider than
 * 32 bits (up to 53, the exact-integer range of a double) are split with arithmetic.
 */

const TWO32 = 4_294_967_296;

export class BitWriter {
  private buf: Uint8Array;
  private pos = 0;
  private cur = 0;
  private free = 8;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** Writes the low `n` bits (0..32) of `value`, most significant first. */
  write(value: number, n: number): void {
    while (n > 0) {
      const take = n < this.free ? n : this.free;
      const shifted = n - take >= 32 ? 0 : value >>> (n - take);
      const bits = shifted & ((1 << take) - 1);
      this.cur |= bits << (this.free - take);
      this.free -= take;
      n -= take;
      if (this.free === 0) this.flushByte();
    }
  }

  /** Writes a non-negative integer below 2^53 in `n` bits (0..53). */
  writeWide(value: number, n: number): void {
    if (n <= 32) {
      this.write(value >>> 0, n);
      return;
    }
    this.write(Math.floor(value / TWO32), n - 32);
    this.write((value % TWO32) >>> 0, 32);
  }

  bit(b: boolean): void {
    this.write(b ? 1 : 0, 1);
  }

  /** LEB128 of a non-negative integer below 2^53; only valid while byte-aligned (the chunk header). */
  varint(value: number): void {
    let v = value;
    while (v >= 128) {
      this.write((v % 128) | 128, 8);
      v = Math.floor(v / 128);
    }
    this.write(v, 8);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.pos + (this.free < 8 ? 1 : 0));
    out.set(this.buf.subarray(0, this.pos));
    if (this.free < 8) out[this.pos] = this.cur;
    return out;
  }

  private flushByte(): void {
    if (this.pos === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.pos++] = this.cur;
    this.cur = 0;
    this.free = 8;
  }
}

export class BitReader {
  private readonly buf: Uint8Array;
  private pos = 0;
  private used = 0;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  /** Reads `n` bits (0..32) as an unsigned integer. */
  read(n: number): number {
    let out = 0;
    while (n > 0) {
      if (this.pos >= this.buf.length) throw new Error('chunk is truncated');
      const avail = 8 - this.used;
      const take = n < avail ? n : avail;
      const bits = (this.buf[this.pos]! >>> (avail - take)) & ((1 << take) - 1);
      out = out * (1 << take) + bits;
      this.used += take;
      n -= take;
      if (this.used === 8) {
        this.used = 0;
        this.pos++;
      }
    }
    return out;
  }

  readWide(n: number): number {
    if (n <= 32) return this.read(n);
    const hi = this.read(n - 32);
    return hi * TWO32 + this.read(32);
  }

  bit(): boolean {
    return this.read(1) === 1;
  }

  varint(): number {
    let out = 0;
    let mul = 1;
    for (;;) {
      const b = this.read(8);
      out += (b & 127) * mul;
      if (b < 128) return out;
      mul *= 128;
    }
  }
}

/** Zigzag for integers in ±2^52: small magnitudes of either sign become small non-negative numbers. */
export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

export function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Bits needed to hold a non-negative integer below 2^53. */
export function bitWidth(v: number): number {
  if (v === 0) return 0;
  if (v < TWO32) return 32 - Math.clz32(v);
  return 32 + (32 - Math.clz32(Math.floor(v / TWO32)));
}
