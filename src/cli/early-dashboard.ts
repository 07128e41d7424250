/**
 * `vigil dashboard` in a terminal paints the fleet before the CLI proper loads. Commander, zod and the config schema
 * take 150-300 ms to load, Ink and React about 300 ms more, and the first screen with 1,000 VMs is due within 300 ms
 * of start. So for the plain standalone dashboard this reads the arguments, the store path and interval from the
 * config file (config/peek.ts) and the fleet from the store file (fleet-snapshot.ts), with nothing else loaded, and
 * writes a screenful as text. The command then validates everything as usual and takes the painted rows over
 * (`takeEarlyPaint`), or the CLI erases them before it reports an error (`discardEarlyPaint`).
 */

import { peekStoreSettings } from '../config/peek.ts';
import type { FleetRow } from '../store/fleet.ts';
import { readFleetSnapshot } from '../store/sqlite/fleet-snapshot.ts';
import { resolveStorePath } from '../store/store-path.ts';
import { STALE_MS } from '../tui/data.ts';
import { MAX_REFRESH_S, MIN_REFRESH_S } from '../tui/format.ts';
import { erasePrepaint, prepaint } from '../tui/prepaint.ts';
import type { CliIo } from './context.ts';

/** The arguments of a standalone `vigil dashboard`, as commander will read them. */
export interface DashboardArgs {
  readonly config?: string;
  readonly db?: string;
  readonly refreshS: number;
  readonly resourceGroup?: string;
}

/** What was painted: the store file read, its rows (the command's first snapshot) and the lines written. */
export interface EarlyPaint {
  readonly storePath: string;
  readonly rows: FleetRow[];
  readonly lines: number;
}

const VALUED: ReadonlyMap<string, keyof DashboardArgs> = new Map([
  ['-c', 'config'],
  ['--config', 'config'],
  ['--db', 'db'],
  ['--refresh-interval', 'refreshS'],
  ['--resource-group', 'resourceGroup'],
] as const);

/**
 * The arguments when argv is `dashboard` with only the options above (valid), else null: `--server`, `--help`, an
 * unknown option, a bad interval and anything else are the full CLI's to handle and to report.
 */
export function dashboardArgs(argv: readonly string[]): DashboardArgs | null {
  let command: string | undefined;
  const got = new Map<keyof DashboardArgs, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-') || a === '-') {
      if (command !== undefined) return null;
      command = a;
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const key = VALUED.get(eq > 0 ? a.slice(0, eq) : a);
    // Options of the dashboard (not the program) come after the command word.
    if (!key || ((key === 'refreshS' || key === 'resourceGroup') && command === undefined)) return null;
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('-'))) return null;
    got.set(key, value);
  }
  if (command !== 'dashboard') return null;
  const refresh = got.get('refreshS') ?? '60';
  const refreshS = Number(refresh);
  if (refresh.trim() === '' || !Number.isFinite(refreshS) || refreshS < MIN_REFRESH_S || refreshS > MAX_REFRESH_S)
    return null;
  const config = got.get('config');
  const db = got.get('db');
  const resourceGroup = got.get('resourceGroup');
  return {
    refreshS,
    ...(config !== undefined ? { config } : {}),
    ...(db !== undefined ? { db } : {}),
    ...(resourceGroup !== undefined ? { resourceGroup } : {}),
  };
}

let painted: EarlyPaint | undefined;

/** Paints the first screen when argv is a standalone dashboard in a terminal; anything unexpected paints nothing. */
export async function paintDashboardEarly(argv: readonly string[], io: CliIo, now: number): Promise<void> {
  const stdout = io.stdout as NodeJS.WriteStream;
  if (!stdout.isTTY) return;
  const args = dashboardArgs(argv);
  if (!args) return;
  try {
    const settings = await peekStoreSettings({
      ...(args.config !== undefined ? { config: args.config } : {}),
      ...(args.db !== undefined ? { db: args.db } : {}),
      cwd: io.cwd,
      ...(io.env.HOME ? { home: io.env.HOME } : {}),
      env: io.env,
    });
    if (!settings) return;
    const storePath = resolveStorePath(settings.storagePath);
    const rows = readFleetSnapshot(storePath, { staleMs: STALE_MS });
    if (!rows) return;
    const lines = prepaint(stdout, rows, {
      resourceGroup: args.resourceGroup,
      color: !io.env.NO_COLOR,
      intervalMs: settings.intervalMs,
      now,
    });
    painted = { storePath, rows, lines };
  } catch {
    // Whatever failed here fails again in the command, which reports it properly.
  }
}

/** The early paint, once: the dashboard reuses its rows when it reads the same store file. */
export function takeEarlyPaint(): EarlyPaint | undefined {
  const p = painted;
  painted = undefined;
  return p;
}

/** Erases an early paint nobody took (the command failed before it could), so an error does not sit under a table. */
export async function discardEarlyPaint(io: CliIo): Promise<void> {
  const p = takeEarlyPaint();
  if (p && p.lines > 0) io.stdout.write(await erasePrepaint(p.lines));
}
