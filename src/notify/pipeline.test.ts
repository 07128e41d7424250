import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, test } from 'node:test';
import { FakeClock, systemClock } from '../clock.ts';
import { configSchema } from '../config/schema.ts';
import type { Alert } from '../model/alert.ts';
import { OutboxRepository } from '../store/sqlite/outbox-repository.ts';
import { DEFAULT_RETRY, type RetryPolicy } from './backoff.ts';
import { buildChannels } from './build.ts';
import { gsmSeptets, smsText, toGsm7 } from './channels/sms.ts';
import { firedEvent, sampleAlert } from './fixtures.ts';
import { subject } from './format.ts';
import { MemoryOutbox, type Outbox } from './outbox.ts';
import { NotificationPipeline } from './pipeline.ts';
import { TestReceiver } from './test-receiver.ts';
import type { Batch } from './types.ts';

const batchOf = (alerts: Alert[]): Batch => ({
  channel: 'sms',
  kind: 'firing',
  groupKey: 'sms/firing',
  idempotencyKey: 'k',
  createdAt: 0,
  alerts,
});

const receivers: TestReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.stop();
});
async function receiver(): Promise<TestReceiver> {
  const r = await new TestReceiver().start();
  receivers.push(r);
  return r;
}

function webhookPipeline(
  url: string,
  clock: FakeClock,
  outbox: Outbox = new MemoryOutbox(),
  extra: Record<string, unknown> = {},
  retry: Partial<RetryPolicy> = {},
) {
  const channels = buildChannels({ webhook: { url, ...extra } }, { clock, env: {} });
  return new NotificationPipeline({
    channels,
    outbox,
    clock,
    defaultChannels: ['webhook'],
    groupWaitMs: 0,
    retry: { jitterRatio: 0, ...retry },
  });
}

test('A37: 500, 500, 200 delivers after exactly 3 POSTs, sleeping 1 s then 2 s', async () => {
  const clock = new FakeClock();
  const rx = await receiver();
  rx.script = [{ status: 500 }, { status: 500 }, { status: 200 }];
  const outbox = new MemoryOutbox();
  const p = webhookPipeline(`${rx.url}/hook`, clock, outbox);
  const t0 = clock.now();
  p.handle([firedEvent(sampleAlert(), t0)], t0);
  await p.deliverDue(clock.now());
  assert.equal(rx.received.length, 1);
  assert.equal(p.nextWakeAt(), t0 + 1000);
  await clock.advance(999);
  await p.deliverDue(clock.now());
  assert.equal(rx.received.length, 1, 'not before the 1 s backoff');
  await clock.advance(1);
  await p.deliverDue(clock.now());
  assert.equal(rx.received.length, 2);
  assert.equal(p.nextWakeAt(), t0 + 3000);
  await clock.advance(2000);
  await p.deliverDue(clock.now());
  assert.equal(rx.received.length, 3);
  assert.deepEqual(outbox.counts(), { pending: 0, delivered: 1, failed: 0 });
  assert.equal(p.nextWakeAt(), null);
  // all three POSTs carry the same idempotency key
  assert.equal(new Set(rx.received.map((r) => r.headers['idempotency-key'])).size, 1);
});

test('A37: always 500 fails after exactly 3 POSTs and raises notification_failed on the other channels', async () => {
  const clock = new FakeClock();
  const rx = await receiver();
  rx.fallback = { status: 500, body: 'boom' };
  const lines: string[] = [];
  const channels = buildChannels(
    { webhook: { url: `${rx.url}/hook` }, console: { color: false } },
    { clock, env: {}, stdout: { write: (s: string) => lines.push(s) } },
  );
  const outbox = new MemoryOutbox();
  // the seed's setting (A37 pins exactly 3 POSTs); the default is 4 attempts, tested below
  const p = new NotificationPipeline({
    channels,
    outbox,
    clock,
    groupWaitMs: 0,
    retry: { jitterRatio: 0, maxAttempts: 3 },
  });
  p.handle([firedEvent(sampleAlert({ channels: ['webhook'] }), clock.now())], clock.now());
  for (let i = 0; i < 5; i++) {
    await p.deliverDue(clock.now());
    await clock.advance(5000);
  }
  assert.equal(rx.received.length, 3);
  const failed = outbox.log({ failedOnly: true });
  assert.equal(failed.length, 3);
  assert.equal(failed[0]!.rowStatus, 'failed');
  assert.equal(failed[0]!.statusCode, 500);
  assert.match(lines.join(''), /Notification failed - webhook/);
});

