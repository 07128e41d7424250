import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SourceProblemLog } from './source-log.ts';

test('a standing source error is logged once, again when it changes, and its recovery once; notices always', () => {
  const log = new SourceProblemLog();
  const err = (message: string) => ({ sourceErrors: [{ source: 'azure', message }], notices: [] });
  assert.deepEqual(log.lines(err('Azure CLI is not logged in')), [
    { level: 'warn', message: 'source azure: Azure CLI is not logged in' },
  ]);
  assert.deepEqual(log.lines(err('Azure CLI is not logged in')), []);
  assert.deepEqual(log.lines(err('Azure CLI is not logged in')), []);
  assert.deepEqual(log.lines(err('discovery failed: throttled')), [
    { level: 'warn', message: 'source azure: discovery failed: throttled' },
  ]);
  assert.deepEqual(log.lines({ sourceErrors: [], notices: [{ source: 'azure', message: 'using per-VM calls' }] }), [
    { level: 'info', message: 'source azure: recovered' },
    { level: 'info', message: 'source azure: using per-VM calls' },
  ]);
  assert.deepEqual(log.lines({ sourceErrors: [], notices: [] }), []);
});
