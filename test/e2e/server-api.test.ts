import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClock } from '../../src/clock.ts';
import { configSchema } from '../../src/config/index.ts';
import { buildPipeline } from '../../src/notify/build.ts';
import { MemoryOutbox } from '../../src/notify/outbox.ts';
import type { NotificationPipeline } from '../../src/notify/pipeline.ts';
import { TestReceiver } from '../../src/notify/test-receiver.ts';
import { testServer } from '../../src/server/testing/harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type J = any;

const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);
const clock = new FakeClock(T0);
const receiver = new TestReceiver();
const outbox = new MemoryOutbox();
let pipeline: NotificationPipeline;
const h = testServer({
  clock,
  withAlerts: true,
  maxBodyBytes: 64 * 1024,
  // A real pipeline (webhook to a local receiver) over an in-memory outbox, built once the receiver listens.
  notifications: {
    channelNames: () => pipeline.channelNames(),
    sendTest: (channel, now) => pipeline.sendTest(channel, now),
    outboxCounts: () => outbox.counts(),
  },
});
let url = '';
let close: () => Promise<void>;
let admin = '';
let viewer = '';
let operatorB = '';
let viewerB = '';

before(async () => {
  await receiver.start();
  pipeline = buildPipeline({
    notificationConfig: { webhook: { url: `${receiver.url}/hook` } },
    settings: configSchema.parse({}).notifications,
    outbox,
    clock,
    env: {},
  });
  const l = await h.server.listen('127.0.0.1', 0);
  url = l.url;
  close = l.close;
});
after(async () => {
  await close();
  await pipeline.close();
  await receiver.stop();
});

async function call(path: string, init: RequestInit & { token?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await fetch(url + path, { ...init, headers, body });
  const text = await res.text();
  let json: J = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text, type: res.headers.get('content-type') ?? '' };
}

const snap = (vm: string, cpu: number, extra: Record<string, unknown> = {}) => ({
  vm_name: vm,
  timestamp: new Date(T0).toISOString(),
  cpu_percent: cpu,
  memory_percent: 50,
  disk_read_bytes: 1000,
  disk_write_bytes: 2000,
  network_in_bytes: 3000,
  network_out_bytes: 4000,
  success: true,
  error_message: null,
  ...extra,
});

test('loopback without tokens: open access; health, openapi, ingest of seed snapshots and listing', async () => {
  assert.deepEqual((await call('/health')).json, { status: 'ok' });
  const api = await call('/api/v1/openapi.json');
  assert.equal(api.json.openapi, '3.1.0');
  assert.ok(api.json.paths['/api/v1/ingest']);
  const r = await call('/api/v1/ingest', {
    method: 'POST',
    json: [snap('web-01', 42, { resource_group: 'rg-a' }), snap('db-01', 91)],
  });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json, { accepted: 12, outcomes: 2, dropped: 0 });
  const vms = await call('/api/v1/vms');
  const web = vms.json.vms.find((v: J) => v.vm === 'web-01');
  assert.equal(web.metrics.cpu_percent, 42);
  assert.equal(web.resourceGroup, 'rg-a');
  assert.equal(web.source, 'push');
  assert.equal((await call('/api/v1/vms?resource_group=rg-a')).json.vms.length, 1);
});

test('ingest rejects the whole request naming index, field and reason; nothing is stored', async () => {
  const before = (await call('/api/v1/vms')).json.vms.length;
  const r = await call('/api/v1/ingest', {
    method: 'POST',
    json: [snap('ok-01', 10), snap('bad-01', 140), { metric: 'x', value: 'nope' }],
  });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'invalid_ingest');
  assert.deepEqual(r.json.error.details.issues[0], {
    index: 1,
    field: 'cpu_percent',
    reason: 'must be between 0 and 100',
  });
  assert.deepEqual(r.json.error.details.issues[1], { index: 2, field: 'value', reason: 'must be a finite number' });
  assert.equal((await call('/api/v1/vms')).json.vms.length, before);
  const bad = await call('/api/v1/ingest', {
    method: 'POST',
    body: '{not json',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, 'invalid_json');
  assert.ok(!bad.text.includes('    at '), 'no stack trace');
  const big = await call('/api/v1/ingest', {
    method: 'POST',
    json: Array.from({ length: 2000 }, () => snap('big-01', 1)),
  });
  assert.equal(big.status, 413);
  const type = await call('/api/v1/ingest', {
    method: 'POST',
    body: 'x',
    headers: { 'content-type': 'application/xml' },
  });
  assert.equal(type.status, 415);
});

