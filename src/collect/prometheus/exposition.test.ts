import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExpositionError, parseExposition, parseFloatValue } from './exposition.ts';

test('parses HELP, TYPE, comments, labels and timestamps', () => {
  const page = [
    '# A plain comment',
    '# HELP http_requests_total The total number of HTTP requests.',
    '# TYPE http_requests_total counter',
    'http_requests_total{method="post",code="200"} 1027 1395066363000',
    'http_requests_total{method="post",code="400"}    3 1395066363000',
    '',
    'metric_without_timestamp_and_labels 12.47',
    '',
  ].join('\n');
  const exp = parseExposition(page);
  assert.equal(exp.samples.length, 3);
  const reqs = exp.families[0]!;
  assert.equal(reqs.name, 'http_requests_total');
  assert.equal(reqs.type, 'counter');
  assert.equal(reqs.help, 'The total number of HTTP requests.');
  assert.deepEqual(reqs.samples[0], {
    name: 'http_requests_total',
    labels: { method: 'post', code: '200' },
    value: 1027,
    timestampMs: 1395066363000,
  });
  assert.equal(exp.families[1]!.type, 'untyped');
  assert.equal(exp.families[1]!.samples[0]!.value, 12.47);
  assert.equal(exp.families[1]!.samples[0]!.timestampMs, undefined);
});

test('unescapes label values and HELP text', () => {
  const page = [
    '# HELP msdos_file_access_time_seconds Help with \\\\ backslash and \\n newline.',
    'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
  ].join('\n');
  const exp = parseExposition(page);
  assert.equal(exp.families[0]!.help, 'Help with \\ backslash and \n newline.');
  assert.deepEqual(exp.samples[0]!.labels, { path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' });
  assert.equal(exp.samples[0]!.value, 1458255915);
});

test('accepts NaN, +Inf, -Inf, exponents, negative timestamps and trailing commas', () => {
  const exp = parseExposition(
    [
      'a NaN',
      'b +Inf',
      'c -Inf',
      'd 1e-3 -1000',
      'e{x="1",} 2',
      'f { x = "1" , y="2" } 3',
      'something_weird{problem="division by zero"} +Inf -3982045',
    ].join('\n'),
  );
  const v = Object.fromEntries(exp.samples.map((s) => [s.name, s]));
  assert.ok(Number.isNaN(v.a!.value));
  assert.equal(v.b!.value, Number.POSITIVE_INFINITY);
  assert.equal(v.c!.value, Number.NEGATIVE_INFINITY);
  assert.equal(v.d!.value, 0.001);
  assert.equal(v.d!.timestampMs, -1000);
  assert.deepEqual(v.e!.labels, { x: '1' });
  assert.deepEqual(v.f!.labels, { x: '1', y: '2' });
  assert.equal(v.something_weird!.timestampMs, -3982045);
});

test('groups histogram and summary samples under their family', () => {
  const page = `# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
`;
  const exp = parseExposition(page);
  assert.equal(exp.families.length, 2);
  const [h, s] = exp.families;
  assert.equal(h!.type, 'histogram');
  assert.equal(h!.samples.length, 5);
  assert.equal(h!.samples[2]!.labels.le, '+Inf');
  assert.equal(h!.samples[4]!.name, 'http_request_duration_seconds_count');
  assert.equal(s!.type, 'summary');
  assert.equal(s!.samples.length, 5);
  assert.equal(s!.samples[3]!.value, 17560473);
});

test('accepts CRLF, # EOF and quoted UTF-8 metric names', () => {
  const exp = parseExposition('# TYPE "my.metric" gauge\r\n{"my.metric",zone="a"} 4\r\n# EOF\r\n');
  assert.equal(exp.families[0]!.name, 'my.metric');
  assert.equal(exp.families[0]!.type, 'gauge');
  assert.deepEqual(exp.samples[0], { name: 'my.metric', labels: { zone: 'a' }, value: 4 });
});

test('rejects malformed lines with the line number', () => {
  const cases: [string, RegExp][] = [
    ['ok 1\nbad{x="1" 2', /line 2: expected "," or "}"/],
    ['x{a="1} 2', /unterminated/],
    ['x{a="\\q"} 2', /invalid escape/],
    ['x abc', /invalid value "abc"/],
    ['x', /missing value/],
    ['x 1 2 3', /unexpected text/],
    ['x 1 12.x', /invalid timestamp/],
    ['# TYPE x bogus', /unknown metric type/],
    ['x 1\n# TYPE x gauge', /TYPE line for x after its samples/],
    ['x{a="1"} 1\nx{a="1"} 2', /duplicate sample/],
    ['x{a="1",a="2"} 1', /duplicate label a/],
    ['x{1a="1"} 1', /invalid label name/],
    ['1x 1', /expected a metric name/],
    ['x 1\n# EOF\ny 2', /after "# EOF"/],
  ];
  for (const [page, re] of cases) {
    assert.throws(
      () => parseExposition(page),
      (e: unknown) => e instanceof ExpositionError && re.test(e.message),
      page,
    );
  }
});

test('parseFloatValue follows Go float syntax', () => {
  assert.equal(parseFloatValue('0x1F'), 31);
  assert.equal(parseFloatValue('-.5'), -0.5);
  assert.equal(parseFloatValue('Inf'), Number.POSITIVE_INFINITY);
  assert.equal(parseFloatValue('1.5E+3'), 1500);
  assert.equal(parseFloatValue(''), undefined);
  assert.equal(parseFloatValue('1,5'), undefined);
});
