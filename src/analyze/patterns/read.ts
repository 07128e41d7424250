// Reads the recent outcomes and samples fleet patterns need from the store.
import type { Sample } from '../../model/sample.ts';
import type { Store } from '../../store/store.ts';
import {
  DEFAULT_FLEET_PATTERN_CONFIG,
  detectFleetPatterns,
  type FleetPattern,
  type FleetPatternOverrides,
} from './fleet-patterns.ts';

const METRICS = ['cpu_percent', 'memory_percent', 'disk_percent', 'disk_read_bytes', 'disk_write_bytes'];

/** Detects fleet failure patterns from the store at `now`. */
export async function readFleetPatterns(
  store: Store,
  now: number,
  overrides: FleetPatternOverrides = {},
): Promise<FleetPattern[]> {
  const d = DEFAULT_FLEET_PATTERN_CONFIG;
  const lookbackMs = Math.max(
    overrides.heartbeat?.windowMs ?? d.heartbeat.windowMs,
    overrides.diskContention?.lookbackMs ?? d.diskContention.lookbackMs,
    overrides.resourceExhaustion?.windowMs ?? d.resourceExhaustion.windowMs,
    overrides.loadImbalance?.windowMs ?? d.loadImbalance.windowMs,
  );
  const from = now - lookbackMs;
  const outcomes = await store.outcomes({ from, to: now });
  const samples: Sample[] = [];
  for (const metric of METRICS) {
    for (const r of await store.query({ selector: { metric }, from, to: now, resolution: 'raw' }))
      for (const p of r.points) samples.push({ metric: r.metric, labels: r.labels, ts: p.ts, value: p.value });
  }
  return detectFleetPatterns({ outcomes, samples, now }, overrides);
}
