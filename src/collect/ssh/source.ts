/**
 * The `ssh` source: agentless collection over SSH. One command per VM per cycle reads /proc and `df -P`;
 * connections are kept open between cycles; host keys are checked against known_hosts.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { Client, type ConnectConfig } from 'ssh2';
import type { SshSourceConfig } from '../../config/sections/sources.ts';
import type { Labels, Sample } from '../../model/index.ts';
import { deriveHostMetrics, type HostReading } from '../prometheus/host-metrics.ts';
import type { CollectContext, Source, Target, TargetResult } from '../source.ts';
import { hostKeyAlgorithms, KnownHosts, keyTypeOf, knownHostsName } from './known-hosts.ts';
import { buildCommand, parseReading, splitSections } from './proc.ts';

export interface SshSourceOptions {
  /** Resolves relative key and known_hosts paths (default: the current directory). */
  readonly baseDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Seconds the first-contact command waits between its two counter reads (default 1; 0 = off). */
  readonly primeSec?: number;
  /** With `from: azure`: the VMs the Azure source discovered, with their IPs (wired by the composition root). */
  readonly inventory?: (ctx: CollectContext) => Promise<readonly InventoryVm[]>;
}

/** A VM found by another source, to be reached over SSH. */
export interface InventoryVm {
  readonly vm: string;
  readonly labels: Labels;
  readonly privateIp: string | null;
  readonly publicIp: string | null;
}

interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly privateKey?: Buffer;
  readonly agent?: string;
}

interface HostPlan {
  readonly target: Target;
  readonly endpoint: Endpoint;
  readonly jump?: Endpoint;
  /** Why this VM cannot be reached (e.g. no public IP); collection fails with it. */
  readonly unreachable?: string;
}

interface Connection {
  readonly client: Client;
  jump?: Client;
  ready: Promise<void>;
  closed: boolean;
  /** The SSH session is up (handshake and authentication done). */
  established: boolean;
}

interface Previous {
  readonly reading: HostReading;
  readonly at: number;
}

/** A failure with a short, user-facing reason. */
class SshError extends Error {}

export class SshSource implements Source {
  readonly name: string;
  readonly type = 'ssh';
  private readonly config: SshSourceConfig;
  private readonly plans = new Map<string, HostPlan>();
  /** Plans from the inventory (`from: azure`), replaced at each discovery. */
  private inventoryPlans = new Map<string, HostPlan>();
  private readonly inventory: SshSourceOptions['inventory'];
  private readonly defaultEndpoint: ((host: string, where: string) => Endpoint) | null;
  /** With `from: azure`: the source-level jump host for the discovered VMs. */
  private readonly inventoryJump: Endpoint | undefined;
  private readonly connections = new Map<string, Connection>();
  private readonly previous = new Map<string, Previous>();
  private readonly knownHosts: KnownHosts;
  private readonly primeSec: number;
  private counts = { targets: 0, successes: 0, failures: 0, connects: 0, reused: 0, commands: 0, host_keys_learned: 0 };

