// The collectors' and notifications' "done when", end to end: `vigil up` pointed at the Azure fake (HTTPS, fake
// `az`), a real sshd and a real node_exporter collects all three into the store every interval, and an alert on
// those VMs is delivered to a real SMTP server (STARTTLS) and to local Slack and webhook receivers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { chartLineColumns } from '../../src/notify/chart-png.ts';
import { TestReceiver } from '../../src/notify/test-receiver.ts';
import { openStore } from '../../src/store/open.ts';
import { installFakeAz } from '../fakes/azure/az.ts';
import { FAKE_SIZES, FakeAzure } from '../fakes/azure/server.ts';
import { makeTestCert } from '../fakes/azure/tls.ts';
import { exporterSkip, type NodeExporter, type Sshd, sshdSkip, startNodeExporter, startSshd } from '../fakes/peers.ts';

const bin = fileURLToPath(new URL('../../bin/vigil.js', import.meta.url));
const SUB = '00000000-1111-2222-3333-444444444444';
const skip = sshdSkip || exporterSkip;

describe('vigil up with Azure, SSH and Prometheus sources and three notification channels', { skip }, () => {
  let dir: string;
  let azure: FakeAzure;
  let sshd: Sshd;
  let exporter: NodeExporter;
  let smtp: SMTPServer;
  let smtpPort: number;
  const mails: Buffer[] = [];
  const slack = new TestReceiver();
  const webhook = new TestReceiver();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-up-full-'));
    const cert = makeTestCert();
    writeFileSync(join(dir, 'ca.pem'), cert.cert);
    const size = Object.keys(FAKE_SIZES)[0]!;
    azure = await FakeAzure.start({
      subscription: SUB,
      vms: ['az-web-01', 'az-web-02', 'az-db-01'].map((name) => ({
        name,
        resourceGroup: 'rg-az',
        location: 'eastus',
        size,
      })),
      tls: { key: cert.key, cert: cert.cert },
    });
    sshd = await startSshd();
    exporter = await startNodeExporter();
    smtp = new SMTPServer({
      key: cert.key,
      cert: cert.cert,
      onAuth: (auth, _s, cb) =>
        auth.username === 'vigil' && auth.password === 'smtp-secret-9'
          ? cb(null, { user: 'vigil' })
          : cb(new Error('bad auth')),
      onData(stream, _session, cb) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push(Buffer.concat(chunks));
          cb();
        });
      },
      logger: false,
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    smtpPort = (smtp.server.address() as { port: number }).port;
    await slack.start();
    await webhook.start();
    writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${sshd.port} ${sshd.hostPub}\n`);
    const az = installFakeAz();
    writeFileSync(
      join(dir, 'vigil.yaml'),
      `storage:
  path: ./metrics.db
collection:
  interval: 10s
  timeout: 20s
sources:
  - type: azure
    subscription_id: "${SUB}"
    arm_endpoint: ${azure.armEndpoint}
    metrics_endpoint: ${azure.metricsEndpoint}
    az_path: ${az.azPath}
    ca_file: ${join(dir, 'ca.pem')}
  - type: ssh
    user: root
    key_file: ${sshd.clientKey}
    known_hosts: ${join(dir, 'known_hosts')}
    agent: false
    hosts:
      - { host: 127.0.0.1, port: ${sshd.port}, vm: ssh-host-01 }
  - type: prometheus
    targets:
      - { target: "127.0.0.1:${exporter.port}", vm: prom-host-01 }
server:
  port: 0
rules:
  - name: high_cpu_seen
    metric: cpu_percent
    threshold: 0
    comparison: ">="
    for: 5s
    severity: critical
    match: { vm: ssh-host-01 }
    notification_channels: [email, slack, webhook]
notifications:
  group_wait_ms: 500
notification_config:
  email:
    smtp_host: 127.0.0.1
    smtp_port: ${smtpPort}
    security: starttls
    username: vigil
    password: \${SMTP_PASSWORD}
    tls_insecure: true
    from_address: vigil@example.com
    to_addresses: [ops@example.com]
  slack:
    webhook_url: ${slack.url}/services/T000/B000/XXXX
  webhook:
    url: ${webhook.url}/hook
`,
    );
  });

  after(async () => {
    sshd?.stop();
    exporter?.stop();
    await azure?.close();
    await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    await slack.stop();
    await webhook.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('collects every source each interval, alerts, and delivers to email, Slack and the webhook', async () => {
    const child = spawn(process.execPath, [bin, 'up'], {
      cwd: dir,
      env: { HOME: dir, PATH: process.env.PATH ?? '', SMTP_PASSWORD: 'smtp-secret-9' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    const until = async (ok: () => boolean, what: string, ms = 45_000) => {
      const deadline = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`timed out waiting for ${what}:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await until(() => /cycle 2: 5 VMs, 5 ok, 0 failed/.test(out), 'two cycles with all five VMs collected');
      await until(() => mails.length > 0 && slack.received.length > 0 && webhook.received.length > 0, 'deliveries');
      const mail = await simpleParser(mails[0]!);
      assert.match(mail.subject ?? '', /^\[CRITICAL\] .*ssh-host-01/);
      assert.match(mail.text ?? '', /ssh-host-01/);
      // fired on the second cycle (for: 5s), so the chart draws the stored history (>= 2 samples): a line
      // across the chart, not the single dot of the alert's current value
      const chart = mail.attachments.find((a) => a.cid === 'chart@vigil');
      assert.ok(chart, 'chart attached');
      assert.ok(chartLineColumns(chart.content, '#FF0000') > 100, 'chart drawn from more than one sample');
      assert.match(slack.received[0]!.body, /ssh-host-01/);
      const hook = JSON.parse(webhook.received[0]!.body) as Record<string, unknown>;
      assert.match(JSON.stringify(hook), /high_cpu_seen/);
      assert.doesNotMatch(out, /smtp-secret-9/, 'the SMTP password never appears in the log');
      child.kill('SIGTERM');
      assert.equal(await exited, 0, out);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const store = await openStore({ path: join(dir, 'metrics.db') });
    const vms = (await store.listVms()).map((v) => [v.vm, v.labels.source, v.lastOutcome?.success]).sort();
    assert.deepEqual(vms, [
      ['az-db-01', 'azure', true],
      ['az-web-01', 'azure', true],
      ['az-web-02', 'azure', true],
      ['prom-host-01', 'prometheus', true],
      ['ssh-host-01', 'ssh', true],
    ]);
    for (const vm of ['az-web-01', 'ssh-host-01', 'prom-host-01']) {
      const cpu = await store.latest({ metric: 'cpu_percent', matchers: [{ name: 'vm', op: '=', value: vm }] });
      assert.equal(cpu.length, 1, `${vm} has CPU samples`);
    }
    const outcomes = await store.outcomes({ vm: 'ssh-host-01', from: 0, to: Date.now() });
    assert.ok(outcomes.length >= 2, 'collected every interval');
    await store.close();
  });
});
