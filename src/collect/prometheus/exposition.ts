/**
 * A parser for the Prometheus text exposition format (version 0.0.4), tolerant of the OpenMetrics
 * additions Prometheus itself accepts in text pages (`# EOF`, `# UNIT`, quoted UTF-8 metric names).
 *
 * Grammar per line: `# HELP name text`, `# TYPE name type`, other `#` comments (ignored), blank lines,
 * and samples `name{label="value",...} value [timestamp_ms]`. Label values escape `\\`, `\"` and `\n`;
 * HELP text escapes `\\` and `\n`. Values are Go floats, including `NaN`, `+Inf`, `-Inf`.
 * Histogram (`_bucket`/`_sum`/`_count`) and summary (`_sum`/`_count`/quantiles) samples are grouped
 * under their family.
 */

export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'summary'
  | 'untyped'
  | 'gaugehistogram'
  | 'info'
  | 'stateset'
  | 'unknown';

const METRIC_TYPES: ReadonlySet<string> = new Set([
  'counter',
  'gauge',
  'histogram',
  'summary',
  'untyped',
  'gaugehistogram',
  'info',
  'stateset',
  'unknown',
]);

export interface ExpositionSample {
  /** The sample's own name, e.g. `http_request_duration_seconds_bucket`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Epoch milliseconds, when the page gave one. */
  readonly timestampMs?: number;
}

export interface MetricFamily {
  /** The family name (for histograms and summaries, without `_bucket`/`_sum`/`_count`). */
  readonly name: string;
  readonly type: MetricType;
  readonly help?: string;
  readonly unit?: string;
  readonly samples: ExpositionSample[];
}

export interface Exposition {
  /** Families in order of first appearance. */
  readonly families: MetricFamily[];
  /** Every sample in page order. */
  readonly samples: ExpositionSample[];
}

/** A malformed page: names the 1-based line and what was expected. */
export class ExpositionError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'ExpositionError';
    this.line = line;
  }
}

const NAME_START = /[A-Za-z_:]/;
const NAME_CHAR = /[A-Za-z0-9_:]/;
const LABEL_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const METRIC_NAME_RE = /^[A-Za-z_:][A-Za-z0-9_:]*$/;

interface MutableFamily {
  name: string;
  type: MetricType;
  help?: string;
  unit?: string;
  samples: ExpositionSample[];
  typed: boolean;
}

/** Parses a whole exposition page. Throws `ExpositionError` on the first malformed line. */
export function parseExposition(text: string): Exposition {
  const families = new Map<string, MutableFamily>();
  const order: MutableFamily[] = [];
  const samples: ExpositionSample[] = [];
  const seenSeries = new Set<string>();

  const family = (name: string): MutableFamily => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: 'untyped', samples: [], typed: false };
      families.set(name, f);
      order.push(f);
    }
    return f;
  };

  const lines = text.split('\n');
  let eof = false;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (eof) {
      if (line.trim() !== '') throw new ExpositionError(lineNo, 'content after "# EOF"');
      continue;
    }
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*(HELP|TYPE|UNIT|EOF)(?:\s+|$)(.*)$/.exec(line);
      if (!m) continue; // plain comment
      const keyword = m[1]!;
      const rest = m[2]!;
      if (keyword === 'EOF') {
        eof = true;
        continue;
      }
      const { name, after } = readDescriptorName(rest, lineNo);
      if (keyword === 'HELP') {
        const f = family(name);
        if (f.help !== undefined) throw new ExpositionError(lineNo, `second HELP line for ${name}`);
        f.help = unescapeHelp(after);
      } else if (keyword === 'UNIT') {
        family(name).unit = after.trim();
      } else {
        const type = after.trim().toLowerCase();
        if (!METRIC_TYPES.has(type))
          throw new ExpositionError(lineNo, `unknown metric type "${after.trim()}" for ${name}`);
        const f = family(name);
        if (f.typed) throw new ExpositionError(lineNo, `second TYPE line for ${name}`);
        if (f.samples.length > 0) throw new ExpositionError(lineNo, `TYPE line for ${name} after its samples`);
        f.type = type as MetricType;
        f.typed = true;
      }
      continue;
    }
    const sample = parseSampleLine(line, lineNo);
    const key = seriesIdentity(sample);
    if (seenSeries.has(key)) throw new ExpositionError(lineNo, `duplicate sample for series ${key}`);
    seenSeries.add(key);
    samples.push(sample);
    family(familyOf(sample.name, families)).samples.push(sample);
  }
  return {
    families: order.map(({ typed: _typed, ...f }) => f),
    samples,
  };
}

/** Which family a sample belongs to: a typed histogram/summary/counter family claims its suffixed samples. */
function familyOf(name: string, families: ReadonlyMap<string, MutableFamily>): string {
  if (families.get(name)?.typed) return name;
  for (const suffix of ['_bucket', '_sum', '_count', '_total', '_created', '_gcount', '_gsum', '_info']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const f = families.get(base);
    if (f && f.type !== 'untyped' && f.type !== 'gauge') return base;
  }
  return name;
}

function seriesIdentity(s: ExpositionSample): string {
  const names = Object.keys(s.labels).sort();
  return `${s.name}{${names.map((n) => `${n}=${JSON.stringify(s.labels[n])}`).join(',')}}`;
}

