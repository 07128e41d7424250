// Alert rule evaluation benchmark: one evaluation cycle over 10,000 series (2,000 VMs x 5 metrics) against 50 rules
// (10 per metric: plain thresholds, label-matched, `severity: auto`, hysteresis, and avg/p95 over a 5-minute window),
// with values random-walking so a few percent of series breach. Reports per-cycle time of the pure `evaluate` and of
// the full AlertService cycle (evaluation + SQLite persistence in a temporary file), and the breach-to-event latency of
// a single pushed sample through AlertService.ingest.
// The first cycles warm the JIT up; `firstCycleMs` reports the cold one, the statistics exclude 3 warm-up cycles.
// Flags: --vms N (2000) --rules N (50) --cycles N (20) --seed N
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type AlertEngineState, emptyState, evaluate } from '../src/alerting/evaluate.ts';
import { compileRule } from '../src/alerting/rule.ts';
import { AlertService } from '../src/alerting/service.ts';
import { type RuleConfig, type RuleInput, ruleSchema } from '../src/config/sections/rules.ts';
import type { AlertEvent, Sample } from '../src/model/index.ts';
import { AlertRepository } from '../src/store/sqlite/alert-repository.ts';

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : fallback;
}

const METRICS = ['cpu_percent', 'memory_percent', 'disk_percent', 'network_in_bytes', 'network_out_bytes'] as const;

function makeRules(n: number): RuleConfig[] {
  const out: RuleConfig[] = [];
  for (let i = 0; i < n; i++) {
    const metric = METRICS[i % METRICS.length]!;
    const bytes = metric.endsWith('bytes');
    const k = Math.floor(i / METRICS.length);
    const threshold = bytes ? 8e8 + k * 2e7 : 80 + (k % 10) * 1.5;
    const r: Record<string, unknown> = {
      name: `rule_${i}`,
      metric,
      threshold,
      for: `${k % 3}m`,
      severity: k % 4 === 0 ? 'auto' : 'warning',
    };
    if (k % 5 === 1) r.match = { resource_group: '=~rg-[0-4]' };
    if (k % 5 === 2) r.recovery_threshold = threshold * 0.9;
    if (k % 5 === 3) Object.assign(r, { aggregate: 'avg', window: '5m' });
    if (k % 5 === 4) Object.assign(r, { aggregate: 'p95', window: '5m' });
    out.push(ruleSchema.parse(r as RuleInput));
  }
  return out;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function stats(ms: number[]): Record<string, number> {
  const s = [...ms].sort((a, b) => a - b);
  const pick = (p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { mean: r(s.reduce((a, b) => a + b, 0) / s.length), p50: r(pick(50)), p95: r(pick(95)), max: r(s.at(-1)!) };
}

export async function run(args: string[]): Promise<Record<string, unknown>> {
  const vms = flag(args, 'vms', 2000);
  const ruleCount = flag(args, 'rules', 50);
  const cycles = flag(args, 'cycles', 20);
  const random = rng(flag(args, 'seed', 42));
  const ruleConfigs = makeRules(ruleCount);
  const rules = ruleConfigs.map(compileRule);

  // Per series: a random walk around a base; ~4% of VMs run hot.
  const series: { metric: string; labels: Record<string, string>; value: number; bytes: boolean }[] = [];
  for (let v = 0; v < vms; v++) {
    const hot = random() < 0.04;
    for (const metric of METRICS) {
      const bytes = metric.endsWith('bytes');
      series.push({
        metric,
        labels: { vm: `vm-${String(v).padStart(5, '0')}`, resource_group: `rg-${v % 10}`, source: 'bench' },
        value: bytes ? (hot ? 9e8 : 1e8) : hot ? 88 : 40,
        bytes,
      });
    }
  }
  const T0 = Date.UTC(2026, 0, 5);
  const samplesAt = (ts: number): Sample[] =>
    series.map((s) => {
      const step = s.bytes ? 2e7 : 2;
      s.value = Math.max(
        0,
        s.bytes ? s.value + (random() - 0.5) * step : Math.min(100, s.value + (random() - 0.5) * step),
      );
      return { metric: s.metric, labels: s.labels, ts, value: s.value };
    });

  // 1) The pure evaluation, no persistence.
  let state: AlertEngineState = emptyState();
  const pureMs: number[] = [];
  let events = 0;
  let firing = 0;
  const warmup = 3;
  let firstCycleMs = 0;
  for (let c = 0; c < cycles + warmup; c++) {
    const ts = T0 + c * 60_000;
    const samples = samplesAt(ts);
    const t = performance.now();
    const r = evaluate(rules, { samples, outcomes: [], now: ts }, state);
    if (c === 0) firstCycleMs = Math.round(performance.now() - t);
    if (c >= warmup) pureMs.push(performance.now() - t);
    state = r.state;
    events += r.events.length;
  }
  for (const t of state.tracks.values()) if (t.active?.state === 'firing') firing++;

  // 2) The service: evaluation + persistence to SQLite (temporary file, WAL).
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-rules-'));
  const serviceMs: number[] = [];
  let latencyMs: number[] = [];
  const tickMs: number[] = [];
  try {
    const db = new DatabaseSync(join(dir, 'bench.db'));
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL');
    const got: AlertEvent[] = [];
    const service = new AlertService({
      repository: new AlertRepository(db),
      rules: ruleConfigs,
      onEvent: (e) => got.push(e),
    });
    for (let c = 0; c < cycles; c++) {
      const ts = T0 + (cycles + warmup + c) * 60_000;
      const samples = samplesAt(ts);
      const t = performance.now();
      service.ingest(samples, [], ts);
      serviceMs.push(performance.now() - t);
    }
    // 3) Breach-to-event latency: a single pushed sample that breaches a `for: 0` rule, through ingest to the listener.
    latencyMs = [];
    for (let i = 0; i < 20; i++) {
      // Pushes arrive between collection cycles, a second apart.
      const ts = T0 + (2 * cycles + warmup) * 60_000 + i * 1000;
      const vm = `push-${i}`;
      const before = got.length;
      const t = performance.now();
      service.ingest(
        [{ metric: 'cpu_percent', labels: { vm, resource_group: 'rg-9', source: 'push' }, ts, value: 99.5 }],
        [],
        ts,
      );
      if (got.length === before) throw new Error('pushed breach produced no event');
      latencyMs.push(performance.now() - t);
    }
    // 4) A housekeeping tick (no-data rules over every VM, expiry, owed notifications) with no new data.
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      service.tick(T0 + (2 * cycles + warmup + 1) * 60_000 + i * 1000);
      tickMs.push(performance.now() - t);
    }
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  return {
    series: series.length,
    rules: rules.length,
    cycles,
    evaluateMsPerCycle: stats(pureMs),
    firstCycleMs,
    serviceMsPerCycle: stats(serviceMs),
    pushedBreachToEventMs: stats(latencyMs),
    tickMs: stats(tickMs),
    eventsInPureRun: events,
    firingAtEnd: firing,
    targetMsPerCycle: 50,
    targetBreachToEventMs: 100,
  };
}
