import type { Command } from 'commander';
import { SilenceError } from '../../alerting/service.ts';
import { systemClock } from '../../clock.ts';
import { parseDurationMs } from '../../config/duration-text.ts';
import { type LabelMatcher, parseMatcher } from '../../model/index.ts';
import { type CliIo, EXIT_FAILURE, UserError } from '../context.ts';
import { openAlerting, table } from './alerts.ts';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function iso(ts: number): string {
  return new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function matcherText(m: LabelMatcher): string {
  return `${m.name}${m.op}${m.value}`;
}

export function register(program: Command, io: CliIo): void {
  const silence = program
    .command('silence')
    .description('Silence alerts: matching alerts still record history but notify no one');

  silence
    .command('add')
    .description('Add a silence, e.g. --match vm=dev-vm-01 --duration 2h --reason "load test"')
    .requiredOption(
      '--match <matcher>',
      'label matcher name=value, name!=value, name=~regex, name!~regex (repeatable)',
      collect,
      [],
    )
    .option('--duration <duration>', 'how long, e.g. 30m, 2h, 1d', '1h')
    .option('--starts <iso-time>', 'start time (default: now), e.g. 2026-01-10T02:00:00Z')
    .option('--reason <text>', 'why', '')
    .option('--by <name>', 'who (default: $USER)')
    .option('--json', 'print JSON')
    .action(
      (
        opts: { match: string[]; duration: string; starts?: string; reason: string; by?: string; json?: boolean },
        cmd: Command,
      ) => {
        let matchers: LabelMatcher[];
        try {
          matchers = opts.match.map(parseMatcher);
        } catch (e) {
          throw new UserError((e as Error).message);
        }
        const durationMs = parseDurationMs(opts.duration);
        if (durationMs === undefined || durationMs <= 0)
          throw new UserError(`invalid --duration "${opts.duration}": expected e.g. 30m, 2h or 1d`);
        const now = systemClock.now();
        let startsAt = now;
        if (opts.starts !== undefined) {
          startsAt = Date.parse(opts.starts);
          if (Number.isNaN(startsAt))
            throw new UserError(
              `invalid --starts "${opts.starts}": expected an ISO-8601 time like 2026-01-10T02:00:00Z`,
            );
        }
        const a = openAlerting(cmd, io);
        try {
          const s = a.service.addSilence(
            {
              matchers,
              startsAt,
              endsAt: startsAt + durationMs,
              createdBy: opts.by ?? io.env.USER ?? 'cli',
              reason: opts.reason,
            },
            now,
          );
          if (opts.json) io.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
          else
            io.stdout.write(`Silence ${s.id} added: ${s.matchers.map(matcherText).join(' ')} until ${iso(s.endsAt)}\n`);
        } catch (e) {
          if (e instanceof SilenceError) throw new UserError(e.message);
          throw e;
        } finally {
          a.close();
        }
      },
    );

  silence
    .command('list')
    .description('List active and scheduled silences')
    .option('--all', 'include ended and expired silences')
    .option('--json', 'print JSON')
    .action((opts: { all?: boolean; json?: boolean }, cmd: Command) => {
      const a = openAlerting(cmd, io);
      try {
        const now = systemClock.now();
        const list = a.service.listSilences(now, opts.all === true);
        if (opts.json) {
          io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
          return;
        }
        if (list.length === 0) {
          io.stdout.write('No silences.\n');
          return;
        }
        const state = (s: (typeof list)[number]) =>
          s.expiredAt !== null && s.expiredAt <= now
            ? 'expired'
            : s.endsAt <= now
              ? 'ended'
              : s.startsAt > now
                ? 'scheduled'
                : 'active';
        io.stdout.write(
          table([
            ['ID', 'STATE', 'MATCHERS', 'STARTS', 'ENDS', 'BY', 'REASON'],
            ...list.map((s) => [
              s.id,
              state(s),
              s.matchers.map(matcherText).join(' '),
              iso(s.startsAt),
              iso(s.endsAt),
              s.createdBy,
              s.reason,
            ]),
          ]),
        );
      } finally {
        a.close();
      }
    });

  silence
    .command('expire <id>')
    .description('End a silence now')
    .action((id: string, _opts: unknown, cmd: Command) => {
      if (id.startsWith('config-'))
        throw new UserError(`silence ${id} is declared in the config file; remove it there`);
      const a = openAlerting(cmd, io);
      try {
        const s = a.service.expireSilence(id, systemClock.now());
        io.stdout.write(`Silence ${s.id} expired.\n`);
      } catch (e) {
        if (e instanceof SilenceError) throw new UserError(e.message, EXIT_FAILURE);
        throw e;
      } finally {
        a.close();
      }
    });
}