test('429 Retry-After is honoured instead of the backoff', async () => {
  const clock = new FakeClock();
  const rx = await receiver();
  rx.script = [{ status: 429, headers: { 'retry-after': '7' } }];
  const p = webhookPipeline(rx.url, clock);
  p.handle([firedEvent(sampleAlert(), clock.now())], clock.now());
  await p.deliverDue(clock.now());
  assert.equal(p.nextWakeAt(), clock.now() + 7000);
});

test('a 4xx other than 429 is not retried; connection refused is retried', async () => {
  const clock = new FakeClock();
  const rx = await receiver();
  rx.script = [{ status: 400 }];
  const outbox = new MemoryOutbox();
  const p = webhookPipeline(rx.url, clock, outbox);
  p.handle([firedEvent(sampleAlert(), clock.now())], clock.now());
  await p.deliverDue(clock.now());
  assert.deepEqual(outbox.counts(), { pending: 0, delivered: 0, failed: 1 });

  const dead = await receiver();
  const url = dead.url;
  await dead.stop();
  const o2 = new MemoryOutbox();
  const p2 = webhookPipeline(url, clock, o2);
  p2.handle([firedEvent(sampleAlert(), clock.now())], clock.now());
  await p2.deliverDue(clock.now());
  assert.deepEqual(o2.counts(), { pending: 1, delivered: 0, failed: 0 });
  assert.match(o2.log({})[0]!.detail, /cannot reach 127\.0\.0\.1/);
});

test('grouping: 50 VMs within the window become one message; resolved follows as another', async () => {
  const clock = new FakeClock();
  const rx = await receiver();
  const channels = buildChannels({ webhook: { url: rx.url } }, { clock, env: {} });
  const p = new NotificationPipeline({ channels, outbox: new MemoryOutbox(), clock, defaultChannels: ['webhook'] });
  for (let i = 0; i < 50; i++) {
    p.handle([firedEvent(sampleAlert({ vm: `web-${i}` }), clock.now())], clock.now());
    await clock.advance(100);
  }
  await p.deliverDue(clock.now());
  assert.equal(rx.received.length, 0, 'still inside the 10 s window');
  await clock.advance(10_000);
  p.flush(clock.now());
  await p.deliverDue(clock.now());
  assert.equal(rx.received.length, 1);
  const body = JSON.parse(rx.received[0]!.body);
  assert.equal(body.version, 'vigil.notification/v1');
  assert.equal(body.alerts.length, 50);
  assert.equal(body.title, '[CRITICAL] 50 VMs above 95% CPU in rg-prod');
  const resolved = sampleAlert({ state: 'resolved', resolvedAt: clock.now() });
  p.handle([{ kind: 'resolved', at: clock.now(), alert: resolved, notify: true }], clock.now());
  await clock.advance(10_000);
  p.flush(clock.now());
  await p.deliverDue(clock.now());
  assert.equal(JSON.parse(rx.received[1]!.body).kind, 'resolved');
});

