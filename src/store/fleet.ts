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

const NO_VALUES: readonly LatestValue[] = [];

/** The fleet rows from every VM's status and the latest value of each standard-metric series. */
export function fleetRows(
  vms: readonly VmStatus[],
  values: readonly LatestValue[],
  staleMs = Number.POSITIVE_INFINITY,
): FleetRow[] {
  // Plain arrays and indexed loops: this runs once, cold, before a dashboard's first paint.
  const byVm = new Map<string, LatestValue[]>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const vm = v.labels.vm;
    if (!vm) continue;
    const list = byVm.get(vm);
    if (list) list.push(v);
    else byVm.set(vm, [v]);
  }
  return vms.map((status) => {
    const list = byVm.get(status.vm) ?? NO_VALUES;
    const outcome = status.lastOutcome;
    let newest = Math.max(status.lastSampleTs ?? Number.NEGATIVE_INFINITY, outcome?.ts ?? Number.NEGATIVE_INFINITY);
    for (let i = 0; i < list.length; i++) if (list[i]!.ts > newest) newest = list[i]!.ts;
    const metrics: Partial<Record<StandardMetric, number>> = {};
    const failedLast = outcome !== null && !outcome.success && outcome.ts >= newest;
    if (!failedLast) {
      // Several series of one metric (other labels): the newest point wins.
      const at: Partial<Record<string, number>> = {};
      for (let i = 0; i < list.length; i++) {
        const v = list[i]!;
        if (newest - v.ts > staleMs || (at[v.metric] ?? Number.NEGATIVE_INFINITY) >= v.ts) continue;
        at[v.metric] = v.ts;
        metrics[v.metric as StandardMetric] = v.value;
      }
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
