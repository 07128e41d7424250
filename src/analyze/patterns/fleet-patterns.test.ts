import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { CollectionOutcome } from '../../model/outcome.ts';
import type { Sample } from '../../model/sample.ts';
import {
  detectFleetPatterns,
  type FleetPatternName,
  fleetPatternLookbackMs,
  patternAlertDraft,
} from './fleet-patterns.ts';

const NOW = Date.UTC(2026, 0, 5, 12);
const S = 1000;
const out = (
  vm: string,
  ago: number,
  success: boolean,
  rg = 'rg-a',
  err = 'Connection timeout',
  durationMs = 100,
): CollectionOutcome => ({
  vm,
  labels: { resource_group: rg, source: 'ssh' },
  ts: NOW - ago,
  success,
  errorMessage: success ? null : err,
  durationMs,
});
const sample = (vm: string, metric: string, ago: number, value: number, rg = 'rg-a'): Sample => ({
  metric,
  labels: { vm, resource_group: rg },
  ts: NOW - ago,
  value,
});
const names = (ps: { pattern: FleetPatternName }[]) => ps.map((p) => p.pattern).sort();

test('P1 cascading failures: 3 VMs × 2 failures within 50 s → confidence 0.6, warning', () => {
  const outcomes = ['a', 'b', 'c'].flatMap((vm, k) => [
    out(vm, 50 * S - k * 10 * S, false, `rg-${vm}`),
    out(vm, 10 * S, false, `rg-${vm}`),
  ]);
  const healthy = ['d', 'e', 'f'].map((vm) => out(vm, 20 * S, true, 'rg-x'));
  const p = detectFleetPatterns({ outcomes: [...outcomes, ...healthy], samples: [], now: NOW });
  const c = p.find((x) => x.pattern === 'cascading_failures');
  assert.ok(c);
  assert.equal(c.confidence, 0.6);
  assert.equal(c.severity, 'warning');
  assert.equal(c.title, 'Failure Pattern Detected: cascading_failures');
  assert.deepEqual(c.affectedVms, ['a', 'b', 'c']);
  // Two failures only: below the minimum.
  assert.deepEqual(names(detectFleetPatterns({ outcomes: outcomes.slice(0, 2), samples: [], now: NOW })), []);
});

test('network partition: every VM of one resource group failing while the others are fine → 1.0, critical', () => {
  const outcomes = [
    ...['a1', 'a2', 'a3'].map((vm) => out(vm, 30 * S, false, 'rg-a')),
    ...['b1', 'b2', 'b3', 'b4'].map((vm) => out(vm, 30 * S, true, 'rg-b')),
  ];
  const p = detectFleetPatterns({ outcomes, samples: [], now: NOW }, { cascading: { minVms: 10 } });
  const np = p.filter((x) => x.pattern === 'network_partition');
  assert.equal(np.length, 1);
  assert.equal(np[0].confidence, 1);
  assert.equal(np[0].severity, 'critical');
  assert.deepEqual(np[0].group, { label: 'resource_group', value: 'rg-a' });
  assert.deepEqual(np[0].affectedVms, ['a1', 'a2', 'a3']);
  // The whole fleet failing is not a partition.
  const all = detectFleetPatterns({
    outcomes: outcomes.map((o) => ({ ...o, success: false, errorMessage: 'x' })),
    samples: [],
    now: NOW,
  });
  assert.equal(all.filter((x) => x.pattern === 'network_partition').length, 0);
});

test('resource exhaustion: memory saturated, then collections fail', () => {
  const samples = [sample('db', 'memory_percent', 500 * S, 97), sample('db', 'memory_percent', 440 * S, 99)];
  const outcomes = [
    out('db', 400 * S, true),
    out('db', 300 * S, false, 'rg-a', 'Command failed'),
    out('db', 200 * S, false, 'rg-a', 'Command failed'),
  ];
  const p = detectFleetPatterns({ outcomes, samples, now: NOW });
  const r = p.find((x) => x.pattern === 'resource_exhaustion');
  assert.ok(r);
  assert.equal(r.confidence, 0.667);
  assert.match(r.evidence[0], /memory_percent reached 97.0%/);
});

/** One attempt a minute over the last `n` minutes with the given latencies (oldest first). */
const attempts = (vm: string, latencies: readonly number[]): CollectionOutcome[] =>
  latencies.map((ms, i) => out(vm, (latencies.length - i) * 60 * S - S, true, 'rg-a', '', ms));