test('routing: rule channels win; else routes by severity and labels; else defaults', () => {
  const clock = new FakeClock();
  const channels = buildChannels(
    { console: {}, file: { path: '/tmp/x.jsonl' }, webhook: { url: 'http://127.0.0.1:1/' } },
    { clock, env: {} },
  );
  const p = new NotificationPipeline({
    channels,
    outbox: new MemoryOutbox(),
    clock,
    routes: [
      { severities: ['critical'], labels: { resource_group: 'rg-prod' }, channels: ['webhook', 'file'] },
      { severities: ['warning'], channels: ['file'] },
    ],
    defaultChannels: ['console'],
  });
  assert.deepEqual(p.route(sampleAlert({ channels: ['console'] })), ['console']);
  assert.deepEqual(p.route(sampleAlert()), ['webhook', 'file']);
  assert.deepEqual(p.route(sampleAlert({ labels: { resource_group: 'rg-dev' } })), ['console']);
  assert.deepEqual(p.route(sampleAlert({ severity: 'warning' })), ['file']);
  assert.throws(
    () => new NotificationPipeline({ channels, outbox: new MemoryOutbox(), clock, defaultChannels: ['pager'] }),
    /unknown channel "pager"/,
  );
});

test('config: seed notification_config loads; unknown channel names fail validation', () => {
  const seed = configSchema.safeParse({
    notification_config: {
      email: {
        enabled: true,
        smtp_host: 'smtp.gmail.com',
        smtp_port: 587,
        from_address: 'alerts@example.com',
        to_addresses: ['admin@example.com'],
      },
      slack: { enabled: false, webhook_url: 'https://hooks.slack.com/services/XXX' },
      webhook: { enabled: false, url: 'https://example.com/alerts' },
    },
  });
  assert.ok(seed.success);
  const chans = buildChannels(seed.data.notification_config, { clock: new FakeClock(), env: {} });
  assert.deepEqual(
    chans.map((c) => c.name),
    ['email'],
  );
  const bad = configSchema.safeParse({
    rules: [{ name: 'r', metric: 'cpu_percent', threshold: 1, notification_channels: ['pagerdty'] }],
  });
  assert.equal(bad.success, false);
  assert.match(JSON.stringify(bad.error?.issues), /unknown notification channel \\"pagerdty\\"/);
});

test('webhook: HMAC-SHA256 signature over timestamp.body verifies; secrets never reach the log', async () => {
  const clock = new FakeClock();
  const rx = await receiver();
  rx.fallback = { status: 500, body: 'token s3cr3t-token-value leaked by server' };
  const outbox = new MemoryOutbox();
  const p = webhookPipeline(rx.url, clock, outbox, {
    secret: 'hmac-shared-secret',
    token: 's3cr3t-token-value',
    headers: { 'x-team': 'ops' },
  });
  p.handle([firedEvent(sampleAlert(), clock.now())], clock.now());
  await p.deliverDue(clock.now());
  const r = rx.received[0]!;
  const ts = String(r.headers['x-vigil-timestamp']);
  const expected = `sha256=${createHmac('sha256', 'hmac-shared-secret').update(`${ts}.${r.body}`).digest('hex')}`;
  assert.equal(r.headers['x-vigil-signature'], expected);
  assert.equal(r.headers.authorization, 'Bearer s3cr3t-token-value');
  assert.equal(r.headers['x-team'], 'ops');
  const log = JSON.stringify(outbox.log({}));
  assert.ok(!log.includes('s3cr3t-token-value'), log);
  assert.match(log, /\*\*\*/);
});

test('SQLite outbox: rows survive reopening; pending rows are resumed and recorded', async () => {
  const clock = new FakeClock();
  const rx = await receiver();
  const dir = await import('node:fs').then((fs) => fs.mkdtempSync('/tmp/vigil-outbox-'));
  const path = `${dir}/o.db`;
  const db1 = new DatabaseSync(path);
  const p1 = webhookPipeline(rx.url, clock, new OutboxRepository(db1));
  p1.handle([firedEvent(sampleAlert(), clock.now())], clock.now());
  db1.close(); // "crash" before any attempt
  const db2 = new DatabaseSync(path);
  const repo = new OutboxRepository(db2);
  assert.deepEqual(repo.counts(), { pending: 1, delivered: 0, failed: 0 });
  const p2 = webhookPipeline(rx.url, clock, repo);
  await p2.deliverDue(clock.now());
  assert.equal(rx.received.length, 1);
  assert.deepEqual(repo.counts(), { pending: 0, delivered: 1, failed: 0 });
  const log = repo.log({});
  assert.equal(log[0]!.attempt, 1);
  assert.equal(log[0]!.statusCode, 200);
  db2.close();
});

