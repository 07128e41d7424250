// Reads the recent outcomes and samples fleet patterns need from the store.
import type { Sample } from '../../model/sample.ts';
import type { Store } from '../../store/store.ts';
import {
  detectFleetPatterns,
  type FleetPattern,
  type FleetPatternOverrides,
  fleetPatternLookbackMs,
} from './fleet-patterns.ts';

const METRICS = ['cpu_percent', 'memory_percent', 'disk_percent', 'disk_read_bytes', 'disk_write_bytes'];

/** Detects fleet failure patterns from the store at `now`, with the configured windows and thresholds. */
export async function readFleetPatterns(
  store: Store,
  now: number,
  overrides: FleetPatternOverrides = {},
): Promise<FleetPattern[]> {
  // Every detector's window counts, cascading and network partition included.
  const lookbackMs = fleetPatternLookbackMs(overrides);
  const from = now - lookbackMs;
  const outcomes = await store.outcomes({ from, to: now });
  const samples: Sample[] = [];
  for (const metric of METRICS) {
    for (const r of await store.query({ selector: { metric }, from, to: now, resolution: 'raw' }))
      for (const p of r.points) samples.push({ metric: r.metric, labels: r.labels, ts: p.ts, value: p.value });
  }
  return detectFleetPatterns({ outcomes, samples, now }, overrides);
}
