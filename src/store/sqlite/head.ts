/** The in-memory view of one series' uncompacted samples (durable copies live in `head_batches`). */
export class SeriesHead {
  readonly ts: number[] = [];
  readonly values: number[] = [];

  get size(): number {
    return this.ts.length;
  }

  get firstTs(): number {
    return this.ts.length > 0 ? this.ts[0]! : Number.POSITIVE_INFINITY;
  }

  /** Adds a sample; a sample at an existing timestamp replaces the earlier value. */
  add(ts: number, value: number): void {
    const n = this.ts.length;
    if (n === 0 || ts > this.ts[n - 1]!) {
      this.ts.push(ts);
      this.values.push(value);
      return;
    }
    const i = lowerBound(this.ts, ts);
    if (this.ts[i] === ts) {
      this.values[i] = value;
      return;
    }
    this.ts.splice(i, 0, ts);
    this.values.splice(i, 0, value);
  }

  /** Removes and returns the samples older than `limit`. */
  takeBefore(limit: number): { ts: number[]; values: number[] } {
    const i = lowerBound(this.ts, limit);
    return { ts: this.ts.splice(0, i), values: this.values.splice(0, i) };
  }

  /** Index range [start, end) of samples within [from, to]. */
  range(from: number, to: number): [number, number] {
    return [lowerBound(this.ts, from), lowerBound(this.ts, to + 1)];
  }
}

/** First index whose value is >= x in a sorted array. */
export function lowerBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A durable head batch's samples as [seriesId, ts, value, ...]: read in place when the blob is 8-byte aligned (it
 * usually is), copied otherwise.
 */
export function batchTriples(bytes: Uint8Array): Float64Array {
  return bytes.byteOffset % 8 === 0
    ? new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8)
    : new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
