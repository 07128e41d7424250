import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Command } from 'commander';
import { systemClock } from '../../clock.ts';
import { buildPipeline, NotificationConfigError } from '../../notify/build.ts';
import { OutboxRepository } from '../../store/sqlite/outbox-repository.ts';
import { type CliIo, EXIT_FAILURE, loadEffectiveConfig, UserError } from '../context.ts';

function openOutbox(cmd: Command, io: CliIo) {
  const loaded = loadEffectiveConfig(cmd, io);
  const path = loaded.config.storage.path;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000');
    return { config: loaded.config, db, outbox: new OutboxRepository(db) };
  } catch (e) {
    throw new UserError(`cannot open database ${path}: ${(e as Error).message}`, EXIT_FAILURE);
  }
}

const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function register(program: Command, io: CliIo): void {
  const notify = program
    .command('notify')
    .description('Notification channels: send a test message, read the delivery log');

  notify
    .command('test')
    .description('Send a clearly-labelled test message to CHANNEL and print the result')
    .argument('<channel>', 'a channel name from notification_config')
    .option('--json', 'print JSON')
    .action(async (channel: string, opts: { json?: boolean }, cmd: Command) => {
      const { config, db, outbox } = openOutbox(cmd, io);
      try {
        let pipeline: ReturnType<typeof buildPipeline>;
        try {
          pipeline = buildPipeline({
            notificationConfig: config.notification_config,
            settings: config.notifications,
            outbox,
            clock: systemClock,
            env: io.env,
            stdout: io.stdout,
          });
        } catch (e) {
          if (e instanceof NotificationConfigError) throw new UserError(e.message);
          throw e;
        }
        const r = await pipeline.sendTest(channel, systemClock.now());
        await pipeline.close();
        if (opts.json) io.stdout.write(`${JSON.stringify({ channel, ...r })}\n`);
        else if (r.ok) io.stdout.write(`ok ${channel}: ${r.detail}\n`);
        if (!r.ok) throw new UserError(`FAILED ${channel}: ${r.detail}`, EXIT_FAILURE);
      } finally {
        db.close();
      }
    });

  notify
    .command('log')
    .description('Delivery attempts, newest first (status codes and errors; never secrets)')
    .option('--failed', 'only deliveries that finally failed')
    .option('--limit <n>', 'how many lines', '50')
    .option('--json', 'print JSON lines')
    .action((opts: { failed?: boolean; limit: string; json?: boolean }, cmd: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit <= 0)
        throw new UserError(`--limit must be a positive integer (got "${opts.limit}")`);
      const { db, outbox } = openOutbox(cmd, io);
      try {
        const entries = outbox.log({ failedOnly: Boolean(opts.failed), limit });
        if (opts.json) {
          for (const e of entries) io.stdout.write(`${JSON.stringify(e)}\n`);
          return;
        }
        if (entries.length === 0) {
          io.stdout.write(opts.failed ? 'no failed deliveries\n' : 'no deliveries yet\n');
          return;
        }
        for (const e of entries)
          io.stdout.write(
            `${iso(e.at)}  ${e.channel.padEnd(10)} ${e.kind.padEnd(19)} #${e.rowId} try ${e.attempt}  ${(e.ok ? 'ok' : 'error').padEnd(5)} ${String(e.statusCode ?? '-').padEnd(4)} ${e.rowStatus.padEnd(9)} ${e.detail}\n`,
          );
        const c = outbox.counts();
        io.stdout.write(`outbox: ${c.pending} pending, ${c.delivered} delivered, ${c.failed} failed\n`);
      } finally {
        db.close();
      }
    });
}
