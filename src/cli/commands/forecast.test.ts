import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../store/open.ts';
import { vigilIn as vigil } from '../testing/run-cli.ts';
import { forecastLine } from './forecast.ts';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-forecast-cli-'));
  writeFileSync(join(dir, 'vigil.yaml'), 'sources: []\n');
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('forecast and anomalies reject bad arguments with exit 2 and a plain message', () =>
  withDir(async (dir) => {
    const r = await vigil(dir, 'forecast', '--days', '45');
    assert.equal(r.code, 2);
    assert.match(r.err, /invalid --days "45"/);
    assert.doesNotMatch(r.err, /at .*\.ts:\d+/);
    const a = await vigil(dir, 'anomalies', '--days', 'x');
    assert.equal(a.code, 2);
    assert.match(a.err, /invalid --days "x"/);
  }));

test('vigil forecast reads the store: at-risk disk first, seed line format, --json, --at-risk-only', () =>
  withDir(async (dir) => {
    const store = await openStore({ path: join(dir, 'metrics.db') });
    const now = Date.now();
    const H = 3_600_000;
    const samples = [];
    for (let h = 10 * 24; h >= 1; h--) {
      const ts = now - h * H;
      samples.push({ metric: 'disk_percent', labels: { vm: 'db-01' }, ts, value: 80 - h / 24 });
      samples.push({ metric: 'cpu_percent', labels: { vm: 'web-01' }, ts, value: 35 });
    }
    await store.append(samples);
    for (let i = 0; i < 100 && (await store.maintain(now)).more; i++);
    await store.close();
    const j = await vigil(dir, 'forecast', '--json');
    assert.equal(j.code, 0, j.err);
    const rows = JSON.parse(j.out);
    assert.equal(rows[0].vm_name, 'db-01');
    assert.equal(rows[0].at_risk, true);
    const t = await vigil(dir, 'forecast');
    assert.match(t.out, /db-01 DISK: Current: .*→ 7d: .*→ 30d: .*\(Increasing\)\s+AT RISK/);
    assert.match(t.out, /Days until disk limit: (9|10|11) days/);
    // Under a day: shown with its decimal, not rounded to 0.
    assert.match(forecastLine({ ...rows[0], days_until_threshold: 0.2 }), /Days until disk limit: 0\.2 days/);
    const only = await vigil(dir, 'forecast', '--at-risk-only', '--json');
    assert.deepEqual(
      JSON.parse(only.out).map((r: { vm_name: string }) => r.vm_name),
      ['db-01'],
    );
  }));
