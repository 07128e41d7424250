import type { Command } from 'commander';
import { readFleetPatterns } from '../../analyze/patterns/read.ts';
import { systemClock } from '../../clock.ts';
import { type CliIo, loadEffectiveConfig } from '../context.ts';
import { openMetricsStore } from './collect.ts';

export function register(program: Command, io: CliIo): void {
  program
    .command('failures')
    .description(
      'Fleet failure patterns now: cascading failures, exhaustion, partitions, heartbeat, imbalance, disk contention',
    )
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { config } = loadEffectiveConfig(cmd, io);
      const store = await openMetricsStore(config.storage);
      try {
        const found = await readFleetPatterns(store, systemClock.now(), config.analytics.patterns);
        if (opts.json) {
          io.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
          return;
        }
        if (found.length === 0) {
          io.stdout.write('No fleet failure pattern detected.\n');
          return;
        }
        const out: string[] = [];
        for (const p of found) {
          out.push(`${p.severity.toUpperCase()} ${p.title} (confidence ${p.confidence.toFixed(2)})`);
          out.push(`    VMs: ${p.affectedVms.join(', ')}`);
          for (const e of p.evidence) out.push(`    ${e}`);
        }
        io.stdout.write(`${out.join('\n')}\n`);
      } finally {
        await store.close();
      }
    });
}
