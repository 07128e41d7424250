// Notification benchmarks against 127.0.0.1 receivers:
//  - throughput of the durable SQLite outbox with slow receivers (50 ms per request) across channels, checking nothing is lost
//  - latency from an alert event accepted by the pipeline (grouping wait 0) to the webhook receiving it (p50/p99)
// Flags: --deliveries N (default 2000), --delay-ms D (default 50), --latency-events N (default 300)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { systemClock } from '../src/clock.ts';
import { buildChannels } from '../src/notify/build.ts';
import { firedEvent, sampleAlert } from '../src/notify/fixtures.ts';
import { NotificationPipeline } from '../src/notify/pipeline.ts';
import { TestReceiver } from '../src/notify/test-receiver.ts';
import { OutboxRepository } from '../src/store/sqlite/outbox-repository.ts';

function flag(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const deliveries = flag(args, 'deliveries', 2000);
  const delayMs = flag(args, 'delay-ms', 50);
  const latencyEvents = flag(args, 'latency-events', 300);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-notify-'));
  const receivers = await Promise.all([0, 1, 2].map(() => new TestReceiver().start()));
  try {
    // --- throughput ---
    for (const r of receivers) r.fallback = { status: 200, delayMs };
    const db = new DatabaseSync(join(dir, 'outbox.db'));
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000');
    const outbox = new OutboxRepository(db);
    const channels = buildChannels(
      Object.fromEntries(receivers.map((r, i) => [`hook${i}`, { type: 'webhook', url: `${r.url}/h` }])),
      { clock: systemClock, env: {} },
    );
    const p = new NotificationPipeline({
      channels,
      outbox,
      clock: systemClock,
      groupWaitMs: 0,
      concurrencyPerChannel: 8,
    });
    const t0 = performance.now();
    for (let i = 0; i < deliveries; i++) {
      const alert = sampleAlert({ vm: `vm-${i}`, channels: [`hook${i % 3}`] });
      p.handle([firedEvent(alert, systemClock.now())], systemClock.now());
    }
    const enqueueMs = performance.now() - t0;
    while (outbox.counts().pending > 0) await p.deliverDue(systemClock.now());
    const totalMs = performance.now() - t0;
    const keys = new Set(receivers.flatMap((r) => r.received.map((x) => String(x.headers['idempotency-key']))));
    const counts = outbox.counts();
    db.close();

    // --- latency: event accepted → webhook received, grouping wait 0, run loop on the system clock ---
    const rx = receivers[0]!;
    rx.fallback = { status: 200 };
    rx.received.length = 0;
    const arrivals = new Map<string, number>();
    const origPush = rx.received.push.bind(rx.received);
    rx.received.push = (...items) => {
      for (const it of items) arrivals.set(JSON.parse(it.body).alerts[0].vm, performance.now());
      return origPush(...items);
    };
    const db2 = new DatabaseSync(join(dir, 'latency.db'));
    db2.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
    const p2 = new NotificationPipeline({
      channels: buildChannels({ webhook: { url: `${rx.url}/h` } }, { clock: systemClock, env: {} }),
      outbox: new OutboxRepository(db2),
      clock: systemClock,
      groupWaitMs: 0,
      defaultChannels: ['webhook'],
    });
    const stop = new AbortController();
    const loop = p2.run(stop.signal);
    const sent = new Map<string, number>();
    for (let i = 0; i < latencyEvents; i++) {
      const vm = `lat-${i}`;
      sent.set(vm, performance.now());
      p2.handle([firedEvent(sampleAlert({ vm }), systemClock.now())], systemClock.now());
      await new Promise((r) => setTimeout(r, 5));
    }
    for (let i = 0; i < 400 && arrivals.size < latencyEvents; i++) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await loop;
    db2.close();
    const lat = [...sent].map(([vm, t]) => (arrivals.get(vm) ?? Number.POSITIVE_INFINITY) - t).sort((a, b) => a - b);
    return {
      throughput: {
        deliveries,
        channels: 3,
        receiverDelayMs: delayMs,
        concurrencyPerChannel: 8,
        enqueueMs: Math.round(enqueueMs),
        totalMs: Math.round(totalMs),
        deliveriesPerSecond: Math.round((deliveries / totalMs) * 1000),
        delivered: counts.delivered,
        failed: counts.failed,
        lost: deliveries - keys.size,
      },
      latency: {
        events: latencyEvents,
        received: arrivals.size,
        p50Ms: Number(pct(lat, 50).toFixed(2)),
        p99Ms: Number(pct(lat, 99).toFixed(2)),
        maxMs: Number(lat[lat.length - 1]!.toFixed(2)),
        note: 'pipeline.handle(event) → webhook request received; excludes alert evaluation (engine-side)',
      },
    };
  } finally {
    for (const r of receivers) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
