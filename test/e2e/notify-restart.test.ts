import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestReceiver } from '../../src/notify/test-receiver.ts';

const child = fileURLToPath(new URL('./notify-restart-child.ts', import.meta.url));

function start(dbPath: string, url: string, mode: string) {
  const p = spawn(process.execPath, [child, dbPath, url, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => {
    out += d;
  });
  p.stderr.on('data', (d) => {
    out += d;
  });
  // 'close', not 'exit': the output read after it must be complete ('exit' can come before the pipes are drained).
  const exited = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
  return { p, exited, output: () => out };
}

test('SIGKILL mid-delivery: the restarted process delivers the pending rows; no acknowledged key is sent twice', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-restart-'));
  const dbPath = join(dir, 'vigil.db');
  const rx = await new TestReceiver().start();
  try {
    rx.script = [{ status: 200 }, { status: 200 }, 'hang'];
    const first = start(dbPath, `${rx.url}/hook`, 'enqueue');
    for (let i = 0; i < 400 && rx.received.length < 3; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(rx.received.length, 3, first.output());
    first.p.kill('SIGKILL');
    assert.equal(await first.exited, null);
    const acknowledged = rx.received.slice(0, 2).map((r) => r.headers['idempotency-key']);
    const inFlight = rx.received[2]!.headers['idempotency-key'];

    rx.fallback = { status: 200 };
    const second = start(dbPath, `${rx.url}/hook`, 'resume');
    assert.equal(await second.exited, 0, second.output());
    assert.match(second.output(), /done \{"pending":0,"delivered":5,"failed":0\}/);

    const keys = rx.received.map((r) => String(r.headers['idempotency-key']));
    assert.equal(new Set(keys).size, 5, 'all five deliveries arrived');
    for (const k of acknowledged)
      assert.equal(keys.filter((x) => x === k).length, 1, 'acknowledged rows are not resent');
    // the row in flight at the kill is resent with the same key, so a receiver that dedupes on it sees it once
    assert.equal(keys.filter((x) => x === inFlight).length, 2);
    const vms = rx.received.map((r) => JSON.parse(r.body).alerts[0].vm);
    assert.deepEqual([...new Set(vms)].sort(), ['web-00', 'web-01', 'web-02', 'web-03', 'web-04']);
  } finally {
    await rx.stop();
  }
});

test('SIGKILL inside the grouping window: the restarted process sends the group it had not written yet', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-restart-'));
  const dbPath = join(dir, 'vigil.db');
  const rx = await new TestReceiver().start();
  try {
    const first = start(dbPath, `${rx.url}/hook`, 'stage');
    for (let i = 0; i < 400 && !/ready/.test(first.output()); i++) await new Promise((r) => setTimeout(r, 25));
    assert.match(first.output(), /ready/);
    first.p.kill('SIGKILL');
    assert.equal(await first.exited, null);
    assert.equal(rx.received.length, 0, 'nothing was sent inside the window');

    const second = start(dbPath, `${rx.url}/hook`, 'resume');
    assert.equal(await second.exited, 0, second.output());
    assert.match(second.output(), /done \{"pending":0,"delivered":1,"failed":0\}/);
    assert.equal(rx.received.length, 1);
    const vms = (JSON.parse(rx.received[0]!.body).alerts as { vm: string }[]).map((a) => a.vm).sort();
    assert.deepEqual(vms, ['web-10', 'web-11'], 'one message with both events');
  } finally {
    await rx.stop();
  }
});
