/**
 * A plain-ASCII line chart of one time series for the terminal (`vigil history --chart`): a title line, the plot
 * with value labels on the y axis, and an x axis with UTC time labels. Fits in `width` x `height` characters.
 */

export interface ChartPoint {
  readonly ts: number;
  readonly value: number;
}

export interface LineChartOptions {
  /** Total width in characters (labels included). */
  readonly width: number;
  /** Total height in lines (title and x axis included). */
  readonly height: number;
  readonly title?: string;
}

const MIN_PLOT_WIDTH = 10;
const MIN_PLOT_HEIGHT = 3;
const DAY_MS = 86_400_000;

/** A short value label: 12.5, 980, 45.3k, 5.0M, 1.2G. */
export function shortNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (Number.isInteger(v)) return String(v);
  return a >= 100 ? v.toFixed(0) : v.toFixed(1);
}

const MIN_MS = 60_000;
/** Tick intervals for the time axis, finest first; ticks sit on UTC multiples of the interval. */
const TICKS_MS = [1, 5, 15, 30, 60, 180, 360, 720, 1440, 2880, 10_080, 20_160, 43_200].map((m) => m * MIN_MS);

/** `13:45` within a day, `11-28 13:45` for sub-day ticks over longer spans, `11-28` for whole-day ticks. */
function timeLabel(ts: number, spanMs: number, tickMs: number): string {
  const iso = new Date(ts).toISOString(); // 2026-11-28T13:45:00.000Z
  if (tickMs >= DAY_MS) return iso.slice(5, 10);
  if (spanMs < DAY_MS) return iso.slice(11, 16);
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

/**
 * Renders the points (any order) as a chart. Each plot column averages the points whose time falls in it; a `*`
 * marks its value and `|` joins it to the neighbouring column, so the line stays continuous; columns without
 * points stay blank (a gap in the data).
 */
export function lineChart(points: readonly ChartPoint[], opts: LineChartOptions): string {
  const title = opts.title ?? '';
  if (points.length === 0) return `${title}${title ? ': ' : ''}no data in the range`;
  const sorted = [...points].sort((a, b) => a.ts - b.ts);
  const t0 = sorted[0]!.ts;
  const t1 = sorted[sorted.length - 1]!.ts;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const p of sorted) {
    if (p.value < lo) lo = p.value;
    if (p.value > hi) hi = p.value;
  }
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const plotHeight = Math.max(MIN_PLOT_HEIGHT, opts.height - 3); // title, axis line, time labels
  const rowValue = (r: number) => hi - (r * (hi - lo)) / (plotHeight - 1);
  const yLabels = Array.from({ length: plotHeight }, (_, r) => shortNumber(rowValue(r)));
  const labelWidth = Math.max(...yLabels.map((l) => l.length));
  const plotWidth = Math.max(MIN_PLOT_WIDTH, opts.width - labelWidth - 2);
  const span = Math.max(1, t1 - t0);
  const column = (ts: number) => Math.min(plotWidth - 1, Math.floor(((ts - t0) / span) * plotWidth));

  const sums = new Float64Array(plotWidth);
  const counts = new Uint32Array(plotWidth);
  const firstTs = new Float64Array(plotWidth);
  const lastTs = new Float64Array(plotWidth);
  for (const p of sorted) {
    const c = column(p.ts);
    if (counts[c] === 0) firstTs[c] = p.ts;
    lastTs[c] = p.ts;
    sums[c]! += p.value;
    counts[c]!++;
  }
  // Points further apart than a few typical intervals are a gap in the data: the line is not drawn across it.
  const intervals = sorted.slice(1).map((p, i) => p.ts - sorted[i]!.ts);
  intervals.sort((a, b) => a - b);
  const maxJoinMs = 3 * (intervals[Math.floor(intervals.length / 2)] ?? 0);
  const rowOf = (v: number) => Math.round(((hi - v) / (hi - lo)) * (plotHeight - 1));
  const grid = Array.from({ length: plotHeight }, () => new Array<string>(plotWidth).fill(' '));
  const join = (c: number, from: number, to: number) => {
    // The rows strictly between two values, drawn in column c.
    if (Math.abs(to - from) <= 1) return;
    const step = to > from ? 1 : -1;
    for (let r = from + step; r !== to; r += step) if (grid[r]![c] === ' ') grid[r]![c] = '|';
  };
  let prev: { c: number; row: number; value: number } | null = null;
  for (let c = 0; c < plotWidth; c++) {
    if (counts[c] === 0) continue;
    const value = sums[c]! / counts[c]!;
    const row = rowOf(value);
    if (prev !== null && firstTs[c]! - lastTs[prev.c]! <= maxJoinMs) {
      // Columns without a point of their own (fewer points than columns) get the line between their neighbours.
      let before = prev.row;
      for (let k = prev.c + 1; k < c; k++) {
        const r = rowOf(prev.value + ((value - prev.value) * (k - prev.c)) / (c - prev.c));
        grid[r]![k] = '*';
        join(k, before, r);
        before = r;
      }
      join(c, before, row);
    }
    grid[row]![c] = '*';
    prev = { c, row, value };
  }

  const labelEvery = Math.max(1, Math.round(plotHeight / 5));
  const lines: string[] = [];
  lines.push(title.slice(0, opts.width));
  for (let r = 0; r < plotHeight; r++) {
    const labelled = r === plotHeight - 1 || (r % labelEvery === 0 && plotHeight - 1 - r >= labelEvery / 2);
    const label = labelled ? yLabels[r]! : '';
    lines.push(`${label.padStart(labelWidth)} |${grid[r]!.join('')}`.trimEnd());
  }
  // X axis: a tick under each time label, labels spaced so they never touch.
  const axis = new Array<string>(plotWidth).fill('-');
  const labels = new Array<string>(plotWidth + 16).fill(' ');
  const tickMs =
    TICKS_MS.find((t) => (span / t) * (timeLabel(t0, span, t).length + 3) <= plotWidth) ?? TICKS_MS.at(-1)!;
  let free = 0; // first column a new label may start at
  for (let t = Math.ceil(t0 / tickMs) * tickMs; t <= t1; t += tickMs) {
    const c = column(t);
    const text = timeLabel(t, span, tickMs);
    if (c < free || c + text.length > plotWidth + 16) continue;
    axis[c] = '+';
    for (let k = 0; k < text.length; k++) labels[c + k] = text[k]!;
    free = c + text.length + 3;
  }
  lines.push(`${' '.repeat(labelWidth)} +${axis.join('')}`);
  lines.push(`${' '.repeat(labelWidth + 2)}${labels.join('')}`.trimEnd());
  return lines.join('\n');
}
