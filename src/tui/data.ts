import type { FleetForecastRow } from '../analyze/forecast/fleet-forecast.ts';
import type { Point } from '../model/sample.ts';
import type { FleetRow } from '../store/fleet.ts';

/** A VM's metrics older than this before its newest report are not shown (its last collection failed). */
export const STALE_MS = 15 * 60_000;

/** An active alert as the dashboard lists it. */
export interface DashboardAlert {
  readonly id: string;
  readonly vm: string | null;
  readonly rule: string;
  readonly severity: string;
  readonly status: string;
  readonly message: string;
  readonly since: number;
}

/** Where the dashboard gets its data: the local store (standalone) or a running `vigil up` (server mode). */
export interface DashboardData {
  /** Collection interval, to turn bytes per interval into MB/s. */
  readonly intervalMs: number;
  /** Re-reads the fleet; in standalone mode this also runs a collection cycle when `collect` is true. */
  fleet(opts: { collect: boolean }): Promise<FleetRow[]>;
  /** Recent points of the standard metrics of one VM. */
  vmHistory(vm: string, sinceMs: number): Promise<Record<string, Point[]>>;
  alerts(): Promise<DashboardAlert[]>;
  /** 30-day forecasts of the VM's CPU, memory and disk (the analytics in src/analyze/forecast). */
  forecasts(vm: string): Promise<FleetForecastRow[]>;
  /** Live updates (server mode); returns an unsubscribe function. */
  subscribe?(onChange: () => void): () => void;
  close(): Promise<void>;
}
