import type { Alert } from '../model/alert.ts';
import type { Store } from '../store/store.ts';

/** How far back an email chart reaches. */
export const CHART_HISTORY_MS = 6 * 3_600_000;

/**
 * The recent values of an alert's metric on its VM (raw samples, oldest first, series of the VM merged), up to
 * `now`: what the email chart draws. Alerts without a VM (fleet-wide) have no history.
 */
export async function chartHistory(store: Store, alert: Alert, now: number): Promise<number[]> {
  const vm = alert.vm ?? alert.labels.vm;
  if (!vm) return [];
  const res = await store.query({
    selector: { metric: alert.metric, matchers: [{ name: 'vm', op: '=', value: vm }] },
    from: now - CHART_HISTORY_MS,
    to: now,
    resolution: 'raw',
    groupBy: ['vm'],
  });
  return (res[0]?.points ?? []).map((p) => p.value);
}
