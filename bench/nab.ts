// Loader for NAB CSVs (timestamp,value; naive timestamps read as UTC; CRLF tolerated; duplicates kept in order).
import type { Point } from '../src/model/sample.ts';

export function readNabSeries(text: string): Point[] {
  const out: Point[] = [];
  for (const line of text.split(/\r?\n/).slice(1)) {
    if (!line) continue;
    const [ts, v] = line.split(',');
    out.push({ ts: Date.parse(`${ts.replace(' ', 'T')}Z`), value: Number(v) });
  }
  return out;
}
