import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoSourceSchema } from '../../config/sections/sources.ts';
import type { CollectionOutcome, Sample } from '../../model/index.ts';
import { type BackfillProgress, backfillDemo } from './backfill.ts';
import { DemoSource } from './source.ts';

const T0 = Date.UTC(2026, 2, 1);

test('backfill writes every step of every VM in batches, oldest first, with progress', async () => {
  const source = new DemoSource(demoSourceSchema.parse({ type: 'demo', vms: 5, failure_rate: 0.1 }));
  const writes: { samples: readonly Sample[]; outcomes: readonly CollectionOutcome[] }[] = [];
  const progress: BackfillProgress[] = [];
  const r = await backfillDemo(
    source,
    {
      write: async (samples, outcomes) => {
        writes.push({ samples, outcomes });
      },
    },
    { fromMs: T0 + 1, toMs: T0 + 86_400_000, stepMs: 300_000, batchSamples: 1000, onProgress: (p) => progress.push(p) },
  );
  const steps = 288; // T0+5m .. T0+24h
  assert.equal(r.outcomes, steps * 5);
  assert.equal(r.samples, (r.outcomes - r.failedCollections) * 7);
  assert.ok(r.failedCollections > 0 && r.failedCollections < r.outcomes * 0.2);
  assert.equal(r.writes, writes.length);
  assert.ok(writes.length >= 8, `batched: ${writes.length} writes`);
  for (const w of writes.slice(0, -1)) assert.ok(w.samples.length >= 1000 && w.samples.length < 1000 + 5 * 7);
  const ts = writes.flatMap((w) => w.outcomes.map((o) => o.ts));
  assert.equal(ts[0], T0 + 300_000);
  assert.equal(ts.at(-1), T0 + 86_400_000);
  assert.ok(
    ts.every((t, i) => i === 0 || t >= ts[i - 1]!),
    'oldest first',
  );
  assert.equal(progress.at(-1)!.steps, steps);
  assert.equal(progress.at(-1)!.totalSteps, steps);
  assert.ok(progress.every((p, i) => i === 0 || p.steps > progress[i - 1]!.steps));
});

test('a failing write stops the backfill with its error', async () => {
  const source = new DemoSource(demoSourceSchema.parse({ type: 'demo', vms: 2 }));
  let calls = 0;
  await assert.rejects(
    backfillDemo(
      source,
      {
        write: async () => {
          calls++;
          if (calls === 2) throw new Error('disk full');
        },
      },
      { fromMs: T0, toMs: T0 + 86_400_000, stepMs: 60_000, batchSamples: 100 },
    ),
    /disk full/,
  );
  assert.equal(calls, 2);
});
