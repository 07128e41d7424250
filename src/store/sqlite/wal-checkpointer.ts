import { Worker } from 'node:worker_threads';

/** How often the background connection copies committed WAL pages into the database file. */
const CHECKPOINT_INTERVAL_MS = 1_000;

// CommonJS, evaluated in the worker: its own connection, so a checkpoint (which copies pages and fsyncs the file)
// runs beside the main thread instead of inside whichever COMMIT SQLite's automatic checkpoint picks.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path, { timeout: 5000 });
const checkpoint = () => {
  try {
    db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or locked: the next round copies what this one could not.
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage('closed');
});
`;

/**
 * Checkpoints a WAL-mode SQLite file from a worker thread. The store turns SQLite's automatic checkpoint off
 * (`wal_autocheckpoint = 0`): otherwise every thousand pages one COMMIT also copies the WAL into the database and
 * fsyncs it, which held single writes (and maintenance steps) for 60+ ms. PASSIVE never blocks writers or readers.
 */
export class WalCheckpointer {
  private readonly worker: Worker;

  constructor(path: string, intervalMs = CHECKPOINT_INTERVAL_MS) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs } });
    this.worker.unref();
    this.worker.on('error', () => {
      // A failed checkpointer leaves the WAL to the final checkpoint at close; the data is safe either way.
    });
  }

  /** Runs a last checkpoint and stops the worker. */
  async close(): Promise<void> {
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5_000);
      const finish = () => {
        clearTimeout(timer);
        resolve();
      };
      this.worker.once('message', finish);
      this.worker.once('exit', finish);
    });
    this.worker.postMessage('close');
    await done;
    await this.worker.terminate();
  }
}