test('rate limit: a channel limited to 1/s spaces sends without dropping', async () => {
  const clock = new FakeClock();
  const rx = await receiver();
  const channels = buildChannels({ webhook: { url: rx.url, rate_limit_per_second: 1 } }, { clock, env: {} });
  const outbox = new MemoryOutbox();
  const p = new NotificationPipeline({ channels, outbox, clock, groupWaitMs: 0 });
  p.handle([firedEvent(sampleAlert({ channels: ['webhook'] }), clock.now())], clock.now());
  p.handle([firedEvent(sampleAlert({ vm: 'web-02', channels: ['webhook'] }), clock.now())], clock.now());
  const t0 = clock.now();
  await p.deliverDue(clock.now());
  assert.equal(rx.received.length, 1);
  assert.equal(p.nextWakeAt(), t0 + 1000);
  await clock.advance(500);
  await p.deliverDue(clock.now());
  assert.equal(rx.received.length, 1, 'not before the interval');
  await clock.advance(500);
  await p.deliverDue(clock.now());
  assert.equal(rx.received.length, 2);
  assert.equal(outbox.counts().delivered, 2);
  assert.equal(p.nextWakeAt(), null);
});

test('channels deliver independently: a hanging channel never delays another; close() abandons it, row pending', async () => {
  const slow = await receiver();
  const fast = await receiver();
  slow.fallback = 'hang';
  const channels = buildChannels(
    { slow: { type: 'webhook', url: slow.url, timeout_ms: 4000 }, fast: { type: 'webhook', url: fast.url } },
    { clock: systemClock, env: {} },
  );
  const outbox = new MemoryOutbox();
  const p = new NotificationPipeline({
    channels,
    outbox,
    clock: systemClock,
    defaultChannels: ['slow', 'fast'],
    groupWaitMs: 0,
    closeGraceMs: 200,
  });
  const stop = new AbortController();
  const loop = p.run(stop.signal);
  const waitFor = async (ok: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return ok();
  };
  try {
    // one channel (slow) hangs on every request; the other must get each message at once
    for (const [i, vm] of ['web-01', 'web-02', 'web-03'].entries()) {
      const t0 = Date.now();
      p.handle([firedEvent(sampleAlert({ vm }), Date.now())], Date.now());
      assert.ok(await waitFor(() => fast.received.length === i + 1, 1000), `fast message ${i + 1} arrived`);
      assert.ok(Date.now() - t0 < 1000, `fast message ${i + 1} took ${Date.now() - t0} ms`);
    }
    assert.ok(await waitFor(() => slow.received.length >= 3, 1000), 'the slow channel is attempted in parallel too');
    // A receiver has the message a moment before the pipeline records the answer.
    assert.ok(await waitFor(() => outbox.counts().delivered === 3, 1000), 'the fast deliveries are recorded');
  } finally {
    stop.abort();
    await loop;
    const t0 = Date.now();
    await p.close();
    assert.ok(Date.now() - t0 < 2000, `close() waited ${Date.now() - t0} ms for the hanging channel`);
  }
  // the abandoned attempts are not counted: the slow rows stay pending with no attempt, sent after a restart
  assert.deepEqual(outbox.counts(), { pending: 3, delivered: 3, failed: 0 });
  assert.equal(outbox.log({}).filter((e) => e.channel === 'slow').length, 0);
});

