import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AzCliCredential, type AzRunResult, explainAzFailure, tokenExpiry } from './az-cli.ts';
import {
  AzureApiError,
  AzureCliError,
  describeAzureError,
  parseErrorBody,
  sanitizeRemoteMessage,
  vmNameProblem,
} from './errors.ts';
import { retryAfter } from './http.ts';
import {
  batchQuery,
  bytesPerInterval,
  indexMetrics,
  queryWindow,
  resourceQuery,
  StoredPoints,
  vmSamples,
} from './metrics.ts';

const T = Date.UTC(2026, 0, 14, 10, 6, 42);

function runner(results: AzRunResult[]) {
  const calls: string[][] = [];
  return {
    calls,
    run: async (args: readonly string[]) => {
      calls.push([...args]);
      return results.shift() ?? { code: 1, stdout: '', stderr: 'no more' };
    },
  };
}

const tokenJson = (token: string, expSec: number) =>
  JSON.stringify({
    accessToken: token,
    expiresOn: '2026-01-14 11:02:11.000000',
    expires_on: expSec,
    tokenType: 'Bearer',
  });

test('tokens are cached until 5 minutes before expiry, per audience, single-flight', async () => {
  const exp = T / 1000 + 3600;
  const r = runner([
    { code: 0, stdout: tokenJson('a1', exp), stderr: '' },
    { code: 0, stdout: tokenJson('m1', exp), stderr: '' },
    { code: 0, stdout: tokenJson('a2', exp + 3600), stderr: '' },
  ]);
  const cred = new AzCliCredential(r.run);
  const [x, y] = await Promise.all([
    cred.token('https://management.azure.com/', T),
    cred.token('https://management.azure.com/', T),
  ]);
  assert.equal(x, 'a1');
  assert.equal(y, 'a1');
  assert.equal(await cred.token('https://metrics.monitor.azure.com', T), 'm1');
  assert.equal(await cred.token('https://management.azure.com/', T + 54 * 60_000), 'a1', '6 min before expiry: cached');
  assert.equal(
    await cred.token('https://management.azure.com/', T + 55 * 60_000),
    'a2',
    '5 min before expiry: refreshed',
  );
  assert.deepEqual(r.calls[0], [
    'account',
    'get-access-token',
    '--resource',
    'https://management.azure.com/',
    '--output',
    'json',
  ]);
  assert.equal(cred.invocations, 3);
});

test('az failures: missing, not logged in, expired, empty output; one attempt per minute', async () => {
  assert.match(
    explainAzFailure({ code: 127, stdout: '', stderr: '', spawnError: 'ENOENT' }).message,
    /^Azure CLI \(az\) not found/,
  );
  assert.match(
    explainAzFailure({ code: 127, stdout: '', stderr: 'sh: 1: az: not found' }).message,
    /not found.*az login/,
  );
  const login = explainAzFailure({ code: 1, stdout: '', stderr: "ERROR: Please run 'az login' to setup account." });
  assert.equal(login.message, 'Azure CLI is not logged in (or its session expired): run `az login`');
  assert.match(
    explainAzFailure({ code: 1, stdout: '', stderr: 'AADSTS700082: The refresh token has expired' }).message,
    /expired.*az login/,
  );
  assert.match(explainAzFailure({ code: 1, stdout: '', stderr: 'Token expired' }).message, /expired/);
  const r = runner([{ code: 0, stdout: '', stderr: '' }]);
  const cred = new AzCliCredential(r.run);
  await assert.rejects(cred.token('aud', T), {
    message: 'no access token from `az account get-access-token`: run `az login`',
  });
  await assert.rejects(cred.token('aud', T + 30_000), AzureCliError);
  assert.equal(cred.invocations, 1, 'the failure is remembered');
});

test('expiry: expires_on seconds, else expiresOn local time', () => {
  assert.equal(tokenExpiry({ expires_on: 1736852531 }), 1736852531000);
  assert.equal(tokenExpiry({ expires_on: '1736852531' }), 1736852531000);
  assert.equal(tokenExpiry({ expiresOn: '2025-01-14 11:02:11.000000' }), new Date(2025, 0, 14, 11, 2, 11).getTime());
  assert.equal(tokenExpiry({ expiresOn: 'soon' }), undefined);
});

test('both error envelopes and the x-ms-error-code header', () => {
  assert.deepEqual(parseErrorBody(404, '{"error":{"code":"ResourceNotFound","message":"gone"}}'), {
    code: 'ResourceNotFound',
    message: 'gone',
  });
  assert.deepEqual(parseErrorBody(400, '{"code":"BadRequest","message":"bad grain"}'), {
    code: 'BadRequest',
    message: 'bad grain',
  });
  assert.deepEqual(parseErrorBody(502, '<html>bad gateway</html>', 'Gateway'), {
    code: 'Gateway',
    message: '<html>bad gateway</html>',
  });
  assert.deepEqual(parseErrorBody(500, ''), { code: 'HTTP500', message: 'HTTP 500' });
});

