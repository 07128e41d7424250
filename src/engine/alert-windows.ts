import type { AlertService } from '../alerting/service.ts';
import type { Sample } from '../model/index.ts';
import type { Store } from '../store/store.ts';

/**
 * Re-reads from the metrics store the samples the `aggregate` rules' windows need (avg over 10m needs the last
 * 10 minutes of each series), so a restart or a rule that gains an aggregate evaluates over the whole window
 * at once instead of over the few samples seen since. Returns how many samples were read.
 */
export async function restoreAlertWindows(alerts: AlertService, store: Store, now: number): Promise<number> {
  const samples: Sample[] = [];
  for (const [metric, windowMs] of alerts.aggregateWindows()) {
    const results = await store.query({ selector: { metric }, from: now - windowMs + 1, to: now, resolution: 'raw' });
    for (const r of results)
      for (const p of r.points) samples.push({ metric: r.metric, labels: r.labels, ts: p.ts, value: p.value });
  }
  if (samples.length > 0) alerts.restoreWindows(samples, now);
  return samples.length;
}
