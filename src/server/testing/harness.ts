import { DatabaseSync } from 'node:sqlite';
import { AlertService } from '../../alerting/service.ts';
import type { Clock } from '../../clock.ts';
import { configSchema } from '../../config/index.ts';
import { ruleSchema } from '../../config/sections/rules.ts';
import type { Ingestor } from '../../engine/ingest.ts';
import type { CycleSummary } from '../../engine/live-events.ts';
import { LiveEvents } from '../../engine/live-events.ts';
import type { EngineStatus, SourceStatus } from '../../engine/status.ts';
import type { CollectionOutcome, Sample } from '../../model/index.ts';
import { AlertRepository } from '../../store/sqlite/alert-repository.ts';
import { AuthRepository } from '../../store/sqlite/auth-repository.ts';
import type { Store } from '../../store/store.ts';
import { createServer } from '../app.ts';
import type { NotificationsApi, ServerDeps } from '../deps.ts';
import type { RulesFile } from '../rules-file.ts';
import { MemoryStore } from './memory-store.ts';

/**
 * Wires a server the way the engine does (store, then alerting, then live events) around an in-memory store
 * and an in-memory SQLite database for tokens and alerts. Used by the server's tests and benchmark.
 */
export function testServer(opts: {
  clock: Clock;
  store?: Store;
  withAlerts?: boolean;
  maxBodyBytes?: number;
  rulesFile?: RulesFile;
  notifications?: NotificationsApi;
}) {
  const db = new DatabaseSync(':memory:');
  const store = opts.store ?? new MemoryStore();
  const events = new LiveEvents();
  const auth = new AuthRepository(db);
  const alertRepo = opts.withAlerts ? new AlertRepository(db) : undefined;
  const alerts = alertRepo
    ? new AlertService({
        repository: alertRepo,
        rules: [
          ruleSchema.parse({ name: 'high_cpu', metric: 'cpu_percent', threshold: 80, for: '0s', severity: 'critical' }),
        ],
        onEvent: (e) => events.emit('alert', e),
      })
    : undefined;
  let samplesIngested = 0;
  let pushedSamples = 0;
  const ingestor: Ingestor = {
    async ingest(samples: readonly Sample[], outcomes: readonly CollectionOutcome[], origin) {
      await store.write(samples, outcomes);
      samplesIngested += samples.length;
      if (origin === 'push') pushedSamples += samples.length;
      events.emit('data', { samples, outcomes, source: origin });
      alerts?.ingest(samples, outcomes, opts.clock.now());
    },
  };
  const startedAt = opts.clock.now();
  let cycles = 0;
  let lastCycle: CycleSummary | null = null;
  let sources: SourceStatus[] = [];
  /** As the engine's `recordCycle`: status first, then the `cycle` event. */
  const recordCycle = (summary: CycleSummary, perSource: SourceStatus[]) => {
    cycles++;
    lastCycle = summary;
    sources = perSource;
    events.emit('cycle', summary);
  };
  const status = (): EngineStatus => ({
    version: '0.1.0',
    startedAt,
    now: opts.clock.now(),
    intervalMs: 60_000,
    sources,
    lastCycle,
    cycles,
    samplesIngested,
    pushedSamples,
  });
  const deps: ServerDeps = {
    config: configSchema.parse({}),
    store,
    events,
    ingestor,
    auth,
    alerts,
    alertHistory: alertRepo,
    status,
    clock: opts.clock,
    maxBodyBytes: opts.maxBodyBytes,
    rulesFile: opts.rulesFile,
    notifications: opts.notifications,
  };
  return {
    server: createServer(deps),
    deps,
    store,
    events,
    auth,
    alerts,
    db,
    ingestor: () => ingestor,
    recordCycle,
  };
}