test('ingest: misspelt or unknown fields are refused by name; samples get the snapshot bounds', async () => {
  const before = (await call('/api/v1/vms')).json.vms.length;
  const r = await call('/api/v1/ingest', {
    method: 'POST',
    json: [
      snap('ok-02', 10),
      { ...snap('typo-01', 10), cpu_percent: undefined, cpu_percnt: 10 },
      { metric: 'cpu_percent', labels: { vm: 'web-01' }, value: 500 },
      { metric: 'disk_read_bytes', labels: { vm: 'web-01' }, value: -1 },
      { metric: 'queue_depth', value: 1, unit: 'jobs' },
    ],
  });
  assert.equal(r.status, 400, r.text);
  assert.deepEqual(r.json.error.details.issues, [
    { index: 1, field: 'cpu_percnt', reason: 'unknown field of a VM snapshot; did you mean cpu_percent?' },
    { index: 2, field: 'value', reason: 'cpu_percent must be between 0 and 100' },
    { index: 3, field: 'value', reason: 'disk_read_bytes must not be negative' },
    { index: 4, field: 'unit', reason: 'unknown field of a sample' },
  ]);
  assert.equal((await call('/api/v1/vms')).json.vms.length, before, 'nothing stored');
});

test('body limits are enforced while streaming: a chunked upload is cut off at the limit; other JSON bodies too', async () => {
  const { request } = await import('node:http');
  const before = (await call('/api/v1/vms')).json.vms.length;
  // No Content-Length (chunked transfer): 16 KiB chunks against a 64 KiB limit. The server must answer while the
  // upload is still going (it never ends unless the server answers first), not after buffering all of it.
  let ended = false;
  const res = await new Promise<{ status: number; body: string; sentKiB: number }>((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(
      `${url}/api/v1/ingest`,
      { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
      (r) => {
        answered = true;
        let body = '';
        r.on('data', (d) => {
          body += d;
        });
        r.on('end', () => {
          req.destroy();
          resolve({ status: r.statusCode ?? 0, body, sentKiB: sent * 16 });
        });
      },
    );
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    const item = JSON.stringify(snap('chunk-01', 1));
    const chunk = Array.from({ length: Math.ceil(16_384 / (item.length + 1)) }, () => item).join(',');
    req.write('[');
    const next = () => {
      if (answered) return;
      if (sent === 256) {
        ended = true;
        req.end(']');
        return;
      }
      req.write(`${sent ? ',' : ''}${chunk}`, () => setTimeout(next, 5));
      sent++;
    };
    next();
  });
  assert.equal(ended, false, `answered only after the whole upload (${res.sentKiB} KiB)`);
  assert.equal(res.status, 413, res.body);
  assert.equal(JSON.parse(res.body).error.code, 'too_large');
  assert.equal((await call('/api/v1/vms')).json.vms.length, before);
  // Small JSON bodies (silences, acks, rules) have a limit as well.
  const big = await call('/api/v1/silences', {
    method: 'POST',
    json: { matchers: ['vm=x'], reason: 'x'.repeat(70_000) },
  });
  assert.equal(big.status, 413);
  assert.equal(big.json.error.code, 'too_large');
});

test('ingest of JSON samples and Prometheus text; series query and CSV export', async () => {
  const s = await call('/api/v1/ingest', {
    method: 'POST',
    json: [
      { metric: 'cpu_percent', labels: { vm: 'web-01', resource_group: 'rg-a' }, value: 44, timestamp: T0 + 60_000 },
      { metric: 'queue_depth', labels: { vm: 'web-01' }, value: 7, timestamp: T0 + 60_000 },
    ],
  });
  assert.equal(s.json.accepted, 2);
  const p = await call('/api/v1/ingest?vm=web-01', {
    method: 'POST',
    body: '# TYPE http_requests_total counter\nhttp_requests_total{code="200"} 1027 ' + (T0 + 60_000) + '\n',
    headers: { 'content-type': 'text/plain; version=0.0.4' },
  });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.accepted, 1);
  // NaN/Inf values are valid exposition but not storable: dropped and counted, the rest accepted.
  const nan = await call('/api/v1/ingest?vm=web-01', {
    method: 'POST',
    body: `rpc_latency_seconds{quantile="0.5"} NaN ${T0 + 60_000}\nrpc_up 1 ${T0 + 60_000}\nrpc_max +Inf\n`,
    headers: { 'content-type': 'text/plain' },
  });
  assert.equal(nan.status, 200, nan.text);
  assert.deepEqual(nan.json, { accepted: 1, outcomes: 0, dropped: 2 });
  const onlyNan = await call('/api/v1/ingest', {
    method: 'POST',
    body: 'x NaN\n',
    headers: { 'content-type': 'text/plain' },
  });
  assert.equal(onlyNan.status, 400);
  assert.match(onlyNan.json.error.details.issues[0].reason, /1 NaN\/Inf dropped/);
  const promBounds = await call('/api/v1/ingest?vm=web-01', {
    method: 'POST',
    body: 'cpu_percent 500\n',
    headers: { 'content-type': 'text/plain' },
  });
  assert.equal(promBounds.status, 400);
  assert.equal(promBounds.json.error.details.issues[0].reason, 'cpu_percent must be between 0 and 100');
  const badProm = await call('/api/v1/ingest', {
    method: 'POST',
    body: 'ok 1\nbroken{ 2\n',
    headers: { 'content-type': 'text/plain' },
  });
  assert.equal(badProm.status, 400);
  assert.equal(badProm.json.error.details.issues[0].index, 2);

  clock.set(T0 + 120_000);
  const q = await call('/api/v1/series?metric=cpu_percent&vm=web-01&range=1h');
  assert.deepEqual(
    q.json.results[0].points.map((x: J) => x.value),
    [42, 44],
  );
  const hq = await call('/api/v1/series?metric=http_requests_total&match=code%3D200');
  assert.equal(hq.json.results[0].points[0].value, 1027);
  assert.equal((await call('/api/v1/series?metric=cpu_percent&aggregation=median')).status, 400);
  const csv = await call('/api/v1/export.csv?vm=web-01&range=1h');
  assert.match(csv.type, /text\/csv/);
  const lines = csv.text.trim().split('\n');
  assert.equal(
    lines[0],
    'timestamp,vm_name,cpu_percent,memory_percent,disk_percent,disk_read_bytes,disk_write_bytes,network_in_bytes,network_out_bytes,success,error_message',
  );
  assert.equal(lines[1], '2026-03-01T12:00:00Z,web-01,42,50,,1000,2000,3000,4000,true,');
});

