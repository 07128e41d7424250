import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeClock } from '../../src/clock.ts';
import { buildChannels } from '../../src/notify/build.ts';
import { fileChannel } from '../../src/notify/channels/file.ts';
import { sampleAlert } from '../../src/notify/fixtures.ts';
import { TestReceiver } from '../../src/notify/test-receiver.ts';
import type { Batch, Channel } from '../../src/notify/types.ts';

const rx = new TestReceiver();
before(() => rx.start());
after(() => rx.stop());

const SECRET = 'SeCrEt-0123456789';
const batch = (kind: Batch['kind'] = 'firing', n = 2): Batch => ({
  channel: 'x',
  kind,
  groupKey: 'x/firing',
  idempotencyKey: 'k-1',
  createdAt: Date.UTC(2026, 0, 1),
  alerts: Array.from({ length: n }, (_, i) =>
    sampleAlert({ vm: `web-0${i + 1}`, ...(kind === 'resolved' ? { state: 'resolved', resolvedAt: 1 } : {}) }),
  ),
});

type Shape = (req: { url: string; headers: Record<string, unknown>; body: string }) => void;

/** Each HTTP channel's config (pointing at the local receiver) and a check of the documented payload format. */
const cases: Record<string, { cfg: () => Record<string, unknown>; check: Shape }> = {
  slack: {
    cfg: () => ({ webhook_url: `${rx.url}/services/T000/B000/${SECRET}` }),
    check: ({ body }) => {
      const j = JSON.parse(body);
      assert.equal(typeof j.text, 'string');
      assert.equal(j.blocks[0].type, 'header');
      assert.equal(j.blocks[0].text.type, 'plain_text');
      assert.ok(j.blocks.some((b: { type: string; fields?: unknown[] }) => b.type === 'section' && b.fields));
      assert.ok(j.blocks.some((b: { type: string }) => b.type === 'actions'));
      assert.match(j.attachments[0].color, /^#[0-9A-F]{6}$/i);
    },
  },
  discord: {
    cfg: () => ({ webhook_url: `${rx.url}/api/webhooks/1/${SECRET}` }),
    check: ({ body }) => {
      const j = JSON.parse(body);
      assert.ok(j.embeds.length >= 1 && j.embeds.length <= 10);
      assert.ok(j.embeds[0].title.length <= 256);
      assert.ok(Number.isInteger(j.embeds[0].color));
      assert.ok(j.embeds[0].fields.length <= 25);
    },
  },
  teams: {
    cfg: () => ({ webhook_url: `${rx.url}/workflows/run?sig=${SECRET}` }),
    check: ({ body }) => {
      const j = JSON.parse(body);
      assert.equal(j.type, 'message');
      assert.equal(j.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');
      assert.equal(j.attachments[0].content.type, 'AdaptiveCard');
      assert.ok(Array.isArray(j.attachments[0].content.body));
    },
  },
  pagerduty: {
    cfg: () => ({ routing_key: SECRET, url: `${rx.url}/v2/enqueue` }),
    check: ({ body }) => {
      const j = JSON.parse(body);
      assert.equal(j.routing_key, SECRET);
      assert.ok(['trigger', 'resolve'].includes(j.event_action));
      assert.match(j.dedup_key, /^high_cpu\//);
      if (j.event_action === 'trigger') {
        assert.ok(j.payload.summary.length <= 1024);
        assert.ok(['critical', 'error', 'warning', 'info'].includes(j.payload.severity));
        assert.equal(typeof j.payload.source, 'string');
      }
    },
  },
  sms: {
    cfg: () => ({ account_sid: 'AC123', auth_token: SECRET, from: '+15550000', to: ['+15551111'], url: rx.url }),
    check: ({ url, headers, body }) => {
      assert.equal(url, '/2010-04-01/Accounts/AC123/Messages.json');
      assert.equal(headers['content-type'], 'application/x-www-form-urlencoded');
      const f = new URLSearchParams(body);
      assert.equal(f.get('To'), '+15551111');
      assert.equal(f.get('From'), '+15550000');
      assert.ok((f.get('Body') ?? '').length <= 160);
      assert.match(String(headers.authorization), /^Basic /);
    },
  },
  webhook: {
    cfg: () => ({ url: `${rx.url}/hook`, secret: SECRET }),
    check: ({ body, headers }) => {
      const j = JSON.parse(body);
      assert.equal(j.version, 'vigil.notification/v1');
      assert.equal(headers['idempotency-key'], 'k-1');
      assert.match(String(headers['x-vigil-signature']), /^sha256=[0-9a-f]{64}$/);
    },
  },
  webhook_alertmanager: {
    cfg: () => ({ type: 'webhook', url: `${rx.url}/am`, format: 'alertmanager' }),
    check: ({ body }) => {
      const j = JSON.parse(body);
      assert.equal(j.version, '4');
      for (const k of [
        'groupKey',
        'status',
        'receiver',
        'groupLabels',
        'commonLabels',
        'commonAnnotations',
        'externalURL',
      ])
        assert.ok(k in j, k);
      assert.equal(j.alerts[0].labels.alertname, 'high_cpu');
      assert.ok(j.alerts[0].startsAt && j.alerts[0].endsAt && j.alerts[0].fingerprint);
      assert.equal(j.commonLabels.resource_group, 'rg-prod');
    },
  },
};

function make(name: string): Channel {
  const [ch] = buildChannels({ [name]: cases[name]!.cfg() }, { clock: new FakeClock(), env: {} });
  return ch!;
}

for (const name of Object.keys(cases)) {
  describe(`channel conformance: ${name}`, () => {
    test('payload matches the documented format (firing, resolved, test)', async () => {
      for (const kind of ['firing', 'resolved', 'test'] as const) {
        const before = rx.received.length;
        const r = await make(name).send(batch(kind));
        assert.ok(r.ok, r.detail);
        assert.equal(r.statusCode, 200);
        for (const req of rx.received.slice(before))
          cases[name]!.check({ url: req.url, headers: req.headers, body: req.body });
      }
    });
    test('retry classification: 500 and 429 retryable (Retry-After read), 400 not, timeout and refused retryable', async () => {
      rx.script = [{ status: 500 }];
      let r = await make(name).send(batch());
      assert.deepEqual([r.ok, r.retryable, r.statusCode], [false, true, 500]);
      rx.script = [{ status: 429, headers: { 'retry-after': '3' } }];
      r = await make(name).send(batch());
      assert.deepEqual([r.ok, r.retryable, r.retryAfterMs], [false, true, 3000]);
      rx.script = [{ status: 400, body: `bad ${SECRET}` }];
      r = await make(name).send(batch());
      assert.deepEqual([r.ok, r.retryable], [false, false]);
      rx.script = [{ status: 200, delayMs: 400 }];
      const [ch] = buildChannels(
        { [name]: { ...cases[name]!.cfg(), timeout_ms: 100 } },
        { clock: new FakeClock(), env: {} },
      );
      r = await ch!.send(batch());
      assert.deepEqual([r.ok, r.retryable], [false, true]);
      assert.match(r.detail, /timed out/);
    });
    test('no secret in any detail', async () => {
      rx.script = [{ status: 500, body: `echo ${SECRET}` }];
      const ch = make(name);
      const r = await ch.send(batch());
      const { redact } = await import('../../src/notify/types.ts');
      if (JSON.stringify(cases[name]!.cfg()).includes(SECRET))
        assert.ok(!redact(r.detail, ch.secrets).includes(SECRET));
      assert.ok(!r.detail.includes(rx.url.replace('http://', '') + '/'), 'details name the host, not the path');
    });
  });
}

test('connection refused is retryable', async () => {
  const dead = await new TestReceiver().start();
  const url = dead.url;
  await dead.stop();
  const [ch] = buildChannels({ webhook: { url } }, { clock: new FakeClock(), env: {} });
  const r = await ch!.send(batch());
  assert.deepEqual([r.ok, r.retryable], [false, true]);
  assert.match(r.detail, /ECONNREFUSED/);
});

test('file channel: JSON lines, rotated by size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-file-'));
  const path = join(dir, 'alerts.jsonl');
  const ch = fileChannel.create('file', fileChannel.schema.parse({ path, max_bytes: 3000, keep: 2 }), {
    clock: new FakeClock(),
    env: {},
  });
  for (let i = 0; i < 10; i++) assert.ok((await ch.send(batch())).ok);
  const files = readdirSync(dir).sort();
  assert.deepEqual(files, ['alerts.jsonl', 'alerts.jsonl.1', 'alerts.jsonl.2']);
  for (const line of readFileSync(path, 'utf8').trim().split('\n'))
    assert.equal(JSON.parse(line).version, 'vigil.notification/v1');
});

