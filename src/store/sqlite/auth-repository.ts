import { createHash, randomBytes } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { migrate } from './migrate.ts';

export type Role = 'viewer' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];
export const DEFAULT_TENANT = 'default';

/** An API token as stored: only the sha256 of the secret is kept. */
export interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly tenant: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  readonly lastUsedAt: number | null;
}

export interface AuditEntry {
  readonly id: number;
  readonly at: number;
  readonly actor: string;
  readonly tenant: string;
  readonly action: string;
  readonly target: string;
  readonly detail: string | null;
}

const STEPS = [
  `CREATE TABLE api_tokens (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     role TEXT NOT NULL,
     tenant TEXT NOT NULL,
     secret_sha256 TEXT NOT NULL UNIQUE,
     created_at INTEGER NOT NULL,
     revoked_at INTEGER,
     last_used_at INTEGER
   ) STRICT;
   CREATE TABLE audit_log (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     tenant TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT NOT NULL,
     detail TEXT
   ) STRICT;
   CREATE INDEX audit_log_at ON audit_log(at);`,
];

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

interface TokenRow {
  id: string;
  name: string;
  role: string;
  tenant: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

function toInfo(r: TokenRow): TokenInfo {
  return {
    id: r.id,
    name: r.name,
    role: r.role as Role,
    tenant: r.tenant,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  };
}

/** API tokens (hashed at rest) and the audit log of writes, in the store's SQLite database. */
export class AuthRepository {
  private readonly db: DatabaseSync;

  constructor(db: DatabaseSync) {
    this.db = db;
    migrate(db, 'auth', STEPS);
  }

  /** Creates a token; the secret is returned once and never stored. Format: `vgl_<id>_<secret>`. */
  create(input: { role: Role; tenant?: string; name?: string }, now: number): { token: string; info: TokenInfo } {
    if (!ROLES.includes(input.role))
      throw new Error(`unknown role "${input.role}": expected viewer, operator or admin`);
    const tenant = input.tenant ?? DEFAULT_TENANT;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(tenant)) throw new Error(`invalid tenant "${tenant}"`);
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(24).toString('base64url');
    const token = `vgl_${id}_${secret}`;
    const name = input.name ?? `${input.role}-${id}`;
    this.db
      .prepare('INSERT INTO api_tokens (id, name, role, tenant, secret_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, name, input.role, tenant, sha256(token), now);
    return { token, info: this.get(id)! };
  }

  get(id: string): TokenInfo | null {
    const r = this.db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return r ? toInfo(r) : null;
  }

  list(): TokenInfo[] {
    return (this.db.prepare('SELECT * FROM api_tokens ORDER BY created_at, id').all() as unknown as TokenRow[]).map(
      toInfo,
    );
  }

  /** True when at least one token is active (access control can be enforced). */
  hasActiveTokens(): boolean {
    return this.db.prepare('SELECT 1 FROM api_tokens WHERE revoked_at IS NULL LIMIT 1').get() !== undefined;
  }

  revoke(id: string, now: number): boolean {
    const r = this.db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id);
    return Number(r.changes) > 0;
  }

  /** The active token with this secret, or null. Compares hashes, so timing does not reveal the secret. */
  verify(token: string, now: number): TokenInfo | null {
    const r = this.db
      .prepare('SELECT * FROM api_tokens WHERE secret_sha256 = ? AND revoked_at IS NULL')
      .get(sha256(token)) as TokenRow | undefined;
    if (!r) return null;
    if (r.last_used_at === null || now - r.last_used_at > 60_000) {
      this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now, r.id);
    }
    return toInfo(r);
  }

  audit(entry: Omit<AuditEntry, 'id'>): void {
    this.db
      .prepare('INSERT INTO audit_log (at, actor, tenant, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(entry.at, entry.actor, entry.tenant, entry.action, entry.target, entry.detail);
  }

  auditLog(q: { since?: number; tenant?: string; limit?: number } = {}): AuditEntry[] {
    const rows = this.db
      .prepare(`SELECT * FROM audit_log WHERE at >= ? AND (? IS NULL OR tenant = ?) ORDER BY id DESC LIMIT ?`)
      .all(q.since ?? 0, q.tenant ?? null, q.tenant ?? null, q.limit ?? 500) as unknown as AuditEntry[];
    return rows.map((r) => ({ ...r }));
  }
}
