// The Store conformance suite against the in-memory store the server's tests use: raw data only (no rollup tiers,
// no percentiles, nothing kept after close), so those cases are skipped; its known deviations are listed in the suite.
import { MemoryStore } from '../server/testing/memory-store.ts';
import { storeConformance } from './conformance.ts';

storeConformance('memory', async () => new MemoryStore(), { tiers: false, durable: false });
