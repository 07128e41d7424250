/** A snapshot of what the running engine is doing, for `vigil status`, `/status` and the status line. */
export interface EngineStatus {
  readonly version: string;
  readonly startedAt: number;
  readonly now: number;
  readonly intervalMs: number;
  readonly sources: readonly SourceStatus[];
  readonly lastCycle: {
    readonly at: number;
    readonly durationMs: number;
    readonly targets: number;
    readonly failures: number;
    readonly samples: number;
  } | null;
  readonly cycles: number;
  readonly samplesIngested: number;
  readonly pushedSamples: number;
}

export interface SourceStatus {
  readonly name: string;
  readonly type: string;
  readonly targets: number;
  /** Successful collections in the last cycle (targets may also count cancelled ones). */
  readonly succeeded?: number;
  readonly failures: number;
  readonly lastError: string | null;
  readonly stats: Readonly<Record<string, number>>;
}
