import { dirname } from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../../clock.ts';
import type { FleetRow } from '../../store/fleet.ts';
import { openStore } from '../../store/open.ts';
import { AlertRepository } from '../../store/sqlite/alert-repository.ts';
import { readFleetSnapshot } from '../../store/sqlite/fleet-snapshot.ts';
import type { SqliteStore } from '../../store/sqlite/sqlite-store.ts';
import { resolveStorePath } from '../../store/store-path.ts';
import { type DashboardData, STALE_MS } from '../../tui/data.ts';
import { filterRows, MAX_REFRESH_S, MIN_REFRESH_S, sortRows } from '../../tui/format.ts';
import { type LocalStores, localDashboardData } from '../../tui/local-data.ts';
import { erasePrepaint, prepaint } from '../../tui/prepaint.ts';
import { remoteDashboardData } from '../../tui/remote-data.ts';
import { renderFleetText } from '../../tui/render-text.ts';
import { type CliIo, EXIT_FAILURE, loadEffectiveConfig, UserError } from '../context.ts';
import { takeEarlyPaint } from '../early-dashboard.ts';

export function register(program: Command, io: CliIo): void {
  program
    .command('dashboard')
    .description('live terminal dashboard of the fleet (standalone, or --server URL of a running `vigil up`)')
    .option('--refresh-interval <s>', `seconds between refreshes (${MIN_REFRESH_S}-${MAX_REFRESH_S})`, '60')
    .option('--resource-group <rg>', 'only VMs of this resource group')
    .option('--server <url>', 'read from a running `vigil up` (e.g. http://127.0.0.1:7070) instead of the store')
    .option('--token <token>', 'API token for --server (default: $VIGIL_TOKEN)')
    .action(
      async (
        opts: { refreshInterval: string; resourceGroup?: string; server?: string; token?: string },
        cmd: Command,
      ) => {
        const refreshS = Number(opts.refreshInterval);
        if (!Number.isFinite(refreshS) || refreshS < MIN_REFRESH_S || refreshS > MAX_REFRESH_S)
          throw new UserError(
            `--refresh-interval: expected seconds between ${MIN_REFRESH_S} and ${MAX_REFRESH_S}, got "${opts.refreshInterval}"`,
          );
        let data: DashboardData;
        let snapshot: FleetRow[] | null = null;
        // Lines of the snapshot on screen as text, erased before Ink's first frame; null until painted (main.ts's
        // early paint, when reused, counts as painted).
        let prepainted: number | null = null;
        if (opts.server) {
          data = await remoteDashboardData(opts.server, opts.token ?? io.env.VIGIL_TOKEN, systemClock);
        } else {
          const loaded = loadEffectiveConfig(cmd, io);
          const { config } = loaded;
          // The first screen main.ts painted before this module loaded, if any (cli/early-dashboard.ts); taken once
          // the config is known good, as an error before that erases it.
          const early = takeEarlyPaint();
          const baseDir = loaded.path ? dirname(loaded.path) : io.cwd;
          // Sources (Azure, SSH, ...) load on the first collecting refresh, not before the first paint.
          const sources = async () => {
            const { buildSources } = await import('../../collect/build-sources.ts');
            return buildSources(config, { baseDir, env: io.env });
          };
          // Not openMetricsStore (collect.ts): that module loads every source before the first paint.
          const open = async (): Promise<LocalStores> => {
            let store: SqliteStore;
            try {
              store = await openStore(config.storage);
            } catch (e) {
              throw new UserError((e as Error).message, EXIT_FAILURE);
            }
            return { store, alerts: new AlertRepository(store.db) };
          };
          // The first paint (and a non-TTY snapshot) reads the file directly; the store, whose open replays the
          // durable head, opens right after the paint. The early paint's rows serve when it read the same file.
          const storePath = resolveStorePath(config.storage.path);
          if (early?.storePath === storePath) {
            snapshot = early.rows;
            prepainted = early.lines;
          } else {
            // Painted from another file than the validated config names (the peek and the loader disagreed).
            if (early && early.lines > 0) io.stdout.write(await erasePrepaint(early.lines));
            snapshot = readFleetSnapshot(storePath, { staleMs: STALE_MS });
          }
          data = localDashboardData({
            open,
            firstPaint: snapshot,
            sources,
            collection: config.collection,
            clock: systemClock,
          });
        }
        try {
          const color = !io.env.NO_COLOR;
          if (!io.stdout.isTTY) {
            // Not a terminal (a pipe, a file, cron): print one snapshot and exit.
            const rows = sortRows(filterRows(await data.fleet({ collect: false }), '', opts.resourceGroup), 'vm');
            if (rows.length === 0)
              io.stderr.write(
                opts.resourceGroup
                  ? `no VMs in resource group "${opts.resourceGroup}"\n`
                  : 'no VMs yet: start `vigil up`, or collect once with `vigil collect --once`\n',
              );
            io.stdout.write(
              renderFleetText(rows, {
                width: io.stdout.columns ?? 120,
                intervalMs: data.intervalMs,
                color: false,
                updatedAt: systemClock.now(),
              }),
            );
            return;
          }
          // Ink and React take about 0.3 s to load: the snapshot is on screen as text meanwhile, and erased
          // just before Ink's first frame takes its place.
          if (snapshot && prepainted === null)
            prepainted = prepaint(io.stdout as NodeJS.WriteStream, snapshot, {
              resourceGroup: opts.resourceGroup,
              color,
              intervalMs: data.intervalMs,
              now: systemClock.now(),
            });
          const [{ render }, { createElement }, { App }] = await Promise.all([
            import('ink'),
            import('react'),
            import('../../tui/app.ts'),
          ]);
          if (prepainted) io.stdout.write(await erasePrepaint(prepainted));
          const app = render(
            createElement(App, {
              data,
              refreshS,
              ...(opts.resourceGroup ? { resourceGroup: opts.resourceGroup } : {}),
              color,
              now: () => systemClock.now(),
              ...(snapshot ? { initialRows: snapshot } : {}),
            }),
            // interactive: Ink would otherwise print only the last frame when CI=… is set (build boxes, CI
            // shells), leaving a live dashboard blank; this branch only runs on a TTY.
            { stdout: io.stdout as NodeJS.WriteStream, exitOnCtrlC: false, interactive: true },
          );
          await app.waitUntilExit();
        } finally {
          await data.close();
        }
      },
    );
}
