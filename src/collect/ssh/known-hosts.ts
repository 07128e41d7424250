/**
 * OpenSSH `known_hosts` checking: plain and hashed (`|1|salt|hmac`) host patterns, `[host]:port` for other ports,
 * wildcards and negation, `@revoked` markers. Keys compare as their wire-format blobs.
 */
import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

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

export class KnownHosts {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  check(host: string, port: number, key: Buffer): HostKeyVerdict {
    let text = '';
    try {
      text = existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
    } catch {
      text = '';
    }
    return checkHostKey(text, host, port, key);
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
