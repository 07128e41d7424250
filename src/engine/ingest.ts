import type { CollectionOutcome, Sample } from '../model/index.ts';

/** Where samples came from: collected, pushed over HTTP, imported from CSV, or derived by Vigil (anomaly scores, fleet patterns). */
export type IngestOrigin = 'collect' | 'push' | 'import' | 'derived';

/** The one path every sample takes into Vigil (collected, pushed or imported): store, then alerting, then live events. */
export interface Ingestor {
  ingest(samples: readonly Sample[], outcomes: readonly CollectionOutcome[], origin: IngestOrigin): Promise<void>;
}
