import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../../clock.ts';
import { VM_NAME_RE } from '../../model/metrics.ts';
import type { CollectionOutcome } from '../../model/outcome.ts';
import type { Sample } from '../../model/sample.ts';
import { CSV_COLUMNS, CsvSyntaxError, csvRecords, parseDecimal, parseIsoTimestamp } from '../../store/csv.ts';
import type { Store } from '../../store/store.ts';
import { type CliIo, EXIT_FAILURE, loadEffectiveConfig, UserError } from '../context.ts';
import { progressBar } from '../format/progress.ts';
import { openMetricsStore } from './collect.ts';

const METRIC_COLUMNS = CSV_COLUMNS.slice(2, 9);
const KNOWN = new Set<string>([...CSV_COLUMNS, 'resource_group']);

const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not a CSV file',
  EACCES: 'permission denied',
};

/** The file's CSV records; a missing or unreadable file and malformed CSV are UserErrors naming FILE[:LINE]. */
async function* records(path: string, name: string): AsyncGenerator<{ line: number; fields: string[] }> {
  try {
    yield* csvRecords(createReadStream(path));
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new UserError(`${name}:${e.line}: ${e.message}`);
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && code in READ_ERRORS) throw new UserError(`cannot read ${name}: ${READ_ERRORS[code]}`);
    throw e;
  }
}

/** Parses one data row into samples and an optional outcome; throws a UserError naming FILE:LINE and the column. */
function toBatch(
  name: string,
  line: number,
  header: string[],
  f: string[],
): { samples: Sample[]; outcome: CollectionOutcome | null } {
  if (f.length !== header.length)
    throw new UserError(`${name}:${line}: expected ${header.length} fields, got ${f.length}`);
  const get = (c: string) => f[header.indexOf(c)];
  const ts = parseIsoTimestamp(get('timestamp') ?? '');
  if (typeof ts === 'string')
    throw new UserError(`${name}:${line}: column timestamp: ${ts}, got ${JSON.stringify(get('timestamp'))}`);
  const vm = get('vm_name') ?? '';
  if (!VM_NAME_RE.test(vm))
    throw new UserError(
      `${name}:${line}: column vm_name: expected 1-64 letters, digits, ".", "_" or "-" (starting with a letter or digit), got ${JSON.stringify(vm)}`,
    );
  const rg = get('resource_group');
  const labels: Record<string, string> = { vm, source: 'import', tenant: 'default' };
  if (rg) labels.resource_group = rg;
  const samples: Sample[] = [];
  for (const m of METRIC_COLUMNS) {
    const raw = get(m);
    if (raw === undefined || raw === '') continue;
    const v = parseDecimal(raw);
    if (v === null) throw new UserError(`${name}:${line}: column ${m}: expected a number, got ${JSON.stringify(raw)}`);
    samples.push({ metric: m, labels, ts, value: v });
  }
  let outcome: CollectionOutcome | null = null;
  const s = get('success');
  if (s !== undefined && s !== '') {
    if (s !== 'true' && s !== 'false')
      throw new UserError(`${name}:${line}: column success: expected true or false, got ${JSON.stringify(s)}`);
    const { vm: _vm, ...olabels } = labels;
    outcome = {
      vm,
      labels: olabels,
      ts,
      success: s === 'true',
      errorMessage: get('error_message') || null,
      durationMs: 0,
    };
  }
  return { samples, outcome };
}

/**
 * Validates the whole file first, then writes it in batches of 5,000 samples, each its own transaction: nothing is
 * written if any row is bad, but a failure or a crash during the write leaves the batches before it stored (the
 * error says how many rows; docs/storage.md). Finally compacts what was written in steps of the production
 * maintenance budget, so a running `vigil up` never waits long for the write lock.
 */
export async function importCsv(
  store: Store,
  path: string,
  name: string,
  onProgress?: (rows: number, totalRows: number) => void,
  now: () => number = systemClock.now,
): Promise<{ rows: number; samples: number }> {
  let totalRows = 0;
  let header: string[] | null = null;
  let rows = 0;
  for (const pass of ['validate', 'write'] as const) {
    header = null;
    rows = 0;
    let samples: Sample[] = [];
    let outcomes: CollectionOutcome[] = [];
    let total = 0;
    let stored = 0;
    let storedLine = 0;
    let lastLine = 0;
    const flush = async () => {
      try {
        await store.write(samples, outcomes);
      } catch (e) {
        throw new UserError(
          `${name}: the import stopped after ${stored} of ${totalRows} rows were stored${stored > 0 ? ` (up to line ${storedLine})` : ''}: ${(e as Error).message}`,
          EXIT_FAILURE,
        );
      }
      stored = rows;
      storedLine = lastLine;
      samples = [];
      outcomes = [];
    };
    for await (const { line, fields } of records(path, name)) {
      if (!header) {
        header = fields;
        for (const [i, c] of header.entries()) {
          if (!KNOWN.has(c))
            throw new UserError(`${name}:${line}: unknown column "${c}" (expected ${[...KNOWN].join(', ')})`);
          if (header.indexOf(c) !== i)
            throw new UserError(
              `${name}:${line}: column "${c}" appears twice in the header (columns ${header.indexOf(c) + 1} and ${i + 1})`,
            );
        }
        for (const c of ['timestamp', 'vm_name'])
          if (!header.includes(c)) throw new UserError(`${name}:${line}: missing required column ${c}`);
        continue;
      }
      const b = toBatch(name, line, header, fields);
      rows++;
      lastLine = line;
      total += b.samples.length;
      if (pass === 'write') {
        samples.push(...b.samples);
        if (b.outcome) outcomes.push(b.outcome);
        if (samples.length >= 5000) {
          await flush();
          onProgress?.(rows, totalRows);
        }
      }
    }
    if (!header) throw new UserError(`${name}: empty file (expected a header line)`);
    if (pass === 'write') {
      if (samples.length > 0 || outcomes.length > 0) await flush();
      onProgress?.(rows, totalRows);
      for (let step = 0; step < 1_000_000 && (await store.maintain(now())).more; step++);
      return { rows, samples: total };
    }
    totalRows = rows;
  }
  throw new Error('unreachable');
}

export function register(program: Command, io: CliIo): void {
  program
    .command('import')
    .description('import metrics from a CSV file (the `history --export` format); all-or-nothing')
    .argument('<file>', 'CSV file')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: { json?: boolean }, cmd: Command) => {
      const { config } = loadEffectiveConfig(cmd, io);
      const store = await openMetricsStore(config.storage);
      const t0 = performance.now();
      try {
        const showProgress = io.stderr.isTTY === true && !opts.json;
        const r = await importCsv(
          store,
          resolve(io.cwd, file),
          file,
          showProgress
            ? (n, total) => io.stderr.write(progressBar(n, total, n, 'rows', (performance.now() - t0) / 1000))
            : undefined,
        );
        if (showProgress) io.stderr.write('\n');
        const secs = (performance.now() - t0) / 1000;
        if (opts.json) io.stdout.write(`${JSON.stringify({ rows: r.rows, samples: r.samples, seconds: secs })}\n`);
        else
          io.stdout.write(
            `imported ${r.rows} rows (${r.samples} samples) in ${secs.toFixed(2)}s (${Math.round(r.rows / Math.max(secs, 1e-3))} rows/s)\n`,
          );
      } finally {
        await store.close();
      }
    });
}
