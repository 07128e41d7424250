import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IngestValidationError, parseJsonIngest, parsePrometheusIngest } from './ingest-parse.ts';

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
