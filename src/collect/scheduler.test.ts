import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import { FakeClock } from '../clock.ts';
import type { Sample } from '../model/index.ts';
import {
  CANCELLED_MESSAGE,
  Collector,
  type CycleResult,
  DiscoveryCache,
  runCycle,
  timeoutMessage,
} from './scheduler.ts';
import type { CollectContext, Source, Target, TargetResult } from './source.ts';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);

function target(vm: string): Target {
  return { vm, labels: { resource_group: 'rg-a', source: 'fake', tenant: 't1', team: 'x' } };
}

function sample(_vm: string, ts: number, value = 1): Sample {
  return { metric: 'cpu_percent', labels: {}, ts, value };
}

type Behaviour = (t: Target, ctx: CollectContext) => Promise<TargetResult> | TargetResult;

function fakeSource(
  vms: string[],
  behave: Behaviour = (t, ctx) => ({ target: t, samples: [sample(t.vm, ctx.now)] }),
  extra: Partial<Source> = {},
): Source & { discoverCalls: number; batches: number[] } {
  const src = {
    name: 'fake',
    type: 'fake',
    discoverCalls: 0,
    batches: [] as number[],
    async discover() {
      src.discoverCalls++;
      return vms.map(target);
    },
    async collect(targets: readonly Target[], ctx: CollectContext) {
      src.batches.push(targets.length);
      return Promise.all(targets.map((t) => behave(t, ctx)));
    },
    ...extra,
  };
  return src;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise<void>((r) => setImmediate(r));
  assert.ok(cond(), 'condition never became true');
}

function ctx(clock: FakeClock, over: Partial<Parameters<typeof runCycle>[1]> = {}) {
  return { now: clock.now(), clock, intervalMs: 60_000, timeoutMs: 30_000, maxWorkers: 10, ...over };
}

test('timeout messages name the timeout in seconds', () => {
  for (const [ms, text] of [
    [30_000, 'timeout after 30s'],
    [1500, 'timeout after 1.5s'],
    [1000, 'timeout after 1s'],
  ] as const)
    assert.equal(timeoutMessage(ms), text);
});

test('a throwing target fails alone; others succeed with labelled samples', async () => {
  const clock = new FakeClock(T0);
  const src = fakeSource(['a', 'b', 'c'], (t, c) => {
    if (t.vm === 'b') throw new Error('Connection refused');
    return { target: t, samples: [sample(t.vm, c.now, 42)] };
  });
  const r = await runCycle([src], ctx(clock));
  assert.equal(r.outcomes.length, 3);
  const byVm = Object.fromEntries(r.outcomes.map((o) => [o.vm, o]));
  assert.equal(byVm.a!.success, true);
  assert.equal(byVm.b!.success, false);
  assert.equal(byVm.b!.errorMessage, 'Connection refused');
  assert.equal(byVm.c!.success, true);
  assert.deepEqual(byVm.a!.labels, { resource_group: 'rg-a', source: 'fake', tenant: 't1', team: 'x' });
  assert.equal(byVm.a!.ts, T0);
  assert.equal(r.samples.length, 2);
  assert.deepEqual(r.samples[0]!.labels, { resource_group: 'rg-a', source: 'fake', tenant: 't1', team: 'x', vm: 'a' });
  assert.deepEqual(r.perSource[0], {
    source: 'fake',
    type: 'fake',
    targets: 3,
    succeeded: 2,
    failed: 1,
    samples: 2,
    durationMs: 0,
    discovered: true,
    error: null,
  });
});

