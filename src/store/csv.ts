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

/** A CSV input problem at a 1-based line (the line a record starts on). */
export class CsvSyntaxError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(message);
    this.name = 'CsvSyntaxError';
    this.line = line;
  }
}

/**
 * Reads RFC 4180 records from text chunks (any split): quoted fields may hold commas, doubled quotes and line
 * breaks; records end at LF or CRLF; a UTF-8 byte order mark at the start is dropped; empty lines are skipped.
 * Each record comes with the line it starts on.
 */
export async function* csvRecords(
  chunks: AsyncIterable<string | Buffer>,
): AsyncGenerator<{ line: number; fields: string[] }> {
  let fields: string[] = [];
  let field = '';
  let state: 'start' | 'plain' | 'quoted' | 'quote' = 'start'; // 'quote': a quote seen inside a quoted field
  let line = 1;
  let recordLine = 1;
  let first = true;
  let pendingCr = false;
  const end = (): { line: number; fields: string[] } | null => {
    fields.push(field);
    const record = fields.length === 1 && fields[0] === '' ? null : { line: recordLine, fields };
    fields = [];
    field = '';
    state = 'start';
    return record;
  };
  for await (const chunk of chunks) {
    let text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (first) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = text.length === 0;
    }
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (pendingCr) {
        pendingCr = false;
        if (c !== '\n') {
          field += '\r'; // a lone CR is data
          state = 'plain';
        }
      }
      if (state === 'quoted') {
        if (c === '"') state = 'quote';
        else {
          if (c === '\n') line++;
          field += c;
        }
        continue;
      }
      if (state === 'quote') {
        if (c === '"') {
          field += '"';
          state = 'quoted';
          continue;
        }
        if (c !== ',' && c !== '\n' && c !== '\r')
          throw new CsvSyntaxError(
            line,
            `malformed CSV: ${JSON.stringify(c)} after a closing quote (expected , or the end of the line)`,
          );
        state = 'plain';
      }
      if (c === ',') {
        fields.push(field);
        field = '';
        state = 'start';
      } else if (c === '\n') {
        const r = end();
        line++;
        recordLine = line;
        if (r) yield r;
      } else if (c === '\r') {
        pendingCr = true;
      } else if (c === '"') {
        if (state !== 'start')
          throw new CsvSyntaxError(
            line,
            'malformed CSV: a quote inside an unquoted field (quote the whole field and double the quote)',
          );
        state = 'quoted';
      } else {
        field += c;
        state = 'plain';
      }
    }
  }
  if (state === 'quoted') throw new CsvSyntaxError(recordLine, 'malformed CSV: a quoted field is never closed');
  if (pendingCr) field += '\r';
  const r = end();
  if (r) yield r;
}

const DECIMAL_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A strict decimal number (as `String(number)` writes it): no hex, no spaces, no Infinity; null when not one. */
export function parseDecimal(text: string): number | null {
  if (!DECIMAL_RE.test(text)) return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
}

const ISO_RE = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?(Z|[+-]\d\d:?\d\d)?$/i;

/**
 * An ISO-8601 date and time as epoch ms: `2026-01-07T23:00:00Z`, with an optional fraction and a `Z` or `+hh:mm`
 * offset; a time without a zone is UTC (what `history --export` writes). A space may stand for the `T`. Returns a
 * reason string for an invalid one, such as an impossible date (2026-02-30) or a 25th hour.
 */
export function parseIsoTimestamp(text: string): number | string {
  const m = ISO_RE.exec(text);
  if (!m) return 'expected an ISO-8601 time such as 2026-01-07T23:00:00Z';
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(`${m[7]}00`.slice(0, 3));
  const daysInMonth = month >= 1 && month <= 12 ? new Date(Date.UTC(year, month, 0)).getUTCDate() : 0;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return `no such date ${m[1]}-${m[2]}-${m[3]}`;
  if (hour > 23 || minute > 59 || second > 59) return `no such time of day ${m[4]}:${m[5]}${m[6] ? `:${m[6]}` : ''}`;
  let offsetMin = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2));
    if (oh > 23 || om > 59) return `no such UTC offset ${zone}`;
    offsetMin = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime() - offsetMin * 60_000;
}
