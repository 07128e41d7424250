import type { StandardMetric } from '../model/metrics.ts';
import type { FleetRow } from '../store/fleet.ts';

/** Auto-refresh bounds of the dashboard (`--refresh-interval`, `+`/`-`). */
export const MIN_REFRESH_S = 10;
export const MAX_REFRESH_S = 300;

export type Level = 'ok' | 'warn' | 'bad';

/** The seed's colour bands: green below 70 %, yellow 70–85 %, red above 85 %. */
export function levelFor(percent: number): Level {
  if (percent > 85) return 'bad';
  if (percent >= 70) return 'warn';
  return 'ok';
}

export function formatPercent(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '----' : `${v.toFixed(1)}%`;
}

/** Bytes per collection interval → MB/s. */
export function mbPerSecond(bytes: number | undefined, intervalMs: number): number | undefined {
  if (bytes === undefined || !Number.isFinite(bytes) || intervalMs <= 0) return undefined;
  return bytes / (intervalMs / 1000) / 1e6;
}

export function formatRate(mbps: number | undefined): string {
  if (mbps === undefined) return '--';
  return mbps >= 100 ? mbps.toFixed(0) : mbps >= 10 ? mbps.toFixed(1) : mbps.toFixed(2);
}

export function formatPair(a: number | undefined, b: number | undefined): string {
  return `${formatRate(a)}/${formatRate(b)}`;
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/** A one-line chart of values scaled between min and max (or 0–100 for percentages). */
export function sparkline(values: readonly number[], width: number, range?: { min: number; max: number }): string {
  if (values.length === 0 || width <= 0) return '';
  const picked = resample(values, width);
  const min = range?.min ?? Math.min(...picked);
  const max = range?.max ?? Math.max(...picked);
  const span = max - min || 1;
  return picked
    .map((v) => BLOCKS[Math.max(0, Math.min(BLOCKS.length - 1, Math.round(((v - min) / span) * (BLOCKS.length - 1))))])
    .join('');
}

/** Averages values into at most `width` buckets so a long series fits the space. */
function resample(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values];
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * values.length) / width);
    const to = Math.max(from + 1, Math.floor(((i + 1) * values.length) / width));
    let sum = 0;
    for (let j = from; j < to; j++) sum += values[j]!;
    out.push(sum / (to - from));
  }
  return out;
}

export interface Column {
  readonly key: SortKey;
  readonly title: string;
  readonly width: number;
  /** Lower numbers are kept longest when the terminal is narrow. */
  readonly priority: number;
  readonly align: 'left' | 'right';
}

export type SortKey = 'vm' | 'cpu' | 'memory' | 'disk' | 'diskio' | 'netio' | 'status';

export const COLUMNS: readonly Column[] = [
  { key: 'vm', title: 'VM Name', width: 22, priority: 0, align: 'left' },
  { key: 'cpu', title: 'CPU%', width: 7, priority: 0, align: 'right' },
  { key: 'memory', title: 'Memory%', width: 8, priority: 1, align: 'right' },
  { key: 'disk', title: 'Disk%', width: 7, priority: 2, align: 'right' },
  { key: 'diskio', title: 'Disk R/W (MB/s)', width: 16, priority: 4, align: 'right' },
  { key: 'netio', title: 'Network I/O (MB/s)', width: 19, priority: 3, align: 'right' },
  { key: 'status', title: 'Status', width: 8, priority: 1, align: 'left' },
];

export const SORT_KEYS: readonly SortKey[] = COLUMNS.map((c) => c.key);

/** Columns that fit in `width` characters, dropping the least important first; the VM name absorbs spare room. */
export function fitColumns(width: number): Column[] {
  const kept = [...COLUMNS];
  const total = (cols: readonly Column[]) => cols.reduce((s, c) => s + c.width + 1, 0);
  while (total(kept) > width && kept.some((c) => c.priority > 0)) {
    const worst = kept.reduce((a, b) => (b.priority > a.priority ? b : a));
    kept.splice(kept.indexOf(worst), 1);
  }
  const spare = width - total(kept);
  if (spare > 0) {
    const i = kept.findIndex((c) => c.key === 'vm');
    kept[i] = { ...kept[i]!, width: Math.min(kept[i]!.width + spare, 40) };
  }
  return kept;
}