test('grouping window: close() (SIGTERM) writes open groups as rows; a kill inside the window loses nothing', async () => {
  const clock = new FakeClock();
  const rx = await receiver();
  const dir = await import('node:fs').then((fs) => fs.mkdtempSync('/tmp/vigil-outbox-'));
  const path = `${dir}/o.db`;
  const make = (db: DatabaseSync) => {
    const channels = buildChannels({ webhook: { url: rx.url } }, { clock, env: {} });
    return new NotificationPipeline({
      channels,
      outbox: new OutboxRepository(db),
      clock,
      defaultChannels: ['webhook'],
    });
  };
  // SIGTERM: the engine stops the loop and calls close() 2 s into the 10 s window
  const db1 = new DatabaseSync(path);
  const p1 = make(db1);
  p1.handle([firedEvent(sampleAlert({ vm: 'web-01' }), clock.now())], clock.now());
  await clock.advance(2000);
  await p1.close();
  const repo1 = new OutboxRepository(db1);
  assert.deepEqual(repo1.counts(), { pending: 1, delivered: 0, failed: 0 });
  assert.deepEqual(repo1.staged(), []);
  assert.equal(repo1.due(clock.now(), 10)[0]!.batch.alerts[0]!.vm, 'web-01');
  // kill -9 inside the next window: nothing but the staged event is on disk
  const p1b = make(db1);
  p1b.handle([firedEvent(sampleAlert({ vm: 'web-02' }), clock.now())], clock.now());
  p1b.handle([firedEvent(sampleAlert({ vm: 'web-03' }), clock.now())], clock.now());
  db1.close();

  const db2 = new DatabaseSync(path);
  const p2 = make(db2);
  assert.equal(p2.resume(clock.now()), 0, 'the restored group waits out the rest of its window');
  await clock.advance(10_000);
  assert.equal(p2.resume(clock.now()), 1);
  await p2.deliverDue(clock.now());
  const vms = rx.received.map((r) => (JSON.parse(r.body).alerts as { vm: string }[]).map((a) => a.vm));
  assert.deepEqual(vms, [['web-01'], ['web-02', 'web-03']]);
  const repo2 = new OutboxRepository(db2);
  assert.deepEqual(repo2.counts(), { pending: 0, delivered: 2, failed: 0 });
  assert.deepEqual(repo2.staged(), []);
  db2.close();
});

test('sms: the body stays GSM-7 within one 160-septet segment, cut with "..."', () => {
  const long = sampleAlert({ title: `Disk “almost” full – ${'x'.repeat(200)}`, vm: 'wéb-01' });
  const text = smsText({ ...batchOf([long]) });
  assert.ok(text.endsWith('...'), text);
  assert.ok(!text.includes('…'));
  assert.equal(toGsm7(text), text, 'every character is GSM-7');
  assert.ok(gsmSeptets(text) <= 160, `${gsmSeptets(text)} septets`);
  assert.ok(gsmSeptets(text) >= 157, 'uses the segment');
  assert.match(text, /^\[CRITICAL\] Disk "almost" full - x/);
  assert.equal(toGsm7('wéb-01 ‘ok’ 中'), "wéb-01 'ok' ?");
  assert.equal(toGsm7('Crème brûlée'), 'Crème brulée', 'accents GSM lacks are dropped, the rest kept');
  const short = smsText(batchOf([sampleAlert()]));
  assert.equal(short, '[CRITICAL] High CPU Usage - web-01 cpu_percent=97.5');
});

test('sms: one row per recipient; a retry resends only to the recipient that failed', async () => {
  const clock = new FakeClock();
  const rx = await receiver();
  const channels = buildChannels(
    { sms: { account_sid: 'AC1', auth_token: 'tok-123456', from: '+1000', to: ['+1111', '+2222'], url: rx.url } },
    { clock, env: {} },
  );
  const outbox = new MemoryOutbox();
  const p = new NotificationPipeline({
    channels,
    outbox,
    clock,
    defaultChannels: ['sms'],
    groupWaitMs: 0,
    concurrencyPerChannel: 1,
    retry: { jitterRatio: 0 },
  });
  rx.script = [{ status: 200 }, { status: 500 }];
  p.handle([firedEvent(sampleAlert(), clock.now())], clock.now());
  await p.deliverDue(clock.now());
  await clock.advance(1000);
  await p.deliverDue(clock.now());
  const to = rx.received.map((r) => new URLSearchParams(r.body).get('To'));
  assert.deepEqual(to, ['+1111', '+2222', '+2222'], 'the retry went only to +2222');
  assert.deepEqual(outbox.counts(), { pending: 0, delivered: 2, failed: 0 });
});

