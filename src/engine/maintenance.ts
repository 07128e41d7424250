import type { Clock } from '../clock.ts';
import type { Store } from '../store/store.ts';

/**
 * Runs store maintenance (compaction, rollups, retention) every `intervalMs`, in small steps
 * with a yield between them so ingestion never waits long behind it.
 */
export class MaintenanceLoop {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly onError: (e: unknown) => void;
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;

  constructor(opts: { store: Store; clock: Clock; intervalMs: number; onError: (e: unknown) => void }) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.intervalMs = opts.intervalMs;
    this.onError = opts.onError;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Runs maintenance until no work is left (or the loop is stopped). */
  async runOnce(): Promise<void> {
    for (let step = 0; step < 100_000 && !this.abort.signal.aborted; step++) {
      const report = await this.store.maintain(this.clock.now());
      if (!report.more) return;
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        await this.runOnce();
      } catch (e) {
        this.onError(e);
      }
      try {
        await this.clock.sleep(this.intervalMs, this.abort.signal);
      } catch {
        return;
      }
    }
  }
}
