// Durability: every append acknowledged before a `kill -9` is in the store after reopening, across repeated crashes,
// including crashes in the middle of compaction; the file passes SQLite's integrity check and takes writes again.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/open.ts';
import { WRITER_T0, WRITER_VMS, writerValue } from './fixtures/store-writer.ts';

const writer = fileURLToPath(new URL('./fixtures/store-writer.ts', import.meta.url));

/** Runs the writer from `start`, kills it with SIGKILL after `killAfterAcks` acknowledged batches; returns the last ack. */
function crashAfter(path: string, start: number, killAfterAcks: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, path, String(start)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = -1;
    let acks = 0;
    let buf = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        last = Number(l);
        if (++acks === killAfterAcks) child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    // 'close', not 'exit': 'exit' can come before the pipe is drained, and acks still in it would be missed (the
    // store then holds batches this side never saw acknowledged).
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited without being killed: ${err}`));
      else if (acks < killAfterAcks) reject(new Error(`writer killed by the timeout after ${acks} acks: ${err}`));
      else resolve(last);
    });
  });
}

describe('store durability under kill -9', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-crash-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every acknowledged sample through five crashes, and nothing that was never written', async () => {
    const path = join(dir, 'crash.db');
    let next = 0;
    for (const killAfter of [37, 180, 401, 95, 260]) {
      const acked = await crashAfter(path, next, killAfter);
      assert.ok(acked >= next + killAfter - 1, `the writer acknowledged batches ${next}..${acked}`);
      const store = await openStore({ path });
      try {
        const check = store.db.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[];
        assert.deepEqual(
          check.map((r) => r.integrity_check),
          ['ok'],
        );
        const results = await store.query({
          selector: { metric: 'cpu_percent' },
          from: WRITER_T0,
          to: WRITER_T0 + (acked + 10) * 60_000,
          resolution: 'raw',
        });
        assert.equal(results.length, WRITER_VMS);
        for (const r of results) {
          const v = Number(r.labels.vm!.slice(3));
          const got = new Map(r.points.map((p) => [(p.ts - WRITER_T0) / 60_000, p.value]));
          const missing: number[] = [];
          for (let seq = 0; seq <= acked; seq++) if (!got.has(seq)) missing.push(seq);
          assert.deepEqual(missing.slice(0, 10), [], `${r.labels.vm}: acknowledged batches lost (of ${acked + 1})`);
          for (const [seq, value] of got) {
            // The batch in flight when the process died may or may not be there; nothing later can be.
            assert.ok(seq <= acked + 1, `${r.labels.vm}: batch ${seq} was never written`);
            assert.equal(value, writerValue(seq, v), `${r.labels.vm}: value of batch ${seq}`);
          }
        }
        // The file takes writes again (no lock or half-written state left behind).
        await store.append([{ metric: 'crash_check', labels: { vm: 'parent' }, ts: WRITER_T0, value: next }]);
      } finally {
        await store.close();
      }
      // The next run continues after the last acknowledged batch, rewriting a batch that was in flight.
      next = acked + 1;
    }
  });
});