test('notification_failed respects each channel severity filter: SMS (critical+) and filtered channels skip it', async () => {
  const clock = new FakeClock();
  const rx = await receiver();
  const sms = await receiver();
  const pd = await receiver();
  rx.fallback = { status: 500 };
  const lines: string[] = [];
  const channels = buildChannels(
    {
      webhook: { url: `${rx.url}/hook` },
      sms: { account_sid: 'AC1', auth_token: 'tok-123456', from: '+1', to: ['+2'], url: sms.url },
      pagerduty: { routing_key: 'rk-123456', url: pd.url, severities: ['critical'] },
      console: { color: false },
    },
    { clock, env: {}, stdout: { write: (s: string) => lines.push(s) } },
  );
  const outbox = new MemoryOutbox();
  const p = new NotificationPipeline({ channels, outbox, clock, groupWaitMs: 0, retry: { jitterRatio: 0 } });
  p.handle([firedEvent(sampleAlert({ channels: ['webhook'] }), clock.now())], clock.now());
  for (let i = 0; i < 5; i++) {
    await p.deliverDue(clock.now());
    await clock.advance(5000);
  }
  assert.equal(rx.received.length, 4, 'the default: 4 attempts');
  assert.match(lines.join(''), /\[WARNING\] Notification failed - webhook/, 'the unfiltered channel got it');
  assert.equal(sms.received.length, 0, 'SMS (critical and emergency only) skipped it');
  assert.equal(pd.received.length, 0, 'PagerDuty limited to critical skipped it');
  assert.deepEqual(outbox.counts(), { pending: 0, delivered: 1, failed: 1 });
});

test('subjects: one alert keeps its title; a group states the shared condition; mixed groups count alerts', () => {
  const b = (alerts: Alert[], kind: Batch['kind'] = 'firing'): Batch => ({ ...batchOf(alerts), kind });
  const vms = ['web-01', 'web-02', 'web-03'].map((vm) => sampleAlert({ vm }));
  assert.equal(subject(b([vms[0]!])), '[CRITICAL] High CPU Usage - web-01');
  assert.equal(subject(b(vms)), '[CRITICAL] 3 VMs above 95% CPU in rg-prod');
  const resolved = vms.map((a) => ({ ...a, state: 'resolved' as const }));
  assert.equal(subject(b(resolved, 'resolved')), '[RESOLVED] 3 VMs no longer above 95% CPU in rg-prod');
  const mem = sampleAlert({ vm: 'db-01', rule: 'low_mem', metric: 'memory_percent', comparison: '<', threshold: 10 });
  assert.equal(
    subject(b([mem, { ...mem, vm: 'db-02', fingerprint: 'x' }])),
    '[CRITICAL] 2 VMs below 10% memory in rg-prod',
  );
  const net = { ...mem, rule: 'net', metric: 'network_in_bytes', comparison: '>=' as const, threshold: 1e6 };
  assert.equal(subject(b([net, net])), '[CRITICAL] 2 VMs with network_in_bytes at or above 1000000 in rg-prod');
  const other = sampleAlert({
    vm: 'web-09',
    rule: 'high_disk',
    title: 'Disk Full',
    labels: { resource_group: 'rg-dev' },
  });
  assert.equal(subject(b([vms[0]!, other])), '[CRITICAL] 2 alerts - 2 VMs');
});