test('heartbeat degradation: median latency rising 200 ms → 3 s over 30 min', () => {
  const outcomes = attempts(
    'web',
    Array.from({ length: 30 }, (_, i) => 200 + i * 100 + (i % 3) * 40),
  );
  const p = detectFleetPatterns({ outcomes, samples: [], now: NOW });
  const h = p.find((x) => x.pattern === 'heartbeat_degradation');
  assert.ok(h, JSON.stringify(p));
  assert.ok(h.confidence > 0.8, String(h.confidence));
  assert.match(h.evidence[0], /median collection latency \d+ ms → \d+ ms/);
  const flat = attempts('web', Array(30).fill(100));
  assert.equal(detectFleetPatterns({ outcomes: flat, samples: [], now: NOW }).length, 0);
});

test('heartbeat degradation: a small absolute rise (71 → 122 ms, the demo fleet) is not degradation', () => {
  const outcomes = attempts(
    'web',
    Array.from({ length: 30 }, (_, i) => 71 + (51 * i) / 29),
  );
  assert.equal(detectFleetPatterns({ outcomes, samples: [], now: NOW }).length, 0);
  // It is a real (small) rise: with both floors lowered it is reported.
  const low = detectFleetPatterns(
    { outcomes, samples: [], now: NOW },
    { heartbeat: { minIncreaseMs: 20, minRatio: 1.3 } },
  );
  assert.deepEqual(names(low), ['heartbeat_degradation']);
});

test('heartbeat degradation: too few attempts raise nothing, however steep', () => {
  const outcomes = attempts(
    'web',
    Array.from({ length: 20 }, (_, i) => 200 + i * 500),
  );
  assert.equal(detectFleetPatterns({ outcomes, samples: [], now: NOW }).length, 0);
});

test('property: random-noise latencies around a steady level raise no heartbeat degradation', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 20, max: 5000 }), // steady level, ms
      fc.double({ min: 0, max: 0.6, noNaN: true }), // relative noise
      fc.integer({ min: 30, max: 120 }), // attempts
      fc.integer(), // seed
      (level, noise, n, seed) => {
        let x = seed >>> 0 || 1;
        const rand = () => {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          return (x >>> 0) / 2 ** 32;
        };
        // Mostly ±noise, with an occasional slow attempt (3× the level), as real collections do.
        const lat = Array.from({ length: n }, () =>
          rand() < 0.05 ? level * 3 : level * (1 + noise * (2 * rand() - 1)),
        );
        const p = detectFleetPatterns({ outcomes: attempts('vm', lat), samples: [], now: NOW });
        assert.equal(p.filter((q) => q.pattern === 'heartbeat_degradation').length, 0, JSON.stringify(p));
      },
    ),
    // A fixed seed: the same 300 cases every run (a statistical test has a small false-alarm rate by design).
    { numRuns: 300, seed: 20260505 },
  );
});

test('a disabled pattern is not reported; windows and thresholds come from the overrides', () => {
  const outcomes = [
    ...['a1', 'a2', 'a3'].map((vm) => out(vm, 30 * S, false, 'rg-a')),
    ...['b1', 'b2', 'b3', 'b4'].map((vm) => out(vm, 30 * S, true, 'rg-b')),
  ];
  const input = { outcomes, samples: [], now: NOW };
  assert.deepEqual(names(detectFleetPatterns(input)), ['network_partition']);
  assert.deepEqual(names(detectFleetPatterns(input, { networkPartition: { enabled: false } })), []);
  // Outside a 20 s window the failures are not seen.
  assert.deepEqual(names(detectFleetPatterns(input, { networkPartition: { windowMs: 20 * S } })), []);
  // Two failing VMs of three are below a 90 % share.
  const two = outcomes.map((o) => (o.vm === 'a3' ? { ...o, success: true, errorMessage: null } : o));
  assert.deepEqual(names(detectFleetPatterns({ ...input, outcomes: two })), []);
  assert.deepEqual(names(detectFleetPatterns({ ...input, outcomes: two }, { networkPartition: { minShare: 0.6 } })), [
    'network_partition',
  ]);
});

