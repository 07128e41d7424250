import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { deriveHostMetrics } from '../prometheus/host-metrics.ts';
import {
  checkHostKey,
  hostKeyAlgorithms,
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
  patternsMatch,
} from './known-hosts.ts';
import { buildCommand, parseReading, shellQuote, splitSections } from './proc.ts';

function output(o: { up: number; user: number; idle: number; sda: number; eth: number; prefix?: string }): string {
  const p = o.prefix ?? '';
  return `@@vigil ${p}uptime
${o.up}.50 1000.00
@@vigil ${p}stat
cpu  ${o.user} 0 100 ${o.idle} 50 0 10 0 7 0
cpu0 ${o.user} 0 100 ${o.idle} 50 0 10 0 7 0
intr 1 2 3
@@vigil ${p}diskstats
   8       0 sda 100 0 ${o.sda} 10 200 0 4000 20 0 30 30
   8       1 sda1 100 0 ${o.sda} 10 200 0 4000 20 0 30 30
   7       0 loop0 5 0 99999 0 0 0 0 0 0 0 0
 253       0 dm-0 1 0 99999 0 0 0 0 0 0 0 0
@@vigil ${p}netdev
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 999999 10 0 0 0 0 0 0 999999 10 0 0 0 0 0 0
  eth0: ${o.eth} 10 0 0 0 0 0 0 ${o.eth * 2} 10 0 0 0 0 0 0
docker0: 5555 10 0 0 0 0 0 0 5555 10 0 0 0 0 0 0
`;
}

const tail = `@@vigil meminfo
MemTotal:        8000000 kB
MemFree:         1000000 kB
MemAvailable:    2000000 kB
Buffers:          100000 kB
@@vigil df
Filesystem     1024-blocks     Used Available Capacity Mounted on
/dev/mapper/vg root   100000    60000     30000      67% /
`;

test('parses /proc and df output into a reading, excluding partitions, loop, dm, lo and docker', () => {
  const r = parseReading(splitSections(output({ up: 100, user: 1000, idle: 5000, sda: 10, eth: 300 }) + tail));
  assert.equal(r.hostTimeSec, 100.5);
  assert.deepEqual(r.cpu, { busy: 1110, total: 6160 });
  assert.deepEqual(r.memory, { totalBytes: 8_192_000_000, availableBytes: 2_048_000_000 });
  assert.deepEqual(r.rootFs, { sizeBytes: 102_400_000, usedBytes: 61_440_000, availBytes: 30_720_000 });
  assert.deepEqual(r.counters.disk_read_bytes, { sda: 5120 });
  assert.deepEqual(r.counters.disk_write_bytes, { sda: 2_048_000 });
  assert.deepEqual(r.counters.network_in_bytes, { eth0: 300 });
  assert.deepEqual(r.counters.network_out_bytes, { eth0: 600 });
});

test('a primed first-contact output yields rates from one round trip', () => {
  const text =
    output({ prefix: 'prime_', up: 100, user: 1000, idle: 5000, sda: 10, eth: 300 }) +
    output({ up: 101, user: 1050, idle: 5050, sda: 30, eth: 1300 }) +
    tail;
  const sections = splitSections(text);
  const m = deriveHostMetrics(parseReading(sections, 'prime_'), parseReading(sections), {
    intervalMs: 60_000,
    elapsedMs: 1000,
  });
  assert.equal(m.cpu_percent, 50);
  assert.equal(m.disk_read_bytes, 20 * 512 * 60);
  assert.equal(m.network_in_bytes, 1000 * 60);
  assert.equal(m.network_out_bytes, 2000 * 60);
  assert.equal(m.memory_percent, 75);
  assert.equal(m.disk_percent, 66.67);
});

test('missing /proc/stat is a clear error', () => {
  assert.throws(() => parseReading(splitSections('@@vigil uptime\n1 2\n')), /is it Linux\?/);
});

test('the command quotes the mount point and primes only when asked', () => {
  assert.equal(shellQuote("/mnt/it's"), `'/mnt/it'\\''s'`);
  assert.ok(!buildCommand('/').includes('sleep'));
  assert.match(buildCommand('/data', 1), /prime_stat.*sleep 1.*df -P -k '\/data'/);
});

