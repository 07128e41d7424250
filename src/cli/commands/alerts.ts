import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { Command } from 'commander';
import { AlertActionError } from '../../alerting/evaluate.ts';
import { formatValue } from '../../alerting/messages.ts';
import { AlertService } from '../../alerting/service.ts';
import { systemClock } from '../../clock.ts';
import { type Alert, type AlertStatus, SEVERITY_ORDER, type Severity } from '../../model/index.ts';
import { AlertRepository } from '../../store/sqlite/alert-repository.ts';
import { type CliIo, EXIT_FAILURE, loadEffectiveConfig, UserError } from '../context.ts';

export interface OpenAlerting {
  readonly service: AlertService;
  readonly repo: AlertRepository;
  close(): void;
}

/** Opens the alerting tables in the configured SQLite database (shared by `alerts`, `silence` and `patterns`). */
export function openAlerting(cmd: Command, io: CliIo): OpenAlerting {
  const { config } = loadEffectiveConfig(cmd, io);
  const path = config.storage.path;
  let db: DatabaseSync;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new DatabaseSync(path);
    db.exec('PRAGMA busy_timeout = 5000');
  } catch (e) {
    throw new UserError(`cannot open database ${path}: ${(e as Error).message}`, EXIT_FAILURE);
  }
  const repo = new AlertRepository(db);
  const service = new AlertService({ repository: repo, rules: config.rules, alerting: config.alerting });
  return { service, repo, close: () => db.close() };
}

const STATUSES: readonly AlertStatus[] = ['pending', 'firing', 'acknowledged', 'suppressed', 'resolved'];

function who(io: CliIo): string {
  return io.env.VIGIL_USER ?? io.env.USER ?? io.env.USERNAME ?? 'cli';
}

function iso(ts: number | null): string {
  return ts === null ? '-' : new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Plain text table with padded columns. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function withStatus(service: AlertService, alerts: readonly Alert[], now: number) {
  return alerts.map((a) => ({ ...a, status: service.statusOf(a, now) }));
}

function wrapAction<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof AlertActionError) throw new UserError(e.message, EXIT_FAILURE);
    throw e;
  }
}