test('a hanging target that ignores the signal times out without delaying the others', async () => {
  const clock = new FakeClock(T0);
  let abortedReason: unknown = null;
  const src = fakeSource(['fast', 'hang', 'slow'], async (t, c) => {
    if (t.vm === 'hang') {
      c.signal.addEventListener('abort', () => {
        abortedReason = c.signal.reason;
      });
      return new Promise<TargetResult>(() => {}); // never settles, ignores the signal
    }
    if (t.vm === 'slow') await clock.sleep(5000, c.signal);
    return { target: t, samples: [sample(t.vm, c.now)] };
  });
  const done = runCycle([src], ctx(clock));
  await until(() => clock.pending >= 3); // two timeouts (fast is done) + the slow target's sleep
  await clock.advance(5000);
  await clock.advance(25_000);
  const r = await done;
  const byVm = Object.fromEntries(r.outcomes.map((o) => [o.vm, o]));
  assert.equal(byVm.fast!.success, true);
  assert.equal(byVm.fast!.durationMs, 0);
  assert.equal(byVm.slow!.success, true);
  assert.equal(byVm.slow!.durationMs, 5000);
  assert.equal(byVm.hang!.success, false);
  assert.equal(byVm.hang!.errorMessage, 'timeout after 30s');
  assert.equal(byVm.hang!.durationMs, 30_000);
  assert.equal(r.durationMs, 30_000);
  assert.match(String((abortedReason as Error)?.message), /timeout after 30s/);
  assert.equal(clock.pending, 0, 'no timers left behind');
});

test('the worker bound holds across sources', async () => {
  for (const maxWorkers of [1, 3, 8]) {
    const clock = new FakeClock(T0);
    let active = 0;
    let peak = 0;
    const behave: Behaviour = async (t, c) => {
      active++;
      peak = Math.max(peak, active);
      for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
      active--;
      return { target: t, samples: [sample(t.vm, c.now)] };
    };
    const a = fakeSource(
      Array.from({ length: 12 }, (_, i) => `a${i}`),
      behave,
    );
    const b = fakeSource(
      Array.from({ length: 12 }, (_, i) => `b${i}`),
      behave,
      { name: 'other' },
    );
    const r = await runCycle([a, b], ctx(clock, { maxWorkers }));
    assert.equal(r.outcomes.length, 24);
    assert.equal(peak, maxWorkers, `peak concurrency with ${maxWorkers} workers`);
  }
});

test('batch sources get groups of batchSize; a target missing from the results fails', async () => {
  const clock = new FakeClock(T0);
  const src = fakeSource(['v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9', 'v10'], undefined, {
    batchSize: 4,
  });
  const inner = src.collect.bind(src);
  src.collect = async (targets, c) => (await inner(targets, c)).filter((r) => r.target.vm !== 'v7');
  const r = await runCycle([src], ctx(clock));
  assert.deepEqual(
    src.batches.sort((x, y) => y - x),
    [4, 4, 2],
  );
  const failed = r.outcomes.filter((o) => !o.success);
  assert.deepEqual(
    failed.map((o) => [o.vm, o.errorMessage]),
    [['v7', 'no result returned by the source']],
  );
  assert.equal(r.outcomes.length, 10);
});

test('a batch that throws fails every target in it', async () => {
  const clock = new FakeClock(T0);
  const src = fakeSource(['a', 'b', 'c'], undefined, { batchSize: 2 });
  src.collect = async (targets) => {
    if (targets.length === 2) throw new Error('HTTP 503 from metrics API');
    return targets.map((t) => ({ target: t, samples: [] }));
  };
  const r = await runCycle([src], ctx(clock));
  assert.deepEqual(
    r.outcomes.map((o) => [o.vm, o.errorMessage]),
    [
      ['a', 'HTTP 503 from metrics API'],
      ['b', 'HTTP 503 from metrics API'],
      ['c', null],
    ],
  );
});