  /** Reads key files now, so a missing or unreadable key fails at start with a precise message. */
  constructor(config: SshSourceConfig, opts: SshSourceOptions = {}) {
    this.config = config;
    this.name = config.name ?? 'ssh';
    this.primeSec = opts.primeSec ?? 1;
    const env = opts.env ?? process.env;
    const baseDir = opts.baseDir ?? process.cwd();
    const path = (p: string) => resolve(baseDir, p.startsWith('~/') ? `${env.HOME ?? homedir()}/${p.slice(2)}` : p);
    this.knownHosts = new KnownHosts(path(config.known_hosts));
    const keys = new Map<string, Buffer>();
    const readKey = (file: string, where: string): Buffer => {
      const full = path(file);
      let key = keys.get(full);
      if (!key) {
        try {
          key = readFileSync(full);
        } catch (e) {
          throw new Error(
            `source ${this.name}: ${where}: cannot read key_file ${full} (${(e as NodeJS.ErrnoException).code})`,
          );
        }
        keys.set(full, key);
      }
      return key;
    };
    const endpoint = (
      e: { host: string; port: number; user?: string; key_file?: string; agent?: boolean | string },
      where: string,
    ): Endpoint => {
      const keyFile = e.key_file ?? config.key_file;
      const agentSetting = e.agent ?? config.agent;
      const agent =
        typeof agentSetting === 'string' ? agentSetting : agentSetting === false ? undefined : env.SSH_AUTH_SOCK;
      if (!keyFile && !agent) {
        throw new Error(
          `source ${this.name}: ${where}: no key_file and no SSH agent (set key_file, or agent with SSH_AUTH_SOCK)`,
        );
      }
      const user = e.user ?? config.user ?? env.USER ?? 'root';
      return {
        host: e.host,
        port: e.port,
        user,
        ...(keyFile ? { privateKey: readKey(keyFile, where) } : {}),
        ...(agent ? { agent } : {}),
      };
    };
    this.inventory = opts.inventory;
    if (config.from === 'azure' && !opts.inventory) {
      throw new Error(`source ${this.name}: from: azure needs an azure source in the same config`);
    }
    this.defaultEndpoint =
      config.from === 'azure' ? (host, where) => endpoint({ host, port: config.port }, where) : null;
    // Check the default credentials now (a bad key_file fails at start, not at the first discovery).
    this.defaultEndpoint?.('azure-vm', 'from: azure');
    this.inventoryJump = config.jump ? endpoint(config.jump, 'jump') : undefined;
    config.hosts.forEach((h, i) => {
      const where = `hosts[${i}] (${h.host})`;
      const ep = endpoint(h, where);
      const vm = h.vm ?? h.host;
      const address = `${ep.user}@${knownHostsName(h.host, h.port)}`;
      if (this.plans.has(address)) throw new Error(`source ${this.name}: ${where}: listed twice`);
      this.plans.set(address, {
        target: {
          vm,
          address,
          labels: { ...config.labels, ...h.labels, source: this.name, tenant: config.tenant },
        },
        endpoint: ep,
        ...(h.jump ? { jump: endpoint(h.jump, `${where} jump`) } : {}),
      });
    });
  }

  async discover(ctx: CollectContext): Promise<Target[]> {
    if (this.inventory && this.defaultEndpoint) {
      const next = new Map<string, HostPlan>();
      for (const v of await this.inventory(ctx)) {
        const ip = this.config.address === 'public' ? v.publicIp : v.privateIp;
        const address = `azure:${v.vm}`;
        if (this.plans.has(address) || next.has(address)) continue;
        const target: Target = {
          vm: v.vm,
          address,
          labels: { ...v.labels, ...this.config.labels, source: this.name, tenant: this.config.tenant },
        };
        const endpoint = this.defaultEndpoint(ip ?? '0.0.0.0', `azure VM ${v.vm}`);
        if (this.inventoryPlans.get(address)?.endpoint.host !== endpoint.host) this.drop(address); // the IP changed
        next.set(address, {
          target,
          endpoint,
          ...(this.inventoryJump ? { jump: this.inventoryJump } : {}),
          ...(ip ? {} : { unreachable: `VM has no ${this.config.address} IP address in Azure` }),
        });
      }
      for (const key of this.inventoryPlans.keys()) {
        if (!next.has(key)) {
          this.drop(key);
          this.previous.delete(key);
        }
      }
      this.inventoryPlans = next;
    }
    const targets = [...this.plans.values(), ...this.inventoryPlans.values()].map((p) => p.target);
    this.counts.targets = targets.length;
    return targets;
  }

  async collect(targets: readonly Target[], ctx: CollectContext): Promise<TargetResult[]> {
    return Promise.all(targets.map((t) => this.collectOne(t, ctx)));
  }

  stats(): Record<string, number> {
    return { ...this.counts, open_connections: [...this.connections.values()].filter((c) => !c.closed).length };
  }

  async close(): Promise<void> {
    for (const key of [...this.connections.keys()]) this.drop(key, true);
  }

