import type { Command } from 'commander';
import { scanAnomalies } from '../../analyze/anomaly/scan.ts';
import { systemClock } from '../../clock.ts';
import { type CliIo, loadEffectiveConfig, UserError } from '../context.ts';
import { formatTable, terminalWidth } from '../format/table.ts';
import { openMetricsStore } from './collect.ts';

export function register(program: Command, io: CliIo): void {
  program
    .command('anomalies')
    .description('Values abnormal for their VM (robust daily-profile baseline), with per-VM anomaly rates')
    .option('--vm <vm>', 'only this VM')
    .option('--days <n>', 'period in days', '1')
    .option('--json', 'print JSON')
    .action(async (opts: { vm?: string; days: string; json?: boolean }, cmd: Command) => {
      const days = Number(opts.days);
      if (!Number.isFinite(days) || days <= 0 || days > 90)
        throw new UserError(`invalid --days "${opts.days}": expected a number of days from 1 to 90`);
      const { config } = loadEffectiveConfig(cmd, io);
      const store = await openMetricsStore(config.storage);
      try {
        const scan = await scanAnomalies(store, {
          now: systemClock.now(),
          vm: opts.vm,
          days,
          rawRetentionMs: config.storage.retention.raw,
        });
        if (opts.json) {
          io.stdout.write(`${JSON.stringify(scan, null, 2)}\n`);
          return;
        }
        const width = terminalWidth(io.stdout);
        const out = [`Anomalies, last ${days} day${days === 1 ? '' : 's'}: ${scan.anomalies.length}`];
        if (scan.note) out.push(`Note: ${scan.note}.`);
        if (scan.anomalies.length > 0)
          out.push(
            formatTable(
              ['TIME (UTC)', 'VM', 'METRIC', 'VALUE', 'EXPECTED', 'SCORE'],
              scan.anomalies.map((a) => [
                new Date(a.ts).toISOString().slice(0, 16).replace('T', ' '),
                a.vm,
                a.metric,
                String(Math.round(a.value * 100) / 100),
                String(Math.round(a.expected * 100) / 100),
                a.score.toFixed(2),
              ]),
              { width, priority: [2, 2, 1, 1, 1, 1] },
            ),
          );
        if (scan.vms.length > 0)
          out.push(
            '',
            formatTable(
              ['VM', 'ANOMALIES', 'ANOMALY RATE', 'SAMPLES'],
              scan.vms.map((v) => [
                v.vm,
                String(v.anomalies),
                `${(v.anomaly_rate * 100).toFixed(2)}%`,
                String(v.samples),
              ]),
              { width },
            ),
          );
        io.stdout.write(`${out.join('\n')}\n`);
      } finally {
        await store.close();
      }
    });
}
