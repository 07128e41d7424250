import { isIP } from 'node:net';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { forecastFleet, readFleetPatterns, scanAnomalies } from '../analyze/index.ts';
import type { VigilConfig } from '../config/index.ts';
import type { Alert, CollectionOutcome, LabelMatcher, Labels, Sample } from '../model/index.ts';
import { parseMatcher, STANDARD_METRICS } from '../model/index.ts';
import { type FleetRow, readFleet } from '../store/fleet.ts';
import { DEFAULT_TENANT, type Role } from '../store/sqlite/auth-repository.ts';
import { AGGREGATIONS, type Aggregation, type Resolution } from '../store/store.ts';
import type { ServerDeps } from './deps.ts';
import { ApiError, ServerStartError } from './errors.ts';
import { IngestValidationError, PushedLabelSets, parseJsonIngest, parsePrometheusIngest } from './ingest-parse.ts';
import { openApiDocument } from './openapi.ts';
import { HttpMetrics, labelText } from './own-metrics.ts';
import { staticAssets } from './static.ts';

/** Who is calling. `allTenants` for the default tenant's admin and for loopback without auth. */
export interface Identity {
  readonly name: string;
  readonly role: Role;
  readonly tenant: string;
  readonly allTenants: boolean;
}

type Env = { Variables: { identity: Identity } };

const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };
const LOCAL: Identity = { name: 'local', role: 'admin', tenant: DEFAULT_TENANT, allTenants: true };

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function tenantOf(labels: Labels): string {
  return labels.tenant ?? DEFAULT_TENANT;
}

function visible(id: Identity, labels: Labels): boolean {
  return id.allTenants || tenantOf(labels) === id.tenant;
}

/** A loaded rule's tenant: `labels.tenant`, else an equality `tenant` matcher, else the default tenant. */
function ruleTenant(rule: unknown): string {
  const r = rule as { labels?: Labels; matchers?: readonly LabelMatcher[] };
  return r.labels?.tenant ?? r.matchers?.find((m) => m.name === 'tenant' && m.op === '=')?.value ?? DEFAULT_TENANT;
}

/** The same for a rule as written in the config file (`labels:` and `match:` mappings). */
function rawRuleTenant(rule: Record<string, unknown>): string {
  const labels = rule.labels as Record<string, unknown> | undefined;
  if (typeof labels?.tenant === 'string') return labels.tenant;
  const m = (rule.match as Record<string, unknown> | undefined)?.tenant;
  if (typeof m === 'string' && !/^(=~|!~|!=)/.test(m)) return m;
  return DEFAULT_TENANT;
}

/** A silence belongs to the tenant its `tenant=` matcher names; one without such a matcher to the default tenant. */
function silenceTenant(s: { matchers: readonly LabelMatcher[] }): string {
  return s.matchers.find((m) => m.name === 'tenant' && m.op === '=')?.value ?? DEFAULT_TENANT;
}

/** Selects a tenant's series: the default tenant's have no `tenant` label (or `tenant="default"`). */
function tenantMatcher(tenant: string): LabelMatcher {
  return tenant === DEFAULT_TENANT
    ? { name: 'tenant', op: '=~', value: `(${DEFAULT_TENANT})?` }
    : { name: 'tenant', op: '=', value: tenant };
}

function need(id: Identity, role: Role): void {
  if (ROLE_RANK[id.role] < ROLE_RANK[role]) {
    throw new ApiError(403, 'forbidden', `this action needs the ${role} role; the token has ${id.role}`);
  }
}

function num(c: Context, name: string, fallback: number): number {
  const v = c.req.query(name);
  if (v === undefined || v === '') return fallback;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n))
    throw new ApiError(400, 'bad_request', `query parameter ${name}: "${v}" is not epoch ms or ISO-8601`);
  return n;
}