test('per-VM messages: not found, timeout, rate limit, auth (seed A6-A8)', () => {
  assert.match(describeAzureError(new AzureApiError(404, 'ResourceNotFound', 'x')), /not found/);
  assert.match(describeAzureError(new AzureApiError(0, 'Timeout', 'Connection timeout')), /timeout/);
  assert.match(describeAzureError(new AzureApiError(429, 'TooManyRequests', 'x', 60)), /rate limit.*retry after 60s/);
  assert.match(describeAzureError(new AzureApiError(403, 'AuthorizationFailed', 'x')), /Monitoring Reader/);
  assert.match(describeAzureError(new AzureApiError(401, 'ExpiredAuthenticationToken', 'x')), /az login/);
  assert.equal(
    describeAzureError(
      new AzureApiError(400, 'BadRequest', "scope '/subscriptions/abc/resourceGroups/rg' from 10.0.1.5"),
    ),
    "Azure error BadRequest (HTTP 400): scope '[path]' from 10.x.x.x",
  );
});

test('remote text is sanitized as the seed did (A14) and VM names validated (A13)', () => {
  assert.equal(sanitizeRemoteMessage('cannot open /etc/ssl/private/key.pem'), 'cannot open [path]');
  assert.equal(
    sanitizeRemoteMessage('from 172.20.1.1 and 192.168.4.9 and 172.15.0.1'),
    'from 172.x.x.x and 192.168.x.x and 172.15.0.1',
  );
  assert.equal(sanitizeRemoteMessage('x'.repeat(150)), `${'x'.repeat(97)}...`);
  assert.equal(sanitizeRemoteMessage(''), 'Unknown error');
  for (const ok of ['vm-1', 'test_vm', 'VM-123']) assert.equal(vmNameProblem(ok), null);
  for (const bad of ['vm;DROP TABLE', 'vm$(whoami)', '../../../etc/passwd', 'vm|rm -rf /', 'vm`whoami`']) {
    assert.match(vmNameProblem(bad)!, /invalid/i);
  }
  assert.match(vmNameProblem('a'.repeat(65))!, /too long/);
});

test('Retry-After variants', () => {
  assert.equal(retryAfter({ 'retry-after': '7' }), 7000);
  assert.equal(retryAfter({ 'retry-after-ms': '250' }), 250);
  assert.equal(retryAfter({ 'x-ms-retry-after-ms': '1500', 'retry-after': '9' }), 1500);
  assert.equal(retryAfter({}), undefined);
  assert.equal(retryAfter({ 'retry-after': 'Wed, 14 Jan 2026 10:06:52 GMT' }, T), 10_000);
  assert.equal(retryAfter({ 'retry-after': 'Wed, 14 Jan 2026 10:06:52 GMT' }), undefined);
});

test('the query window covers the ingestion lag with complete buckets at the interval grain', () => {
  assert.deepEqual(queryWindow(T, 60_000, 600_000), {
    startMs: Date.UTC(2026, 0, 14, 9, 56),
    endMs: Date.UTC(2026, 0, 14, 10, 6),
    grain: 'PT1M',
    grainMs: 60_000,
    intervalMs: 60_000,
    bytes: 'sum',
  });
  const five = queryWindow(T, 300_000, 600_000);
  assert.equal(five.grain, 'PT5M');
  assert.equal(five.endMs, Date.UTC(2026, 0, 14, 10, 5));
  assert.equal(five.startMs, Date.UTC(2026, 0, 14, 9, 50), 'at least three buckets');
  const w = queryWindow(T, 60_000, 600_000);
  assert.equal(
    batchQuery(w, ['Percentage CPU', 'Network In Total']),
    'starttime=2026-01-14T09:56:00.000Z&endtime=2026-01-14T10:06:00.000Z&interval=PT1M&metricnamespace=Microsoft.Compute%2FvirtualMachines&metricnames=Percentage%20CPU,Network%20In%20Total&aggregation=average,total&api-version=2023-10-01',
  );
  assert.equal(
    resourceQuery(w, ['Percentage CPU']),
    'api-version=2018-01-01&metricnames=Percentage%20CPU&timespan=2026-01-14T09:56:00Z/2026-01-14T10:06:00Z&interval=PT1M&aggregation=Average,Total',
  );
});

