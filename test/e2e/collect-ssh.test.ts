// The SSH source against a real OpenSSH server on 127.0.0.1 (temporary host key and authorized key),
// plus a refusing port, a host that accepts TCP but never speaks SSH, and a host key mismatch.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isPhysicalDisk, isPhysicalInterface } from '../../src/collect/prometheus/host-metrics.ts';
import type { CollectContext } from '../../src/collect/source.ts';
import { SshSource } from '../../src/collect/ssh/source.ts';
import { sshSourceSchema } from '../../src/config/sections/sources.ts';
import { freePort, type Sshd, sshdSkip, startSshd } from '../fakes/peers.ts';

const skip = sshdSkip;

let sshdPeer: Sshd | undefined;
let dir: string;
let port: number;
let hostPub: string;
let hang: net.Server;
let hangPort: number;
let refusedPort: number;
const sources: SshSource[] = [];

before(async () => {
  if (skip) return;
  sshdPeer = await startSshd();
  ({ dir, port, hostPub } = sshdPeer);
  // Accepts TCP and never sends an SSH banner.
  hang = net.createServer(() => {});
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  hangPort = (hang.address() as net.AddressInfo).port;
  refusedPort = await freePort();
});

after(async () => {
  for (const s of sources) await s.close();
  sshdPeer?.stop();
  hang?.close();
});

function source(config: Record<string, unknown>, knownHosts: string | null): SshSource {
  const kh = join(dir, `known_hosts_${sources.length}`);
  if (knownHosts !== null) writeFileSync(kh, knownHosts);
  const s = new SshSource(
    sshSourceSchema.parse({
      type: 'ssh',
      user: 'root',
      key_file: join(dir, 'client_key'),
      known_hosts: kh,
      agent: false,
      ...config,
    }),
    { env: { HOME: dir } },
  );
  sources.push(s);
  return s;
}

const ctx = (now: number, timeoutMs = 15_000): CollectContext => ({
  now,
  intervalMs: 60_000,
  signal: AbortSignal.timeout(timeoutMs),
});

test('collects the standard metrics over one reused connection', { skip }, async () => {
  const s = source(
    { hosts: [{ host: '127.0.0.1', port, vm: 'local-1', labels: { resource_group: 'lab' } }] },
    `[127.0.0.1]:${port} ${hostPub}\n`,
  );
  const [target] = await s.discover(ctx(0));
  const t0 = Date.UTC(2026, 10, 22, 12);
  const [first] = await s.collect([target!], ctx(t0));
  assert.equal(first!.error, undefined);
  const m = Object.fromEntries(first!.samples.map((x) => [x.metric, x.value]));
  // This sshd runs on this machine: expect bytes metrics exactly when it has physical disks / interfaces.
  const ifaces = readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]!.trim())
    .filter(Boolean);
  const disks = readFileSync('/proc/diskstats', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[2])
    .filter((d): d is string => !!d);
  const expected = ['cpu_percent', 'memory_percent', 'disk_percent'];
  if (disks.some(isPhysicalDisk)) expected.push('disk_read_bytes', 'disk_write_bytes');
  if (ifaces.some(isPhysicalInterface)) expected.push('network_in_bytes', 'network_out_bytes');
  assert.deepEqual(Object.keys(m).sort(), expected.sort());
  for (const k of ['cpu_percent', 'memory_percent', 'disk_percent']) {
    assert.ok(m[k]! >= 0 && m[k]! <= 100, `${k}=${m[k]}`);
  }
  // Compare disk_percent with this machine's own df (same host).
  const df = execFileSync('df', ['-P', '-k', '/']).toString().trim().split('\n').pop()!.split(/\s+/);
  const expectedDisk = (100 * Number(df[2])) / (Number(df[2]) + Number(df[3]));
  assert.ok(Math.abs(m.disk_percent! - expectedDisk) < 1, `${m.disk_percent} vs ${expectedDisk}`);
  assert.deepEqual(first!.samples[0]!.labels, {
    resource_group: 'lab',
    source: 'ssh',
    tenant: 'default',
    vm: 'local-1',
  });
  const [second] = await s.collect([target!], ctx(t0 + 60_000));
  assert.equal(second!.error, undefined);
  assert.ok(second!.samples.some((x) => x.metric === 'cpu_percent'));
  const stats = s.stats();
  assert.equal(stats.connects, 1);
  assert.equal(stats.reused, 1);
  assert.equal(stats.commands, 2);
  assert.equal(stats.open_connections, 1);
});