test('console channel: coloured one-liners, NO_COLOR respected', async () => {
  const out: string[] = [];
  const stdout = { write: (s: string) => out.push(s), isTTY: true };
  const [plain] = buildChannels({ console: {} }, { clock: new FakeClock(), env: { NO_COLOR: '1' }, stdout });
  await plain!.send(batch());
  assert.ok(!out.join('').includes('\x1b['));
  assert.equal(out.length, 2);
  // The severity once, as the line's tag; a resolved line keeps the severity the alert had.
  assert.equal(
    out[0],
    '2026-01-01T00:00:00.000Z CRITICAL web-01 cpu_percent=97.50 (> 95) firing - CPU usage is 97.5% (threshold 95%)\n',
  );
  await plain!.send(batch('resolved', 1));
  assert.match(out[2]!, /^\S+ RESOLVED CRITICAL web-01 cpu_percent=97.50 \(> 95\) resolved/);
  out.length = 0;
  const [colour] = buildChannels({ console: {} }, { clock: new FakeClock(), env: {}, stdout });
  await colour!.send(batch());
  assert.ok(out.join('').includes('\x1b[31m'));
});

test('sms: info and warning alerts are not sent by default', () => {
  const [ch] = buildChannels(
    { sms: { account_sid: 'AC1', auth_token: 't0k3n-abcdef', from: '+1', to: ['+2'] } },
    { clock: new FakeClock(), env: {} },
  );
  assert.deepEqual(ch!.severities, ['critical', 'emergency']);
});
