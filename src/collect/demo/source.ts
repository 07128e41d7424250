/** The `demo` source: a simulated fleet (see fleet.ts), collected like a real one. */
import type { DemoSourceConfig } from '../../config/index.ts';
import { type CollectionOutcome, type Labels, type Sample, STANDARD_METRICS } from '../../model/index.ts';
import type { CollectContext, Source, Target, TargetResult } from '../source.ts';
import { type DemoVm, demoFleet, demoReading } from './fleet.ts';

export class DemoSource implements Source {
  readonly name: string;
  readonly type = 'demo';
  /** Simulated VMs cost nothing to collect: one batch covers a large fleet. */
  readonly batchSize = 1000;
  readonly discoverEveryMs = 3_600_000;
  readonly config: DemoSourceConfig;
  private readonly fleet: DemoVm[];
  private readonly targets: Target[];
  private readonly byName = new Map<string, DemoVm>();
  private collected = 0;

  constructor(config: DemoSourceConfig) {
    this.config = config;
    this.name = config.name ?? 'demo';
    this.fleet = demoFleet(config.vms);
    this.targets = this.fleet.map((vm) => ({ vm: vm.name, labels: this.labelsOf(vm) }));
    for (const vm of this.fleet) this.byName.set(vm.name, vm);
  }

  labelsOf(vm: DemoVm): Labels {
    return {
      ...this.config.labels,
      resource_group: vm.resourceGroup,
      role: vm.role,
      source: this.name,
      tenant: this.config.tenant,
    };
  }

  async discover(): Promise<Target[]> {
    return this.targets;
  }

  async collect(targets: readonly Target[], ctx: CollectContext): Promise<TargetResult[]> {
    return targets.map((target) => {
      const vm = this.byName.get(target.vm);
      if (!vm) return { target, samples: [], error: 'unknown demo VM' };
      this.collected++;
      const r = demoReading(this.config.seed, vm, ctx.now, ctx.intervalMs, this.config.failure_rate);
      if (!r.ok) return { target, samples: [], error: r.error };
      return {
        target,
        samples: STANDARD_METRICS.map((metric) => ({ metric, labels: {}, ts: ctx.now, value: r.metrics[metric] })),
      };
    });
  }

  stats(): Record<string, number> {
    return { vms: this.fleet.length, collected: this.collected };
  }

  /**
   * History of the whole fleet from `fromMs` to `toMs` (inclusive, on multiples of `stepMs`), yielded in chunks
   * of about `chunkSamples` samples, with the labels the scheduler would have put on live samples.
   */
  *history(opts: {
    readonly fromMs: number;
    readonly toMs: number;
    readonly stepMs: number;
    readonly chunkSamples?: number;
  }): Generator<{ samples: Sample[]; outcomes: CollectionOutcome[]; ts: number }> {
    const { stepMs } = opts;
    const chunkSamples = opts.chunkSamples ?? 50_000;
    const labels = this.fleet.map((vm) => this.labelsOf(vm));
    const seriesLabels = this.fleet.map((vm, i) => ({ ...labels[i]!, vm: vm.name }));
    let samples: Sample[] = [];
    let outcomes: CollectionOutcome[] = [];
    let ts = Math.ceil(opts.fromMs / stepMs) * stepMs;
    for (; ts <= opts.toMs; ts += stepMs) {
      for (let i = 0; i < this.fleet.length; i++) {
        const vm = this.fleet[i]!;
        const r = demoReading(this.config.seed, vm, ts, stepMs, this.config.failure_rate);
        outcomes.push({
          vm: vm.name,
          labels: labels[i]!,
          ts,
          success: r.ok,
          errorMessage: r.ok ? null : r.error,
          durationMs: r.durationMs,
        });
        if (r.ok) {
          for (const metric of STANDARD_METRICS)
            samples.push({ metric, labels: seriesLabels[i]!, ts, value: r.metrics[metric] });
        }
      }
      if (samples.length >= chunkSamples) {
        yield { samples, outcomes, ts };
        samples = [];
        outcomes = [];
      }
    }
    if (outcomes.length > 0) yield { samples, outcomes, ts: ts - stepMs };
  }
}