test('discovery runs when due; a failure is a source error and keeps the previous targets', async () => {
  const cases = [
    { every: undefined, expected: [true, true, true, true, true, true] },
    { every: 180_000, expected: [true, false, false, true, false, false] },
  ];
  for (const { every, expected } of cases) {
    const clock = new FakeClock(T0);
    const src = fakeSource(['a', 'b'], undefined, every === undefined ? {} : { discoverEveryMs: every });
    const cache = new DiscoveryCache();
    const seen: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await runCycle([src], ctx(clock, { now: clock.now(), discovery: cache }));
      seen.push(r.perSource[0]!.discovered);
      assert.equal(r.outcomes.length, 2);
      await clock.advance(60_000);
    }
    assert.deepEqual(seen, expected, `discoverEveryMs=${every}`);
  }

  const clock = new FakeClock(T0);
  const cache = new DiscoveryCache();
  let fail = false;
  const src = fakeSource(['a', 'b']);
  const discover = src.discover.bind(src);
  src.discover = async (c) => {
    if (fail) throw new Error('ARM returned 401: token expired');
    return discover(c);
  };
  await runCycle([src], ctx(clock, { discovery: cache }));
  fail = true;
  const r = await runCycle([src], ctx(clock, { discovery: cache }));
  assert.deepEqual(r.sourceErrors, [{ source: 'fake', message: 'discovery failed: ARM returned 401: token expired' }]);
  assert.equal(r.perSource[0]!.error, 'discovery failed: ARM returned 401: token expired');
  assert.deepEqual(
    r.outcomes.map((o) => o.vm),
    ['a', 'b'],
  );
  // No previous list: nothing to collect, but the error is reported.
  const fresh = await runCycle([src], ctx(clock, { discovery: new DiscoveryCache() }));
  assert.equal(fresh.outcomes.length, 0);
  assert.equal(fresh.sourceErrors.length, 1);
});

test('a hanging discovery times out', async () => {
  const clock = new FakeClock(T0);
  const src = fakeSource(['a'], undefined, { discover: () => new Promise<Target[]>(() => {}) });
  const done = runCycle([src], ctx(clock, { timeoutMs: 10_000 }));
  await until(() => clock.pending >= 1);
  await clock.advance(10_000);
  const r = await done;
  assert.deepEqual(r.sourceErrors, [{ source: 'fake', message: 'discovery failed: timeout after 10s' }]);
});

test('Collector runs a cycle at start, then on interval boundaries; stop waits for the cycle in flight', async () => {
  const clock = new FakeClock(T0 + 15_000); // 15 s past a minute boundary
  let release: (() => void) | null = null;
  const src = fakeSource(['a'], async (t, c) => {
    if (c.now === T0 + 120_000) await new Promise<void>((r) => (release = r));
    return { target: t, samples: [sample(t.vm, c.now)] };
  });
  const got: CycleResult[] = [];
  const collector = new Collector({
    sources: [src],
    clock,
    intervalMs: 60_000,
    timeoutMs: 30_000,
    maxWorkers: 4,
    onCycle: async (r) => {
      got.push(r);
    },
  });
  collector.start();
  await until(() => got.length === 1);
  assert.equal(got[0]!.ts, T0 + 15_000);
  await until(() => clock.pending === 1);
  await clock.advance(45_000);
  await until(() => got.length === 2);
  assert.equal(got[1]!.ts, T0 + 60_000);
  await until(() => clock.pending === 1);
  await clock.advance(60_000); // the cycle at T0+120s blocks in the source
  await until(() => release !== null);
  let stopped = false;
  const stopping = collector.stop().then(() => {
    stopped = true;
  });
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  assert.equal(stopped, false, 'stop waits for the cycle in flight');
  (release as unknown as () => void)();
  await stopping;
  assert.equal(got.length, 3, 'the in-flight cycle reached the sink');
  assert.equal(got[2]!.ts, T0 + 120_000);
  assert.equal(clock.pending, 0);
  assert.equal(collector.running, false);
});