test('resolved notifications follow the group; send_resolved: false opts a channel out', async () => {
  const clock = new FakeClock();
  const on = await receiver();
  const off = await receiver();
  const channels = buildChannels(
    { on: { type: 'webhook', url: on.url }, off: { type: 'webhook', url: off.url, send_resolved: false } },
    { clock, env: {} },
  );
  const p = new NotificationPipeline({
    channels,
    outbox: new MemoryOutbox(),
    clock,
    defaultChannels: ['on', 'off'],
    groupWaitMs: 1000,
  });
  const alerts = ['web-01', 'web-02'].map((vm) => sampleAlert({ vm }));
  p.handle(
    alerts.map((a) => firedEvent(a, clock.now())),
    clock.now(),
  );
  await clock.advance(1000);
  p.flush(clock.now());
  await p.deliverDue(clock.now());
  const resolved = alerts.map((a) => ({ ...a, state: 'resolved' as const, resolvedAt: clock.now() }));
  p.handle(
    resolved.map((alert) => ({ kind: 'resolved' as const, at: clock.now(), alert, notify: true })),
    clock.now(),
  );
  await clock.advance(1000);
  p.flush(clock.now());
  await p.deliverDue(clock.now());
  const titles = (rx: TestReceiver) => rx.received.map((r) => JSON.parse(r.body).title);
  assert.deepEqual(titles(on), [
    '[CRITICAL] 2 VMs above 95% CPU in rg-prod',
    '[RESOLVED] 2 VMs no longer above 95% CPU in rg-prod',
  ]);
  assert.deepEqual(titles(off), ['[CRITICAL] 2 VMs above 95% CPU in rg-prod'], 'no resolved message');
});

for (const store of ['memory', 'sqlite'] as const) {
  test(`a firing group is told resolved once, when its last alert resolves; one that fires again leaves it (${store} outbox)`, async () => {
    const clock = new FakeClock();
    const rx = await receiver();
    const outbox =
      store === 'memory'
        ? new MemoryOutbox()
        : new OutboxRepository(
            new DatabaseSync(`${await import('node:fs').then((fs) => fs.mkdtempSync('/tmp/vigil-groups-'))}/o.db`),
          );
    const p = webhookPipeline(rx.url, clock, outbox);
    const [a, b, c] = ['web-01', 'web-02', 'web-03'].map((vm) => sampleAlert({ vm, fingerprint: `fp-${vm}` }));
    const at = () => clock.now();
    const resolved = (x: Alert) => ({ ...x, state: 'resolved' as const, resolvedAt: at() });
    const ev = (kind: 'fired' | 'resolved', alert: Alert, notify = true) => ({ kind, at: at(), alert, notify });
    const titles = async () => {
      await p.deliverDue(at());
      return rx.received.map((r) => JSON.parse(r.body).title as string);
    };
    p.handle([ev('fired', a!), ev('fired', b!), ev('fired', c!)], at());
    assert.deepEqual(await titles(), ['[CRITICAL] 3 VMs above 95% CPU in rg-prod']);
    await clock.advance(60_000);
    p.handle([ev('resolved', resolved(a!))], at());
    await clock.advance(60_000);
    p.handle([ev('resolved', resolved(b!), false)], at()); // silenced: ends its part, told to no one
    assert.equal((await titles()).length, 1, 'nothing while web-03 still fires');
    await clock.advance(60_000);
    p.handle([ev('resolved', resolved(c!))], at());
    assert.deepEqual((await titles()).slice(1), ['[RESOLVED] 2 VMs no longer above 95% CPU in rg-prod']);
    const told = JSON.parse(rx.received[1]!.body).alerts.map((x: { vm: string }) => x.vm);
    assert.deepEqual(told.sort(), ['web-01', 'web-03'], 'the silenced resolution is not told');

    // A new incident: web-01 and web-02 fire; web-01 resolves, then fires again (it leaves the first group);
    // web-02's resolution then completes the first group, told at once; web-01's stays with the second.
    p.handle([ev('fired', a!), ev('fired', b!)], at());
    await clock.advance(60_000);
    p.handle([ev('resolved', resolved(a!))], at());
    await clock.advance(60_000);
    p.handle([{ kind: 'refired', at: at(), alert: a!, notify: true }], at());
    await clock.advance(60_000);
    p.handle([ev('resolved', resolved(b!))], at());
    const all = await titles();
    assert.equal(all.length, 5);
    assert.equal(all[4], '[RESOLVED] High CPU Usage - web-02');
    // An alert that was never in a firing message (fired before this channel tracked groups) is told at once.
    p.handle([ev('resolved', resolved(sampleAlert({ vm: 'db-09', fingerprint: 'fp-db-09' })))], at());
    assert.equal((await titles()).length, 6);
  });
}

