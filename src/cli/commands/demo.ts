import { performance } from 'node:perf_hooks';
import type { Command } from 'commander';
import { systemClock } from '../../clock.ts';
import { backfillDemo } from '../../collect/demo/backfill.ts';
import { DemoSource } from '../../collect/demo/source.ts';
import { formatDuration, parseDurationMs } from '../../config/index.ts';
import { demoSourceSchema } from '../../config/sections/sources.ts';
import { type CliIo, loadEffectiveConfig, UserError } from '../context.ts';
import { progressBar } from '../format/progress.ts';
import { openMetricsStore } from './collect.ts';

const DAY = 86_400_000;

export interface BackfillSummary {
  readonly source: string;
  readonly vms: number;
  readonly days: number;
  readonly stepMs: number;
  readonly from: string;
  readonly to: string;
  readonly samples: number;
  readonly outcomes: number;
  readonly failedCollections: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
  readonly store: string;
}

export function register(program: Command, io: CliIo): void {
  const demo = program.command('demo').description('The simulated demo fleet');
  demo
    .command('backfill')
    .description('Write simulated history of the demo fleet into the metrics store')
    .option('--days <n>', 'days of history, ending now', '30')
    .option('--vms <n>', 'number of demo VMs (default: the demo source of the config, else 12)')
    .option('--step <duration>', 'time between samples (default: collection.interval), e.g. 5m')
    .option('--seed <n>', 'seed of the simulation (default: the demo source of the config)')
    .option('--json', 'print a JSON summary')
    .action(
      async (opts: { days: string; vms?: string; step?: string; seed?: string; json?: boolean }, cmd: Command) => {
        const days = Number(opts.days);
        if (!Number.isFinite(days) || days <= 0 || days > 3650)
          throw new UserError(`invalid --days "${opts.days}": expected a number of days like 30`);
        const vms = opts.vms === undefined ? undefined : Number(opts.vms);
        if (vms !== undefined && (!Number.isInteger(vms) || vms < 1 || vms > 100_000))
          throw new UserError(`invalid --vms "${opts.vms}": expected a whole number from 1 to 100000`);
        const seed = opts.seed === undefined ? undefined : Number(opts.seed);
        if (seed !== undefined && !Number.isInteger(seed))
          throw new UserError(`invalid --seed "${opts.seed}": expected an integer`);
        const { config } = loadEffectiveConfig(cmd, io);
        const stepMs = opts.step === undefined ? config.collection.interval : parseDurationMs(opts.step);
        if (stepMs === undefined || !Number.isFinite(stepMs) || stepMs < 1000)
          throw new UserError(`invalid --step "${opts.step}": expected a duration of at least 1s, like 60s or 5m`);

        const configured = config.sources.find((s) => s.type === 'demo');
        const demoConfig = demoSourceSchema.parse({
          ...(configured ?? { type: 'demo' }),
          ...(vms !== undefined ? { vms } : {}),
          ...(seed !== undefined ? { seed } : {}),
        });
        const source = new DemoSource(demoConfig);
        const toMs = Math.floor(systemClock.now() / stepMs) * stepMs;
        const fromMs = toMs - Math.round(days * DAY);

        const store = await openMetricsStore(config.storage);
        const showProgress = !opts.json && io.stderr.isTTY === true;
        const started = performance.now();
        let lastDraw = 0;
        let result: Awaited<ReturnType<typeof backfillDemo>>;
        try {
          result = await backfillDemo(source, store, {
            fromMs,
            toMs,
            stepMs,
            batchSamples: 50_000,
            onProgress: (p) => {
              const now = performance.now();
              if (!showProgress || (now - lastDraw < 100 && p.steps < p.totalSteps)) return;
              lastDraw = now;
              io.stderr.write(progressBar(p.steps, p.totalSteps, p.samples, 'samples', (now - started) / 1000));
            },
          });
          if (showProgress) io.stderr.write('\n');
        } finally {
          await store.close();
        }
        const { samples, outcomes, failedCollections: failed } = result;
        const seconds = (performance.now() - started) / 1000;
        const summary: BackfillSummary = {
          source: source.name,
          vms: demoConfig.vms,
          days,
          stepMs,
          from: new Date(fromMs).toISOString(),
          to: new Date(toMs).toISOString(),
          samples,
          outcomes,
          failedCollections: failed,
          seconds: Math.round(seconds * 100) / 100,
          samplesPerSecond: seconds > 0 ? Math.round(samples / seconds) : samples,
          store: config.storage.url ? 'postgresql' : config.storage.path,
        };
        if (opts.json) {
          io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
          return;
        }
        io.stdout.write(
          `Backfilled ${days} day${days === 1 ? '' : 's'} of ${summary.vms} demo VM${summary.vms === 1 ? '' : 's'} every ${formatDuration(stepMs)} ` +
            `(${summary.from} to ${summary.to}): ${samples.toLocaleString('en-US')} samples and ${outcomes.toLocaleString('en-US')} collection outcomes ` +
            `(${failed.toLocaleString('en-US')} simulated failures) in ${summary.seconds.toFixed(1)} s, ` +
            `${summary.samplesPerSecond.toLocaleString('en-US')} samples/s, into ${summary.store}\n`,
        );
      },
    );
}