export function pad(text: string, width: number, align: 'left' | 'right'): string {
  const t = text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
  return align === 'left' ? t.padEnd(width) : t.padStart(width);
}

/** The text and colour level of one cell. */
export function cell(row: FleetRow, key: SortKey, intervalMs: number): { text: string; level?: Level } {
  const m = row.metrics;
  const pct = (metric: StandardMetric) => {
    const v = m[metric];
    return { text: formatPercent(v), level: v === undefined ? undefined : levelFor(v) };
  };
  switch (key) {
    case 'vm':
      return { text: row.vm };
    case 'cpu':
      return row.success ? pct('cpu_percent') : { text: '----' };
    case 'memory':
      return row.success ? pct('memory_percent') : { text: '' };
    case 'disk':
      return row.success ? pct('disk_percent') : { text: '' };
    case 'diskio':
      return row.success
        ? { text: formatPair(mbPerSecond(m.disk_read_bytes, intervalMs), mbPerSecond(m.disk_write_bytes, intervalMs)) }
        : { text: '' };
    case 'netio':
      return row.success
        ? {
            text: formatPair(mbPerSecond(m.network_in_bytes, intervalMs), mbPerSecond(m.network_out_bytes, intervalMs)),
          }
        : { text: '' };
    case 'status':
      return row.success
        ? { text: 'OK', level: 'ok' }
        : { text: `ERROR: ${row.errorMessage ?? 'collection failed'}`, level: 'bad' };
  }
}

/** Sorts rows by a column: failures first when sorting by status, highest usage first for metrics. */
export function sortRows(rows: readonly FleetRow[], key: SortKey): FleetRow[] {
  const num = (r: FleetRow): number => {
    const m = r.metrics;
    switch (key) {
      case 'cpu':
        return m.cpu_percent ?? -1;
      case 'memory':
        return m.memory_percent ?? -1;
      case 'disk':
        return m.disk_percent ?? -1;
      case 'diskio':
        return (m.disk_read_bytes ?? 0) + (m.disk_write_bytes ?? 0);
      case 'netio':
        return (m.network_in_bytes ?? 0) + (m.network_out_bytes ?? 0);
      case 'status':
        return r.success ? 0 : 1;
      default:
        return 0;
    }
  };
  return [...rows].sort((a, b) => (key === 'vm' ? 0 : num(b) - num(a)) || a.vm.localeCompare(b.vm));
}

export function filterRows(rows: readonly FleetRow[], text: string, resourceGroup?: string): FleetRow[] {
  const q = text.trim().toLowerCase();
  return rows.filter(
    (r) =>
      (!resourceGroup || r.resourceGroup === resourceGroup) &&
      (!q ||
        r.vm.toLowerCase().includes(q) ||
        (r.resourceGroup ?? '').toLowerCase().includes(q) ||
        (r.source ?? '').toLowerCase().includes(q)),
  );
}

/**
 * The cells of one table line, padded and separated. A failed VM shows, as in the seed,
 * `----   ERROR: <message>` after its name, the message spanning the remaining columns.
 */
export function rowCells(
  row: FleetRow,
  columns: readonly Column[],
  intervalMs: number,
): { key: string; text: string; level?: Level }[] {
  const out: { key: string; text: string; level?: Level }[] = [];
  for (const [j, c] of columns.entries()) {
    const sep = j < columns.length - 1 ? ' ' : '';
    if (!row.success && c.key !== 'vm' && c.key !== 'cpu') {
      out.push({ key: 'error', text: `  ERROR: ${row.errorMessage ?? 'collection failed'}`, level: 'bad' });
      break;
    }
    const { text, level } = cell(row, c.key, intervalMs);
    out.push({ key: c.key, text: pad(text, c.width, c.align) + sep, level });
  }
  return out;
}
