/** One-line progress bar for long CLI operations on a TTY (redrawn with a carriage return). */
export function progressBar(done: number, total: number, count: number, unit: string, elapsedSec: number): string {
  const width = 30;
  const frac = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(frac * width);
  const rate = elapsedSec > 0 ? Math.round(count / elapsedSec) : 0;
  return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${count.toLocaleString('en-US')} ${unit}  ${rate.toLocaleString('en-US')}/s`;
}
