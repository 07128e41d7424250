// The foundation's "done when": import a CSV of history into the SQLite store through the CLI, query it back
// with `vigil history`, export it, and get the same file; a bad file is refused whole.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { csvHeader } from '../../src/store/csv.ts';

const bin = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));
const HOUR = 3_600_000;

function vigil(dir: string, ...args: string[]) {
  return spawnSync(process.execPath, [bin, '--db', join(dir, 'metrics.db'), ...args], {
    cwd: dir,
    env: { HOME: dir, PATH: process.env.PATH ?? '', NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

/** Three days of hourly rows for two VMs, with short decimals, byte counters, a failed collection and a quoted error. */
function historyFile(): { csv: string; web: string } {
  const start = Math.floor(Date.now() / HOUR) * HOUR - 72 * HOUR;
  const header = csvHeader(true);
  const lines: Record<string, string[]> = { 'web-01': [header], 'db-01': [header] };
  for (let h = 0; h < 72; h++) {
    const ts = new Date(start + h * HOUR).toISOString();
    for (const [i, vm] of ['web-01', 'db-01'].entries()) {
      if (vm === 'web-01' && h === 30) {
        lines[vm]!.push(`${ts},${vm},,,,,,,,false,"Connection timeout, ""retrying""",rg-prod`);
        continue;
      }
      const cpu = ((h * 37 + i * 11) % 9000) / 100;
      const mem = 40 + ((h * 13) % 500) / 10;
      const disk = 50 + h / 8;
      lines[vm]!.push(
        `${ts},${vm},${cpu},${mem},${disk},${h * 1000 + i},${h * 2048},${1_000_000 + h * 7},${500_000 + h},true,,rg-prod`,
      );
    }
  }
  const all = [header, ...lines['web-01']!.slice(1), ...lines['db-01']!.slice(1)];
  return { csv: `${all.join('\n')}\n`, web: `${lines['web-01']!.join('\n')}\n` };
}

describe('vigil import / history on the SQLite store', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-e2e-import-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('imports, shows and exports the same history, byte for byte', () => {
    const { csv, web } = historyFile();
    writeFileSync(join(dir, 'in.csv'), csv);
    const imp = vigil(dir, 'import', 'in.csv', '--json');
    assert.equal(imp.status, 0, imp.stderr);
    const summary = JSON.parse(imp.stdout) as { rows: number; samples: number };
    assert.equal(summary.rows, 144);
    assert.equal(summary.samples, 143 * 7);

    const table = vigil(dir, 'history', 'web-01', '--days', '7', '--resolution', 'raw');
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /Connection timeout/);

    const exp = vigil(dir, 'history', 'web-01', '--days', '7', '--resolution', 'raw', '--export', 'out.csv');
    assert.equal(exp.status, 0, exp.stderr);
    assert.equal(readFileSync(join(dir, 'out.csv'), 'utf8'), web);

    const json = vigil(
      dir,
      'history',
      'db-01',
      '--days',
      '7',
      '--metric',
      'cpu_percent',
      '--resolution',
      'raw',
      '--json',
    );
    assert.equal(json.status, 0, json.stderr);
    assert.equal(JSON.stringify(JSON.parse(json.stdout)).includes('"db-01"'), true);
  });

  it('with the default --days 7, history reads and exports raw samples: export -> import round-trips', () => {
    // Ten-minute rows over the last two days: hourly averages would differ from them.
    const start = Math.floor(Date.now() / 600_000) * 600_000 - 48 * HOUR;
    const lines = ['timestamp,vm_name,cpu_percent,success,error_message'];
    for (let i = 0; i < 48 * 6; i++) {
      const ts = new Date(start + i * 600_000).toISOString();
      lines.push(i === 7 ? `${ts},raw-01,,false,Connection timeout` : `${ts},raw-01,${(i * 7) % 100}.5,true,`);
    }
    writeFileSync(join(dir, 'raw.csv'), `${lines.join('\n')}\n`);
    assert.equal(vigil(dir, 'import', 'raw.csv').status, 0);
    const table = vigil(dir, 'history', 'raw-01', '--metric', 'cpu_percent');
    assert.equal(table.status, 0, table.stderr);
    assert.equal(table.stdout.trim().split('\n').length, 1 + 48 * 6, 'one table row per raw sample');
    const exp = vigil(dir, 'history', 'raw-01', '--export', 'raw-out.csv');
    assert.equal(exp.status, 0, exp.stderr);
    assert.equal(exp.stderr, '');
    const out = readFileSync(join(dir, 'raw-out.csv'), 'utf8').trim().split('\n');
    assert.equal(out.length, 1 + 48 * 6);
    assert.equal(out[8], `${new Date(start + 7 * 600_000).toISOString()},raw-01,,,,,,,,false,Connection timeout`);
    assert.equal(out[9], `${new Date(start + 8 * 600_000).toISOString()},raw-01,56.5,,,,,,,true,`);
    // Re-imported into a fresh store, the export exports the same file again.
    const other = mkdtempSync(join(tmpdir(), 'vigil-e2e-reimport-'));
    try {
      writeFileSync(join(other, 'in.csv'), readFileSync(join(dir, 'raw-out.csv')));
      assert.equal(vigil(other, 'import', 'in.csv').status, 0);
      assert.equal(vigil(other, 'history', 'raw-01', '--export', 'again.csv').status, 0);
      assert.equal(readFileSync(join(other, 'again.csv'), 'utf8'), readFileSync(join(dir, 'raw-out.csv'), 'utf8'));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    // --chart: not a TTY, so 80 x 20; one chart for --metric, one per standard metric without it.
    const chart = vigil(dir, 'history', 'raw-01', '--metric', 'cpu_percent', '--chart');
    assert.equal(chart.status, 0, chart.stderr);
    const chartLines = chart.stdout.replace(/\n$/, '').split('\n');
    assert.equal(chartLines.length, 20, chart.stdout);
    assert.ok(chartLines.every((l) => l.length <= 80));
    assert.match(chartLines[0]!, /^cpu_percent {2}raw-01 {2}last 7 days \(UTC\) {2}min 0\.5 {2}max 99\.5/);
    assert.ok(chartLines.slice(1, -2).every((l) => / \|/.test(l)) && chart.stdout.includes('*'));
    const all = vigil(dir, 'history', 'raw-01', '--chart');
    assert.equal(all.status, 0, all.stderr);
    assert.match(all.stdout, /memory_percent {2}raw-01 {2}last 7 days \(UTC\): no data in the range/);
    assert.equal(all.stdout.split('\n\n').length, 7);
    // Past raw retention the export says it holds averages.
    const long = vigil(dir, 'history', 'raw-01', '--days', '30', '--export', 'long.csv');
    assert.equal(long.status, 0, long.stderr);
    assert.match(long.stderr, /raw retention \(7 days\).*averages/);
  });

  it('a reader that goes away (| head) ends the output quietly: no EPIPE stack trace, exit 0', () => {
    // `| true` closes the pipe before vigil writes anything, so every write meets EPIPE.
    const r = spawnSync(
      'bash',
      [
        '-c',
        'set -o pipefail; "$0" "$1" --db "$2" history web-01 --resolution raw | true',
        process.execPath,
        bin,
        join(dir, 'metrics.db'),
      ],
      { cwd: dir, env: { HOME: dir, PATH: process.env.PATH ?? '' }, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
  });

  it('refuses a file with a malformed row, names the line, and writes nothing', () => {
    writeFileSync(
      join(dir, 'bad.csv'),
      `timestamp,vm_name,cpu_percent\n${new Date().toISOString()},new-vm,5\n${new Date().toISOString()},new-vm,five\n`,
    );
    const r = vigil(dir, 'import', 'bad.csv');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /bad\.csv:3: column cpu_percent: expected a number, got "five"/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const h = vigil(dir, 'history', 'new-vm');
    assert.notEqual(h.status, 0);
    assert.match(h.stderr, /new-vm/);
  });
});
