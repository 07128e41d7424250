import type { StandardMetric } from './metrics.ts';

/**
 * The seed-compatible view: one row per VM per timestamp with the seven standard metrics,
 * plus the collection outcome. This is what `history`, CSV export/import and dashboards show.
 */
export type VmSnapshot = {
  readonly vm: string;
  readonly ts: number;
  readonly resourceGroup: string | null;
  readonly source: string | null;
  readonly success: boolean;
  readonly errorMessage: string | null;
} & { readonly [K in StandardMetric]: number | null };
