import type { FleetRow } from '../store/fleet.ts';
import { fitColumns, type Level, pad, rowCells } from './format.ts';

const ANSI: Record<Level, string> = { ok: '\x1b[32m', warn: '\x1b[33m', bad: '\x1b[31m' };

/** The fleet table as plain text lines (non-TTY output, and a screenful before Ink loads); `totalVms` for a title above part of the fleet. */
export function renderFleetText(
  rows: readonly FleetRow[],
  opts: { width: number; intervalMs: number; color: boolean; updatedAt: number; totalVms?: number },
): string {
  const cols = fitColumns(opts.width);
  const lines: string[] = [];
  lines.push(
    `Vigil fleet — ${opts.totalVms ?? rows.length} VMs — Updated: ${new Date(opts.updatedAt).toISOString().replace('T', ' ').slice(0, 19)} UTC`,
  );
  lines.push(
    cols
      .map((c) => pad(c.title, c.width, c.align))
      .join(' ')
      .trimEnd(),
  );
  for (const row of rows) {
    const parts = rowCells(row, cols, opts.intervalMs).map(({ text, level }) =>
      opts.color && level ? `${ANSI[level]}${text}\x1b[0m` : text,
    );
    lines.push(parts.join('').trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
