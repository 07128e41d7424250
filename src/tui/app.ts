import { Box, Text, useApp, useInput, useStdout } from 'ink';
import { createElement as h, type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import type { FleetForecastRow } from '../analyze/forecast/fleet-forecast.ts';
import { describeThreshold } from '../analyze/forecast/forecast.ts';
import type { Point } from '../model/sample.ts';
import type { FleetRow } from '../store/fleet.ts';
import type { DashboardAlert, DashboardData } from './data.ts';
import {
  type Column,
  filterRows,
  fitColumns,
  type Level,
  MAX_REFRESH_S,
  MIN_REFRESH_S,
  pad,
  rowCells,
  SORT_KEYS,
  type SortKey,
  sortRows,
  sparkline,
} from './format.ts';

const COLOR: Record<Level, string> = { ok: 'green', warn: 'yellow', bad: 'red' };

export { MAX_REFRESH_S, MIN_REFRESH_S };

export interface AppProps {
  readonly data: DashboardData;
  readonly refreshS: number;
  readonly resourceGroup?: string;
  readonly color: boolean;
  /** Wall clock for the title bar and countdown; injected so tests control it. */
  readonly now: () => number;
  /** Rows already read (the text snapshot painted before Ink loaded): the first frame shows them, not "Loading…". */
  readonly initialRows?: readonly FleetRow[];
}

type Mode = 'table' | 'detail' | 'alerts' | 'filter';

/** Refresh steps for '+' (faster) and '-' (slower), bounded 10 s to 5 min. */
export function nextRefresh(current: number, faster: boolean): number {
  const steps = [10, 15, 30, 45, 60, 120, 180, 300];
  if (faster) return [...steps].reverse().find((s) => s < current) ?? MIN_REFRESH_S;
  return steps.find((s) => s > current) ?? MAX_REFRESH_S;
}

export function App(props: AppProps): ReactNode {
  const { exit } = useApp();
  const { stdout: out } = useStdout();
  const stdout = out as NodeJS.WriteStream;
  const [rows, setRows] = useState<FleetRow[]>(() => [...(props.initialRows ?? [])]);
  const [updatedAt, setUpdatedAt] = useState<number | null>(() => (props.initialRows ? props.now() : null));
  const [error, setError] = useState<string | null>(null);
  const [refreshS, setRefreshS] = useState(props.refreshS);
  const [nextAt, setNextAt] = useState(props.now() + props.refreshS * 1000);
  const [, setTick] = useState(0);
  const [selected, setSelected] = useState(0);
  const [mode, setMode] = useState<Mode>('table');
  const [filter, setFilter] = useState('');
  const [sortKey, setSortKey] = useState<SortKey>('vm');
  const [alerts, setAlerts] = useState<DashboardAlert[]>([]);
  /** Why the last alerts read failed; the fleet still refreshes without them. */
  const [alertsError, setAlertsError] = useState<string | null>(null);
  const [history, setHistory] = useState<Record<string, Point[]> | null>(null);
  const [forecasts, setForecasts] = useState<FleetForecastRow[] | null>(null);
  const [size, setSize] = useState({ columns: stdout.columns ?? 100, rows: stdout.rows ?? 30 });
  const loading = useRef(false);

  const refresh = useCallback(
    async (collect: boolean) => {
      if (loading.current) return;
      loading.current = true;
      try {
        // Settled separately: a failing alerts read must not blank the fleet (and vice versa).
        const [fleet, active] = await Promise.allSettled([props.data.fleet({ collect }), props.data.alerts()]);
        if (fleet.status === 'fulfilled') {
          setRows(fleet.value);
          setUpdatedAt(props.now());
          setError(null);
        } else setError((fleet.reason as Error)?.message ?? String(fleet.reason));
        if (active.status === 'fulfilled') {
          setAlerts(active.value);
          setAlertsError(null);
        } else setAlertsError((active.reason as Error)?.message ?? String(active.reason));
      } finally {
        loading.current = false;
      }
    },
    [props.data, props.now],
  );

  useEffect(() => {
    void refresh(false);
    const unsubscribe = props.data.subscribe?.(() => void refresh(false));
    return () => unsubscribe?.();
  }, [refresh, props.data]);

  // One-second tick drives the countdown; when it reaches zero, refresh.
  useEffect(() => {
    const timer = setInterval(() => {
      if (props.now() >= nextAt) {
        setNextAt(props.now() + refreshS * 1000);
        void refresh(true);
      }
      setTick((t) => t + 1);
    }, 1000);
    return () => clearInterval(timer);
  }, [nextAt, refreshS, refresh, props.now]);

  useEffect(() => {
    const onResize = () => setSize({ columns: stdout.columns ?? 100, rows: stdout.rows ?? 30 });
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout]);

  const visible = sortRows(filterRows(rows, filter, props.resourceGroup), sortKey);
  const current = visible[Math.min(selected, Math.max(0, visible.length - 1))];

  const currentVm = current?.vm;
  useEffect(() => {
    if (mode !== 'detail' || !currentVm) return;
    let live = true;
    props.data.vmHistory(currentVm, props.now() - 6 * 3_600_000).then(
      (hist) => live && setHistory(hist),
      (e) => live && setError((e as Error).message),
    );
    props.data.forecasts(currentVm).then(
      (f) => live && setForecasts(f),
      (e) => live && setError((e as Error).message),
    );
    return () => {
      live = false;
    };
  }, [mode, currentVm, props.data, props.now]);

  useInput((input, key) => {
    if (mode === 'filter') {
      if (key.return || key.escape) setMode('table');
      else if (key.backspace || key.delete) setFilter((f) => f.slice(0, -1));
      else if (input && !key.ctrl && !key.meta) setFilter((f) => f + input);
      return;
    }
    if (input === 'q' || (key.ctrl && input === 'c')) {
      exit();
      return;
    }
    if (key.escape) {
      setMode('table');
      return;
    }
    if (input === 'r') {
      setNextAt(props.now() + refreshS * 1000);
      void refresh(true);
    } else if (input === '+' || input === '=') {
      const s = nextRefresh(refreshS, true);
      setRefreshS(s);
      setNextAt(props.now() + s * 1000);
    } else if (input === '-' || input === '_') {
      const s = nextRefresh(refreshS, false);
      setRefreshS(s);
      setNextAt(props.now() + s * 1000);
    } else if (key.upArrow) setSelected((i) => Math.max(0, i - 1));
    else if (key.downArrow) setSelected((i) => Math.min(Math.max(0, visible.length - 1), i + 1));
    else if (key.return && mode === 'table' && current) {
      setHistory(null);
      setForecasts(null);
      setMode('detail');
    } else if (input === 'a') setMode((m) => (m === 'alerts' ? 'table' : 'alerts'));
    else if (input === '/') {
      setFilter('');
      setMode('filter');
    } else if (input === 's') setSortKey((k) => SORT_KEYS[(SORT_KEYS.indexOf(k) + 1) % SORT_KEYS.length]!);
  });

  const width = Math.max(40, size.columns);
  const secondsLeft = Math.max(0, Math.ceil((nextAt - props.now()) / 1000));
  const title = h(
    Box,
    { justifyContent: 'space-between', width },
    h(
      Text,
      { bold: true, color: props.color ? 'cyan' : undefined },
      `Vigil — ${visible.length}/${rows.length} VMs${props.resourceGroup ? ` in ${props.resourceGroup}` : ''}`,
    ),
    h(Text, null, updatedAt ? `Updated: ${fmtTime(updatedAt)}` : 'Loading…'),
  );
  const footer = h(
    Text,
    { dimColor: true },
    mode === 'filter'
      ? `Filter: ${filter}█  (enter to apply, esc to close)`
      : fitFooter(
          [
            `Press 'q' to quit | 'r' to refresh | Next auto-refresh in ${secondsLeft}s`,
            `+/- interval (${refreshS}s)`,
            '↑↓ enter detail',
            'a alerts',
            '/ filter',
            `s sort (${sortKey})`,
          ],
          width,
        ),
  );
  const body =
    mode === 'detail' && current
      ? h(Detail, {
          row: current,
          history,
          forecasts,
          alerts: alerts.filter((a) => a.vm === current.vm),
          width,
          color: props.color,
          intervalMs: props.data.intervalMs,
        })
      : mode === 'alerts'
        ? h(AlertsPanel, { alerts, unavailable: alertsError, width, color: props.color })
        : h(FleetTable, {
            rows: visible,
            selected: Math.min(selected, Math.max(0, visible.length - 1)),
            columns: fitColumns(width),
            maxRows: Math.max(3, size.rows - 6),
            color: props.color,
            intervalMs: props.data.intervalMs,
          });
  return h(
    Box,
    { flexDirection: 'column' },
    title,
    error ? h(Text, { color: props.color ? 'red' : undefined }, `Error: ${error}`) : null,
    alertsError
      ? h(Text, { color: props.color ? 'yellow' : undefined, wrap: 'truncate' }, `Alerts unavailable: ${alertsError}`)
      : null,
    body,
    footer,
  );
}

function FleetTable(p: {
  rows: readonly FleetRow[];
  selected: number;
  columns: readonly Column[];
  maxRows: number;
  color: boolean;
  intervalMs: number;
}): ReactNode {
  const start = Math.max(0, Math.min(p.selected - Math.floor(p.maxRows / 2), p.rows.length - p.maxRows));
  const slice = p.rows.slice(start, start + p.maxRows);
  return h(
    Box,
    { flexDirection: 'column' },
    h(Text, { bold: true }, p.columns.map((c) => pad(c.title, c.width, c.align)).join(' ')),
    ...slice.map((row, i) =>
      h(
        Text,
        { key: row.vm, wrap: 'truncate', inverse: start + i === p.selected },
        ...rowCells(row, p.columns, p.intervalMs).map(({ key, text, level }) =>
          h(Text, { key, color: p.color && level ? COLOR[level] : undefined }, text),
        ),
      ),
    ),
    p.rows.length === 0 ? h(Text, { dimColor: true }, 'No VMs yet: waiting for the first collection…') : null,
  );
}

const DETAIL_METRICS: readonly [string, string, boolean][] = [
  ['cpu_percent', 'CPU %', true],
  ['memory_percent', 'Memory %', true],
  ['disk_percent', 'Disk %', true],
  ['disk_read_bytes', 'Disk read', false],
  ['disk_write_bytes', 'Disk write', false],
  ['network_in_bytes', 'Net in', false],
  ['network_out_bytes', 'Net out', false],
];

/** One metric's forecast: trend and predictions, then the risk and its recommendation when at risk. */
function ForecastLine(p: { f: FleetForecastRow; color: boolean }): ReactNode {
  const { f } = p;
  const label = (DETAIL_METRICS.find(([m]) => m === f.metric)?.[1] ?? f.metric).padEnd(11);
  if (f.status !== 'ok') return h(Text, { dimColor: true }, `${label} ${f.message}`);
  const line = `${label} ${f.current_value.toFixed(1)}% → 7d ${f.predicted_7d.toFixed(1)}% → 30d ${f.predicted_30d.toFixed(1)}% (${f.trend})`;
  if (!f.at_risk) {
    const range = describeThreshold(f);
    return h(Text, null, range ? `${line}  ${range}` : line);
  }
  return h(
    Box,
    { flexDirection: 'column' },
    h(Text, { color: p.color ? 'red' : undefined }, `${line}  AT RISK: ${describeThreshold(f) ?? ''}`),
    f.recommendation ? h(Text, { dimColor: true }, `            ${f.recommendation}`) : null,
  );
}

function Detail(p: {
  row: FleetRow;
  history: Record<string, Point[]> | null;
  forecasts: readonly FleetForecastRow[] | null;
  alerts: readonly DashboardAlert[];
  width: number;
  color: boolean;
  intervalMs: number;
}): ReactNode {
  const chartWidth = Math.max(10, p.width - 30);
  return h(
    Box,
    { flexDirection: 'column' },
    h(
      Text,
      { bold: true },
      `${p.row.vm}  ${p.row.resourceGroup ?? ''}  source=${p.row.source ?? '?'}  (esc to go back)`,
    ),
    !p.row.success
      ? h(Text, { color: p.color ? 'red' : undefined }, `ERROR: ${p.row.errorMessage ?? 'collection failed'}`)
      : null,
    p.history === null
      ? h(Text, { dimColor: true }, 'Loading history…')
      : h(
          Box,
          { flexDirection: 'column' },
          h(Text, { dimColor: true }, 'Last 6 hours'),
          ...DETAIL_METRICS.map(([metric, label, percent]) => {
            const pts = p.history![metric] ?? [];
            const last = pts.at(-1)?.value;
            const lastText =
              last === undefined
                ? '--'
                : percent
                  ? `${last.toFixed(1)}%`
                  : `${(last / (p.intervalMs / 1000) / 1e6).toFixed(2)} MB/s`;
            return h(
              Text,
              { key: metric },
              `${label.padEnd(11)} ${lastText.padStart(11)}  `,
              h(
                Text,
                {
                  color:
                    p.color && percent && last !== undefined
                      ? COLOR[last > 85 ? 'bad' : last >= 70 ? 'warn' : 'ok']
                      : undefined,
                },
                sparkline(
                  pts.map((x) => x.value),
                  chartWidth,
                  percent ? { min: 0, max: 100 } : undefined,
                ),
              ),
            );
          }),
        ),
    h(Text, { bold: true }, 'Forecast (30 days)'),
    ...(p.forecasts === null
      ? [h(Text, { key: 'loading', dimColor: true }, 'Forecasting…')]
      : p.forecasts.map((f) => h(ForecastLine, { key: f.metric, f, color: p.color }))),
    h(Text, { bold: true }, `Active alerts (${p.alerts.length})`),
    ...p.alerts.map((a) =>
      h(
        Text,
        { key: a.id, color: p.color ? sevColor(a.severity) : undefined },
        `  [${a.severity.toUpperCase()}] ${a.message}`,
      ),
    ),
  );
}

function AlertsPanel(p: {
  alerts: readonly DashboardAlert[];
  unavailable: string | null;
  width: number;
  color: boolean;
}): ReactNode {
  return h(
    Box,
    { flexDirection: 'column' },
    h(Text, { bold: true }, `Active alerts (${p.unavailable ? 'unavailable' : p.alerts.length}) — 'a' to close`),
    p.unavailable
      ? h(Text, { color: p.color ? 'yellow' : undefined }, `Alerts unavailable: ${p.unavailable}`)
      : p.alerts.length === 0
        ? h(Text, { color: p.color ? 'green' : undefined }, 'No active alerts.')
        : null,
    ...p.alerts.map((a) =>
      h(
        Text,
        { key: a.id, color: p.color ? sevColor(a.severity) : undefined, wrap: 'truncate' },
        `${pad(a.severity.toUpperCase(), 9, 'left')} ${pad(a.status, 12, 'left')} ${pad(a.vm ?? '-', 20, 'left')} ${a.message}`,
      ),
    ),
  );
}

/** Joins footer hints with " | ", keeping as many as fit the width (the first, the seed's, always). */
function fitFooter(parts: readonly string[], width: number): string {
  let out = parts[0]!;
  for (const p of parts.slice(1)) {
    if (out.length + 3 + p.length > width) break;
    out += ` | ${p}`;
  }
  return out;
}

function sevColor(severity: string): string {
  return severity === 'emergency' || severity === 'critical' ? 'red' : severity === 'warning' ? 'yellow' : 'blue';
}

/** "2026-01-01 14:03:07 UTC": the zone is named, as in the non-TTY snapshot. */
function fmtTime(ts: number): string {
  return `${new Date(ts).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}
