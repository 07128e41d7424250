/**
 * A simulated fleet. Every value is a pure function of (seed, VM index, timestamp), so live collection, backfill
 * and tests agree exactly. The shapes are the ones operators see in real fleets: a daily cycle (busy afternoons,
 * quiet nights), quieter weekends, slow trends that reach limits within weeks (a database disk filling ~1 %/day,
 * a worker leaking memory until it is restarted), short CPU incidents, and occasional failed collections.
 */
import type { StandardMetric } from '../../model/index.ts';

export type DemoRole = 'web' | 'api' | 'db' | 'cache' | 'worker' | 'batch';
export const DEMO_ROLES: readonly DemoRole[] = ['web', 'api', 'db', 'cache', 'worker', 'batch'];
export const DEMO_RESOURCE_GROUPS = ['rg-prod', 'rg-staging', 'rg-data'] as const;

export interface DemoVm {
  readonly index: number;
  readonly name: string;
  readonly role: DemoRole;
  readonly resourceGroup: (typeof DEMO_RESOURCE_GROUPS)[number];
}

interface Profile {
  /** CPU % at night and the extra at the daily peak. */
  readonly cpuBase: number;
  readonly cpuPeak: number;
  /** Weekend load relative to weekdays. */
  readonly weekend: number;
  readonly memBase: number;
  readonly memSwing: number;
  readonly diskBase: number;
  /** Bytes per second at full load. */
  readonly readBps: number;
  readonly writeBps: number;
  readonly netInBps: number;
  readonly netOutBps: number;
}

const PROFILES: Readonly<Record<DemoRole, Profile>> = {
  web: {
    cpuBase: 8,
    cpuPeak: 45,
    weekend: 0.55,
    memBase: 45,
    memSwing: 12,
    diskBase: 35,
    readBps: 400e3,
    writeBps: 250e3,
    netInBps: 3e6,
    netOutBps: 9e6,
  },
  api: {
    cpuBase: 10,
    cpuPeak: 50,
    weekend: 0.6,
    memBase: 50,
    memSwing: 10,
    diskBase: 30,
    readBps: 300e3,
    writeBps: 300e3,
    netInBps: 2e6,
    netOutBps: 4e6,
  },
  db: {
    cpuBase: 15,
    cpuPeak: 35,
    weekend: 0.75,
    memBase: 72,
    memSwing: 6,
    diskBase: 50,
    readBps: 6e6,
    writeBps: 3e6,
    netInBps: 1.5e6,
    netOutBps: 2.5e6,
  },
  cache: {
    cpuBase: 5,
    cpuPeak: 20,
    weekend: 0.6,
    memBase: 78,
    memSwing: 5,
    diskBase: 20,
    readBps: 50e3,
    writeBps: 200e3,
    netInBps: 4e6,
    netOutBps: 6e6,
  },
  worker: {
    cpuBase: 20,
    cpuPeak: 40,
    weekend: 0.8,
    memBase: 40,
    memSwing: 5,
    diskBase: 40,
    readBps: 1e6,
    writeBps: 1.5e6,
    netInBps: 1e6,
    netOutBps: 0.5e6,
  },
  batch: {
    cpuBase: 4,
    cpuPeak: 10,
    weekend: 1,
    memBase: 30,
    memSwing: 8,
    diskBase: 45,
    readBps: 2e6,
    writeBps: 2e6,
    netInBps: 0.5e6,
    netOutBps: 0.3e6,
  },
};

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** The fleet of `count` VMs: `demo-<role>-NN`, roles in turn; even-numbered front-ends live in staging. */
export function demoFleet(count: number): DemoVm[] {
  return Array.from({ length: count }, (_, index) => {
    const role = DEMO_ROLES[index % DEMO_ROLES.length]!;
    const n = Math.floor(index / DEMO_ROLES.length) + 1;
    const data = role === 'db' || role === 'cache' || role === 'batch';
    const resourceGroup = data ? 'rg-data' : n % 2 === 0 ? 'rg-staging' : 'rg-prod';
    return { index, name: `demo-${role}-${String(n).padStart(2, '0')}`, role, resourceGroup };
  });
}

// --- deterministic noise --------------------------------------------------------------------------------------

function mix(h: number, x: number): number {
  let v = Math.imul(h ^ x, 0x85ebca6b);
  v ^= v >>> 13;
  v = Math.imul(v, 0xc2b2ae35);
  v ^= v >>> 16;
  return v >>> 0;
}

/** A hash of integers to [0, 1). Handles integers beyond 32 bits (timestamps). */
export function hash01(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = mix(h, p | 0);
    h = mix(h, Math.floor(p / 4_294_967_296) | 0);
  }
  return mix(h, 0x27d4eb2f) / 4_294_967_296;
}

/** Smooth noise in [-1, 1]: hashed values every `periodMs`, interpolated with a smoothstep. */
function smoothNoise(seed: number, index: number, channel: number, ts: number, periodMs: number): number {
  const b = Math.floor(ts / periodMs);
  const f = (ts - b * periodMs) / periodMs;
  const s = f * f * (3 - 2 * f);
  const v0 = hash01(seed, index, channel, b);
  const v1 = hash01(seed, index, channel, b + 1);
  return 2 * (v0 + (v1 - v0) * s) - 1;
}

// --- the shapes -----------------------------------------------------------------------------------------------

