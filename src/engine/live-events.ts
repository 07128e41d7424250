import { EventEmitter } from 'node:events';
import type { AlertEvent, CollectionOutcome, Sample } from '../model/index.ts';
import type { IngestOrigin } from './ingest.ts';

/** What the engine publishes for dashboards: stored data and alert transitions, as they happen. */
export interface LiveEventMap {
  /** Samples and outcomes that were just stored (collected or pushed). */
  data: [{ samples: readonly Sample[]; outcomes: readonly CollectionOutcome[]; source: IngestOrigin }];
  /** A collection cycle finished. */
  cycle: [CycleSummary];
  alert: [AlertEvent];
}

export interface CycleSummary {
  readonly at: number;
  readonly durationMs: number;
  readonly targets: number;
  readonly failures: number;
  readonly samples: number;
}

/** A typed event bus; one instance per engine (no module-level singletons). */
export class LiveEvents extends EventEmitter<LiveEventMap> {
  constructor() {
    super();
    // Every open dashboard subscribes; don't warn at the default of 10.
    this.setMaxListeners(0);
  }
}
