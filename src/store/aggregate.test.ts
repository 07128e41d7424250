import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aggregatePoints } from './aggregate.ts';

test('percentiles interpolate between closest ranks (R-7, as numpy.percentile)', () => {
  const v = [4, 1, 3, 2];
  assert.equal(aggregatePoints('p50', v), 2.5);
  assert.ok(Math.abs(aggregatePoints('p90', v) - 3.7) < 1e-12);
  assert.ok(Math.abs(aggregatePoints('p95', v) - 3.85) < 1e-12);
  assert.ok(Math.abs(aggregatePoints('p99', v) - 3.97) < 1e-12);
  assert.equal(aggregatePoints('p99', [7]), 7);
  assert.deepEqual(v, [4, 1, 3, 2], 'input left unsorted');
});

test('other aggregations', () => {
  const v = [3, -1, 10];
  assert.deepEqual(
    (['avg', 'min', 'max', 'sum', 'count', 'last'] as const).map((a) => aggregatePoints(a, v)),
    [4, -1, 10, 12, 3, 10],
  );
});