  private async collectOne(target: Target, ctx: CollectContext): Promise<TargetResult> {
    const plan = this.plans.get(target.address ?? '') ?? this.inventoryPlans.get(target.address ?? '');
    if (!plan) return this.fail(target, 'host is not in the ssh inventory');
    if (plan.unreachable) return this.fail(target, plan.unreachable);
    const key = target.address!;
    try {
      const prev = this.previous.get(key);
      const primeSec = prev ? 0 : this.primeSec;
      const output = await this.withTimeout(ctx.signal, key, async () => {
        const conn = await this.connection(plan, key);
        return this.exec(conn.client, buildCommand(this.config.mount, primeSec));
      });
      const sections = splitSections(output);
      const reading = parseReading(sections);
      const before = prev?.reading ?? (primeSec > 0 ? parseReading(sections, 'prime_') : undefined);
      const elapsedMs = prev ? ctx.now - prev.at : primeSec * 1000;
      this.previous.set(key, { reading, at: ctx.now });
      const derived = deriveHostMetrics(before, reading, { intervalMs: ctx.intervalMs, elapsedMs });
      const labels: Labels = { ...target.labels, vm: target.vm };
      const samples: Sample[] = Object.entries(derived).map(([metric, value]) => ({
        metric,
        labels,
        ts: ctx.now,
        value,
      }));
      this.counts.successes++;
      return { target, samples };
    } catch (e) {
      // A connection that failed a command may be half-dead: start afresh next cycle.
      if ((e as Error).name !== 'ProcParseError') this.drop(key);
      return this.fail(target, e instanceof SshError ? e.message : describeSshError(e as Error, plan.endpoint));
    }
  }

  private fail(target: Target, error: string): TargetResult {
    this.counts.failures++;
    return { target, samples: [], error };
  }

