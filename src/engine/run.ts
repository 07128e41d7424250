/**
 * The composition root of `vigil up`: store, collection, alerting (with anomaly and pattern signals),
 * notifications, maintenance and the HTTP server, started in order and stopped in reverse so nothing is lost.
 */
import { unwatchFile, watchFile } from 'node:fs';
import { dirname } from 'node:path';
import { AlertService } from '../alerting/service.ts';
import type { Clock } from '../clock.ts';
import { buildSources } from '../collect/build-sources.ts';
import { Collector, type CycleResult } from '../collect/scheduler.ts';
import type { Source } from '../collect/source.ts';
import { SourceProblemLog } from '../collect/source-log.ts';
import { ConfigError, type LoadedConfig, loadConfig } from '../config/index.ts';
import { buildPipeline } from '../notify/build.ts';
import type { NotificationPipeline } from '../notify/pipeline.ts';
import { createServer } from '../server/index.ts';
import { RulesFile } from '../server/rules-file.ts';
import { openStore } from '../store/open.ts';
import { AlertRepository } from '../store/sqlite/alert-repository.ts';
import { AuthRepository } from '../store/sqlite/auth-repository.ts';
import { OutboxRepository } from '../store/sqlite/outbox-repository.ts';
import type { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { restoreAlertWindows } from './alert-windows.ts';
import { chartHistory } from './chart-history.ts';
import { DerivedSignals } from './derived-signals.ts';
import { Engine } from './engine.ts';
import type { CycleSummary } from './live-events.ts';
import type { Logger } from './logger.ts';
import { MaintenanceLoop } from './maintenance.ts';
import type { SourceStatus } from './status.ts';

const DAY_MS = 86_400_000;
/** Alert history is kept this long (pruned once a day). */
const ALERT_HISTORY_MS = 90 * DAY_MS;
const PATTERN_INTERVAL_MS = 60_000;
const CONFIG_POLL_MS = 2000;

export interface StartOptions {
  readonly loaded: LoadedConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly home?: string;
  /** Overrides of `server.host` / `server.port` (`vigil up --host/--port`); `server: false` runs without HTTP. */
  readonly host?: string;
  readonly port?: number;
  readonly server?: boolean;
  /** Called after every cycle, for the status line. */
  readonly onCycle?: (summary: CycleSummary, activeAlerts: number) => void;
  /** Console lines of the `console` notification channel. */
  readonly stdout?: NodeJS.WritableStream;
  /** Collect from these sources instead of the config's (tests). */
  readonly sources?: readonly Source[];
}

export interface RunningVigil {
  readonly engine: Engine;
  readonly store: SqliteStore;
  readonly alerts: AlertService;
  readonly sources: readonly Source[];
  /** The dashboard URL, or null without the server. */
  readonly url: string | null;
  /** Stops collecting, finishes the write in flight, flushes notifications, closes the server and the store. */
  stop(): Promise<void>;
}

export async function startVigil(o: StartOptions): Promise<RunningVigil> {
  const { config } = o.loaded;
  const { clock, log } = o;
  const sources =
    o.sources ?? buildSources(config, { baseDir: o.loaded.path ? dirname(o.loaded.path) : o.cwd, env: o.env });
  const store = await openStore(config.storage, { clock });
  const closers: (() => Promise<void> | void)[] = [() => store.close()];
  const closeAll = async () => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (e) {
        log.error('shutdown step failed', { error: (e as Error).message });
      }
    }
  };
  try {
    const engine = new Engine({ config, store, clock, log });
    const alertRepo = new AlertRepository(store.db);
    const alerts = new AlertService({ repository: alertRepo, rules: config.rules, alerting: config.alerting });
    // Runs after everything that evaluates has stopped, before the store closes: the latest values are kept.
    closers.push(() => alerts.flush(clock.now()));
    await restoreAlertWindows(alerts, store, clock.now());

    const outbox = new OutboxRepository(store.db);
    const pipeline: NotificationPipeline = buildPipeline({
      notificationConfig: config.notification_config,
      settings: config.notifications,
      outbox,
      clock,
      env: o.env,
      ...(o.stdout ? { stdout: o.stdout } : {}),
      log: (level, message) => log[level](message),
      history: (alert, now) => chartHistory(store, alert, now),
    });
    const pipelineAbort = new AbortController();
    const pipelineLoop = pipeline.run(pipelineAbort.signal).catch((e: Error) => {
      log.error('notification pipeline stopped', { error: e.message });
    });
    closers.push(async () => {
      pipelineAbort.abort();
      await pipelineLoop;
      await pipeline.close();
    });
    alerts.onEvent((e) => {
      engine.events.emit('alert', e);
      pipeline.handle([e], clock.now());
    });

    const derived = new DerivedSignals({
      store,
      evaluate: (samples, now) => alerts.ingest(samples, [], now),
      patternIntervalMs: PATTERN_INTERVAL_MS,
    });
    await derived.configure(config.rules, clock.now(), config.analytics.patterns);
    engine.onIngest(async (samples, outcomes, now) => {
      alerts.ingest(samples, outcomes, now);
      await derived.afterIngest(samples, now);
    });

    const maintenance = new MaintenanceLoop({
      store,
      clock,
      intervalMs: config.storage.maintenance_interval,
      onError: (e) => log.error('store maintenance failed', { error: (e as Error).message }),
    });
    maintenance.start();
    closers.push(() => maintenance.stop());

    let lastPrune = Number.NEGATIVE_INFINITY;
    const sourceLog = new SourceProblemLog(); // a standing source error is logged once, not every cycle
    const onCycle = async (r: CycleResult) => {
      await engine.ingest(r.samples, r.outcomes, 'collect');
      const summary: CycleSummary = {
        at: r.ts,
        durationMs: r.durationMs,
        targets: r.outcomes.length,
        failures: r.outcomes.filter((x) => !x.success).length,
        samples: r.samples.length,
      };
      engine.recordCycle(summary, r.perSource.map(sourceStatus));
      for (const line of sourceLog.lines(r)) log[line.level](line.message);
      const now = clock.now();
      // VMs that discovery no longer lists (deleted): their alerts expire and no no-data rule fires for them.
      if (r.removedVms.length > 0) alerts.removeVms(r.removedVms, now);
      alerts.tick(now);
      await derived.tick(now);
      if (now - lastPrune >= DAY_MS) {
        lastPrune = now;
        alertRepo.prune(now - ALERT_HISTORY_MS);
      }
      o.onCycle?.(summary, alerts.activeAlerts().length);
    };
    const collector = new Collector({
      sources,
      clock,
      intervalMs: config.collection.interval,
      timeoutMs: config.collection.timeout,
      maxWorkers: config.collection.max_workers,
      onCycle,
      onError: (e) => log.error('collection cycle failed', { error: e.message }),
    });
    collector.start();
    closers.push(() => collector.close());

    // Rules edited in the config file (by hand, `vigil alert add`, or the API) apply without a restart.
    const configPath = o.loaded.path;
    if (configPath) {
      const reload = () => {
        try {
          const next = loadConfig({ path: configPath, cwd: o.cwd, env: o.env, ...(o.home ? { home: o.home } : {}) });
          alerts.reloadRules(next.config.rules, next.config.alerting);
          restoreAlertWindows(alerts, store, clock.now()).catch((e: Error) => {
            log.error('aggregate rule windows not restored', { error: e.message });
          });
          derived.configure(next.config.rules, clock.now(), next.config.analytics.patterns).catch((e: Error) => {
            log.error('anomaly/pattern signals not reconfigured', { error: e.message });
          });
          log.info('config reloaded: alert rules updated', { rules: alerts.currentRules().length });
        } catch (e) {
          log.warn(
            `config change ignored, the running rules stay in force: ${e instanceof ConfigError ? e.message : (e as Error).message}`,
          );
        }
      };
      watchFile(configPath, { interval: CONFIG_POLL_MS }, (cur, prev) => {
        if (cur.mtimeMs !== prev.mtimeMs) reload();
      });
      closers.push(() => unwatchFile(configPath));
    }

    let url: string | null = null;
    if (o.server ?? config.server.enabled) {
      const server = createServer({
        config,
        store,
        clock,
        events: engine.events,
        ingestor: engine,
        status: () => engine.status(),
        auth: new AuthRepository(store.db),
        alerts,
        alertHistory: alertRepo,
        notifications: {
          channelNames: () => pipeline.channelNames(),
          sendTest: (channel, now) => pipeline.sendTest(channel, now),
          outboxCounts: () => outbox.counts(),
        },
        ...(configPath && /\.ya?ml$/.test(configPath) ? { rulesFile: new RulesFile(configPath, o.env, o.home) } : {}),
      });
      const listening = await server.listen(o.host ?? config.server.host, o.port ?? config.server.port);
      url = listening.url;
      closers.push(() => listening.close());
    }

    return {
      engine,
      store,
      alerts,
      sources,
      url,
      stop: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}

function sourceStatus(s: CycleResult['perSource'][number]): SourceStatus {
  return {
    name: s.source,
    type: s.type,
    targets: s.targets,
    succeeded: s.succeeded,
    failures: s.failed,
    lastError: s.error,
    stats: s.stats ?? {},
  };
}
