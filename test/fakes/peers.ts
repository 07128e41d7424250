// Real peers the end-to-end tests start on 127.0.0.1: an OpenSSH server with a temporary host key and an authorized
// client key, and a Prometheus node_exporter. Both need their Debian packages (installed by .ci/run).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

export const SSHD = '/usr/sbin/sshd';
export const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
export const CHROMIUM = '/usr/bin/chromium';

/**
 * A test's `skip` option when a real peer is missing: a reason on a developer's machine, but never under CI
 * (`CI` set), where .ci/run installs every peer, so a missing install fails loudly instead of passing as skipped.
 */
export function skipWithout(present: boolean, reason: string): string | false {
  return present || process.env.CI ? false : reason;
}

export const sshdSkip = skipWithout(
  existsSync(SSHD) && process.getuid?.() === 0,
  'needs root and /usr/sbin/sshd (Debian openssh-server)',
);
export const exporterSkip = skipWithout(existsSync(NODE_EXPORTER), 'needs prometheus-node-exporter (Debian package)');
export const chromiumSkip = skipWithout(existsSync(CHROMIUM), `needs ${CHROMIUM} (Debian chromium)`);

/** Debian's Chromium, headless, without the background connections this machine's closed network refuses. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** Waits until something on the port sends a first byte (an SSH banner). */
async function waitForBanner(p: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const sock = net.connect(p, '127.0.0.1');
      sock.once('data', () => {
        sock.destroy();
        r(true);
      });
      sock.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`sshd did not start on port ${p}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Sshd {
  readonly dir: string;
  readonly port: number;
  /** `ssh-ed25519 AAAA...` of the (first) host key. */
  readonly hostPub: string;
  /** Every host key's public line, by `ssh-keygen -t` type (`ed25519`, `ecdsa`, `rsa`). */
  readonly hostPubs: Readonly<Record<string, string>>;
  readonly clientKey: string;
  stop(): void;
}

/** `hostKeyTypes`: the host keys sshd offers, in order (default one ed25519 key). */
export async function startSshd(opts: { hostKeyTypes?: readonly string[] } = {}): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-sshd-'));
  const types = opts.hostKeyTypes ?? ['ed25519'];
  const hostKeyFiles = types.map((t, i) => join(dir, i === 0 ? 'host_key' : `host_key_${t}`));
  types.forEach((t, i) => {
    execFileSync('ssh-keygen', ['-q', '-t', t, '-N', '', '-f', hostKeyFiles[i]!]);
  });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim();
  const hostPubs = Object.fromEntries(types.map((t, i) => [t, readFileSync(`${hostKeyFiles[i]}.pub`, 'utf8').trim()]));
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      'ListenAddress 127.0.0.1',
      ...hostKeyFiles.map((f) => `HostKey ${f}`),
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'AllowTcpForwarding yes',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const sshd: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config'), '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  sshd.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  try {
    await waitForBanner(port, 10_000);
  } catch (e) {
    sshd.kill('SIGTERM');
    throw new Error(`${(e as Error).message}: ${stderr}`);
  }
  return { dir, port, hostPub, hostPubs, clientKey: join(dir, 'client_key'), stop: () => sshd.kill('SIGTERM') };
}

export interface NodeExporter {
  readonly port: number;
  stop(): void;
}

export async function startNodeExporter(): Promise<NodeExporter> {
  const port = await freePort();
  const exporter = spawn(
    NODE_EXPORTER,
    [
      `--web.listen-address=127.0.0.1:${port}`,
      // Containers often run on overlay, which node_exporter skips by default: keep it so disk % of / is reported.
      '--collector.filesystem.fs-types-exclude=^(proc|sysfs|tmpfs|devtmpfs|cgroup2?|nsfs|mqueue|devpts)$',
      '--no-collector.textfile',
    ],
    { stdio: 'ignore' },
  );
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > until) {
      exporter.kill('SIGTERM');
      throw new Error('node_exporter did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, stop: () => exporter.kill('SIGTERM') };
}