  /** Runs `fn`, dropping the connection and failing with "Connection timeout" if the cycle's signal aborts first. */
  private withTimeout<T>(signal: AbortSignal, key: string, fn: () => Promise<T>): Promise<T> {
    if (signal.aborted) return Promise.reject(new SshError('Connection timeout'));
    return new Promise<T>((resolvePromise, reject) => {
      const onAbort = () => {
        this.drop(key);
        reject(new SshError('Connection timeout'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      fn().then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolvePromise(v);
        },
        (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  /**
   * Forgets a connection. `graceful` (shutdown) says goodbye on established sessions; otherwise, and for sessions
   * still in their handshake, the socket is destroyed at once (a peer that never answers would keep a half-closed
   * socket open forever).
   */
  private drop(key: string, graceful = false): void {
    const conn = this.connections.get(key);
    if (!conn) return;
    this.connections.delete(key);
    conn.closed = true;
    for (const c of [conn.client, conn.jump]) {
      if (!c) continue;
      if (graceful && conn.established) c.end();
      else c.destroy();
    }
  }

  private async connection(plan: HostPlan, key: string): Promise<Connection> {
    const existing = this.connections.get(key);
    if (existing && !existing.closed) {
      await existing.ready;
      this.counts.reused++;
      return existing;
    }
    this.counts.connects++;
    const client = new Client();
    const conn: Connection = { client, ready: Promise.resolve(), closed: false, established: false };
    this.connections.set(key, conn);
    conn.ready = (async () => {
      let sock: Duplex | undefined;
      if (plan.jump) {
        const jump = new Client();
        conn.jump = jump;
        await this.handshake(jump, plan.jump);
        sock = await new Promise<Duplex>((res, rej) =>
          jump.forwardOut('127.0.0.1', 0, plan.endpoint.host, plan.endpoint.port, (err, stream) =>
            err
              ? rej(
                  new SshError(
                    `jump host ${plan.jump!.host} could not reach ${plan.endpoint.host}:${plan.endpoint.port} (${err.message})`,
                  ),
                )
              : res(stream),
          ),
        );
      }
      await this.handshake(client, plan.endpoint, sock);
      conn.established = true;
    })();
    const ready = conn.ready;
    const onGone = () => {
      conn.closed = true;
      if (this.connections.get(key) === conn) this.connections.delete(key);
    };
    client.on('close', onGone);
    client.on('end', onGone);
    try {
      await ready;
    } catch (e) {
      this.drop(key);
      throw e;
    }
    return conn;
  }

  private handshake(client: Client, ep: Endpoint, sock?: Duplex): Promise<void> {
    let keyProblem: SshError | null = null;
    // Ask only for the key types known_hosts holds for this host (ssh2 would prefer ed25519, and a host known by its
    // ECDSA or RSA key would then look unknown, or be learned anew under trust-on-first-use).
    const knownTypes = this.knownHosts.keyTypes(ep.host, ep.port);
    const algorithms = hostKeyAlgorithms(knownTypes);
    const name = knownHostsName(ep.host, ep.port);
    const config: ConnectConfig = {
      host: ep.host,
      port: ep.port,
      username: ep.user,
      readyTimeout: this.config.connect_timeout,
      keepaliveInterval: 30_000,
      keepaliveCountMax: 3,
      ...(ep.privateKey ? { privateKey: ep.privateKey } : {}),
      ...(ep.agent ? { agent: ep.agent } : {}),
      ...(sock ? { sock } : {}),
      ...(algorithms.length > 0 ? { algorithms: { serverHostKey: algorithms } } : {}),
      hostVerifier: (key: Buffer) => {
        const verdict = this.knownHosts.check(ep.host, ep.port, key);
        if (verdict === 'match') return true;
        if (verdict === 'unknown' && knownTypes.length > 0) {
          // Known by other key types only: never learned anew, even under trust-on-first-use.
          keyProblem = new SshError(
            `Host key of ${name} is a ${keyTypeOf(key)} key, but ${this.knownHosts.path} knows it only by ${knownTypes.join(', ')}: refusing it`,
          );
          return false;
        }
        if (verdict === 'unknown' && this.config.trust_on_first_use) {
          this.knownHosts.add(ep.host, ep.port, key);
          this.counts.host_keys_learned++;
          return true;
        }
        keyProblem = new SshError(
          verdict === 'mismatch'
            ? `Host key mismatch for ${name}: it differs from ${this.knownHosts.path} (possible man-in-the-middle); if the host was rebuilt, run ssh-keygen -R '${name}'`
            : verdict === 'revoked'
              ? `Host key of ${name} is marked @revoked in ${this.knownHosts.path}`
              : `Unknown host key for ${name}: add it to ${this.knownHosts.path} (ssh-keyscan) or set trust_on_first_use: true`,
        );
        return false;
      },
    };
    return new Promise<void>((res, rej) => {
      const onError = (err: Error) => {
        cleanup();
        if (!keyProblem && knownTypes.length > 0 && /no matching host key format/i.test(err.message)) {
          keyProblem = new SshError(
            `Host ${name} offers none of the key types ${this.knownHosts.path} knows it by (${knownTypes.join(', ')}): possible man-in-the-middle, or the host was rebuilt (ssh-keygen -R '${name}')`,
          );
        }
        rej(keyProblem ?? err);
      };
      const onReady = () => {
        cleanup();
        res();
      };
      const cleanup = () => {
        client.off('error', onError);
        client.off('ready', onReady);
        // Later errors (a dropped connection) surface on the next exec; keep a listener so they never crash Vigil.
        client.on('error', () => {});
      };
      client.once('error', onError);
      client.once('ready', onReady);
      client.connect(config);
    });
  }

  private exec(client: Client, command: string): Promise<string> {
    this.counts.commands++;
    return new Promise<string>((res, rej) => {
      client.exec(command, (err, stream) => {
        if (err) {
          rej(err);
          return;
        }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | null = null;
        stream.on('data', (d: Buffer) => out.push(d));
        stream.stderr.on('data', (d: Buffer) => errOut.push(d));
        stream.on('exit', (c: number | null) => {
          code = c;
        });
        stream.on('close', () => {
          const stdout = Buffer.concat(out).toString('utf8');
          if (code !== 0 && !stdout.includes('@@vigil df')) {
            const msg = Buffer.concat(errOut).toString('utf8').trim().split('\n')[0] ?? '';
            rej(new SshError(`remote command failed (exit ${code})${msg ? `: ${msg.slice(0, 160)}` : ''}`));
            return;
          }
          res(stdout);
        });
      });
    });
  }
}

/** The short reason a VM shows for an SSH failure. */
export function describeSshError(e: Error & { code?: string; level?: string }, ep: Endpoint): string {
  const msg = e.message ?? '';
  if (e.code === 'ECONNREFUSED') return 'Connection refused';
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return `Host not found: ${ep.host}`;
  if (e.code === 'ETIMEDOUT' || /Timed out while waiting for handshake/i.test(msg)) return 'Connection timeout';
  if (e.code === 'ECONNRESET') return 'Connection reset';
  if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') return 'Host unreachable';
  if (e.level === 'client-authentication' || /authentication methods failed/i.test(msg)) {
    return `SSH authentication failed for ${ep.user}@${ep.host}`;
  }
  if (/Cannot parse privateKey|Encrypted private OpenSSH key/i.test(msg)) return `unusable private key: ${msg}`;
  if (e.name === 'ProcParseError') return msg;
  return msg || 'Unknown error';
}
