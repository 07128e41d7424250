import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IngestValidationError, PushedLabelSets, parseJsonIngest, parsePrometheusIngest } from './ingest-parse.ts';

const NOW = Date.UTC(2026, 0, 1);

test('seed snapshot: zone-less timestamps are UTC; seven metrics and one outcome; nulls skipped', () => {
  const r = parseJsonIngest(
    {
      vm_name: 'web-01',
      timestamp: '2026-01-01T10:00:00',
      cpu_percent: 50,
      memory_percent: null,
      disk_read_bytes: 1,
      disk_write_bytes: 2,
      network_in_bytes: 3,
      network_out_bytes: 4,
      success: true,
      error_message: null,
      labels: { team: 'a' },
    },
    {},
    NOW,
  );
  assert.equal(r.samples.length, 5);
  assert.equal(r.samples[0]!.ts, Date.UTC(2026, 0, 1, 10));
  assert.deepEqual(r.samples[0]!.labels, { source: 'push', team: 'a', vm: 'web-01' });
  assert.deepEqual(r.outcomes[0], {
    vm: 'web-01',
    labels: { source: 'push', team: 'a' },
    ts: Date.UTC(2026, 0, 1, 10),
    success: true,
    errorMessage: null,
    durationMs: 0,
  });
});

test('failed snapshot keeps its message; a tenant base label overrides and conflicting tenants are refused', () => {
  const r = parseJsonIngest(
    { vm_name: 'db-01', success: false, error_message: 'Connection timeout' },
    { tenant: 't1' },
    NOW,
  );
  assert.equal(r.samples.length, 0);
  assert.equal(r.outcomes[0]!.errorMessage, 'Connection timeout');
  assert.equal(r.outcomes[0]!.labels.tenant, 't1');
  assert.throws(
    () => parseJsonIngest([{ metric: 'm', value: 1, labels: { tenant: 't2' } }], { tenant: 't1' }, NOW),
    (e: unknown) => e instanceof IngestValidationError && e.issues[0]!.field === 'labels.tenant',
  );
});

test('every problem is reported with index, field and reason', () => {
  try {
    parseJsonIngest(
      [
        { metric: '9bad', value: 1 },
        { metric: 'ok', value: Number.NaN },
        { vm_name: 'bad name!' },
        { vm_name: 'x', timestamp: 'yesterday' },
        42,
        { nothing: true },
      ],
      {},
      NOW,
    );
    assert.fail('expected a validation error');
  } catch (e) {
    assert.ok(e instanceof IngestValidationError);
    assert.deepEqual(
      e.issues.map((i) => [i.index, i.field]),
      [
        [0, 'metric'],
        [1, 'value'],
        [2, 'vm_name'],
        [3, 'timestamp'],
        [4, '(item)'],
        [5, '(item)'],
      ],
    );
  }
  assert.throws(() => parseJsonIngest([], {}, NOW), /empty array/);
});

test('label sets are shared across requests: one labels object per series, per tenant and kind', () => {
  const sets = new PushedLabelSets();
  // Each request parses fresh objects, as JSON.parse does.
  const push = () => [
    { metric: 'cpu_percent', labels: { vm: 'a', team: 'x' }, value: 1 },
    { metric: 'memory_percent', labels: { vm: 'a', team: 'x' }, value: 2 },
    { metric: 'cpu_percent', labels: { vm: 'b', team: 'x' }, value: 3 },
    { vm_name: 'a', resource_group: 'rg', cpu_percent: 4, labels: { team: 'x' } },
  ];
  const r1 = parseJsonIngest(push(), {}, NOW, sets);
  const r2 = parseJsonIngest(push(), {}, NOW, sets);
  const [a1, a2, b, snap] = r1.samples;
  assert.equal(a1!.labels, a2!.labels);
  assert.notEqual(a1!.labels, b!.labels);
  assert.deepEqual(a1!.labels, { source: 'push', vm: 'a', team: 'x' });
  assert.deepEqual(snap!.labels, { source: 'push', team: 'x', resource_group: 'rg', vm: 'a' });
  assert.deepEqual(r1.outcomes[0]!.labels, { source: 'push', team: 'x', resource_group: 'rg' });
  for (const [i, s] of r2.samples.entries()) assert.equal(s.labels, r1.samples[i]!.labels);
  assert.equal(r2.outcomes[0]!.labels, r1.outcomes[0]!.labels);
  // Another tenant, another resource group or another VM is another label set.
  const t = parseJsonIngest(push(), { tenant: 't1' }, NOW, sets);
  assert.notEqual(t.samples[0]!.labels, a1!.labels);
  assert.equal(t.samples[0]!.labels.tenant, 't1');
  const other = parseJsonIngest(
    [{ vm_name: 'a', resource_group: 'rg2', cpu_percent: 4, labels: { team: 'x' } }],
    {},
    NOW,
    sets,
  );
  assert.equal(other.samples[0]!.labels.resource_group, 'rg2');
  const noRg = parseJsonIngest([{ vm_name: 'a', cpu_percent: 4, labels: { team: 'x' } }], {}, NOW, sets);
  assert.deepEqual(noRg.samples[0]!.labels, { source: 'push', team: 'x', vm: 'a' });
});

