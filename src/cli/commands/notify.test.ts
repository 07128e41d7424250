import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { TestReceiver } from '../../notify/test-receiver.ts';
import { vigilInEnv } from '../testing/run-cli.ts';

const vigil = (dir: string, env: Record<string, string>, ...args: string[]) =>
  vigilInEnv(dir, { NO_COLOR: '1', ...env }, ...args);

test('vigil notify test/log: results printed, failures listed, secrets never shown', async () => {
  const rx = await new TestReceiver().start();
  try {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-notify-cli-'));
    writeFileSync(
      join(dir, 'vigil.yaml'),
      [
        'notification_config:',
        '  webhook:',
        `    url: ${rx.url}/hook/\${HOOK_PATH_SECRET}`,
        '    token: $' + '{HOOK_TOKEN}', // the config's ${ENV} interpolation, not a template
        '  slack:',
        `    webhook_url: ${rx.url}/services/\${SLACK_SECRET}`,
        '  console: {}',
      ].join('\n'),
    );
    const env = {
      HOOK_TOKEN: 'tok-very-secret-1',
      HOOK_PATH_SECRET: 'path-secret-22',
      SLACK_SECRET: 'slack-secret-333',
    };
    let r = await vigil(dir, env, 'notify', 'test', 'webhook');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ok webhook: HTTP 200 from 127\.0\.0\.1:\d+/);
    assert.equal(rx.received[0]!.headers.authorization, 'Bearer tok-very-secret-1');
    assert.equal(JSON.parse(rx.received[0]!.body).kind, 'test');

    rx.script = [{ status: 500, body: 'rejected tok-very-secret-1 slack-secret-333' }];
    r = await vigil(dir, env, 'notify', 'test', 'slack');
    assert.equal(r.code, 1);
    assert.match(r.err, /FAILED slack: HTTP 500/);

    r = await vigil(dir, env, 'notify', 'test', 'nope');
    assert.equal(r.code, 1);
    assert.match(r.err, /unknown channel "nope"; configured: webhook, slack, console/);

    r = await vigil(dir, env, 'notify', 'log');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /slack +test .* error 500 +failed/);
    assert.match(r.out, /outbox: 0 pending, 1 delivered, 1 failed/);
    const failed = await vigil(dir, env, 'notify', 'log', '--failed', '--json');
    const lines = failed.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].channel, 'slack');
    for (const text of [r.out, r.err, failed.out, failed.err])
      for (const s of Object.values(env)) assert.ok(!text.includes(s), `secret ${s} leaked`);
  } finally {
    await rx.stop();
  }
});
