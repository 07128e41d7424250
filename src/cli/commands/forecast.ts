import type { Command } from 'commander';
import { type FleetForecastRow, forecastFleet } from '../../analyze/forecast/fleet-forecast.ts';
import { describeThreshold, formatDaysShort } from '../../analyze/forecast/forecast.ts';
import { systemClock } from '../../clock.ts';
import { METRIC_NAME_RE } from '../../model/metrics.ts';
import { type CliIo, loadEffectiveConfig, UserError } from '../context.ts';
import { formatTable, terminalWidth } from '../format/table.ts';
import { openMetricsStore } from './collect.ts';

const TREND_WORD = { increasing: 'Increasing', decreasing: 'Decreasing', stable: 'Stable' } as const;

/** Seed S6 line: `CPU: Current: 45% → 7d: 52% → 30d: 68% (Increasing)`. */
export function forecastLine(r: FleetForecastRow): string {
  const unit = r.metric.endsWith('_percent') ? '%' : '';
  const name = r.metric.replace(/_percent$/, '').toUpperCase();
  if (r.status !== 'ok') return `${r.vm_name} ${name}: ${r.message}`;
  const fmt = (x: number) => `${Math.round(x * 10) / 10}${unit}`;
  const risk = r.at_risk ? '  AT RISK' : '';
  const lines = [
    `${r.vm_name} ${name}: Current: ${fmt(r.current_value)} → 7d: ${fmt(r.predicted_7d)} → 30d: ${fmt(r.predicted_30d)} (${TREND_WORD[r.trend]})${risk}   [${r.model}, 80%: ${fmt(r.interval_30d[0])}-${fmt(r.interval_30d[1])} at 30d]`,
  ];
  if (r.days_until_threshold !== null)
    lines.push(
      `    Days until ${r.metric === 'disk_percent' ? 'disk limit' : `${r.risk_threshold}${unit}`}: ${r.days_until_threshold < 1 && r.days_until_threshold > 0 ? r.days_until_threshold : Math.round(r.days_until_threshold)} days`,
    );
  const range = describeThreshold(r);
  if (range && r.days_until_threshold !== 0) lines.push(`    ${range}`);
  if (r.recommendation) lines.push(`    → ${r.recommendation}`);
  return lines.join('\n');
}

export function register(program: Command, io: CliIo): void {
  program
    .command('forecast')
    .description('Forecast CPU, memory and disk per VM (7 and 30 days); at-risk VMs first')
    .option('--vm-name <vm>', 'only this VM')
    .option('--metric <metric>', 'only this metric (default: cpu_percent, memory_percent, disk_percent)')
    .option('--days <n>', 'risk horizon in days (1-30)', '30')
    .option('--threshold <percent>', 'risk threshold', '90')
    .option('--at-risk-only', 'only VMs predicted to exceed the threshold within the horizon')
    .option('--json', 'print JSON')
    .action(
      async (
        opts: {
          vmName?: string;
          metric?: string;
          days: string;
          threshold: string;
          atRiskOnly?: boolean;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        const days = Number(opts.days);
        if (!Number.isInteger(days) || days < 1 || days > 30)
          throw new UserError(
            `invalid --days "${opts.days}": expected a whole number of days from 1 to 30, like 7 or 30`,
          );
        const threshold = Number(opts.threshold);
        if (!Number.isFinite(threshold))
          throw new UserError(`invalid --threshold "${opts.threshold}": expected a number like 90`);
        if (opts.metric && !METRIC_NAME_RE.test(opts.metric)) throw new UserError(`invalid --metric "${opts.metric}"`);
        const { config } = loadEffectiveConfig(cmd, io);
        const store = await openMetricsStore(config.storage);
        try {
          let rows = await forecastFleet(store, {
            now: systemClock.now(),
            vmName: opts.vmName,
            metric: opts.metric,
            horizonDays: days,
            riskThreshold: threshold,
          });
          if (opts.atRiskOnly) rows = rows.filter((r) => r.status === 'ok' && r.at_risk);
          if (opts.json) {
            io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
            return;
          }
          if (rows.length === 0) {
            io.stdout.write(
              opts.atRiskOnly
                ? `No VM is predicted to exceed ${threshold}% within ${days} days.\n`
                : `No hourly data${opts.vmName ? ` for VM "${opts.vmName}"` : ''} to forecast yet.\n`,
            );
            return;
          }
          const atRisk = rows.filter((r) => r.status === 'ok' && r.at_risk);
          const out: string[] = [];
          if (atRisk.length > 0) {
            out.push(`AT RISK (${atRisk.length}): predicted above ${threshold}% within ${days} days`);
            out.push(
              formatTable(
                ['VM', 'METRIC', 'NOW', 'IN', 'COULD BE', 'RECOMMENDATION'],
                atRisk.map((r) =>
                  r.status === 'ok'
                    ? [
                        r.vm_name,
                        r.metric,
                        String(r.current_value),
                        formatDaysShort(r.days_until_threshold),
                        formatDaysShort(r.days_until_threshold_upper),
                        r.recommendation ?? '',
                      ]
                    : [],
                ),
                // The recommendation is cut first on a narrow terminal; VM and metric last.
                { width: terminalWidth(io.stdout), priority: [3, 2, 1, 1, 1, 0] },
              ),
              '',
            );
          }
          out.push(...rows.map(forecastLine));
          io.stdout.write(`${out.join('\n')}\n`);
        } finally {
          await store.close();
        }
      },
    );
}
