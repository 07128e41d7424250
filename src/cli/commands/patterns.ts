import type { Command } from 'commander';
import { alertPatterns } from '../../alerting/patterns.ts';
import type { FleetPattern } from '../../analyze/patterns/fleet-patterns.ts';
import { readFleetPatterns } from '../../analyze/patterns/read.ts';
import { systemClock } from '../../clock.ts';
import type { VigilConfig } from '../../config/index.ts';
import { type CliIo, loadEffectiveConfig, UserError } from '../context.ts';
import { formatTable, terminalWidth } from '../format/table.ts';
import { openAlerting } from './alerts.ts';
import { openMetricsStore } from './collect.ts';
import { fleetPatternLines } from './failures.ts';

/** The fleet failure patterns present now (the same as `vigil failures`). */
async function currentFleetPatterns(config: VigilConfig, now: number): Promise<FleetPattern[]> {
  const store = await openMetricsStore(config.storage);
  try {
    return await readFleetPatterns(store, now, config.analytics.patterns);
  } finally {
    await store.close();
  }
}

export function register(program: Command, io: CliIo): void {
  program
    .command('patterns')
    .description(
      'Alert statistics (by rule and VM, peak hour, MTTA/MTTR, noisiest rules) and the fleet failure patterns present now',
    )
    .option('--days <n>', 'period in days', '7')
    .option('--json', 'print JSON')
    .action(async (opts: { days: string; json?: boolean }, cmd: Command) => {
      const days = Number(opts.days);
      if (!Number.isFinite(days) || days <= 0 || days > 3650)
        throw new UserError(`invalid --days "${opts.days}": expected a number of days like 7`);
      const { config } = loadEffectiveConfig(cmd, io);
      const a = openAlerting(cmd, io);
      try {
        const now = systemClock.now();
        const alerts = a.repo.listAlerts({ since: now - days * 86_400_000, limit: 1_000_000 });
        const p = alertPatterns(alerts, now, days);
        const fleet = await currentFleetPatterns(config, now);
        if (opts.json) {
          io.stdout.write(`${JSON.stringify({ ...p, fleet_patterns: fleet }, null, 2)}\n`);
          return;
        }
        const width = terminalWidth(io.stdout);
        const out: string[] = [
          `Alert patterns, last ${days} day${days === 1 ? '' : 's'}: ${p.totalAlerts} alert${p.totalAlerts === 1 ? '' : 's'}`,
        ];
        if (p.totalAlerts > 0) {
          out.push(
            `Most common rule: ${p.mostCommonRule}   most affected VM: ${p.mostAffectedVm ?? '-'}   peak hour: ${String(p.peakHour).padStart(2, '0')}:00 UTC`,
            `Mean time to acknowledge: ${p.mttaMinutes === null ? '-' : `${p.mttaMinutes} min`}   mean time to resolve: ${p.mttrMinutes === null ? '-' : `${p.mttrMinutes} min`}`,
            '',
            'By rule:',
            formatTable(
              ['RULE', 'ALERTS'],
              p.byRule.map((r) => [r.name, String(r.count)]),
              { width },
            ),
            '',
            'By VM:',
            formatTable(
              ['VM', 'ALERTS'],
              p.byVm.slice(0, 10).map((r) => [r.name, String(r.count)]),
              { width },
            ),
            '',
            'Hourly distribution (UTC):',
            hourlyBars(p.hourlyDistribution),
            '',
            'Noisiest rules (tuning candidates):',
            formatTable(
              ['RULE', 'ALERTS', 'SHORT-LIVED', 'FLAPPING', 'NOTIFICATIONS'],
              p.noisiestRules.map((r) => [
                r.rule,
                String(r.alerts),
                String(r.shortLived),
                String(r.flapping),
                String(r.notifications),
              ]),
              { width },
            ),
          );
        }
        out.push('', p.insight, '', 'Fleet failure patterns (now):', ...fleetPatternLines(fleet).map((l) => `  ${l}`));
        io.stdout.write(`${out.join('\n')}\n`);
      } finally {
        a.close();
      }
    });
}

function hourlyBars(hours: readonly number[]): string {
  const max = Math.max(1, ...hours);
  return hours
    .map((n, h) => `${String(h).padStart(2, '0')} ${'#'.repeat(Math.round((n * 30) / max))}${n > 0 ? ` ${n}` : ''}`)
    .join('\n');
}
