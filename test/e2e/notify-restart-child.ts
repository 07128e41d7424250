// Child process for notify-restart.test.ts: enqueue (optional) or stage events in a grouping window, and deliver
// from a SQLite outbox until killed or done.
import { DatabaseSync } from 'node:sqlite';
import { systemClock } from '../../src/clock.ts';
import { buildChannels } from '../../src/notify/build.ts';
import { firedEvent, sampleAlert } from '../../src/notify/fixtures.ts';
import { NotificationPipeline } from '../../src/notify/pipeline.ts';
import { OutboxRepository } from '../../src/store/sqlite/outbox-repository.ts';

const [dbPath, url, enqueue] = process.argv.slice(2) as [string, string, string];
const db = new DatabaseSync(dbPath);
db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000');
const outbox = new OutboxRepository(db);
const channels = buildChannels({ webhook: { url, timeout_ms: 60_000 } }, { clock: systemClock, env: {} });
const p = new NotificationPipeline({
  channels,
  outbox,
  clock: systemClock,
  defaultChannels: ['webhook'],
  groupWaitMs: enqueue === 'stage' ? 60_000 : 0,
  concurrencyPerChannel: 1,
});
if (enqueue === 'enqueue')
  for (let i = 0; i < 5; i++)
    p.handle([firedEvent(sampleAlert({ vm: `web-0${i}` }), systemClock.now())], systemClock.now());
if (enqueue === 'stage') {
  // events inside a 60 s grouping window, then wait to be killed
  p.handle([firedEvent(sampleAlert({ vm: 'web-10' }), systemClock.now())], systemClock.now());
  p.handle([firedEvent(sampleAlert({ vm: 'web-11' }), systemClock.now())], systemClock.now());
  process.stdout.write('ready\n');
  setInterval(() => {}, 1000);
  await new Promise(() => {});
}
p.resume(systemClock.now());
process.stdout.write('ready\n');
while (outbox.counts().pending > 0) await p.deliverDue(systemClock.now());
process.stdout.write(`done ${JSON.stringify(outbox.counts())}\n`);
db.close();
