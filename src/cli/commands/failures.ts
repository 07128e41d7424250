import type { Command } from 'commander';
import type { FleetPattern } from '../../analyze/patterns/fleet-patterns.ts';
import { readFleetPatterns } from '../../analyze/patterns/read.ts';
import { systemClock } from '../../clock.ts';
import { type CliIo, loadEffectiveConfig } from '../context.ts';
import { openMetricsStore } from './collect.ts';

/** One `SEVERITY title (confidence c)` line per pattern, then its VMs and evidence (`vigil failures`, `vigil patterns`). */
export function fleetPatternLines(found: readonly FleetPattern[]): string[] {
  if (found.length === 0) return ['No fleet failure pattern detected.'];
  const out: string[] = [];
  for (const p of found) {
    out.push(`${p.severity.toUpperCase()} ${p.title} (confidence ${p.confidence.toFixed(2)})`);
    out.push(`    VMs: ${p.affectedVms.join(', ')}`);
    for (const e of p.evidence) out.push(`    ${e}`);
  }
  return out;
}

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
        io.stdout.write(`${fleetPatternLines(found).join('\n')}\n`);
      } finally {
        await store.close();
      }
    });
}
