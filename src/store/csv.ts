import { STANDARD_METRICS } from '../model/metrics.ts';
import type { VmSnapshot } from '../model/snapshot.ts';

/** The export/import header (seed format); `resource_group` is appended when known. */
export const CSV_COLUMNS = ['timestamp', 'vm_name', ...STANDARD_METRICS, 'success', 'error_message'] as const;

/** RFC 4180 field quoting: quote when the field holds a comma, quote, CR or LF; double inner quotes. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvHeader(withResourceGroup: boolean): string {
  return [...CSV_COLUMNS, ...(withResourceGroup ? ['resource_group'] : [])].join(',');
}

/** One CSV line (no line terminator) for a snapshot; null metrics are empty fields, timestamps ISO-8601 UTC. */
export function snapshotToCsv(s: VmSnapshot, withResourceGroup: boolean): string {
  const fields = [
    new Date(s.ts).toISOString(),
    s.vm,
    ...STANDARD_METRICS.map((m) => (s[m] === null ? '' : String(s[m]))),
    s.success ? 'true' : 'false',
    s.errorMessage ?? '',
  ];
  if (withResourceGroup) fields.push(s.resourceGroup ?? '');
  return fields.map(csvField).join(',');
}

/** Splits one RFC 4180 record into fields; returns null when a quoted field is not closed on this line. */
export function parseCsvLine(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return null;
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      out.push(line.slice(i, c < 0 ? line.length : c));
      i = c < 0 ? line.length : c;
    }
    if (i >= line.length) return out;
    if (line[i] !== ',') return null;
    i++;
  }
}
