import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Command } from 'commander';
import { systemClock } from '../../clock.ts';
import { AuthRepository, ROLES, type Role, type TokenInfo } from '../../store/sqlite/auth-repository.ts';
import { type CliIo, EXIT_FAILURE, loadEffectiveConfig, UserError } from '../context.ts';

function openAuth(cmd: Command, io: CliIo): { auth: AuthRepository; db: DatabaseSync } {
  const { config } = loadEffectiveConfig(cmd, io);
  const path = config.storage.path;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000');
    return { auth: new AuthRepository(db), db };
  } catch (e) {
    throw new UserError(`cannot open database ${path}: ${(e as Error).message}`, EXIT_FAILURE);
  }
}

/** Who ran the command, as the audit log names them (`cli:<login>`). */
function cliActor(io: CliIo): string {
  return `cli:${io.env.USER || io.env.LOGNAME || io.env.USERNAME || 'unknown'}`;
}

function iso(ts: number | null): string {
  return ts === null ? '-' : new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function row(t: TokenInfo): string[] {
  return [
    t.id,
    t.name,
    t.role,
    t.tenant,
    iso(t.createdAt),
    iso(t.lastUsedAt),
    t.revokedAt === null ? 'active' : `revoked ${iso(t.revokedAt)}`,
  ];
}

export function register(program: Command, io: CliIo): void {
  const token = program
    .command('token')
    .description('API tokens for the HTTP API (roles viewer, operator, admin; one tenant each)');

  token
    .command('create')
    .description('Create a token; its secret is printed once and only its hash is stored')
    .requiredOption(
      '--role <role>',
      'viewer (reads), operator (also acks, silences, ingests) or admin (also rules, tokens, audit)',
    )
    .option('--tenant <tenant>', 'tenant the token belongs to', 'default')
    .option('--name <name>', 'a name shown in the audit log')
    .option('--json', 'print JSON')
    .action((opts: { role: string; tenant: string; name?: string; json?: boolean }, cmd: Command) => {
      if (!(ROLES as readonly string[]).includes(opts.role)) {
        throw new UserError(`--role must be viewer, operator or admin (got "${opts.role}")`);
      }
      const { auth, db } = openAuth(cmd, io);
      try {
        let created: ReturnType<AuthRepository['create']>;
        try {
          const now = systemClock.now();
          created = auth.create({ role: opts.role as Role, tenant: opts.tenant, name: opts.name }, now);
          auth.audit({
            at: now,
            actor: cliActor(io),
            tenant: created.info.tenant,
            action: 'token.create',
            target: created.info.id,
            detail: JSON.stringify({ name: created.info.name, role: created.info.role }),
          });
        } catch (e) {
          throw new UserError((e as Error).message);
        }
        if (opts.json) io.stdout.write(`${JSON.stringify({ token: created.token, ...created.info })}\n`);
        else {
          io.stdout.write(`${created.token}\n`);
          io.stderr.write(
            `created token ${created.info.id} (${created.info.name}, ${created.info.role}, tenant ${created.info.tenant}); keep the secret: it is not shown again\n`,
          );
        }
      } finally {
        db.close();
      }
    });

  token
    .command('list')
    .description('List tokens (never their secrets)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const { auth, db } = openAuth(cmd, io);
      try {
        const list = auth.list();
        if (opts.json) {
          io.stdout.write(`${JSON.stringify(list)}\n`);
          return;
        }
        const rows = [['ID', 'NAME', 'ROLE', 'TENANT', 'CREATED', 'LAST USED', 'STATE'], ...list.map(row)];
        const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
        for (const r of rows)
          io.stdout.write(
            `${r
              .map((c, i) => c.padEnd(widths[i]!))
              .join('  ')
              .trimEnd()}\n`,
          );
        if (list.length === 0) io.stdout.write('no tokens: the API is open on loopback only\n');
      } finally {
        db.close();
      }
    });

  token
    .command('revoke <id>')
    .description('Revoke a token by its id')
    .action((id: string, _opts: unknown, cmd: Command) => {
      const { auth, db } = openAuth(cmd, io);
      try {
        const now = systemClock.now();
        const info = auth.list().find((t) => t.id === id);
        if (!auth.revoke(id, now)) throw new UserError(`no active token with id "${id}"`, EXIT_FAILURE);
        auth.audit({
          at: now,
          actor: cliActor(io),
          tenant: info?.tenant ?? 'default',
          action: 'token.revoke',
          target: id,
          detail: JSON.stringify({ name: info?.name ?? null, role: info?.role ?? null }),
        });
        io.stdout.write(`revoked token ${id}\n`);
      } finally {
        db.close();
      }
    });
}