test('samples: pending points are not zero, each timestamp is stored once, late points fill in', () => {
  const w = queryWindow(T, 60_000, 600_000);
  const at = (m: number) => `2026-01-14T10:0${m}:00Z`;
  const response = (pending: number[]) =>
    indexMetrics([
      {
        name: { value: 'Percentage CPU' },
        errorCode: 'Success',
        timeseries: [
          {
            data: [0, 1, 2, 3].map((m) =>
              pending.includes(m) ? { timeStamp: at(m) } : { timeStamp: at(m), average: 10 + m },
            ),
          },
        ],
      },
      {
        name: { value: 'available memory bytes' },
        timeseries: [{ data: [{ timeStamp: at(0), average: 2 * 2 ** 30 }] }],
      },
      { name: { value: 'Available Memory Percentage' }, errorCode: 'Success', timeseries: [] },
      {
        name: { value: 'Network In Total' },
        timeseries: [{ data: [{ timeStamp: at(0), total: 1234.4, average: 1 }] }],
      },
    ]);
  const stored = new StoredPoints();
  const labels = { vm: 'vm-1' };
  const first = vmSamples(response([2, 3]), 8, labels, stored, w);
  assert.deepEqual(
    first.samples.map((s) => [s.metric, s.ts, s.value]),
    [
      ['cpu_percent', Date.UTC(2026, 0, 14, 10, 0), 10],
      ['memory_percent', Date.UTC(2026, 0, 14, 10, 0), 75],
      ['network_in_bytes', Date.UTC(2026, 0, 14, 10, 0), 1234],
      ['cpu_percent', Date.UTC(2026, 0, 14, 10, 1), 11],
    ],
  );
  const second = vmSamples(response([3]), 8, labels, stored, w);
  assert.deepEqual(
    second.samples.map((s) => [s.metric, s.ts]),
    [['cpu_percent', Date.UTC(2026, 0, 14, 10, 2)]],
  );
  const errored = vmSamples(
    indexMetrics([{ name: { value: 'Percentage CPU' }, errorCode: 'ResourceNotFound', timeseries: [] }]),
    8,
    labels,
    new StoredPoints(),
    w,
  );
  assert.equal(errored.errorCode, 'ResourceNotFound');
  assert.equal(vmSamples(indexMetrics([]), 8, labels, new StoredPoints(), w).hasData, false);
});

test('bytes are totals per collection interval: grain buckets summed, or scaled when no grain divides the interval', () => {
  const grain = (intervalMs: number) => {
    const w = queryWindow(T, intervalMs, 600_000);
    return [w.grain, w.bytes];
  };
  assert.deepEqual(grain(10_000), ['PT1M', 'scale']);
  assert.deepEqual(grain(90_000), ['PT1M', 'scale']);
  assert.deepEqual(grain(60_000), ['PT1M', 'sum']);
  assert.deepEqual(grain(120_000), ['PT1M', 'sum']);
  assert.deepEqual(grain(240_000), ['PT1M', 'sum']);
  assert.deepEqual(grain(300_000), ['PT5M', 'sum']);
  assert.deepEqual(grain(600_000), ['PT5M', 'sum']);
  assert.deepEqual(grain(3_600_000), ['PT1H', 'sum']);
  // The window starts on an interval boundary, so no interval is cut in two.
  const w2 = queryWindow(Date.UTC(2026, 0, 14, 10, 7, 10), 120_000, 600_000);
  assert.equal(w2.startMs, Date.UTC(2026, 0, 14, 9, 56));
  assert.equal(w2.endMs, Date.UTC(2026, 0, 14, 10, 7));

  const min = (m: number) => Date.UTC(2026, 0, 14, 10, m);
  const perMinute = new Map([
    [min(0), 600],
    [min(1), 300],
    [min(2), 60],
    [min(3), 120],
    [min(4), 6], // 10:05 not in yet: the 10:04 interval waits
  ]);
  assert.deepEqual(
    [...bytesPerInterval(perMinute, w2)],
    [
      [min(0), 900],
      [min(2), 180],
    ],
  );
  const w10 = queryWindow(T, 10_000, 600_000);
  assert.deepEqual([...bytesPerInterval(perMinute, w10)].slice(0, 2), [
    [min(0), 100],
    [min(1), 50],
  ]);
  // Through vmSamples: a 10 s interval stores 1/6 of Azure's per-minute total, so MB/s = value / 10 s is right.
  const metrics = indexMetrics([
    {
      name: { value: 'Network In Total' },
      timeseries: [{ data: [{ timeStamp: '2026-01-14T10:00:00Z', total: 6e6 }] }],
    },
  ]);
  const r = vmSamples(metrics, 8, { vm: 'v' }, new StoredPoints(), w10);
  assert.deepEqual(
    r.samples.map((x) => [x.metric, x.value]),
    [['network_in_bytes', 1e6]],
  );
});

test('a stored point is sent again only while younger than 5 minutes and only when its value changed', () => {
  const w = queryWindow(T, 60_000, 600_000); // ends 10:06
  const cpu = (m: number, v: number) =>
    indexMetrics([
      {
        name: { value: 'Percentage CPU' },
        timeseries: [{ data: [{ timeStamp: `2026-01-14T10:0${m}:00Z`, average: v }] }],
      },
    ]);
  const stored = new StoredPoints();
  const run = (m: number, v: number) => vmSamples(cpu(m, v), 8, { vm: 'v' }, stored, w).samples.map((s) => s.value);
  assert.deepEqual(run(5, 10), [10]);
  assert.deepEqual(run(5, 10), [], 'same value: not again');
  assert.deepEqual(run(5, 12), [12], 'a young bucket that changed (partial, then more): replaced');
  assert.deepEqual(run(0, 30), [30]);
  assert.deepEqual(run(0, 31), [], '10:00 is 6 minutes before the window end: final');
});