test('refused, hanging and mismatched hosts fail alone with clear messages', { skip }, async () => {
  const wrongKey = readFileSync(join(dir, 'client_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const s = source(
    {
      connect_timeout: '2s',
      hosts: [
        { host: '127.0.0.1', port, vm: 'good' },
        { host: '127.0.0.1', port: refusedPort, vm: 'refuses' },
        { host: '127.0.0.1', port: hangPort, vm: 'hangs' },
        { host: 'localhost', port, vm: 'mismatch' },
        // 127.1 is 127.0.0.1 (inet_aton), a name known_hosts has no entry for: the key exchange happens.
        { host: '127.1', port, vm: 'unknown-key' },
      ],
    },
    `[127.0.0.1]:${port} ${hostPub}\n[localhost]:${port} ${wrongKey}\n`,
  );
  const targets = await s.discover(ctx(0));
  const started = Date.now();
  const results = await s.collect(targets, ctx(Date.UTC(2026, 0, 1)));
  const elapsed = Date.now() - started;
  const byVm = Object.fromEntries(results.map((r) => [r.target.vm, r.error ?? 'ok']));
  assert.equal(byVm.good, 'ok');
  assert.equal(byVm.refuses, 'Connection refused');
  assert.equal(byVm.hangs, 'Connection timeout');
  assert.match(
    byVm.mismatch!,
    new RegExp(
      `^Host key mismatch for \\[localhost\\]:${port}: it differs from .*known_hosts_\\d+ \\(possible man-in-the-middle\\)`,
    ),
  );
  assert.match(
    byVm['unknown-key']!,
    new RegExp(
      `^Unknown host key for \\[127\\.1\\]:${port}: add it to .*known_hosts_\\d+ \\(ssh-keyscan\\) or set trust_on_first_use: true$`,
    ),
  );
  assert.ok(elapsed < 10_000, `timeouts bounded (${elapsed} ms)`);
});

test('the cycle timeout aborts a hung connection', { skip }, async () => {
  const s = source({ connect_timeout: '60s', hosts: [{ host: '127.0.0.1', port: hangPort, vm: 'hangs' }] }, '');
  const targets = await s.discover(ctx(0));
  const [r] = await s.collect(targets, ctx(0, 500));
  assert.equal(r!.error, 'Connection timeout');
  assert.equal(s.stats().open_connections, 0);
});

test('unknown host keys are refused unless trust_on_first_use, which remembers them', { skip }, async () => {
  const strict = source({ hosts: [{ host: '127.0.0.1', port, vm: 'x' }] }, '');
  const [r1] = await strict.collect(await strict.discover(ctx(0)), ctx(0));
  assert.match(
    r1!.error!,
    new RegExp(`^Unknown host key for \\[127\\.0\\.0\\.1\\]:${port}: add it to .* or set trust_on_first_use: true$`),
  );

  const tofu = source({ trust_on_first_use: true, hosts: [{ host: '127.0.0.1', port, vm: 'x' }] }, null);
  const [r2] = await tofu.collect(await tofu.discover(ctx(0)), ctx(0));
  assert.equal(r2!.error, undefined);
  const learned = readFileSync(join(dir, `known_hosts_${sources.length - 1}`), 'utf8');
  assert.equal(learned.trim(), `[127.0.0.1]:${port} ${hostPub.split(' ').slice(0, 2).join(' ')}`);
  assert.equal(tofu.stats().host_keys_learned, 1);
});

test('through a jump host', { skip }, async () => {
  const s = source(
    { hosts: [{ host: '127.0.0.1', port, vm: 'behind', jump: { host: '127.0.0.1', port } }] },
    `[127.0.0.1]:${port} ${hostPub}\n`,
  );
  const [r] = await s.collect(await s.discover(ctx(0)), ctx(0));
  assert.equal(r!.error, undefined);
  assert.ok(r!.samples.some((x) => x.metric === 'memory_percent'));
});

test('a missing key file fails at start with a precise message', () => {
  assert.throws(
    () =>
      new SshSource(
        sshSourceSchema.parse({
          type: 'ssh',
          name: 'lab',
          key_file: '/nonexistent/id_ed25519',
          hosts: [{ host: 'h1' }],
        }),
      ),
    { message: 'source lab: hosts[0] (h1): cannot read key_file /nonexistent/id_ed25519 (ENOENT)' },
  );
});

test('from: azure logs in to the VMs the Azure source discovered, at their private IP', { skip }, async () => {
  const { FakeAzure } = await import('../fakes/azure/server.ts');
  const { installFakeAz } = await import('../fakes/azure/az.ts');
  const { AzureSource } = await import('../../src/collect/azure/source.ts');
  const { azureSourceSchema } = await import('../../src/config/sections/sources.ts');
  const fake = await FakeAzure.start({
    subscription: '00000000-1111-2222-3333-444444444444',
    vms: [
      {
        name: 'az-web-1',
        resourceGroup: 'rg-web',
        location: 'eastus',
        size: 'Standard_B2s',
        privateIp: '127.0.0.1',
        publicIp: '203.0.113.9',
      },
      { name: 'az-web-2', resourceGroup: 'rg-web', location: 'eastus', size: 'Standard_B2s', privateIp: '127.0.0.1' },
    ],
  });
  const az = installFakeAz();
  const azure = new AzureSource(
    azureSourceSchema.parse({ type: 'azure', arm_endpoint: fake.armEndpoint, metrics_endpoint: fake.metricsEndpoint }),
    { azEnv: { ...process.env, PATH: `${az.binDir}:${process.env.PATH}` } },
  );
  const kh = join(dir, 'known_hosts_azure');
  writeFileSync(kh, `[127.0.0.1]:${port} ${hostPub}\n`);
  const make = (address: 'private' | 'public') => {
    const s = new SshSource(
      sshSourceSchema.parse({
        type: 'ssh',
        from: 'azure',
        address,
        port,
        connect_timeout: '2s',
        user: 'root',
        key_file: join(dir, 'client_key'),
        known_hosts: kh,
        agent: false,
      }),
      { inventory: (c) => azure.endpoints(c) },
    );
    sources.push(s);
    return s;
  };
  try {
    const s = make('private');
    const targets = await s.discover(ctx(0));
    assert.deepEqual(
      targets.map((t) => [t.vm, t.labels.resource_group, t.labels.source]),
      [
        ['az-web-1', 'rg-web', 'ssh'],
        ['az-web-2', 'rg-web', 'ssh'],
      ],
    );
    const results = await s.collect(targets, ctx(0));
    assert.ok(
      results.every((r) => !r.error && r.samples.some((x) => x.metric === 'disk_percent')),
      results.map((r) => r.error).join(),
    );
    const networkReads = fake.count(/Microsoft\.Network/);
    await s.discover(ctx(0));
    assert.equal(fake.count(/Microsoft\.Network/), networkReads, 'addresses cached until the next Azure discovery');
    const pub = make('public');
    const pubResults = await pub.collect(await pub.discover(ctx(0)), ctx(0));
    const byVm = Object.fromEntries(pubResults.map((r) => [r.target.vm, r.error]));
    assert.equal(byVm['az-web-2'], 'VM has no public IP address in Azure');
    // 203.0.113.9 (TEST-NET-3) is never reached in this sandbox: bounded by the cycle timeout at worst.
    assert.ok(byVm['az-web-1'] !== undefined);
  } finally {
    await azure.close();
    await fake.close();
  }
});

test('from: azure without an azure source is a start-up error', () => {
  assert.throws(() => new SshSource(sshSourceSchema.parse({ type: 'ssh', from: 'azure', key_file: '/etc/hostname' })), {
    message: 'source ssh: from: azure needs an azure source in the same config',
  });
});

test('authenticates through an SSH agent socket', { skip }, async () => {
  const sock = join(dir, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  try {
    const until = Date.now() + 5000;
    while (!existsSync(sock)) {
      if (Date.now() > until) throw new Error('ssh-agent did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
    execFileSync('ssh-add', ['-q', join(dir, 'client_key')], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
    const kh = join(dir, 'known_hosts_agent');
    writeFileSync(kh, `[127.0.0.1]:${port} ${hostPub}\n`);
    const s = new SshSource(
      sshSourceSchema.parse({
        type: 'ssh',
        user: 'root',
        known_hosts: kh,
        hosts: [{ host: '127.0.0.1', port, vm: 'via-agent' }],
      }),
      { env: { HOME: dir, SSH_AUTH_SOCK: sock } },
    );
    sources.push(s);
    const [r] = await s.collect(await s.discover(ctx(0)), ctx(0));
    assert.equal(r!.error, undefined);
    assert.ok(r!.samples.some((x) => x.metric === 'memory_percent'));
  } finally {
    agent.kill('SIGTERM');
  }
});

test('a key the server does not accept is an authentication error', { skip }, async () => {
  const s = source(
    { key_file: join(dir, 'host_key'), hosts: [{ host: '127.0.0.1', port, vm: 'wrong-key' }] },
    `[127.0.0.1]:${port} ${hostPub}\n`,
  );
  const [r] = await s.collect(await s.discover(ctx(0)), ctx(0));
  assert.equal(r!.error, 'SSH authentication failed for root@127.0.0.1');
});

test('the host key type follows known_hosts: a host known only by its ECDSA key, with sshd offering ECDSA and ed25519', {
  skip,
}, async () => {
  const multi = await startSshd({ hostKeyTypes: ['ed25519', 'ecdsa'] });
  try {
    const ecdsa = multi.hostPubs.ecdsa!.split(' ').slice(0, 2).join(' ');
    assert.match(ecdsa, /^ecdsa-sha2-nistp256 /);
    const make = (config: Record<string, unknown>, knownHosts: string) => {
      const kh = join(multi.dir, `known_hosts_${sources.length}`);
      writeFileSync(kh, knownHosts);
      const s = new SshSource(
        sshSourceSchema.parse({
          type: 'ssh',
          user: 'root',
          key_file: multi.clientKey,
          known_hosts: kh,
          agent: false,
          connect_timeout: '5s',
          hosts: [{ host: '127.0.0.1', port: multi.port, vm: 'multi' }],
          ...config,
        }),
        { env: { HOME: multi.dir } },
      );
      sources.push(s);
      return { s, kh };
    };
    const known = `[127.0.0.1]:${multi.port} ${ecdsa}\n`;
    const strict = make({}, known);
    const [r1] = await strict.s.collect(await strict.s.discover(ctx(0)), ctx(0));
    assert.equal(r1!.error, undefined, 'verified against the ECDSA key (ssh2 alone would ask for ed25519)');

    // Trust on first use: the host is known (ECDSA), so its ed25519 key is not learned; the ECDSA key is verified.
    const tofu = make({ trust_on_first_use: true }, known);
    const [r2] = await tofu.s.collect(await tofu.s.discover(ctx(0)), ctx(0));
    assert.equal(r2!.error, undefined);
    assert.equal(readFileSync(tofu.kh, 'utf8'), known, 'nothing learned');
    assert.equal(tofu.s.stats().host_keys_learned, 0);

    // A different ECDSA key on record: a mismatch, even with trust on first use (never learned as a new type).
    const otherDir = mkdtempSync(join(tmpdir(), 'vigil-other-key-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', join(otherDir, 'k')]);
    const otherEcdsa = readFileSync(join(otherDir, 'k.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    const wrong = make({ trust_on_first_use: true }, `[127.0.0.1]:${multi.port} ${otherEcdsa}\n`);
    const [r3] = await wrong.s.collect(await wrong.s.discover(ctx(0)), ctx(0));
    assert.match(r3!.error!, /^Host key mismatch for \[127\.0\.0\.1\]:\d+: it differs from /);
    assert.equal(wrong.s.stats().host_keys_learned, 0);

    // Known only by a key type the server does not offer (RSA): refused with a clear reason, nothing learned.
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', join(otherDir, 'r')]);
    const rsa = readFileSync(join(otherDir, 'r.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    const rsaOnly = make({ trust_on_first_use: true }, `[127.0.0.1]:${multi.port} ${rsa}\n`);
    const [r4] = await rsaOnly.s.collect(await rsaOnly.s.discover(ctx(0)), ctx(0));
    assert.match(r4!.error!, /^Host \[127\.0\.0\.1\]:\d+ offers none of the key types .* knows it by \(ssh-rsa\)/);
    assert.equal(readFileSync(rsaOnly.kh, 'utf8'), `[127.0.0.1]:${multi.port} ${rsa}\n`);
  } finally {
    multi.stop();
  }
});

test('from: azure through a source-level jump host', { skip }, async () => {
  const { FakeAzure } = await import('../fakes/azure/server.ts');
  const { installFakeAz } = await import('../fakes/azure/az.ts');
  const { AzureSource } = await import('../../src/collect/azure/source.ts');
  const { azureSourceSchema } = await import('../../src/config/sections/sources.ts');
  const fake = await FakeAzure.start({
    subscription: '00000000-1111-2222-3333-444444444444',
    vms: [
      { name: 'az-db-1', resourceGroup: 'rg-db', location: 'eastus', size: 'Standard_B2s', privateIp: '127.0.0.1' },
    ],
  });
  const az = installFakeAz();
  const azure = new AzureSource(
    azureSourceSchema.parse({ type: 'azure', arm_endpoint: fake.armEndpoint, metrics_endpoint: fake.metricsEndpoint }),
    { azEnv: { ...process.env, PATH: `${az.binDir}:${process.env.PATH}` } },
  );
  const kh = join(dir, 'known_hosts_azure_jump');
  writeFileSync(kh, `[127.0.0.1]:${port} ${hostPub}\n`);
  const make = (jumpPort: number) => {
    const s = new SshSource(
      sshSourceSchema.parse({
        type: 'ssh',
        from: 'azure',
        port,
        connect_timeout: '2s',
        user: 'root',
        key_file: join(dir, 'client_key'),
        known_hosts: kh,
        agent: false,
        jump: { host: '127.0.0.1', port: jumpPort },
      }),
      { inventory: (c) => azure.endpoints(c) },
    );
    sources.push(s);
    return s;
  };
  try {
    const s = make(port);
    const [r] = await s.collect(await s.discover(ctx(0)), ctx(0));
    assert.equal(r!.error, undefined);
    assert.equal(r!.target.vm, 'az-db-1');
    assert.ok(r!.samples.some((x) => x.metric === 'disk_percent'));
    // The jump is really used: a jump host that refuses makes the (directly reachable) VM fail.
    const broken = make(refusedPort);
    const [b] = await broken.collect(await broken.discover(ctx(0)), ctx(0));
    assert.equal(b!.error, 'Connection refused');
  } finally {
    await azure.close();
    await fake.close();
  }
});

test('a source-level jump without from: azure is a config error', () => {
  const r = sshSourceSchema.safeParse({ type: 'ssh', hosts: [{ host: 'h1' }], jump: { host: 'bastion' } });
  assert.equal(r.success, false);
  assert.match(r.error!.issues[0]!.message, /jump at the source level is for from: azure/);
});