function readDescriptorName(rest: string, lineNo: number): { name: string; after: string } {
  if (rest.startsWith('"')) {
    const { value, end } = readQuoted(rest, 0, lineNo);
    return { name: value, after: rest.slice(end).replace(/^[ \t]/, '') };
  }
  const m = /^(\S+)(?:[ \t]|$)(.*)$/.exec(rest);
  if (!m || !METRIC_NAME_RE.test(m[1]!))
    throw new ExpositionError(lineNo, `invalid metric name in descriptor "${rest}"`);
  return { name: m[1]!, after: m[2]! };
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}

/** Reads a double-quoted string starting at `start` (the quote); returns the unescaped value and the index after the closing quote. */
function readQuoted(line: string, start: number, lineNo: number): { value: string; end: number } {
  let out = '';
  let i = start + 1;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '\\') {
      const n = line[i + 1];
      if (n === '\\') out += '\\';
      else if (n === '"') out += '"';
      else if (n === 'n') out += '\n';
      else throw new ExpositionError(lineNo, `invalid escape "\\${n ?? ''}" in quoted string`);
      i += 2;
      continue;
    }
    if (c === '"') return { value: out, end: i + 1 };
    out += c;
    i++;
  }
  throw new ExpositionError(lineNo, 'unterminated quoted string');
}

function skipSpaces(line: string, i: number): number {
  while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
  return i;
}

function parseSampleLine(line: string, lineNo: number): ExpositionSample {
  let i = 0;
  let name = '';
  if (NAME_START.test(line[0]!)) {
    while (i < line.length && NAME_CHAR.test(line[i]!)) i++;
    name = line.slice(0, i);
  } else if (line[0] !== '{') {
    throw new ExpositionError(lineNo, `expected a metric name, got "${truncate(line)}"`);
  }
  const labels: Record<string, string> = {};
  const afterName = i;
  i = skipSpaces(line, i);
  const spaced = i > afterName;
  if (line[i] === '{') {
    i = skipSpaces(line, i + 1);
    while (line[i] !== '}') {
      if (i >= line.length) throw new ExpositionError(lineNo, 'unterminated label set (missing "}")');
      let labelName: string;
      if (line[i] === '"') {
        const q = readQuoted(line, i, lineNo);
        i = skipSpaces(line, q.end);
        if (line[i] !== '=' && !name && (line[i] === ',' || line[i] === '}')) {
          // `{"metric.name", a="b"}`: a quoted metric name inside the braces.
          name = q.value;
          if (line[i] === ',') i = skipSpaces(line, i + 1);
          continue;
        }
        labelName = q.value;
      } else {
        const start = i;
        while (i < line.length && /[A-Za-z0-9_]/.test(line[i]!)) i++;
        labelName = line.slice(start, i);
        if (!LABEL_NAME_RE.test(labelName))
          throw new ExpositionError(lineNo, `invalid label name at column ${start + 1}`);
        i = skipSpaces(line, i);
      }
      if (line[i] !== '=') throw new ExpositionError(lineNo, `expected "=" after label ${labelName}`);
      i = skipSpaces(line, i + 1);
      if (line[i] !== '"') throw new ExpositionError(lineNo, `expected a quoted value for label ${labelName}`);
      const v = readQuoted(line, i, lineNo);
      if (Object.hasOwn(labels, labelName)) throw new ExpositionError(lineNo, `duplicate label ${labelName}`);
      labels[labelName] = v.value;
      i = skipSpaces(line, v.end);
      if (line[i] === ',') i = skipSpaces(line, i + 1);
      else if (line[i] !== '}') throw new ExpositionError(lineNo, `expected "," or "}" after label ${labelName}`);
    }
    i++;
  } else if (!spaced && i < line.length) {
    throw new ExpositionError(lineNo, `invalid character "${line[i]}" in metric name`);
  }
  if (!name) throw new ExpositionError(lineNo, 'sample without a metric name');
  const rest = line.slice(i).trim();
  const parts = rest.split(/[ \t]+/).filter((p) => p !== '');
  if (parts.length === 0) throw new ExpositionError(lineNo, `missing value for ${name}`);
  // OpenMetrics exemplars (`# {trace_id="x"} 1`) follow the value; ignore them.
  const hash = parts.indexOf('#');
  const fields = hash >= 0 ? parts.slice(0, hash) : parts;
  if (fields.length > 2)
    throw new ExpositionError(lineNo, `unexpected text after the value of ${name}: "${fields.slice(2).join(' ')}"`);
  const value = parseFloatValue(fields[0]!);
  if (value === undefined) throw new ExpositionError(lineNo, `invalid value "${fields[0]}" for ${name}`);
  let timestampMs: number | undefined;
  if (fields.length === 2) {
    const t = fields[1]!;
    if (!/^-?\d+(\.\d+)?$/.test(t)) throw new ExpositionError(lineNo, `invalid timestamp "${t}" for ${name}`);
    timestampMs = t.includes('.') ? Math.round(Number(t) * 1000) : Number(t);
  }
  return timestampMs === undefined ? { name, labels, value } : { name, labels, value, timestampMs };
}

/** Go's ParseFloat as used by Prometheus: decimal/exponent floats, hex ints, NaN and ±Inf (any case). */
export function parseFloatValue(text: string): number | undefined {
  const t = text.toLowerCase();
  if (t === 'nan') return Number.NaN;
  if (t === '+inf' || t === 'inf' || t === '+infinity' || t === 'infinity') return Number.POSITIVE_INFINITY;
  if (t === '-inf' || t === '-infinity') return Number.NEGATIVE_INFINITY;
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) return Number(t);
  if (/^[+-]?0x[0-9a-f]+$/.test(t)) return t.startsWith('-') ? -Number(t.slice(1)) : Number(t.replace(/^\+/, ''));
  return undefined;
}

function truncate(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
