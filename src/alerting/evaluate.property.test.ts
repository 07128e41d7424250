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