test('Collector.stop cancels a hung cycle after its grace period; the cancelled VM is not stored as failed', async () => {
  const clock = new FakeClock(T0);
  let hanging = false;
  const src = fakeSource(['a', 'b'], (t) => {
    if (t.vm === 'b') return { target: t, samples: [sample(t.vm, T0)] };
    hanging = true;
    return new Promise<TargetResult>(() => {}); // a VM that never answers, ignoring the signal
  });
  const got: CycleResult[] = [];
  const collector = new Collector({
    sources: [src],
    clock,
    intervalMs: 60_000,
    timeoutMs: 30_000,
    maxWorkers: 4,
    onCycle: (r) => {
      got.push(r);
    },
  });
  collector.start();
  await until(() => hanging);
  let stopped = false;
  const stopping = collector.stop(5000).then(() => {
    stopped = true;
  });
  await clock.advance(4999);
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
  assert.equal(stopped, false, 'the cycle gets its grace period');
  await clock.advance(1);
  await stopping;
  assert.equal(got.length, 1);
  assert.deepEqual(
    got[0]!.outcomes.map((o) => [o.vm, o.success]),
    [['b', true]],
  );
  assert.equal(clock.pending, 0);
});

test('Collector keeps going when the sink fails', async () => {
  const clock = new FakeClock(T0);
  const errors: string[] = [];
  let calls = 0;
  const collector = new Collector({
    sources: [fakeSource(['a'])],
    clock,
    intervalMs: 60_000,
    timeoutMs: 30_000,
    maxWorkers: 1,
    onCycle: () => {
      calls++;
      if (calls === 1) throw new Error('database is locked');
    },
    onError: (e) => errors.push(e.message),
  });
  collector.start();
  await until(() => clock.pending === 1);
  await clock.advance(60_000);
  await until(() => calls === 2);
  await collector.stop();
  assert.deepEqual(errors, ['database is locked']);
});

test('aborting the cycle signal cancels collection in flight and batches not started, promptly', async () => {
  const clock = new FakeClock(T0);
  const shutdown = new AbortController();
  let hanging = false;
  const src = fakeSource(['a', 'b', 'c', 'd'], (t) => {
    if (t.vm !== 'a') return { target: t, samples: [] };
    hanging = true;
    return new Promise<TargetResult>(() => {});
  });
  const done = runCycle([src], ctx(clock, { maxWorkers: 1, signal: shutdown.signal }));
  await until(() => hanging);
  shutdown.abort();
  const r = await done;
  assert.deepEqual(
    r.outcomes.map((o) => [o.vm, o.errorMessage]),
    [
      ['a', CANCELLED_MESSAGE],
      ['b', CANCELLED_MESSAGE],
      ['c', CANCELLED_MESSAGE],
      ['d', CANCELLED_MESSAGE],
    ],
  );
  assert.equal(r.durationMs, 0);
  assert.equal(clock.pending, 0);
});

test('a long-lived shutdown signal does not accumulate listeners across cycles', async () => {
  const clock = new FakeClock(T0);
  const shutdown = new AbortController();
  const src = fakeSource(['a', 'b', 'c']);
  for (let i = 0; i < 20; i++) await runCycle([src], ctx(clock, { signal: shutdown.signal }));
  assert.equal(getEventListeners(shutdown.signal, 'abort').length, 0);
});

test('Collector: a cycle that overruns its interval skips the missed ticks', async () => {
  const clock = new FakeClock(T0);
  const src = fakeSource(['a'], async (t, c) => {
    if (c.now === T0) await clock.sleep(150_000); // the first cycle takes 2.5 intervals
    return { target: t, samples: [] };
  });
  const got: number[] = [];
  const collector = new Collector({
    sources: [src],
    clock,
    intervalMs: 60_000,
    timeoutMs: 300_000,
    maxWorkers: 1,
    onCycle: (r) => {
      got.push(r.ts - T0);
    },
  });
  collector.start();
  await until(() => clock.pending === 2); // the slow target and its timeout
  await clock.advance(150_000);
  await until(() => got.length === 1 && clock.pending === 1);
  await clock.advance(30_000);
  await until(() => got.length === 2);
  await collector.stop();
  assert.deepEqual(got, [0, 180_000]);
});