test('fleetPatternLookbackMs: the longest enabled window, cascading and network partition included', () => {
  assert.equal(fleetPatternLookbackMs(), 3_600_000);
  assert.equal(fleetPatternLookbackMs({ cascading: { windowMs: 7_200_000 } }), 7_200_000);
  assert.equal(fleetPatternLookbackMs({ networkPartition: { windowMs: 5_400_000 } }), 5_400_000);
  assert.equal(fleetPatternLookbackMs({ diskContention: { enabled: false }, heartbeat: { enabled: false } }), 600_000);
});

test('load imbalance: CPU 95 % vs 10 % in one group; balanced group quiet', () => {
  const samples = [
    ...[60, 120, 180].flatMap((ago) => [
      sample('w1', 'cpu_percent', ago * S, 95),
      sample('w2', 'cpu_percent', ago * S, 10),
    ]),
    ...[60, 120].flatMap((ago) => [
      sample('x1', 'cpu_percent', ago * S, 50, 'rg-b'),
      sample('x2', 'cpu_percent', ago * S, 55, 'rg-b'),
    ]),
  ];
  const p = detectFleetPatterns({ outcomes: [], samples, now: NOW });
  assert.deepEqual(names(p), ['load_imbalance']);
  assert.equal(p[0].confidence, 0.5 + (0.5 * 45) / 60);
  assert.deepEqual(p[0].affectedVms, ['w1', 'w2']);
});

test('disk I/O contention: two VMs of a group at 5× their usual disk writes together', () => {
  const samples = ['d1', 'd2', 'd3'].flatMap((vm) => [
    ...[3000, 2400, 1800, 1200].map((ago) => sample(vm, 'disk_write_bytes', ago * S, 1e6)),
    ...[300, 120].map((ago) => sample(vm, 'disk_write_bytes', ago * S, vm === 'd3' ? 1e6 : 5e6)),
  ]);
  const p = detectFleetPatterns({ outcomes: [], samples, now: NOW });
  assert.deepEqual(names(p), ['disk_io_contention']);
  assert.deepEqual(p[0].affectedVms, ['d1', 'd2']);
});

test('property: confidences are always in [0, 1] and severity follows P4', () => {
  const vm = fc.constantFrom('a', 'b', 'c', 'd', 'e');
  const rg = fc.constantFrom('rg-a', 'rg-b');
  fc.assert(
    fc.property(
      fc.array(fc.tuple(vm, fc.nat(1800), fc.boolean(), rg, fc.nat(5000)), { maxLength: 60 }),
      fc.array(
        fc.tuple(
          vm,
          fc.constantFrom('cpu_percent', 'memory_percent', 'disk_write_bytes'),
          fc.nat(3600),
          fc.double({ min: 0, max: 100, noNaN: true }),
          rg,
        ),
        { maxLength: 60 },
      ),
      (os, ss) => {
        const p = detectFleetPatterns({
          outcomes: os.map(([v, ago, okk, g, d]) => out(v, ago * S, okk, g, 'Connection timeout', d)),
          samples: ss.map(([v, m, ago, value, g]) => sample(v, m, ago * S, value, g)),
          now: NOW,
        });
        for (const x of p) {
          assert.ok(x.confidence >= 0 && x.confidence <= 1);
          assert.equal(x.severity, x.confidence > 0.8 ? 'critical' : 'warning');
          assert.ok(x.affectedVms.length > 0);
        }
      },
    ),
  );
});

test('patternAlertDraft: stable key per pattern and group, P4 severity, evidence as description', () => {
  const outcomes = [
    ...['a1', 'a2'].map((vm) => out(vm, 30 * S, false, 'rg-a')),
    ...['b1', 'b2'].map((vm) => out(vm, 30 * S, true, 'rg-b')),
  ];
  const [p] = detectFleetPatterns({ outcomes, samples: [], now: NOW });
  const d = patternAlertDraft(p);
  assert.equal(d.key, 'network_partition|resource_group=rg-a');
  assert.equal(d.rule, 'pattern:network_partition');
  assert.equal(d.severity, 'critical');
  assert.deepEqual(d.labels, { pattern: 'network_partition', resource_group: 'rg-a' });
  assert.match(d.summary, /^Failure Pattern Detected: network_partition \(confidence 1\.00\): a1, a2$/);
  assert.equal(d.description, p.evidence.join('\n'));
});
