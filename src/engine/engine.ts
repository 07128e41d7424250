import type { Clock } from '../clock.ts';
import type { VigilConfig } from '../config/index.ts';
import type { CollectionOutcome, Sample } from '../model/index.ts';
import type { Store } from '../store/store.ts';
import type { IngestOrigin, Ingestor } from './ingest.ts';
import { type CycleSummary, LiveEvents } from './live-events.ts';
import type { Logger } from './logger.ts';
import type { EngineStatus, SourceStatus } from './status.ts';

export const VERSION = '0.1.0';

/** Called after samples are durably stored, in order; alerting subscribes here. */
export type AfterIngest = (
  samples: readonly Sample[],
  outcomes: readonly CollectionOutcome[],
  now: number,
) => Promise<void> | void;

/**
 * The running core: every sample path (collection, push, import) goes through `ingest`, which stores first,
 * then hands the data to alerting and publishes it to live dashboards.
 */
export class Engine implements Ingestor {
  readonly events = new LiveEvents();
  readonly config: VigilConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly startedAt: number;
  private readonly afterIngest: AfterIngest[] = [];
  private cycles = 0;
  private lastCycle: CycleSummary | null = null;
  private samplesIngested = 0;
  private pushedSamples = 0;
  private sourceStatus: SourceStatus[] = [];
  /** Serialises ingestion so alerting sees data in arrival order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(deps: { config: VigilConfig; store: Store; clock: Clock; log: Logger }) {
    this.config = deps.config;
    this.store = deps.store;
    this.clock = deps.clock;
    this.log = deps.log;
    this.startedAt = deps.clock.now();
  }

  onIngest(hook: AfterIngest): void {
    this.afterIngest.push(hook);
  }

  ingest(samples: readonly Sample[], outcomes: readonly CollectionOutcome[], origin: IngestOrigin): Promise<void> {
    const run = this.queue.then(async () => {
      await this.store.write(samples, outcomes);
      this.samplesIngested += samples.length;
      if (origin === 'push') this.pushedSamples += samples.length;
      this.events.emit('data', { samples, outcomes, source: origin });
      const now = this.clock.now();
      for (const hook of this.afterIngest) {
        try {
          await hook(samples, outcomes, now);
        } catch (e) {
          // A failing consumer (alerting, notifications) must never lose or block stored data.
          this.log.error('post-ingest step failed', { error: (e as Error).message });
        }
      }
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /** Records a finished collection cycle for status and dashboards. */
  recordCycle(summary: CycleSummary, sources: readonly SourceStatus[]): void {
    this.cycles++;
    this.lastCycle = summary;
    this.sourceStatus = [...sources];
    this.events.emit('cycle', summary);
  }

  status(): EngineStatus {
    return {
      version: VERSION,
      startedAt: this.startedAt,
      now: this.clock.now(),
      intervalMs: this.config.collection.interval,
      sources: this.sourceStatus,
      lastCycle: this.lastCycle,
      cycles: this.cycles,
      samplesIngested: this.samplesIngested,
      pushedSamples: this.pushedSamples,
    };
  }
}
