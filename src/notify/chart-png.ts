import { crc32, deflateSync, inflateSync } from 'node:zlib';

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** Encodes an RGB image (width*height*3 bytes) as PNG. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function hex(c: string): [number, number, number] {
  const n = Number.parseInt(c.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/**
 * A small line chart of `points` (time-ordered values) with a dashed threshold line, as PNG.
 * Used by the email channel; `points` are the metric's recent values (or, without history, the alert values).
 */
export function lineChartPng(
  points: readonly number[],
  threshold: number | null,
  colour: string,
  width = 240,
  height = 80,
): Buffer {
  const img = new Uint8Array(width * height * 3).fill(255);
  const set = (x: number, y: number, c: [number, number, number]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const i = (y * width + x) * 3;
    img[i] = c[0];
    img[i + 1] = c[1];
    img[i + 2] = c[2];
  };
  const vals = points.filter(Number.isFinite);
  const all = threshold !== null ? [...vals, threshold] : vals;
  const lo = Math.min(0, ...all);
  const hi = Math.max(1, ...all) * 1.05;
  const yOf = (v: number) => Math.round(height - 4 - ((v - lo) / (hi - lo)) * (height - 8));
  for (let x = 0; x < width; x++) set(x, height - 3, [200, 200, 200]);
  if (threshold !== null) {
    const ty = yOf(threshold);
    for (let x = 0; x < width; x += 1) if (x % 6 < 3) set(x, ty, [120, 120, 120]);
  }
  const c = hex(colour);
  const n = vals.length;
  let px = -1;
  let py = -1;
  for (let i = 0; i < n; i++) {
    const x = n === 1 ? Math.floor(width / 2) : Math.round(4 + (i / (n - 1)) * (width - 8));
    const y = yOf(vals[i]!);
    if (px >= 0) {
      const steps = Math.max(Math.abs(x - px), Math.abs(y - py), 1);
      for (let s = 0; s <= steps; s++) {
        const xx = Math.round(px + ((x - px) * s) / steps);
        const yy = Math.round(py + ((y - py) * s) / steps);
        set(xx, yy, c);
        set(xx, yy + 1, c);
      }
    }
    for (let d = -2; d <= 2; d++)
      for (let e = -2; e <= 2; e++) if (n === 1 || Math.abs(d) + Math.abs(e) <= 1) set(x + d, y + e, c);
    px = x;
    py = y;
  }
  return encodePng(width, height, img);
}

/** Decodes a PNG written by `encodePng` (8-bit RGB, filter 0 rows) back to pixels; for tests and checks. */
export function decodePng(png: Buffer): { width: number; height: number; rgb: Uint8Array } {
  let at = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 2) throw new Error('only 8-bit RGB PNGs are supported');
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    if (raw[row] !== 0) throw new Error('only unfiltered PNG rows are supported');
    rgb.set(raw.subarray(row + 1, row + 1 + width * 3), y * width * 3);
  }
  return { width, height, rgb };
}

/** How many pixel columns of a chart contain the line colour: one sample draws a dot (5), a series spans the width. */
export function chartLineColumns(png: Buffer, colour: string): number {
  const { width, height, rgb } = decodePng(png);
  const [r, g, b] = hex(colour);
  let n = 0;
  for (let x = 0; x < width; x++)
    for (let y = 0; y < height; y++) {
      const i = (y * width + x) * 3;
      if (rgb[i] === r && rgb[i + 1] === g && rgb[i + 2] === b) {
        n++;
        break;
      }
    }
  return n;
}