test('notify test: the row is leased to the sender, so a running delivery loop on the same outbox never sends it too', async () => {
  const rx = await receiver();
  const dir = await import('node:fs').then((fs) => fs.mkdtempSync('/tmp/vigil-outbox-'));
  const path = `${dir}/o.db`;
  const open = () => {
    const db = new DatabaseSync(path);
    db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000');
    return db;
  };
  const make = (db: DatabaseSync) =>
    new NotificationPipeline({
      channels: buildChannels({ webhook: { url: rx.url } }, { clock: systemClock, env: {} }),
      outbox: new OutboxRepository(db),
      clock: systemClock,
      defaultChannels: ['webhook'],
      groupWaitMs: 0,
    });
  const upDb = open();
  const cliDb = open();
  const up = make(upDb); // a running `vigil up`
  const stop = new AbortController();
  const loop = up.run(stop.signal);
  try {
    rx.script = [{ status: 200, delayMs: 300 }];
    const sent = make(cliDb).sendTest('webhook', Date.now());
    await new Promise((r) => setTimeout(r, 50));
    // the daemon wakes (an alert) while the CLI's attempt is in flight, and looks for due rows
    up.handle([firedEvent(sampleAlert(), Date.now())], Date.now());
    const r = await sent;
    assert.ok(r.ok, r.detail);
    const deadline = Date.now() + 2000;
    while (rx.received.length < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    await new Promise((res) => setTimeout(res, 200));
    const kinds = rx.received.map((x) => JSON.parse(x.body).kind).sort();
    assert.deepEqual(kinds, ['firing', 'test'], 'the test message was sent once, by the CLI');
    const testLog = new OutboxRepository(upDb).log({}).filter((e) => e.kind === 'test');
    assert.deepEqual(
      testLog.map((e) => [e.attempt, e.ok, e.rowStatus]),
      [[1, true, 'delivered']],
      'one attempt, recorded by the CLI, untouched by the loop',
    );
  } finally {
    stop.abort();
    await loop;
    await up.close();
  }
  // a test row whose sender died (lease run out, nothing recorded) is closed as failed, never sent by the loop
  const clock = new FakeClock(Date.now() + 3_600_000);
  const repo = new OutboxRepository(upDb);
  const stray = repo.enqueue(
    { channel: 'webhook', kind: 'test', groupKey: 'webhook/test', idempotencyKey: 'stray', createdAt: 0, alerts: [] },
    Date.now(),
    Date.now() + 600_000,
  );
  const later = new NotificationPipeline({
    channels: buildChannels({ webhook: { url: rx.url } }, { clock, env: {} }),
    outbox: repo,
    clock,
  });
  const before = rx.received.length;
  await later.deliverDue(clock.now());
  assert.equal(rx.received.length, before);
  assert.equal(repo.get(stray.id)?.status, 'failed');
  assert.match(repo.get(stray.id)?.lastError ?? '', /not resent/);
  upDb.close();
  cliDb.close();
});

test('default retries: the first attempt and 3 retries after 1 s, 2 s, 4 s, then failed', async () => {
  const clock = new FakeClock();
  const rx = await receiver();
  rx.fallback = { status: 500 };
  assert.equal(configSchema.parse({}).notifications.retry.max_attempts, DEFAULT_RETRY.maxAttempts, 'config default');
  const p = webhookPipeline(rx.url, clock);
  const t0 = clock.now();
  const at: number[] = [];
  p.handle([firedEvent(sampleAlert(), t0)], t0);
  for (let i = 0; i < 20; i++) {
    const before = rx.received.length;
    await p.deliverDue(clock.now());
    if (rx.received.length > before) at.push(clock.now() - t0);
    await clock.advance(500);
  }
  assert.deepEqual(at, [0, 1000, 3000, 7000]);
  assert.equal(p.nextWakeAt(), null, 'failed after the 4th attempt');
});