test('ERROR rows: a failed snapshot shows its message, not stale numbers', async () => {
  await call('/api/v1/ingest', {
    method: 'POST',
    json: { vm_name: 'web-01', timestamp: T0 + 130_000, success: false, error_message: 'Connection timeout' },
  });
  const web = (await call('/api/v1/vms/web-01')).json;
  assert.equal(web.errorMessage, 'Connection timeout');
  assert.deepEqual(web.metrics, {});
});

test('alerts: listed, acked, resolved; silences add and expire', async () => {
  const list = await call('/api/v1/alerts');
  const db = list.json.alerts.find((a: J) => a.vm === 'db-01');
  assert.ok(db, JSON.stringify(list.json));
  assert.equal(db.status, 'firing');
  const ack = await call(`/api/v1/alerts/${db.id}/ack`, { method: 'POST', json: { notes: 'looking' } });
  assert.equal(ack.status, 200, ack.text);
  assert.equal(ack.json.acknowledged.notes, 'looking');
  assert.equal((await call(`/api/v1/alerts/${db.id}`)).json.status, 'acknowledged');
  assert.equal((await call('/api/v1/alerts/nope/ack', { method: 'POST' })).status, 404);
  const sil = await call('/api/v1/silences', {
    method: 'POST',
    json: { matchers: ['vm=db-01'], duration: '2h', reason: 'maint' },
  });
  assert.equal(sil.status, 201, sil.text);
  assert.equal((await call('/api/v1/silences')).json.silences.length, 1);
  assert.equal((await call(`/api/v1/silences/${sil.json.id}`, { method: 'DELETE' })).status, 200);
  const res = await call(`/api/v1/alerts/${db.id}/resolve`, { method: 'POST', json: {} });
  assert.equal(res.status, 200, res.text);
  const one = await call(`/api/v1/alerts/${db.id}`);
  assert.equal(one.json.status, 'resolved');
  assert.deepEqual(one.json.history.map((t: J) => t.to).sort(), ['acknowledged', 'firing', 'pending', 'resolved']);
  assert.ok((await call('/api/v1/alerts/history')).json.alerts.some((a: J) => a.id === db.id));
  assert.ok((await call('/api/v1/rules')).json.rules.length >= 1);
  const ta = await call('/api/v1/test-alert', { method: 'POST', json: { channel: 'webhook' } });
  assert.equal(ta.status, 200, ta.text);
  assert.deepEqual(
    ta.json.results.map((r: J) => [r.channel, r.ok]),
    [['webhook', true]],
  );
  assert.equal(JSON.parse(receiver.received.at(-1)!.body).kind, 'test');
});