export function register(program: Command, io: CliIo): void {
  const alerts = program
    .command('alerts')
    .description('List alerts (active by default), acknowledge or resolve them')
    .option('--state <state>', `only alerts in this status: ${STATUSES.join(', ')}`)
    .option('--vm <vm>', 'only alerts of this VM')
    .option('--severity <severity>', 'only alerts of this severity: info, warning, critical, emergency')
    .option('--limit <n>', 'at most this many alerts', '100')
    .option('--json', 'print JSON')
    .action((opts: { state?: string; vm?: string; severity?: string; limit: string; json?: boolean }, cmd: Command) => {
      if (opts.severity !== undefined && !SEVERITY_ORDER.includes(opts.severity as Severity)) {
        throw new UserError(`invalid --severity "${opts.severity}": expected one of ${SEVERITY_ORDER.join(', ')}`);
      }
      if (opts.state !== undefined && !STATUSES.includes(opts.state as AlertStatus)) {
        throw new UserError(`invalid --state "${opts.state}": expected one of ${STATUSES.join(', ')}`);
      }
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UserError(`invalid --limit "${opts.limit}": expected a positive whole number`);
      const a = openAlerting(cmd, io);
      try {
        const now = systemClock.now();
        const states =
          opts.state === 'resolved'
            ? (['resolved'] as const)
            : opts.state === 'pending'
              ? (['pending'] as const)
              : opts.state
                ? (['firing'] as const)
                : (['pending', 'firing'] as const);
        // firing, acknowledged and suppressed are refinements of the stored `firing` state (suppressed is computed
        // from the silences now): filter all active alerts first, then apply the limit.
        const refined = opts.state === 'firing' || opts.state === 'acknowledged' || opts.state === 'suppressed';
        const severity = opts.severity as Severity | undefined;
        const listed = a.repo.listAlerts({
          states,
          ...(opts.vm !== undefined ? { vm: opts.vm } : {}),
          ...(severity !== undefined ? { severity } : {}),
          limit: refined ? Number.POSITIVE_INFINITY : limit,
        });
        const rows = withStatus(a.service, listed, now)
          .filter((r) => opts.state === undefined || r.status === opts.state)
          .slice(0, limit);
        if (opts.json) {
          io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          io.stdout.write(opts.state ? `No ${opts.state} alerts.\n` : 'No active alerts.\n');
          return;
        }
        io.stdout.write(
          table([
            ['ID', 'STATUS', 'SEVERITY', 'RULE', 'VM', 'SINCE', 'VALUE', 'COUNT', 'MESSAGE'],
            ...rows.map((r) => [
              r.id,
              r.status + (r.flapping ? '*' : ''),
              r.severity,
              r.rule,
              r.vm ?? '-',
              iso(r.firedAt ?? r.startsAt),
              r.value === null
                ? '-'
                : r.kind === 'no_data'
                  ? `${Math.round(r.value / 60)}m silent`
                  : formatValue(r.metric, r.value),
              String(r.notificationCount),
              r.message,
            ]),
          ]),
        );
      } finally {
        a.close();
      }
    });

  alerts
    .command('ack <id>')
    .description('Acknowledge a firing alert (stops re-notification until its severity rises)')
    .option('--notes <text>', 'what you are doing about it')
    .option('--by <name>', 'who acknowledges (default: $USER)')
    .action((id: string, opts: { notes?: string; by?: string }, cmd: Command) => {
      const a = openAlerting(cmd, io);
      try {
        const alert = wrapAction(() => a.service.ack(id, opts.by ?? who(io), opts.notes ?? null, systemClock.now()));
        io.stdout.write(`Acknowledged alert ${alert.id}: ${alert.title}\n`);
      } finally {
        a.close();
      }
    });

  alerts
    .command('resolve <id>')
    .description('Resolve an active alert by hand')
    .option('--notes <text>', 'why it is resolved')
    .option('--by <name>', 'who resolves (default: $USER)')
    .action((id: string, opts: { notes?: string; by?: string }, cmd: Command) => {
      const a = openAlerting(cmd, io);
      try {
        const alert = wrapAction(() =>
          a.service.resolve(id, opts.by ?? who(io), opts.notes ?? null, systemClock.now()),
        );
        io.stdout.write(`Resolved alert ${alert.id}: ${alert.title}\n`);
      } finally {
        a.close();
      }
    });

  alerts
    .command('show <id>')
    .description('Show one alert with its history')
    .option('--json', 'print JSON')
    .action((id: string, opts: { json?: boolean }, cmd: Command) => {
      const a = openAlerting(cmd, io);
      try {
        const alert = a.repo.getAlert(id);
        if (!alert) throw new UserError(`Alert ${id} not found`, EXIT_FAILURE);
        const history = a.repo.history({ alertId: id });
        const status = a.service.statusOf(alert, systemClock.now());
        if (opts.json) {
          io.stdout.write(`${JSON.stringify({ ...alert, status, history }, null, 2)}\n`);
          return;
        }
        const lines = [
          `${alert.title}  [${status}, ${alert.severity}]`,
          alert.message,
          `rule ${alert.rule}  fingerprint ${alert.fingerprint}  notifications ${alert.notificationsSent ?? 0}  breaches ${alert.notificationCount}`,
          `value ${alert.value ?? '-'}  peak ${alert.peakValue ?? '-'}  resource group ${alert.resourceGroup ?? '-'}  source ${alert.source ?? '-'}`,
        ];
        if (alert.related?.length) lines.push(`related: ${alert.related.map((r) => r.text).join(', ')}`);
        if (alert.acknowledged)
          lines.push(
            `acknowledged by ${alert.acknowledged.by} at ${iso(alert.acknowledged.at)}${alert.acknowledged.notes ? `: ${alert.acknowledged.notes}` : ''}`,
          );
        lines.push('recommendations:', ...alert.recommendations.map((r) => `  - ${r}`), 'history:');
        for (const h of history) {
          lines.push(
            `  ${iso(h.at)}  ${h.from} → ${h.to}${h.reason ? ` (${h.reason})` : ''}${h.by ? ` by ${h.by}` : ''}${h.notes ? `: ${h.notes}` : ''}`,
          );
        }
        io.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        a.close();
      }
    });
}