/** 0 at 04:00 UTC, 1 at 16:00 UTC. */
function diurnal(ts: number): number {
  const hour = (ts % DAY) / HOUR;
  return 0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 4)) / 24);
}

function isWeekend(ts: number): boolean {
  const day = new Date(ts).getUTCDay();
  return day === 0 || day === 6;
}

/** Position in [0, 1) of `ts` within a repeating cycle of `periodMs`, shifted per VM. */
function cyclePhase(ts: number, periodMs: number, offset01: number): number {
  const x = ts / periodMs + offset01;
  return x - Math.floor(x);
}

const INCIDENT_WINDOW = 6 * HOUR;

/** Extra CPU from an incident (a spike of 20–60 minutes; about one VM-incident per VM every few days). */
function incidentCpu(seed: number, index: number, ts: number): number {
  const w = Math.floor(ts / INCIDENT_WINDOW);
  if (hash01(seed, index, 101, w) >= 0.05) return 0;
  const duration = (20 + Math.floor(hash01(seed, index, 102, w) * 41)) * MINUTE;
  const start = w * INCIDENT_WINDOW + Math.floor(hash01(seed, index, 103, w) * (INCIDENT_WINDOW - duration));
  if (ts < start || ts >= start + duration) return 0;
  return 40 + 25 * hash01(seed, index, 104, w);
}

export const DEMO_ERRORS = [
  'Connection timeout',
  'Connection timeout',
  'Connection refused',
  'Metrics endpoint returned HTTP 503',
  'No data returned for the interval',
] as const;

export type DemoReading =
  | { readonly ok: true; readonly metrics: Readonly<Record<StandardMetric, number>>; readonly durationMs: number }
  | { readonly ok: false; readonly error: string; readonly durationMs: number };

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Collection of `vm` at `ts`, as a real source would have returned it, with bytes per `intervalMs`. */
export function demoReading(
  seed: number,
  vm: DemoVm,
  ts: number,
  intervalMs: number,
  failureRate: number,
): DemoReading {
  const i = vm.index;
  const p = PROFILES[vm.role];
  const durationMs = 20 + Math.floor(hash01(seed, i, 7, ts) * 180);
  if (hash01(seed, i, 1, ts) < failureRate) {
    const error = DEMO_ERRORS[Math.floor(hash01(seed, i, 2, ts) * DEMO_ERRORS.length)]!;
    return { ok: false, error, durationMs: error === 'Connection timeout' ? 30_000 : durationMs };
  }
  const weekend = isWeekend(ts) ? p.weekend : 1;
  let load = diurnal(ts) * weekend;
  if (vm.role === 'batch') {
    // Nightly jobs 01:00–04:00 UTC, every day.
    const hour = (ts % DAY) / HOUR;
    load = hour >= 1 && hour < 4 ? 1 : 0.1 * load;
  }
  load = clamp(load * (1 + 0.15 * smoothNoise(seed, i, 10, ts, 30 * MINUTE)), 0, 1.2);
  const jitter = (channel: number, amount: number) => (hash01(seed, i, channel, ts) - 0.5) * 2 * amount;
  const batchCpu = vm.role === 'batch' ? 70 * load : 0;

  const cpu = clamp(
    p.cpuBase +
      p.cpuPeak * load +
      batchCpu +
      jitter(11, 3) +
      incidentCpu(seed, i, ts) +
      4 * smoothNoise(seed, i, 12, ts, 2 * HOUR),
    0.5,
    99.5,
  );

  let memory = p.memBase + p.memSwing * load + 2 * smoothNoise(seed, i, 13, ts, HOUR) + jitter(14, 0.5);
  if (vm.role === 'worker') {
    // A leak: +5–6 %/day from the base until a restart every 9–13 days.
    const periodMs = (9 + (i % 5)) * DAY;
    memory += 55 * cyclePhase(ts, periodMs, hash01(seed, i, 15));
  }
  memory = clamp(memory, 1, 99.9);

  let disk = p.diskBase + 3 * hash01(seed, i, 16) + 0.3 * smoothNoise(seed, i, 17, ts, 6 * HOUR);
  if (vm.role === 'db') {
    // Data growth of ~1 %/day, cleaned up (archived) every 45 days: at any moment some db is within weeks of full.
    disk += 45 * cyclePhase(ts, 45 * DAY, hash01(seed, i, 18));
  } else if (vm.role === 'worker' || vm.role === 'web') {
    // Logs: ~0.3 %/day, rotated monthly.
    disk += 9 * cyclePhase(ts, 30 * DAY, hash01(seed, i, 19));
  }
  disk = clamp(disk, 1, 99.9);

  const seconds = intervalMs / 1000;
  const io = (bps: number, channel: number) =>
    Math.max(0, Math.round(bps * seconds * (0.15 + load) * (1 + 0.3 * smoothNoise(seed, i, channel, ts, 20 * MINUTE))));
  return {
    ok: true,
    durationMs,
    metrics: {
      cpu_percent: round2(cpu),
      memory_percent: round2(memory),
      disk_percent: round2(disk),
      disk_read_bytes: io(p.readBps, 20),
      disk_write_bytes: io(p.writeBps, 21),
      network_in_bytes: io(p.netInBps, 22),
      network_out_bytes: io(p.netOutBps, 23),
    },
  };
}
