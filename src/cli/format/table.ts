export interface TableFit {
  /**
   * Terminal width to fit; default `process.stdout.columns` when stdout is a terminal. Without one (a pipe, a
   * file) nothing is truncated, so scripts get whole values.
   */
  readonly width?: number;
  /** Per column, higher = kept longer (default: the first column 1, the others 0). */
  readonly priority?: readonly number[];
}

/** The width of a terminal stream, or undefined when it is not a terminal. */
export function terminalWidth(stream: unknown = process.stdout): number | undefined {
  const s = stream as { isTTY?: boolean; columns?: number };
  return s.isTTY && s.columns && s.columns > 0 ? s.columns : undefined;
}

/**
 * Column widths that fit `width`: one character at a time from the lowest-priority column, the widest (rightmost
 * on ties) within a priority, down to each column's minimum. (`formatTable`: 4 characters or the header for text;
 * numbers are never cut; cut values end with "…".)
 */
export function fitWidths(
  widths: readonly number[],
  minWidths: readonly number[],
  priority: readonly number[],
  width: number | undefined,
): number[] {
  const out = [...widths];
  if (width === undefined) return out;
  let excess = out.reduce((a, b) => a + b, 0) + 2 * Math.max(0, out.length - 1) - width;
  while (excess > 0) {
    let victim = -1;
    for (let i = 0; i < out.length; i++) {
      if (out[i]! <= minWidths[i]!) continue;
      if (
        victim < 0 ||
        priority[i]! < priority[victim]! ||
        (priority[i] === priority[victim] && out[i]! >= out[victim]!)
      )
        victim = i;
    }
    if (victim < 0) break;
    out[victim] = out[victim]! - 1;
    excess--;
  }
  return out;
}

const cutTo = (text: string, w: number) => (text.length > w ? `${text.slice(0, Math.max(0, w - 1))}…` : text);

/**
 * Renders rows as a left-aligned text table (numbers right-aligned), columns separated by two spaces, sized to the
 * terminal (see `TableFit`).
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  fit: TableFit = {},
): string {
  const natural = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => r[i] === '' || r[i] === '-' || /^-?[\d.]+$/.test(r[i] ?? '')),
  );
  const minWidths = natural.map((w, i) => (numeric[i] ? w : Math.min(w, Math.max(4, header[i]!.length))));
  const priority = fit.priority ?? header.map((_, i) => (i === 0 ? 1 : 0));
  const widths = fitWidths(natural, minWidths, priority, 'width' in fit ? fit.width : terminalWidth());
  const line = (cells: readonly string[]) =>
    header
      .map((_, i) => {
        const c = cutTo(cells[i] ?? '', widths[i]!);
        return numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
