import type { Comparison, Severity } from '../model/index.ts';
import { SEVERITY_ORDER } from '../model/index.ts';

/**
 * How far past the threshold a value is, in percent of the threshold: 92 vs 80 on `>` is 15.
 * Null when it has no meaning (threshold 0, or == / != comparisons).
 */
export function overagePercent(value: number, threshold: number, cmp: Comparison): number | null {
  if (threshold === 0) return null;
  if (cmp === '>' || cmp === '>=') return ((value - threshold) * 100) / Math.abs(threshold);
  if (cmp === '<' || cmp === '<=') return ((threshold - value) * 100) / Math.abs(threshold);
  return null;
}

/** `severity: auto`: up to 20 % over → warning, over 20 % up to 50 % → critical, over 50 % → emergency. */
export function autoSeverity(overage: number | null): Severity {
  if (overage === null || overage <= 20) return 'warning';
  if (overage <= 50) return 'critical';
  return 'emergency';
}

export function severityRank(s: Severity): number {
  return SEVERITY_ORDER.indexOf(s);
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}