test('removedVms: what a source listed at its previous discovery and no source lists now; failed discoveries remove nothing', async () => {
  const clock = new FakeClock(T0);
  const discovery = new DiscoveryCache();
  let listA = ['a', 'b', 'c'];
  let failA = false;
  const srcA = fakeSource([], undefined, {
    name: 'a',
    discover: async () => {
      if (failA) throw new Error('ARM 503');
      return listA.map(target);
    },
  });
  const srcB = fakeSource(['c-moved'], undefined, { name: 'b', discover: async () => ['x', 'c'].map(target) });
  const cycle = () => runCycle([srcA, srcB], ctx(clock, { discovery }));
  assert.deepEqual((await cycle()).removedVms, [], 'the first discovery has nothing to compare with');
  listA = ['a'];
  assert.deepEqual((await cycle()).removedVms, ['b'], 'c is still listed by source b');
  failA = true;
  const failed = await cycle();
  assert.deepEqual(failed.removedVms, []);
  assert.equal(failed.outcomes.filter((o) => o.vm === 'a').length, 1, 'the cached list is still collected');
  await clock.advance(60_000); // a failed discovery is retried after one interval
  failA = false;
  listA = [];
  assert.deepEqual((await cycle()).removedVms, ['a']);
  assert.deepEqual((await runCycle([srcA], ctx(clock))).removedVms, [], 'without a cache nothing is compared');
});

test('a failing discovery backs off (1, 2, 4... intervals, at most the discovery period) and honours retryAtMs', async () => {
  const clock = new FakeClock(T0);
  const cache = new DiscoveryCache();
  let failWith: (Error & { retryAtMs?: number }) | null = null;
  const src = fakeSource(['a', 'b'], undefined, { discoverEveryMs: 600_000 });
  const discover = src.discover.bind(src);
  let tries = 0;
  src.discover = async (c) => {
    tries++;
    if (failWith) throw failWith;
    return discover(c);
  };
  await runCycle([src], ctx(clock, { now: clock.now(), discovery: cache }));
  await clock.advance(600_000);
  failWith = new Error('Compute is down');
  const attempts: number[] = [];
  for (let minute = 0; minute < 30; minute++) {
    const before = tries;
    const r = await runCycle([src], ctx(clock, { now: clock.now(), discovery: cache }));
    // Failing or not attempted, the error stands and the previous targets are collected.
    assert.equal(r.perSource[0]!.error, 'discovery failed: Compute is down');
    assert.deepEqual(
      r.outcomes.map((o) => o.vm),
      ['a', 'b'],
    );
    if (tries > before) attempts.push(minute);
    await clock.advance(60_000);
  }
  // 1, 2, 4, 8 minutes apart, then capped at the 10-minute discovery period.
  assert.deepEqual(attempts, [0, 1, 3, 7, 15, 25]);

  // An error naming when to retry (Azure's Retry-After) is not retried before then, even after one interval.
  const c2 = new DiscoveryCache();
  const src2 = fakeSource(['a'], undefined, { discoverEveryMs: 600_000 });
  src2.discover = async () => {
    throw Object.assign(new Error('throttled'), { retryAtMs: clock.now() + 1_200_000 });
  };
  let calls = 0;
  const counted = src2.discover;
  src2.discover = async (c) => {
    calls++;
    return counted(c);
  };
  for (let minute = 0; minute <= 20; minute++) {
    await runCycle([src2], ctx(clock, { now: clock.now(), discovery: c2 }));
    await clock.advance(60_000);
  }
  assert.equal(calls, 2, 'at start, then 20 minutes later');
  // A success clears the backoff: the next discovery is due after the normal period.
  failWith = null;
  const seen: boolean[] = [];
  for (let i = 0; i < 12; i++) {
    const r = await runCycle([src], ctx(clock, { now: clock.now(), discovery: cache }));
    seen.push(r.perSource[0]!.discovered);
    assert.equal(r.perSource[0]!.error, null);
    await clock.advance(60_000);
  }
  // The overdue retry succeeds at once; then discovery is back to every 10 minutes.
  assert.deepEqual(seen, [true, ...Array<boolean>(9).fill(false), true, false]);
});