test('known label sets do not loosen validation: a warm cache reports exactly what a cold one does', () => {
  const sets = new PushedLabelSets();
  parseJsonIngest(
    [
      { metric: 'm', labels: {}, value: 1 },
      { metric: 'cpu_percent', labels: {}, value: 5 },
      { metric: 'm', labels: { vm: 'a' }, value: 1 },
      { metric: 'm', labels: { vm: 'a', tenant: 't1' }, value: 1 },
      { vm_name: 'a', resource_group: 'rg', cpu_percent: 1, labels: { team: 'x' } },
    ],
    {},
    NOW,
    sets,
  );
  parseJsonIngest([{ metric: 'm', labels: { vm: 'a', tenant: 't1' }, value: 1 }], { tenant: 't1' }, NOW, sets);
  const bad = [
    { metric: 'm', labels: [], value: 1 },
    { metric: 'm', labels: { vm: 1 }, value: 1 },
    { metric: 'm', labels: { vm: 'a', 'bad-name': 'x' }, value: 1 },
    { metric: 'm', labels: { vm: 'not ok!' }, value: 1 },
    { metric: 'm', labels: 'vm=a', value: 1 },
    { vm_name: 'a', resource_group: 7, cpu_percent: 1, labels: { team: 'x' } },
    { vm_name: 'a', resource_group: 'rg', cpu_percent: 1, labels: { team: 5 } },
    { metric: 'm', labels: { vm: 'a' }, value: 1, extra: true },
    { metric: 'cpu_percent', labels: {}, value: 150 },
    { metric: '9bad', labels: {}, value: 1 },
  ];
  const issues = (base: Record<string, string>, s: PushedLabelSets) => {
    try {
      parseJsonIngest(structuredClone(bad), base, NOW, s);
    } catch (e) {
      assert.ok(e instanceof IngestValidationError);
      return e.issues;
    }
    assert.fail('expected a validation error');
  };
  const cold = issues({}, new PushedLabelSets());
  assert.deepEqual(issues({}, sets), cold);
  assert.equal(cold.length, 10);
  // A label set known for tenant t1 is refused to a token of tenant t2.
  assert.throws(
    () => parseJsonIngest([{ metric: 'm', labels: { vm: 'a', tenant: 't1' }, value: 1 }], { tenant: 't2' }, NOW, sets),
    (e: unknown) => e instanceof IngestValidationError && e.issues[0]!.field === 'labels.tenant',
  );
  // Items that fail validation leave no label set behind.
  const before = sets.size;
  assert.throws(() => parseJsonIngest(structuredClone(bad), {}, NOW, sets));
  assert.throws(() =>
    parseJsonIngest([{ metric: 'm', labels: { vm: 'q', tenant: 't9' }, value: 1 }], { tenant: 't2' }, NOW, sets),
  );
  assert.equal(sets.size, before);
});

test('the label sets kept are bounded', () => {
  const sets = new PushedLabelSets(3);
  for (let v = 0; v < 10; v++) {
    const r = parseJsonIngest([{ metric: 'm', labels: { vm: `vm-${v}` }, value: v }], {}, NOW, sets);
    assert.deepEqual(r.samples[0]!.labels, { source: 'push', vm: `vm-${v}` });
    assert.ok(sets.size <= 3);
  }
});

test('Prometheus text: query labels apply, page timestamps kept, bad line named', () => {
  const r = parsePrometheusIngest('# TYPE up gauge\nup{job="a"} 1 1700000000000\nqueue 5\n', { vm: 'web-01' }, {}, NOW);
  assert.deepEqual(
    r.samples.map((s) => [s.metric, s.ts, s.labels.vm, s.labels.job]),
    [
      ['up', 1_700_000_000_000, 'web-01', 'a'],
      ['queue', NOW, 'web-01', undefined],
    ],
  );
  assert.throws(
    () => parsePrometheusIngest('ok 1\nbad{ 2\n', {}, {}, NOW),
    (e: unknown) => e instanceof IngestValidationError && e.issues[0]!.index === 2,
  );
});