test('tokens: once one exists, the API needs it; roles and tenants are enforced', async () => {
  admin = h.auth.create({ role: 'admin', name: 'root' }, T0).token;
  viewer = h.auth.create({ role: 'viewer', name: 'wall' }, T0).token;
  operatorB = h.auth.create({ role: 'operator', tenant: 'team-b', name: 'agent-b' }, T0).token;
  viewerB = h.auth.create({ role: 'viewer', tenant: 'team-b', name: 'view-b' }, T0).token;
  const anon = await call('/api/v1/vms');
  assert.equal(anon.status, 401);
  assert.equal(anon.json.error.code, 'unauthorized');
  assert.equal((await call('/api/v1/vms', { token: 'vgl_bogus_x' })).status, 401);
  assert.equal((await call('/health')).status, 200);
  // Liveness and the scrape endpoint stay open; /status (sources and their errors) needs a token like the API.
  assert.equal((await call('/api/v1/health')).status, 200);
  assert.equal((await call('/metrics')).status, 200);
  assert.equal((await call('/api/v1/metrics')).status, 200);
  const anonStatus = await call('/status');
  assert.equal(anonStatus.status, 401);
  assert.equal(anonStatus.json.error.code, 'unauthorized');
  assert.ok(!anonStatus.text.includes('sources'));
  assert.equal((await call('/api/v1/status')).status, 401);
  assert.equal((await call('/status', { token: viewer })).status, 200);

  // viewer reads but cannot write
  assert.equal((await call('/api/v1/vms', { token: viewer })).status, 200);
  const denied = await call('/api/v1/ingest', { method: 'POST', token: viewer, json: snap('x-01', 1) });
  assert.equal(denied.status, 403);
  assert.equal((await call('/api/v1/audit', { token: viewer })).status, 403);

  // tenant b writes its own data only, and sees only it
  const wb = await call('/api/v1/ingest', { method: 'POST', token: operatorB, json: snap('b-01', 33) });
  assert.equal(wb.status, 200, wb.text);
  const cross = await call('/api/v1/ingest', {
    method: 'POST',
    token: operatorB,
    json: snap('b-02', 1, { labels: { tenant: 'default' } }),
  });
  assert.equal(cross.status, 400);
  assert.match(cross.json.error.details.issues[0].reason, /tenant "team-b"/);
  const seenB = (await call('/api/v1/vms', { token: viewerB })).json.vms.map((v: J) => v.vm);
  assert.deepEqual(seenB, ['b-01']);
  assert.equal((await call('/api/v1/vms/web-01', { token: viewerB })).status, 404);
  assert.deepEqual((await call('/api/v1/series?metric=cpu_percent&vm=web-01', { token: viewerB })).json.results, []);
  assert.equal((await call('/api/v1/export.csv?vm=web-01', { token: viewerB })).text.trim().split('\n').length, 1);
  // default-tenant viewer does not see team-b; default-tenant admin sees all
  assert.ok(!(await call('/api/v1/vms', { token: viewer })).json.vms.some((v: J) => v.vm === 'b-01'));
  assert.ok((await call('/api/v1/vms', { token: admin })).json.vms.some((v: J) => v.vm === 'b-01'));
  // alerts of another tenant cannot be read or acked
  await call('/api/v1/ingest', { method: 'POST', token: admin, json: snap('db-02', 95) });
  const a = (await call('/api/v1/alerts', { token: admin })).json.alerts.find((x: J) => x.vm === 'db-02');
  assert.ok(a);
  assert.equal((await call(`/api/v1/alerts/${a.id}/ack`, { method: 'POST', token: operatorB })).status, 404);
  assert.equal((await call('/api/v1/alerts', { token: viewerB })).json.alerts.length, 0);

  // a default-tenant operator's silence mutes that tenant's (unlabelled) alerts and is hidden from other tenants
  const opDefault = h.auth.create({ role: 'operator', name: 'oncall' }, T0).token;
  const sil = await call('/api/v1/silences', {
    method: 'POST',
    token: opDefault,
    json: { matchers: ['vm=db-02'], duration: '1h', reason: 'db maintenance' },
  });
  assert.equal(sil.status, 201, sil.text);
  assert.equal((await call(`/api/v1/alerts/${a.id}`, { token: admin })).json.status, 'suppressed');
  assert.ok((await call('/api/v1/silences', { token: viewer })).json.silences.some((x: J) => x.id === sil.json.id));
  assert.ok(!(await call('/api/v1/silences', { token: viewerB })).json.silences.some((x: J) => x.id === sil.json.id));
  assert.equal((await call(`/api/v1/silences/${sil.json.id}`, { method: 'DELETE', token: operatorB })).status, 404);
  assert.equal((await call(`/api/v1/silences/${sil.json.id}`, { method: 'DELETE', token: opDefault })).status, 200);

  // audit log: who did what
  const log = (await call('/api/v1/audit', { token: admin })).json.entries;
  assert.ok(log.some((e: J) => e.actor === 'agent-b' && e.action === 'ingest' && e.tenant === 'team-b'));
  assert.ok(log.some((e: J) => e.action === 'alert.ack'));
});

