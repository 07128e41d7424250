import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ruleSchema } from '../config/sections/rules.ts';
import { type AlertEngineState, emptyState, evaluate } from './evaluate.ts';
import { compileRule } from './rule.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MIN = 60_000;

test('property: every breach streak lasting `for` fires exactly once, shorter ones never; state stays consistent', () => {
  fc.assert(
    fc.property(
      fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }),
      fc.integer({ min: 0, max: 6 }),
      (breaches, forMin) => {
        const rules = [
          compileRule(ruleSchema.parse({ name: 'r', metric: 'cpu_percent', threshold: 80, for: forMin * 60 })),
        ];
        let state: AlertEngineState = emptyState();
        let fired = 0;
        let resolved = 0;
        breaches.forEach((b, i) => {
          const ts = T0 + i * MIN;
          const r = evaluate(
            rules,
            {
              samples: [{ metric: 'cpu_percent', labels: { vm: 'v' }, ts, value: b ? 90 : 10 }],
              outcomes: [],
              now: ts,
            },
            state,
          );
          state = r.state;
          fired += r.events.filter(
            (e) => e.kind === 'fired' || (e.kind === 'suppressed' && e.alert.state === 'firing'),
          ).length;
          resolved += r.events.filter((e) => e.kind === 'resolved').length;
          const active = [...state.tracks.values()].filter((t) => t.active).length;
          assert.ok(active <= 1, 'one alert per fingerprint at most');
        });
        // Oracle: maximal runs of consecutive breaching samples, one minute apart.
        let expected = 0;
        let run = 0;
        for (const b of [...breaches, false]) {
          if (b) run++;
          else {
            if (run > 0 && (run - 1) * MIN >= forMin * MIN) expected++;
            run = 0;
          }
        }
        assert.equal(fired, expected);
        const stillFiring = [...state.tracks.values()].some((t) => t.active?.state === 'firing') ? 1 : 0;
        assert.equal(resolved + stillFiring, fired);
      },
    ),
    { numRuns: 300 },
  );
});

test('property: windows and aggregates match a from-scratch recomputation, also for out-of-order points and an older state evaluated again', () => {
  const sk = 'cpu_percent{vm="v"}';
  type Point = readonly [ts: number, value: number];
  const windows = [
    { name: 'max3', fn: 'max', window: '3m', ms: 3 * MIN },
    { name: 'p50_2', fn: 'p50', window: '2m', ms: 2 * MIN },
    { name: 'avg3', fn: 'avg', window: '3m', ms: 3 * MIN },
  ] as const;
  const rules = windows.map((w) =>
    compileRule(
      ruleSchema.parse({
        name: w.name,
        metric: 'cpu_percent',
        comparison: '>=',
        threshold: 0,
        aggregate: w.fn,
        window: w.window,
      }),
    ),
  );
  const oracle = (points: readonly Point[], fn: string, from: number): number => {
    const vals = points.filter(([t]) => t > from).map(([, v]) => v);
    if (fn === 'max') return Math.max(...vals);
    if (fn === 'avg') return vals.reduce((a, b) => a + b, 0) / vals.length;
    const sorted = [...vals].sort((a, b) => a - b);
    const idx = 0.5 * (sorted.length - 1);
    return sorted[Math.floor(idx)]! + (sorted[Math.ceil(idx)]! - sorted[Math.floor(idx)]!) * (idx - Math.floor(idx));
  };
  interface Model {
    readonly state: AlertEngineState;
    readonly points: readonly Point[];
    readonly values: ReadonlyMap<string, number>;
    readonly lastTs: number;
  }
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          // Offsets (seconds before `now`) of this cycle's samples, in arrival order: out of order at times.
          offsets: fc.array(fc.integer({ min: 0, max: 90 }), { maxLength: 6 }),
          values: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 6, maxLength: 6 }),
          // Evaluate from this many cycles back instead of from the latest state (0 = the latest).
          back: fc.integer({ min: 0, max: 3 }),
        }),
        { minLength: 1, maxLength: 40 },
      ),
      (steps) => {
        const history: Model[] = [{ state: emptyState(), points: [], values: new Map(), lastTs: 0 }];
        steps.forEach((step, i) => {
          const now = T0 + (i + 1) * MIN;
          const base = history[Math.max(0, history.length - 1 - step.back)]!;
          const before = base.state.rings.get(sk);
          const snapshot = before ? JSON.stringify([before.ts, before.values]) : null;
          const samples = step.offsets.map((o, j) => ({
            metric: 'cpu_percent',
            labels: { vm: 'v' },
            ts: now - o * 1000,
            value: step.values[j]!,
          }));
          const r = evaluate(rules, { samples, outcomes: [], now }, base.state);
          let points = base.points;
          const values = new Map(base.values);
          let lastTs = base.lastTs;
          for (const s of samples) {
            points = [...points.filter(([t]) => t > s.ts - 3 * MIN && t < s.ts), [s.ts, s.value]];
            if (s.ts < lastTs) continue;
            lastTs = s.ts;
            for (const w of windows) values.set(w.name, oracle(points, w.fn, s.ts - w.ms));
          }
          const ring = r.state.rings.get(sk);
          assert.deepEqual(
            ring ? [ring.ts, ring.values] : null,
            points.length > 0 ? [points.map(([t]) => t), points.map(([, v]) => v)] : null,
          );
          for (const t of r.state.tracks.values()) assert.equal(t.active?.value, values.get(t.rule), t.rule);
          assert.equal(r.state.tracks.size, values.size);
          // The state evaluated from is untouched.
          const after = base.state.rings.get(sk);
          assert.equal(after ? JSON.stringify([after.ts, after.values]) : null, snapshot);
          history.push({ state: r.state, points, values, lastTs });
        });
      },
    ),
    { numRuns: 300 },
  );
});
