/**
 * OpenSSH `known_hosts` checking: plain and hashed (`|1|salt|hmac`) host patterns, `[host]:port` for other ports,
 * wildcards and negation, `@revoked` markers. Keys compare as their wire-format blobs.
 */
import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ServerHostKeyAlgorithm } from 'ssh2';

export type HostKeyVerdict = 'match' | 'mismatch' | 'unknown' | 'revoked';

interface Entry {
  readonly marker: '' | '@revoked' | '@cert-authority';
  readonly patterns: string;
  readonly keyType: string;
  readonly keyBase64: string;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type inside a public key blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, ...). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

function parse(text: string): Entry[] {
  const entries: Entry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    let marker: Entry['marker'] = '';
    if (parts[0] === '@revoked' || parts[0] === '@cert-authority') marker = parts.shift() as Entry['marker'];
    if (parts.length < 3) continue;
    entries.push({ marker, patterns: parts[0]!, keyType: parts[1]!, keyBase64: parts[2]! });
  }
  return entries;
}

function globToRegExp(glob: string): RegExp {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i');
}

/** Does a host-pattern list (comma-separated, with `!negations` and hashed entries) match `name`? */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const p of patterns.split(',')) {
    if (p.startsWith('!')) {
      if (globToRegExp(p.slice(1)).test(name)) return false;
    } else if (globToRegExp(p).test(name)) {
      matched = true;
    }
  }
  return matched;
}

/** Checks a host's key against the known_hosts text. */
export function checkHostKey(text: string, host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const b64 = key.toString('base64');
  const type = keyTypeOf(key);
  let sameTypeOther = false;
  let matched = false;
  for (const e of parse(text)) {
    if (e.marker === '@cert-authority' || !patternsMatch(e.patterns, name)) continue;
    if (e.marker === '@revoked') {
      if (e.keyBase64 === b64) return 'revoked';
      continue;
    }
    if (e.keyBase64 === b64) matched = true;
    else if (e.keyType === type) sameTypeOther = true;
  }
  if (matched) return 'match';
  // A known host offering a key of a type we have no entry for is "unknown" (as OpenSSH treats it), not a mismatch.
  return sameTypeOther ? 'mismatch' : 'unknown';
}

/** The key types known_hosts holds for a host (plain entries only: not revoked, not CA), in file order. */
export function knownKeyTypes(text: string, host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const out: string[] = [];
  for (const e of parse(text)) {
    if (e.marker !== '' || !patternsMatch(e.patterns, name)) continue;
    if (!out.includes(e.keyType)) out.push(e.keyType);
  }
  return out;
}

/** ssh2's host key algorithms in its order of preference, and the key type (as known_hosts writes it) of each. */
const HOST_KEY_ALGORITHMS: readonly [ServerHostKeyAlgorithm, string][] = [
  ['ssh-ed25519', 'ssh-ed25519'],
  ['ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp256'],
  ['ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp384'],
  ['ecdsa-sha2-nistp521', 'ecdsa-sha2-nistp521'],
  ['rsa-sha2-512', 'ssh-rsa'],
  ['rsa-sha2-256', 'ssh-rsa'],
  ['ssh-rsa', 'ssh-rsa'],
  ['ssh-dss', 'ssh-dss'],
];

/**
 * The host key algorithms to offer for a host known by keys of these types (as OpenSSH does): only those, so the
 * server presents a key that known_hosts can verify. Empty when no type is usable (the caller keeps the default).
 */
export function hostKeyAlgorithms(knownTypes: readonly string[]): ServerHostKeyAlgorithm[] {
  return HOST_KEY_ALGORITHMS.filter(([, type]) => knownTypes.includes(type)).map(([alg]) => alg);
}

export class KnownHosts {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  check(host: string, port: number, key: Buffer): HostKeyVerdict {
    return checkHostKey(this.read(), host, port, key);
  }

  /** The key types known for this host (see `knownKeyTypes`). */
  keyTypes(host: string, port: number): string[] {
    return knownKeyTypes(this.read(), host, port);
  }

  private read(): string {
    try {
      return existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
    } catch {
      return '';
    }
  }

  /** Remembers a key (trust on first use). */
  add(host: string, port: number, key: Buffer): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    let prefix = '';
    try {
      const text = existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
      if (text && !text.endsWith('\n')) prefix = '\n';
    } catch {
      // unreadable: append anyway, the write reports the real problem
    }
    appendFileSync(this.path, `${prefix}${knownHostsName(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}\n`, {
      mode: 0o600,
    });
  }
}