test('known_hosts: plain, bracketed port, wildcard, negation, hashed, revoked and mismatch', () => {
  const blob = (type: string, body: Buffer) => {
    const t = Buffer.from(type);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(t.length);
    return Buffer.concat([len, t, body]);
  };
  const key = blob('ssh-ed25519', randomBytes(36));
  const other = blob('ssh-ed25519', randomBytes(36));
  const b64 = key.toString('base64');
  assert.equal(keyTypeOf(key), 'ssh-ed25519');
  assert.equal(knownHostsName('h', 22), 'h');
  assert.equal(knownHostsName('h', 2222), '[h]:2222');
  assert.equal(checkHostKey(`web-1 ssh-ed25519 ${b64}\n`, 'web-1', 22, key), 'match');
  assert.equal(checkHostKey(`[10.0.0.1]:2222 ssh-ed25519 ${b64}`, '10.0.0.1', 2222, key), 'match');
  assert.equal(checkHostKey(`10.0.0.1 ssh-ed25519 ${b64}`, '10.0.0.1', 2222, key), 'unknown');
  assert.equal(checkHostKey(`*.prod,!db.prod ssh-ed25519 ${b64}`, 'web.prod', 22, key), 'match');
  assert.equal(checkHostKey(`*.prod,!db.prod ssh-ed25519 ${b64}`, 'db.prod', 22, key), 'unknown');
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('web-9').digest('base64')}`;
  assert.ok(patternsMatch(hashed, 'web-9'));
  assert.equal(checkHostKey(`${hashed} ssh-ed25519 ${b64}`, 'web-9', 22, key), 'match');
  assert.equal(checkHostKey(`web-1 ssh-ed25519 ${other.toString('base64')}`, 'web-1', 22, key), 'mismatch');
  assert.equal(checkHostKey(`@revoked * ssh-ed25519 ${b64}\nweb-1 ssh-ed25519 ${b64}`, 'web-1', 22, key), 'revoked');
  assert.equal(checkHostKey(`web-1 ssh-rsa AAAA`, 'web-1', 22, key), 'unknown');
});

test('from: azure wiring picks the one azure source, or the named one, with precise errors', async () => {
  const { azureInventory } = await import('./from-azure.ts');
  const { sshSourceSchema } = await import('../../config/sections/sources.ts');
  const fakeAzure = (name: string) =>
    ({ name, type: 'azure', endpoints: async () => [], discover: async () => [], collect: async () => [] }) as never;
  const cfg = (extra: Record<string, unknown>) => sshSourceSchema.parse({ type: 'ssh', key_file: 'k', ...extra });
  assert.deepEqual(azureInventory(cfg({ hosts: [{ host: 'h' }] }), []), {});
  assert.equal(typeof azureInventory(cfg({ from: 'azure' }), [fakeAzure('azure')]).inventory, 'function');
  assert.throws(() => azureInventory(cfg({ from: 'azure' }), []), /needs an azure source/);
  assert.throws(
    () => azureInventory(cfg({ from: 'azure' }), [fakeAzure('a'), fakeAzure('b')]),
    /several azure sources \(a, b\): set azure_source/,
  );
  assert.equal(
    typeof azureInventory(cfg({ from: 'azure', azure_source: 'b' }), [fakeAzure('a'), fakeAzure('b')]).inventory,
    'function',
  );
  assert.throws(
    () => azureInventory(cfg({ from: 'azure', azure_source: 'c' }), [fakeAzure('a')]),
    /azure_source "c" is not an azure source/,
  );
});

test('host key algorithms follow the key types known_hosts holds for the host', () => {
  const text = [
    '[db]:2222 ecdsa-sha2-nistp256 AAAA1',
    'db,web ssh-rsa AAAA2',
    '@revoked db ssh-ed25519 AAAA3',
    '@cert-authority * ssh-ed25519 AAAA4',
    'web ssh-ed25519 AAAA5',
  ].join('\n');
  assert.deepEqual(knownKeyTypes(text, 'db', 2222), ['ecdsa-sha2-nistp256']);
  assert.deepEqual(knownKeyTypes(text, 'db', 22), ['ssh-rsa'], 'revoked and CA lines do not count');
  assert.deepEqual(knownKeyTypes(text, 'web', 22), ['ssh-rsa', 'ssh-ed25519']);
  assert.deepEqual(knownKeyTypes(text, 'new', 22), []);
  assert.deepEqual(hostKeyAlgorithms(['ecdsa-sha2-nistp256']), ['ecdsa-sha2-nistp256']);
  assert.deepEqual(hostKeyAlgorithms(['ssh-rsa', 'ssh-ed25519']), [
    'ssh-ed25519',
    'rsa-sha2-512',
    'rsa-sha2-256',
    'ssh-rsa',
  ]);
  assert.deepEqual(hostKeyAlgorithms([]), []);
});