test('analytics endpoints answer, tenant-filtered', async () => {
  const f = await call('/api/v1/forecasts', { token: admin });
  assert.equal(f.status, 200, f.text);
  assert.ok(Array.isArray(f.json.forecasts));
  const an = await call('/api/v1/anomalies?days=1', { token: viewerB });
  assert.equal(an.status, 200, an.text);
  assert.ok(an.json.vms.every((v: J) => v.vm.startsWith('b-')));
  assert.equal((await call('/api/v1/forecasts?vm=web-01', { token: viewerB })).status, 404);
  assert.equal((await call('/api/v1/patterns', { token: viewerB })).status, 403);
  const p = await call('/api/v1/patterns', { token: admin });
  assert.equal(p.status, 200, p.text);
  assert.ok(Array.isArray(p.json.patterns));
  assert.equal((await call('/api/v1/forecasts?days=-1', { token: admin })).status, 400);
});

test('/status and /metrics', async () => {
  const st = await call('/status', { token: viewer });
  assert.equal(st.json.version, '0.1.0');
  assert.ok(st.json.samplesIngested > 0);
  assert.equal(st.json.authRequired, true);
  // Alert counts are the caller's tenant's.
  const total = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0);
  assert.ok(total((await call('/status', { token: admin })).json.alerts) > 0);
  assert.equal(total((await call('/status', { token: viewerB })).json.alerts), 0);

  // Two collection cycles of one source, as the engine records them.
  const source = (failures: number, apiCalls: number) => ({
    name: 'azure-prod',
    type: 'azure',
    targets: 3,
    succeeded: 3 - failures,
    failures,
    lastError: failures ? 'throttled' : null,
    stats: { api_calls: apiCalls, throttle_waits: 2 },
  });
  h.recordCycle({ at: T0, durationMs: 1500, targets: 3, failures: 1, samples: 14 }, [source(1, 10)]);
  h.recordCycle({ at: T0 + 60_000, durationMs: 40_000, targets: 3, failures: 0, samples: 21 }, [source(0, 17)]);

  const m = await call('/metrics');
  assert.match(m.type, /text\/plain/);
  const value = (series: string): number => {
    const line = m.text.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `${series} in:\n${m.text}`);
    return Number(line.slice(series.length + 1));
  };
  const src = 'source="azure-prod",type="azure"';
  // Outbox depth: the test alert above was delivered.
  assert.equal(value('vigil_notification_outbox{status="delivered"}'), outbox.counts().delivered);
  assert.equal(value('vigil_notification_outbox{status="delivered"}'), 1);
  assert.equal(value('vigil_notification_outbox{status="pending"}'), 0);
  assert.equal(value('vigil_notification_outbox{status="failed"}'), 0);
  // Per-source self-metrics.
  assert.equal(value(`vigil_source_targets{${src}}`), 3);
  assert.equal(value(`vigil_source_collections_total{${src},outcome="success"}`), 5);
  assert.equal(value(`vigil_source_collections_total{${src},outcome="failure"}`), 1);
  assert.equal(value(`vigil_source_api_calls_total{${src}}`), 17);
  assert.equal(value(`vigil_source_throttle_waits_total{${src}}`), 2);
  assert.equal(value(`vigil_source_stat{${src},stat="api_calls"}`), 17);
  // Cycle durations as a histogram.
  assert.equal(value('vigil_collection_cycle_duration_seconds_bucket{le="1"}'), 0);
  assert.equal(value('vigil_collection_cycle_duration_seconds_bucket{le="2.5"}'), 1);
  assert.equal(value('vigil_collection_cycle_duration_seconds_bucket{le="60"}'), 2);
  assert.equal(value('vigil_collection_cycle_duration_seconds_bucket{le="+Inf"}'), 2);
  assert.equal(value('vigil_collection_cycle_duration_seconds_count'), 2);
  assert.equal(value('vigil_collection_cycle_duration_seconds_sum'), 41.5);
  assert.equal(value('vigil_last_cycle_duration_seconds'), 40);
  // HTTP latency by method, route and status; bucket counts are cumulative and end at the request count.
  const ingest = 'method="POST",route="/api/v1/ingest",status="200"';
  const served = value(`vigil_http_requests_total{${ingest}}`);
  assert.ok(served >= 5, String(served));
  assert.equal(value(`vigil_http_request_duration_seconds_bucket{${ingest},le="+Inf"}`), served);
  assert.equal(value(`vigil_http_request_duration_seconds_count{${ingest}}`), served);
  assert.ok(value(`vigil_http_request_duration_seconds_bucket{${ingest},le="0.001"}`) <= served);
  assert.ok(value(`vigil_http_request_duration_seconds_sum{${ingest}}`) > 0);
  assert.ok(value('vigil_http_requests_total{method="POST",route="/api/v1/ingest",status="403"}') >= 1);
  // Ingest rate: every pushed sample counted by origin, equal to the engine's own count.
  assert.equal(value('vigil_ingest_samples_total{origin="push"}'), st.json.pushedSamples);
  assert.ok(value('vigil_ingest_outcomes_total{origin="push",result="failure"}') >= 1);
  // Alerts by severity and status, equal to what the API lists.
  const active = (await call('/api/v1/alerts', { token: admin })).json.alerts;
  const firingCritical = active.filter((a: J) => a.severity === 'critical' && a.status === 'firing').length;
  assert.ok(firingCritical >= 1);
  assert.equal(value('vigil_alerts{severity="critical",status="firing"}'), firingCritical);
  assert.equal(value('vigil_alerts{severity="info",status="firing"}'), 0);
  assert.ok(value('vigil_alert_events_total{kind="fired"}') >= 2);
});

test('live events: a pushed snapshot reaches the stream, filtered by tenant', async () => {
  const ctl = new AbortController();
  const res = await fetch(`${url}/api/v1/events?access_token=${viewerB}`, { signal: ctl.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const until = async (re: RegExp) => {
    while (!re.test(buf)) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended');
      buf += dec.decode(value);
    }
  };
  await until(/event: hello/);
  await call('/api/v1/ingest', { method: 'POST', token: admin, json: snap('web-09', 12) });
  await call('/api/v1/ingest', { method: 'POST', token: operatorB, json: snap('b-03', 77) });
  await until(/"vm":"b-03"/);
  assert.ok(!buf.includes('web-09'), 'other tenant data not streamed');
  ctl.abort();
});

test('a non-loopback bind without tokens refuses to start and says why', async () => {
  const bare = testServer({ clock });
  await assert.rejects(bare.server.listen('0.0.0.0', 0), /refusing to listen on 0\.0\.0\.0: .*vigil token create/);
  // Without notifications wired, the test alert says so.
  const res = await bare.server.app.request('/api/v1/test-alert', { method: 'POST' });
  assert.equal(res.status, 503);
  assert.match(((await res.json()) as J).error.message, /notifications are not running/);
});