function duration(text: string | undefined, fallbackMs: number): number {
  if (!text) return fallbackMs;
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new ApiError(400, 'bad_request', `duration "${text}": expected e.g. 30s, 5m, 1h, 7d`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms']!;
}

function iso(ts: number): string {
  return new Date(ts).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** Live per-VM update derived from one ingested batch. */
export interface VmUpdate {
  vm: string;
  ts: number;
  resourceGroup: string | null;
  source: string | null;
  tenant: string;
  /** The VM's labels (resource_group, source, tenant, tags…; without `vm`), so tag filters match live rows too. */
  labels: Labels;
  metrics: Record<string, number>;
  success?: boolean;
  errorMessage?: string | null;
}

function vmLabels(labels: Labels): Labels {
  const { vm: _vm, ...rest } = labels;
  return rest;
}

export function vmUpdates(samples: readonly Sample[], outcomes: readonly CollectionOutcome[]): VmUpdate[] {
  const by = new Map<string, VmUpdate>();
  const get = (vm: string, labels: Labels, ts: number) => {
    let u = by.get(vm);
    if (!u) {
      u = {
        vm,
        ts,
        resourceGroup: labels.resource_group ?? null,
        source: labels.source ?? null,
        tenant: tenantOf(labels),
        labels: vmLabels(labels),
        metrics: {},
      };
      by.set(vm, u);
    }
    if (ts > u.ts) u.ts = ts;
    return u;
  };
  for (const s of samples) {
    const vm = s.labels.vm;
    if (!vm || !(STANDARD_METRICS as readonly string[]).includes(s.metric)) continue;
    get(vm, s.labels, s.ts).metrics[s.metric] = s.value;
  }
  for (const o of outcomes) {
    const u = get(o.vm, o.labels, o.ts);
    u.success = o.success;
    u.errorMessage = o.errorMessage;
  }
  return [...by.values()];
}

/** Bodies other than ingest (acks, silences, rules) are small: at most this much (or the ingest limit if lower). */
const JSON_BODY_MAX_BYTES = 1024 * 1024;
/** How long one fleet read may answer listings when no new data arrived in this process. */
const FLEET_CACHE_MS = 1_000;

/**
 * Reads the request body, refusing with 413 as soon as it passes `limit` bytes: a too-large Content-Length before
 * reading anything, a chunked (or lying) upload while it streams, so an oversized body is never buffered whole.
 */
async function readBody(c: Context, limit: number): Promise<Uint8Array> {
  const tooLarge = () => new ApiError(413, 'too_large', `request body over ${limit} bytes`, { limitBytes: limit });
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
  const stream = c.req.raw.body;
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const ch of chunks) {
    out.set(ch, at);
    at += ch.byteLength;
  }
  return out;
}

function alertView(a: Alert, status: string) {
  return { ...a, status };
}

/** Builds the HTTP API and dashboard. `listen` refuses a non-loopback bind unless tokens exist. */
export function createServer(deps: ServerDeps) {
  const app = new Hono<Env>();
  const metrics = new HttpMetrics();
  const assets = staticAssets();
  const maxBody = deps.maxBodyBytes ?? 16 * 1024 * 1024;
  // Pushed label sets, kept across requests so the store recognises a series by its labels object.
  const pushedLabelSets = new PushedLabelSets();
  let enforce = false;

  const authRequired = () => enforce || (deps.auth?.hasActiveTokens() ?? false);

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      return c.json({ error: { code: err.code, message: err.message, details: err.details } }, err.status);
    }
    if (err instanceof IngestValidationError) {
      metrics.ingestRejected++;
      return c.json({ error: { code: 'invalid_ingest', message: err.message, details: { issues: err.issues } } }, 400);
    }
    return c.json(
      { error: { code: 'internal', message: (err as Error).message || 'internal error', details: null } },
      500,
    );
  });
  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}`, details: null } }, 404),
  );

  app.use('*', async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath ?? c.req.path;
    if (route !== '/api/v1/events')
      metrics.observe(route, c.req.method, c.res.status, (performance.now() - started) / 1000);
  });

  // Authentication for the API and /status (it shows sources and their errors). Liveness (`/health`,
  // `/api/v1/health`), the scrape endpoint (`/metrics`, `/api/v1/metrics`) and the static dashboard stay open; the
  // dashboard asks for a token.
  const OPEN_PATHS = new Set(['/api/v1/health', '/api/v1/metrics']);
  const authenticate = async (c: Context<Env>, next: () => Promise<void>) => {
    if (!authRequired() || OPEN_PATHS.has(c.req.path)) {
      c.set('identity', LOCAL);
      return next();
    }
    const header = c.req.header('authorization');
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : c.req.query('access_token');
    if (!token || !deps.auth)
      throw new ApiError(
        401,
        'unauthorized',
        'an API token is required: send "Authorization: Bearer <token>" (create one with `vigil token create`)',
      );
    const info = deps.auth.verify(token, deps.clock.now());
    if (!info) throw new ApiError(401, 'unauthorized', 'the API token is unknown or revoked');
    c.set('identity', {
      name: info.name,
      role: info.role,
      tenant: info.tenant,
      allTenants: info.role === 'admin' && info.tenant === DEFAULT_TENANT,
    });
    return next();
  };
  app.use('/api/*', authenticate);
  app.use('/status', authenticate);

  const audit = (c: Context<Env>, action: string, target: string, detail?: unknown) => {
    const id = c.get('identity');
    deps.auth?.audit({
      at: deps.clock.now(),
      actor: id.name,
      tenant: id.tenant,
      action,
      target,
      detail: detail === undefined ? null : JSON.stringify(detail),
    });
  };

  // Served at the root (for load balancers and Prometheus scrapers) and under the versioned API.
  app.on('GET', ['/health', '/api/v1/health'], (c) => c.json({ status: 'ok' }));

  app.on('GET', ['/status', '/api/v1/status'], async (c) => {
    const s = deps.status();
    const stats = await deps.store.stats();
    let alerts: Record<string, number> | null = null;
    if (deps.alerts) {
      alerts = {};
      const now = deps.clock.now();
      const id = c.get('identity');
      for (const a of deps.alerts.activeAlerts()) {
        if (!visible(id, a.labels)) continue;
        const st = deps.alerts.statusOf(a, now);
        alerts[st] = (alerts[st] ?? 0) + 1;
      }
    }
    const { raw, hourly, daily } = deps.config.storage.retention;
    const retention = { rawMs: raw, hourlyMs: hourly, dailyMs: daily };
    return c.json({ ...s, store: stats, retention, alerts, authRequired: authRequired() });
  });

  // Self-metrics fed by the engine's live events: ingest by origin, cycle durations, per-source collections, alert events.
  deps.events.on('data', (d) => {
    metrics.ingested.inc({ origin: d.source }, d.samples.length);
    let ok = 0;
    for (const o of d.outcomes) if (o.success) ok++;
    if (d.outcomes.length > 0) {
      metrics.outcomes.inc({ origin: d.source, result: 'success' }, ok);
      metrics.outcomes.inc({ origin: d.source, result: 'failure' }, d.outcomes.length - ok);
    }
  });
  deps.events.on('cycle', (summary) => {
    metrics.cycleDuration.observe({}, summary.durationMs / 1000);
    for (const src of deps.status().sources) {
      const labels = { source: src.name, type: src.type };
      metrics.sourceCollections.inc({ ...labels, outcome: 'success' }, src.succeeded ?? src.targets - src.failures);
      metrics.sourceCollections.inc({ ...labels, outcome: 'failure' }, src.failures);
    }
  });
  deps.events.on('alert', (e) => metrics.alertTransitions.inc({ kind: e.kind }));

  app.on('GET', ['/metrics', '/api/v1/metrics'], async (c) => {
    const s = deps.status();
    const stats = await deps.store.stats();
    const lines = [
      '# HELP vigil_build_info Vigil version.',
      '# TYPE vigil_build_info gauge',
      `vigil_build_info${labelText({ version: s.version })} 1`,
      '# HELP vigil_samples_ingested_total Samples stored (every origin).',
      '# TYPE vigil_samples_ingested_total counter',
      `vigil_samples_ingested_total ${s.samplesIngested}`,
      '# TYPE vigil_collection_cycles_total counter',
      `vigil_collection_cycles_total ${s.cycles}`,
      '# TYPE vigil_last_cycle_duration_seconds gauge',
      `vigil_last_cycle_duration_seconds ${s.lastCycle ? s.lastCycle.durationMs / 1000 : 0}`,
      '# TYPE vigil_last_cycle_failures gauge',
      `vigil_last_cycle_failures ${s.lastCycle?.failures ?? 0}`,
      '# TYPE vigil_store_series gauge',
      `vigil_store_series ${stats.series}`,
      '# TYPE vigil_store_vms gauge',
      `vigil_store_vms ${stats.vms}`,
      '# TYPE vigil_store_file_bytes gauge',
      `vigil_store_file_bytes ${stats.fileBytes}`,
    ];
    if (s.sources.length > 0) {
      const targets = [
        '# HELP vigil_source_targets Targets of each source in the last cycle.',
        '# TYPE vigil_source_targets gauge',
      ];
      const failures = [
        '# HELP vigil_source_last_cycle_failures Failed collections of each source in the last cycle.',
        '# TYPE vigil_source_last_cycle_failures gauge',
      ];
      const statLines = [
        "# HELP vigil_source_stat A source's own counters (API calls, retries, throttle waits, connections, …).",
        '# TYPE vigil_source_stat gauge',
      ];
      const apiCalls = [
        '# HELP vigil_source_api_calls_total API calls made by a source.',
        '# TYPE vigil_source_api_calls_total counter',
      ];
      const throttle = [
        '# HELP vigil_source_throttle_waits_total Times a source waited because its API throttled it.',
        '# TYPE vigil_source_throttle_waits_total counter',
      ];
      for (const src of s.sources) {
        const l = { source: src.name, type: src.type };
        targets.push(`vigil_source_targets${labelText(l)} ${src.targets}`);
        failures.push(`vigil_source_last_cycle_failures${labelText(l)} ${src.failures}`);
        for (const [k, v] of Object.entries(src.stats)) {
          statLines.push(`vigil_source_stat${labelText({ ...l, stat: k })} ${v}`);
          if (k === 'api_calls') apiCalls.push(`vigil_source_api_calls_total${labelText(l)} ${v}`);
          if (k === 'throttle_waits') throttle.push(`vigil_source_throttle_waits_total${labelText(l)} ${v}`);
        }
      }
      lines.push(...targets, ...failures, ...statLines);
      if (apiCalls.length > 2) lines.push(...apiCalls);
      if (throttle.length > 2) lines.push(...throttle);
    }
    const outbox = deps.notifications?.outboxCounts?.();
    if (outbox) {
      lines.push(
        '# HELP vigil_notification_outbox Notification deliveries in the outbox by status (pending = not yet delivered).',
        '# TYPE vigil_notification_outbox gauge',
      );
      for (const st of ['pending', 'delivered', 'failed'] as const)
        lines.push(`vigil_notification_outbox${labelText({ status: st })} ${outbox[st]}`);
    }
    if (deps.alerts) {
      const counts = new Map<string, number>();
      const now = deps.clock.now();
      for (const a of deps.alerts.activeAlerts()) {
        const key = `${a.severity}/${deps.alerts.statusOf(a, now)}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      lines.push('# HELP vigil_alerts Active alerts by severity and status.', '# TYPE vigil_alerts gauge');
      for (const sev of ['info', 'warning', 'critical', 'emergency'])
        for (const st of ['pending', 'firing', 'acknowledged', 'suppressed'])
          lines.push(`vigil_alerts${labelText({ severity: sev, status: st })} ${counts.get(`${sev}/${st}`) ?? 0}`);
    }
    return c.text(`${lines.join('\n')}\n${metrics.render()}`, 200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    });
  });

  app.get('/api/v1/openapi.json', (c) => c.json(openApiDocument()));

  app.get('/api/v1/whoami', (c) => {
    const id = c.get('identity');
    return c.json({
      ...id,
      authRequired: authRequired(),
      alerts: Boolean(deps.alerts),
      rulesEditable: Boolean(deps.rulesFile),
    });
  });

  // Every open dashboard polls or reloads the fleet; one store read serves them all until this process ingests
  // new data or FLEET_CACHE_MS passes (writes by other processes, e.g. `vigil import`, show up within that).
  let fleetCache: { at: number; rows: Promise<FleetRow[]> } | null = null;
  deps.events.on('data', () => {
    fleetCache = null;
  });
  const fleet = (): Promise<FleetRow[]> => {
    const now = deps.clock.now();
    if (!fleetCache || now - fleetCache.at >= FLEET_CACHE_MS || now < fleetCache.at) {
      const rows = readFleet(deps.store, { staleMs: 15 * 60_000 });
      fleetCache = { at: now, rows };
      rows.catch(() => {
        fleetCache = null;
      });
    }
    return fleetCache.rows;
  };

  app.get('/api/v1/vms', async (c) => {
    const id = c.get('identity');
    const rg = c.req.query('resource_group');
    const source = c.req.query('source');
    const rows = (await fleet()).filter(
      (r) => visible(id, r.labels) && (!rg || r.resourceGroup === rg) && (!source || r.source === source),
    );
    return c.json({ vms: rows });
  });

  app.get('/api/v1/vms/:vm', async (c) => {
    const id = c.get('identity');
    const row = (await fleet()).find((r) => r.vm === c.req.param('vm'));
    if (!row || !visible(id, row.labels)) throw new ApiError(404, 'not_found', `no VM named "${c.req.param('vm')}"`);
    return c.json(row);
  });

  /** Last-hour sparkline points per VM for one metric (1-minute buckets). */
  app.get('/api/v1/sparklines', async (c) => {
    const id = c.get('identity');
    const metric = c.req.query('metric') ?? 'cpu_percent';
    const now = deps.clock.now();
    const res = await deps.store.query({
      selector: { metric },
      from: now - 3_600_000,
      to: now,
      resolution: 'raw',
      stepMs: 60_000,
    });
    const out: Record<string, number[][]> = {};
    for (const r of res) {
      if (!r.labels.vm || !visible(id, r.labels)) continue;
      out[r.labels.vm] = r.points.map((p) => [p.ts, Math.round(p.value * 10) / 10]);
    }
    return c.json({ metric, from: now - 3_600_000, to: now, series: out });
  });

  const parseQuery = (c: Context<Env>) => {
    const id = c.get('identity');
    const now = deps.clock.now();
    const metric = c.req.query('metric');
    const matchers: LabelMatcher[] = [];
    for (const m of c.req.queries('match') ?? []) {
      try {
        matchers.push(parseMatcher(m));
      } catch (e) {
        throw new ApiError(400, 'bad_request', (e as Error).message);
      }
    }
    const vm = c.req.query('vm');
    if (vm) matchers.push({ name: 'vm', op: '=', value: vm });
    if (!id.allTenants) matchers.push(tenantMatcher(id.tenant));
    const to = num(c, 'to', now);
    const from = num(c, 'from', to - duration(c.req.query('range'), 3_600_000));
    if (from > to) throw new ApiError(400, 'bad_request', 'from must not be after to');
    const resolution = (c.req.query('resolution') ?? 'auto') as Resolution;
    if (!['raw', 'hourly', 'daily', 'auto'].includes(resolution))
      throw new ApiError(400, 'bad_request', `resolution must be raw, hourly, daily or auto`);
    const aggregation = (c.req.query('aggregation') ?? 'avg') as Aggregation;
    if (!AGGREGATIONS.includes(aggregation))
      throw new ApiError(400, 'bad_request', `aggregation must be one of ${AGGREGATIONS.join(', ')}`);
    const step = c.req.query('step');
    const groupBy = c.req.query('group_by')?.split(',').filter(Boolean);
    return {
      selector: { metric, matchers },
      from,
      to,
      resolution,
      aggregation,
      stepMs: step ? duration(step, 0) : undefined,
      groupBy,
    };
  };

  app.get('/api/v1/series', async (c) => {
    const q = parseQuery(c);
    if (!q.selector.metric && q.selector.matchers.length === 0)
      throw new ApiError(400, 'bad_request', 'give a metric or at least one match=');
    const results = await deps.store.query(q);
    return c.json({ from: q.from, to: q.to, results });
  });

  app.get('/api/v1/export.csv', async (c) => {
    const vm = c.req.query('vm');
    if (!vm) throw new ApiError(400, 'bad_request', 'query parameter vm is required');
    const q = parseQuery(c);
    const [results, outcomes] = await Promise.all([
      Promise.all(
        STANDARD_METRICS.map((metric) =>
          deps.store.query({
            ...q,
            selector: { metric, matchers: q.selector.matchers },
            resolution: 'raw',
            stepMs: undefined,
            groupBy: undefined,
          }),
        ),
      ),
      deps.store.outcomes({ vm, from: q.from, to: q.to }),
    ]);
    const id = c.get('identity');
    const rows = new Map<number, { m: Record<string, number>; ok: boolean; err: string }>();
    const row = (ts: number) => {
      let r = rows.get(ts);
      if (!r) {
        r = { m: {}, ok: true, err: '' };
        rows.set(ts, r);
      }
      return r;
    };
    STANDARD_METRICS.forEach((metric, i) => {
      for (const s of results[i]!) for (const p of s.points) row(p.ts).m[metric] = p.value;
    });
    for (const o of outcomes) {
      if (!visible(id, o.labels)) continue;
      const r = row(o.ts);
      r.ok = o.success;
      r.err = o.errorMessage ?? '';
    }
    const lines = [`timestamp,vm_name,${STANDARD_METRICS.join(',')},success,error_message`];
    for (const ts of [...rows.keys()].sort((a, b) => a - b)) {
      const r = rows.get(ts)!;
      lines.push(
        [
          iso(ts),
          csvField(vm),
          ...STANDARD_METRICS.map((m) => (r.m[m] === undefined ? '' : String(r.m[m]))),
          r.ok ? 'true' : 'false',
          csvField(r.err),
        ].join(','),
      );
    }
    return c.body(`${lines.join('\n')}\n`, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${vm}.csv"`,
    });
  });

  app.post('/api/v1/ingest', async (c) => {
    const id = c.get('identity');
    need(id, 'operator');
    const text = new TextDecoder().decode(await readBody(c, maxBody));
    const type = (c.req.header('content-type') ?? 'application/json').split(';')[0]!.trim().toLowerCase();
    const base: Record<string, string> = id.allTenants ? {} : { tenant: id.tenant };
    const now = deps.clock.now();
    let parsed: ReturnType<typeof parseJsonIngest>;
    if (type === 'application/json') {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (e) {
        throw new ApiError(400, 'invalid_json', `body is not valid JSON: ${(e as Error).message}`);
      }
      parsed = parseJsonIngest(body, base, now, pushedLabelSets);
    } else if (type === 'text/plain' || type === 'application/openmetrics-text') {
      const extra: Record<string, string> = {};
      for (const k of ['vm', 'resource_group', 'source']) {
        const v = c.req.query(k);
        if (v) extra[k] = v;
      }
      parsed = parsePrometheusIngest(text, extra, base, now);
    } else {
      throw new ApiError(
        415,
        'unsupported_media_type',
        `content-type ${type}: send application/json or text/plain (Prometheus text format)`,
      );
    }
    await deps.ingestor.ingest(parsed.samples, parsed.outcomes, 'push');
    metrics.ingestRequests++;
    metrics.ingestedSamples += parsed.samples.length;
    audit(c, 'ingest', 'samples', {
      samples: parsed.samples.length,
      outcomes: parsed.outcomes.length,
      dropped: parsed.dropped,
    });
    return c.json({ accepted: parsed.samples.length, outcomes: parsed.outcomes.length, dropped: parsed.dropped });
  });

  app.get('/api/v1/events', (c) => {
    const id = c.get('identity');
    return streamSSE(c, async (stream) => {
      const queue: { event: string; data: string }[] = [];
      let wake: (() => void) | null = null;
      const push = (event: string, data: unknown) => {
        if (queue.length > 1000) queue.shift();
        queue.push({ event, data: JSON.stringify(data) });
        wake?.();
      };
      const onData = (d: { samples: readonly Sample[]; outcomes: readonly CollectionOutcome[] }) => {
        const ups = vmUpdates(d.samples, d.outcomes).filter((u) => id.allTenants || u.tenant === id.tenant);
        if (ups.length > 0) push('vms', ups);
      };
      const onAlert = (e: { kind: string; at: number; alert: Alert }) => {
        if (visible(id, e.alert.labels)) push('alert', { kind: e.kind, at: e.at, alert: e.alert });
      };
      deps.events.on('data', onData);
      deps.events.on('alert', onAlert);
      metrics.sseClients++;
      let open = true;
      stream.onAbort(() => {
        open = false;
        wake?.();
      });
      try {
        await stream.writeSSE({ event: 'hello', data: JSON.stringify({ tenant: id.tenant, role: id.role }) });
        while (open) {
          if (queue.length === 0) {
            await new Promise<void>((r) => {
              wake = r;
              const t = setTimeout(r, 15_000);
              t.unref?.();
            });
            wake = null;
            if (queue.length === 0 && open) await stream.write(': keep-alive\n\n');
            continue;
          }
          const item = queue.shift()!;
          await stream.writeSSE(item);
        }
      } finally {
        metrics.sseClients--;
        deps.events.off('data', onData);
        deps.events.off('alert', onAlert);
      }
    });
  });

  // Analytics read the store directly (src/analyze/); tenant tokens see only their VMs.
  const visibleVms = async (id: Identity): Promise<Set<string> | null> => {
    if (id.allTenants) return null;
    const vms = await deps.store.listVms();
    return new Set(vms.filter((v) => visible(id, v.labels)).map((v) => v.vm));
  };
  const positive = (c: Context<Env>, name: string, fallback: number, max: number) => {
    const v = c.req.query(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > max)
      throw new ApiError(400, 'bad_request', `${name} must be a number in (0, ${max}]`);
    return n;
  };

  app.get('/api/v1/forecasts', async (c) => {
    const allowed = await visibleVms(c.get('identity'));
    const vm = c.req.query('vm');
    if (vm && allowed && !allowed.has(vm)) throw new ApiError(404, 'not_found', `no VM named "${vm}"`);
    const rows = await forecastFleet(deps.store, {
      now: deps.clock.now(),
      vmName: vm,
      metric: c.req.query('metric'),
      horizonDays: positive(c, 'days', 7, 365),
    });
    const atRisk = c.req.query('at_risk_only') === 'true';
    return c.json({
      forecasts: rows.filter(
        (r) => (!allowed || allowed.has(r.vm_name)) && (!atRisk || (r as { at_risk?: boolean }).at_risk === true),
      ),
    });
  });

  app.get('/api/v1/anomalies', async (c) => {
    const allowed = await visibleVms(c.get('identity'));
    const vm = c.req.query('vm');
    if (vm && allowed && !allowed.has(vm)) throw new ApiError(404, 'not_found', `no VM named "${vm}"`);
    const scan = await scanAnomalies(deps.store, {
      now: deps.clock.now(),
      vm,
      days: positive(c, 'days', 1, 90),
      rawRetentionMs: deps.config.storage.retention.raw,
    });
    return c.json({
      ...scan,
      anomalies: scan.anomalies.filter((a) => !allowed || allowed.has(a.vm)),
      vms: scan.vms.filter((v) => !allowed || allowed.has(v.vm)),
    });
  });

  app.get('/api/v1/patterns', async (c) => {
    if (!c.get('identity').allTenants) {
      throw new ApiError(
        403,
        'forbidden',
        'fleet patterns span tenants: they need an admin token of the default tenant',
      );
    }
    return c.json({ patterns: await readFleetPatterns(deps.store, deps.clock.now(), deps.config.analytics.patterns) });
  });

  // Alerts, silences, rules: answer 503 until the alert service is wired.
  const alerts = () => {
    if (!deps.alerts) throw new ApiError(503, 'unavailable', 'alerting is not running in this Vigil');
    return deps.alerts;
  };
  const findAlert = (c: Context<Env>) => {
    const a = alerts()
      .activeAlerts()
      .find((x) => x.id === c.req.param('id') || x.fingerprint === c.req.param('id'));
    if (!a || !visible(c.get('identity'), a.labels))
      throw new ApiError(404, 'not_found', `no active alert ${c.req.param('id')}`);
    return a;
  };
  const bodyJson = async (c: Context<Env>): Promise<Record<string, unknown>> => {
    const t = new TextDecoder().decode(await readBody(c, Math.min(maxBody, JSON_BODY_MAX_BYTES)));
    if (!t.trim()) return {};
    try {
      const v = JSON.parse(t);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected a JSON object');
      return v;
    } catch (e) {
      throw new ApiError(400, 'invalid_json', `body: ${(e as Error).message}`);
    }
  };
  const actionError = (e: unknown): never => {
    if (e instanceof ApiError) throw e;
    throw new ApiError(409, 'conflict', (e as Error).message);
  };

  app.get('/api/v1/alerts', (c) => {
    const id = c.get('identity');
    const svc = alerts();
    const now = deps.clock.now();
    const status = c.req.query('status');
    const severity = c.req.query('severity');
    const list = svc
      .activeAlerts()
      .filter((a) => visible(id, a.labels))
      .map((a) => alertView(a, svc.statusOf(a, now)))
      .filter((a) => (!status || a.status === status) && (!severity || a.severity === severity));
    return c.json({ alerts: list });
  });
  app.get('/api/v1/alerts/history', (c) => {
    alerts();
    if (!deps.alertHistory) throw new ApiError(503, 'unavailable', 'alert history is not wired in this Vigil');
    const id = c.get('identity');
    const list = deps.alertHistory
      .listAlerts({ states: ['resolved'], since: num(c, 'since', 0), limit: 500 })
      .filter((a) => visible(id, a.labels))
      .map((a) => alertView(a, 'resolved'));
    return c.json({ alerts: list });
  });
  app.get('/api/v1/alerts/:id', (c) => {
    const svc = alerts();
    const id = c.get('identity');
    const key = c.req.param('id');
    const active = svc.activeAlerts().find((x) => x.id === key || x.fingerprint === key);
    const a = active ?? deps.alertHistory?.getAlert(key) ?? null;
    if (!a || !visible(id, a.labels)) throw new ApiError(404, 'not_found', `no alert ${key}`);
    const history = deps.alertHistory?.history({ alertId: a.id, limit: 200 }) ?? [];
    return c.json({ ...alertView(a, active ? svc.statusOf(a, deps.clock.now()) : a.state), history });
  });
  for (const action of ['ack', 'resolve', 'suppress'] as const) {
    app.post(`/api/v1/alerts/:id/${action}`, async (c) => {
      const id = c.get('identity');
      need(id, 'operator');
      const a = findAlert(c);
      const body = await bodyJson(c);
      const notes = typeof body.notes === 'string' ? body.notes : null;
      const now = deps.clock.now();
      let result: unknown;
      try {
        if (action === 'ack') result = alerts().ack(a.id, id.name, notes, now);
        else if (action === 'resolve') result = alerts().resolve(a.id, id.name, notes, now);
        else
          result = alerts().suppress(
            a.id,
            id.name,
            notes ?? '',
            now,
            duration(typeof body.duration === 'string' ? body.duration : undefined, 86_400_000),
          );
      } catch (e) {
        actionError(e);
      }
      audit(c, `alert.${action}`, a.id, { notes });
      return c.json(result);
    });
  }

  app.post('/api/v1/test-alert', async (c) => {
    const id = c.get('identity');
    need(id, 'operator');
    const notify = deps.notifications;
    if (!notify) throw new ApiError(503, 'unavailable', 'notifications are not running in this Vigil');
    const body = await bodyJson(c);
    if (body.channel !== undefined && (typeof body.channel !== 'string' || !body.channel))
      throw new ApiError(400, 'bad_request', 'channel: must be the name of a configured channel');
    const configured = notify.channelNames();
    if (configured.length === 0)
      throw new ApiError(409, 'conflict', 'no notification channels are configured (notification_config is empty)');
    const channel = body.channel as string | undefined;
    if (channel && !configured.includes(channel))
      throw new ApiError(404, 'not_found', `no channel "${channel}"; configured: ${configured.join(', ')}`);
    const results: { channel: string; ok: boolean; retryable: boolean; detail: string }[] = [];
    for (const name of channel ? [channel] : configured) {
      const r = await notify.sendTest(name, deps.clock.now());
      results.push({ channel: name, ok: r.ok, retryable: r.retryable, detail: r.detail });
    }
    audit(c, 'test-alert', channel ?? 'all', { results: results.map((r) => ({ channel: r.channel, ok: r.ok })) });
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0)
      throw new ApiError(
        502,
        'delivery_failed',
        `test alert not delivered: ${failed.map((r) => `${r.channel}: ${r.detail}`).join('; ')}`,
        { results },
      );
    return c.json({ ok: true, results });
  });

  // Rules belong to a tenant (`labels.tenant`, else an equality `match.tenant`, else the default tenant): a token reads
  // its tenant's rules; a tenant's admin writes only its own, and they are scoped to its series.
  const visibleRules = (id: Identity) =>
    alerts()
      .currentRules()
      .map((r) => ({ ...(r as object), tenant: ruleTenant(r) }))
      .filter((r) => id.allTenants || r.tenant === id.tenant);
  app.get('/api/v1/rules', (c) => c.json({ rules: visibleRules(c.get('identity')) }));

  /** The rules file, after checking the caller may write rule `name` (`creating`: PUT may add a new one). */
  const rulesFile = (c: Context<Env>, creating = false) => {
    const id = c.get('identity');
    need(id, 'admin');
    alerts();
    if (!deps.rulesFile)
      throw new ApiError(503, 'unavailable', 'rules are read-only: Vigil was started without a YAML config file');
    const name = c.req.param('name') ?? '';
    if (!id.allTenants) {
      const existing = deps.rulesFile.get(name);
      if (existing && rawRuleTenant(existing) !== id.tenant) {
        if (creating)
          throw new ApiError(409, 'conflict', `the rule name "${name}" is taken by another tenant: choose another`);
        throw new ApiError(404, 'not_found', `no rule named "${name}"`);
      }
      if (!existing && !creating) throw new ApiError(404, 'not_found', `no rule named "${name}"`);
    }
    return deps.rulesFile;
  };
  /** A tenant admin's rule fields, pinned to its tenant (labels.tenant and match.tenant). */
  const scopeRule = (id: Identity, body: Record<string, unknown>, whole: boolean): Record<string, unknown> => {
    if (id.allTenants) return body;
    const out = { ...body };
    for (const key of ['labels', 'match'] as const) {
      if (!whole && !(key in body)) continue;
      const v = body[key] ?? {};
      if (typeof v !== 'object' || Array.isArray(v))
        throw new ApiError(400, 'invalid_rule', `${key}: expected a mapping of label names to values`);
      const t = (v as Record<string, unknown>).tenant;
      if (t !== undefined && t !== id.tenant)
        throw new ApiError(403, 'forbidden', `${key}.tenant: a ${id.tenant} token can only write ${id.tenant} rules`);
      out[key] = { ...(v as Record<string, unknown>), tenant: id.tenant };
    }
    return out;
  };
  const applyRules = (c: Context<Env>, config: VigilConfig) => {
    deps.alerts?.reloadRules?.(config.rules, config.alerting);
    return { rules: visibleRules(c.get('identity')) };
  };
  app.put('/api/v1/rules/:name', async (c) => {
    const file = rulesFile(c, true);
    const body = await bodyJson(c);
    const { name: _ignored, ...fields } = scopeRule(c.get('identity'), body, true);
    const result = applyRules(c, file.upsert({ name: c.req.param('name'), ...fields }));
    audit(c, 'rule.put', c.req.param('name'), body);
    return c.json(result);
  });
  app.patch('/api/v1/rules/:name', async (c) => {
    const file = rulesFile(c);
    const body = await bodyJson(c);
    const result = applyRules(c, file.patch(c.req.param('name'), scopeRule(c.get('identity'), body, false)));
    audit(c, 'rule.patch', c.req.param('name'), body);
    return c.json(result);
  });
  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    app.post(`/api/v1/rules/:name/${verb}`, (c) => {
      const result = applyRules(c, rulesFile(c).setEnabled(c.req.param('name'), enabled));
      audit(c, `rule.${verb}`, c.req.param('name'));
      return c.json(result);
    });
  }
  app.delete('/api/v1/rules/:name', (c) => {
    const result = applyRules(c, rulesFile(c).remove(c.req.param('name')));
    audit(c, 'rule.delete', c.req.param('name'));
    return c.json(result);
  });

  app.get('/api/v1/silences', (c) => {
    const id = c.get('identity');
    const list = alerts()
      .listSilences(deps.clock.now(), c.req.query('all') === 'true')
      .filter((s) => id.allTenants || silenceTenant(s) === id.tenant);
    return c.json({ silences: list });
  });
  app.post('/api/v1/silences', async (c) => {
    const id = c.get('identity');
    need(id, 'operator');
    const body = await bodyJson(c);
    if (!Array.isArray(body.matchers) || body.matchers.length === 0)
      throw new ApiError(400, 'bad_request', 'matchers: give at least one, e.g. ["vm=web-01"]');
    let matchers: LabelMatcher[];
    try {
      matchers = body.matchers.map((m) => (typeof m === 'string' ? parseMatcher(m) : (m as LabelMatcher)));
    } catch (e) {
      throw new ApiError(400, 'bad_request', `matchers: ${(e as Error).message}`);
    }
    if (!id.allTenants) matchers = [...matchers.filter((m) => m.name !== 'tenant'), tenantMatcher(id.tenant)];
    const now = deps.clock.now();
    const endsAt =
      typeof body.endsAt === 'number'
        ? body.endsAt
        : now + duration(typeof body.duration === 'string' ? body.duration : undefined, 3_600_000);
    let s: unknown;
    try {
      s = alerts().addSilence(
        {
          matchers,
          startsAt: typeof body.startsAt === 'number' ? body.startsAt : undefined,
          endsAt,
          createdBy: id.name,
          reason: typeof body.reason === 'string' ? body.reason : '',
        },
        now,
      );
    } catch (e) {
      actionError(e);
    }
    audit(c, 'silence.add', (s as { id: string }).id, { matchers: body.matchers });
    return c.json(s, 201 as 200);
  });
  app.delete('/api/v1/silences/:id', (c) => {
    const id = c.get('identity');
    need(id, 'operator');
    const existing = alerts()
      .listSilences(deps.clock.now(), true)
      .find((s) => s.id === c.req.param('id'));
    if (!existing || !(id.allTenants || silenceTenant(existing) === id.tenant)) {
      throw new ApiError(404, 'not_found', `no silence ${c.req.param('id')}`);
    }
    let s: unknown;
    try {
      s = alerts().expireSilence(existing.id, deps.clock.now());
    } catch (e) {
      actionError(e);
    }
    audit(c, 'silence.expire', existing.id);
    return c.json(s);
  });

  app.get('/api/v1/audit', (c) => {
    const id = c.get('identity');
    need(id, 'admin');
    if (!deps.auth) throw new ApiError(503, 'unavailable', 'the audit log needs the SQLite store');
    return c.json({
      entries: deps.auth.auditLog({ since: num(c, 'since', 0), tenant: id.allTenants ? undefined : id.tenant }),
    });
  });

  // The dashboard: static files, no build step.
  app.get('/', (c) => assets.serve(c, 'index.html'));
  app.get('/vm/:vm', (c) => assets.serve(c, 'vm.html'));
  app.get('/alerts', (c) => assets.serve(c, 'alerts.html'));
  app.get('/rules', (c) => assets.serve(c, 'rules.html'));
  app.get('/silences', (c) => assets.serve(c, 'silences.html'));
  app.get('/assets/:file', (c) => assets.serve(c, c.req.param('file')));

  return {
    app,
    /** Starts listening. A non-loopback host needs at least one active token, else this throws ServerStartError. */
    listen(host: string, port: number): Promise<{ url: string; port: number; close(): Promise<void> }> {
      if (!isLoopback(host)) {
        if (!deps.auth?.hasActiveTokens()) {
          return Promise.reject(
            new ServerStartError(
              `refusing to listen on ${host}: access control is off because no API token exists; create one with \`vigil token create --role admin\` or bind to 127.0.0.1`,
            ),
          );
        }
        enforce = true;
      }
      return new Promise((resolve, reject) => {
        const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
          const url = `http://${host.includes(':') ? `[${host}]` : host}:${info.port}`;
          resolve({
            url,
            port: info.port,
            close: () =>
              new Promise<void>((r) => {
                (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
                server.close(() => r());
              }),
          });
        });
        server.once('error', (e: NodeJS.ErrnoException) =>
          reject(
            new ServerStartError(
              e.code === 'EADDRINUSE'
                ? `port ${port} on ${host} is already in use`
                : `cannot listen on ${host}:${port}: ${e.message}`,
            ),
          ),
        );
      });
    },
  };
}

export type VigilServer = ReturnType<typeof createServer>;
