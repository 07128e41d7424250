import type { VmStatus } from '../model/index.ts';
import type { Labels } from '../model/labels.ts';
import { STANDARD_METRICS, type StandardMetric } from '../model/metrics.ts';
import type { LatestValue, Store } from './store.ts';

/** One VM as dashboards show it: its latest standard metrics and its last collection outcome. */
export interface FleetRow {
  readonly vm: string;
  readonly resourceGroup: string | null;
  readonly source: string | null;
  readonly tenant: string | null;
  readonly labels: Labels;
  /** Timestamp of the newest sample or outcome. */
  readonly ts: number | null;
  readonly metrics: Readonly<Partial<Record<StandardMetric, number>>>;
  readonly success: boolean;
  readonly errorMessage: string | null;
}

/**
 * Reads the latest snapshot of every VM. Metrics older than `staleMs` before the VM's newest report are dropped,
 * so a VM whose last collection failed shows its error, not stale numbers.
 */
export async function readFleet(store: Store, opts: { staleMs?: number } = {}): Promise<FleetRow[]> {
  const [vms, values] = await Promise.all([store.listVms(), latestStandard(store)]);
  return fleetRows(vms, values, opts.staleMs);
}

/** The fleet rows from every VM's status and the latest value of each standard-metric series. */
export function fleetRows(
  vms: readonly VmStatus[],
  values: readonly LatestValue[],
  staleMs = Number.POSITIVE_INFINITY,
): FleetRow[] {
  const byVm = new Map<string, Map<string, { ts: number; value: number }>>();
  for (const v of values) {
    const vm = v.labels.vm;
    if (!vm) continue;
    let m = byVm.get(vm);
    if (!m) {
      m = new Map();
      byVm.set(vm, m);
    }
    const prev = m.get(v.metric);
    if (!prev || prev.ts < v.ts) m.set(v.metric, { ts: v.ts, value: v.value });
  }
  return vms.map((status) => {
    const m = byVm.get(status.vm) ?? new Map<string, { ts: number; value: number }>();
    const outcome = status.lastOutcome;
    let newest = Math.max(status.lastSampleTs ?? Number.NEGATIVE_INFINITY, outcome?.ts ?? Number.NEGATIVE_INFINITY);
    for (const p of m.values()) newest = Math.max(newest, p.ts);
    const metrics: Partial<Record<StandardMetric, number>> = {};
    const failedLast = outcome !== null && !outcome.success && outcome.ts >= newest;
    if (!failedLast) {
      for (const [metric, p] of m) if (newest - p.ts <= staleMs) metrics[metric as StandardMetric] = p.value;
    }
    return {
      vm: status.vm,
      resourceGroup: status.labels.resource_group ?? null,
      source: status.labels.source ?? null,
      tenant: status.labels.tenant ?? null,
      labels: status.labels,
      ts: Number.isFinite(newest) ? newest : null,
      metrics,
      success: outcome ? outcome.success || !failedLast : true,
      errorMessage: failedLast ? outcome!.errorMessage : null,
    };
  });
}

async function latestStandard(store: Store) {
  const all = await Promise.all(STANDARD_METRICS.map((metric) => store.latest({ metric })));
  return all.flat();
}
