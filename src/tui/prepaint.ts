import type { FleetRow } from '../store/fleet.ts';
import { filterRows, sortRows } from './format.ts';
import { renderFleetText } from './render-text.ts';

/**
 * Writes the fleet table as text, at most a screenful, for the time Ink and React take to load (about 0.3 s); returns
 * how many lines it wrote, for erasing them when Ink's first frame takes their place.
 */
export function prepaint(
  stdout: NodeJS.WriteStream,
  snapshot: readonly FleetRow[],
  opts: { resourceGroup: string | undefined; color: boolean; intervalMs: number; now: number },
): number {
  const height = stdout.rows ?? 24;
  const rows = sortRows(filterRows(snapshot, '', opts.resourceGroup), 'vm');
  if (rows.length === 0 || height < 4) return 0;
  const text = renderFleetText(rows.slice(0, height - 3), {
    width: stdout.columns ?? 100,
    intervalMs: opts.intervalMs,
    color: opts.color,
    updatedAt: opts.now,
    totalVms: rows.length,
  });
  stdout.write(text);
  return text.split('\n').length - 1;
}

/** The escape sequence that erases what `prepaint` wrote (`lines` lines ending in a newline; the cursor is below). */
export async function erasePrepaint(lines: number): Promise<string> {
  // Loaded on use: the early paint's import graph holds no package (cli/early-dashboard.test.ts).
  const { eraseLines } = await import('ansi-escapes');
  return eraseLines(lines + 1);
}
