import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { FakeClock } from '../../src/clock.ts';
import { buildChannels } from '../../src/notify/build.ts';
import { chartLineColumns, lineChartPng } from '../../src/notify/chart-png.ts';
import { firedEvent, sampleAlert } from '../../src/notify/fixtures.ts';
import { MemoryOutbox } from '../../src/notify/outbox.ts';
import { NotificationPipeline } from '../../src/notify/pipeline.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-smtp-'));
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ],
  { stdio: 'ignore' },
);

const mails: { raw: Buffer; user: string | undefined; secure: boolean }[] = [];
let port = 0;
const server = new SMTPServer({
  key: readFileSync(join(dir, 'key.pem')),
  cert: readFileSync(join(dir, 'cert.pem')),
  authOptional: false,
  onAuth(auth, _session, cb) {
    if (auth.username === 'vigil' && auth.password === 'smtp-pass-123') return cb(null, { user: auth.username });
    return cb(new Error('Invalid username or password'));
  },
  onData(stream, session, cb) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      mails.push({ raw: Buffer.concat(chunks), user: session.user as string | undefined, secure: session.secure });
      cb();
    });
  },
  logger: false,
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
});
after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const historyCalls: number[] = [];

function pipeline(password: string, logs: string[]) {
  const clock = new FakeClock();
  const channels = buildChannels(
    {
      email: {
        smtp_host: '127.0.0.1',
        smtp_port: port,
        security: 'starttls',
        username: 'vigil',
        password,
        tls_insecure: true,
        from_address: 'alerts@example.com',
        to_addresses: ['admin@example.com', 'oncall@example.com'],
      },
    },
    { clock, env: {} },
  );
  const outbox = new MemoryOutbox();
  const p = new NotificationPipeline({
    channels,
    outbox,
    clock,
    groupWaitMs: 0,
    defaultChannels: ['email'],
    retry: { jitterRatio: 0 },
    log: (_l, m) => logs.push(m),
    history: async (a, now) => {
      historyCalls.push(now);
      return a.vm === 'web-01' ? [40, 55, 70, 90, 97.5] : [];
    },
  });
  return { p, outbox, clock };
}

test('email over STARTTLS with auth: subject, HTML with colour bar and table, text part, PNG chart by cid', async () => {
  const logs: string[] = [];
  const { p, outbox, clock } = pipeline('smtp-pass-123', logs);
  p.handle([firedEvent(sampleAlert(), clock.now())], clock.now());
  await p.deliverDue(clock.now());
  assert.deepEqual(outbox.counts(), { pending: 0, delivered: 1, failed: 0 });
  assert.equal(mails.length, 1);
  assert.equal(mails[0]!.user, 'vigil');
  assert.equal(mails[0]!.secure, true, 'upgraded with STARTTLS');
  const mail = await simpleParser(mails[0]!.raw);
  assert.equal(mail.subject, '[CRITICAL] High CPU Usage - web-01');
  assert.match(String(mail.html), /border-left:8px solid #FF0000/);
  assert.match(String(mail.html), /<td>web-01<\/td><td>cpu_percent<\/td><td>97.50<\/td>/);
  assert.match(mails[0]!.raw.toString('utf8'), /src=3D"cid:chart@vigil"|src="cid:chart@vigil"/);
  assert.match(String(mail.text), /CRITICAL web-01 cpu_percent=97.50 \(> 95\)/);
  const chart = mail.attachments.find((a) => a.cid === 'chart@vigil');
  assert.ok(chart);
  assert.equal(chart.contentType, 'image/png');
  assert.deepEqual([...chart.content.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  assert.equal(chart.content.readUInt32BE(16), 240, 'PNG width from IHDR');
  // the chart draws the metric's history (a line across the width), not the alert's single value (a 5-px dot)
  assert.ok(chartLineColumns(chart.content, '#FF0000') > 200, 'chart line spans the history');
  assert.deepEqual(historyCalls, [outbox.get(1)!.batch.createdAt], 'history read up to the message time');
  assert.equal(outbox.get(1)?.batch.series, undefined, 'history is read at send time, not stored in the row');
  const to = Array.isArray(mail.to) ? mail.to : [mail.to];
  assert.deepEqual(
    to.flatMap((t) => t?.value.map((v) => v.address)),
    ['admin@example.com', 'oncall@example.com'],
  );
});

test('email: a wrong password fails without retry and never shows the password', async () => {
  const logs: string[] = [];
  const { p, outbox, clock } = pipeline('wrong-password-xyz', logs);
  p.handle([firedEvent(sampleAlert(), clock.now())], clock.now());
  await p.deliverDue(clock.now());
  assert.deepEqual(outbox.counts(), { pending: 0, delivered: 0, failed: 1 });
  const all = JSON.stringify(outbox.log({})) + logs.join('\n');
  assert.match(all, /EAUTH|535/);
  assert.ok(!all.includes('wrong-password-xyz'));
});

test('chart: one sample is a dot, a history is a line across the chart', () => {
  assert.equal(chartLineColumns(lineChartPng([97.5], 95, '#FF0000'), '#FF0000'), 5);
  assert.ok(chartLineColumns(lineChartPng([40, 97.5], 95, '#FF0000'), '#FF0000') > 200);
});
