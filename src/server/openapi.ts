/** The OpenAPI 3.1 description of /api/v1 served at /api/v1/openapi.json. */
export function openApiDocument() {
  const err = { $ref: '#/components/responses/Error' };
  const q = (name: string, description: string, required = false) => ({
    name,
    in: 'query',
    required,
    description,
    schema: { type: 'string' },
  });
  const ok = (description: string) => ({ description, content: { 'application/json': {} } });
  const path = (name: string, description: string) => ({
    name,
    in: 'path',
    required: true,
    description,
    schema: { type: 'string' },
  });
  const alertId = [path('id', 'alert id or fingerprint')];
  const ruleName = [path('name', 'rule name')];
  const body = (schema: Record<string, unknown>, required = false) => ({
    required,
    content: { 'application/json': { schema } },
  });
  const notesBody = body({
    type: 'object',
    additionalProperties: false,
    properties: { notes: { type: ['string', 'null'] } },
  });
  const labels = { type: 'object', additionalProperties: { type: 'string' } };
  const pct = { type: ['number', 'null'], minimum: 0, maximum: 100 };
  const bytes = { type: ['number', 'null'], minimum: 0 };
  const timestamp = {
    oneOf: [
      { type: 'number', description: 'epoch ms' },
      { type: 'string', format: 'date-time' },
    ],
  };
  const snapshot = {
    type: 'object',
    description: "A VM snapshot (the seed's VMMetric); unknown fields are refused",
    additionalProperties: false,
    required: ['vm_name'],
    properties: {
      vm_name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
      timestamp,
      cpu_percent: pct,
      memory_percent: pct,
      disk_percent: pct,
      disk_read_bytes: bytes,
      disk_write_bytes: bytes,
      network_in_bytes: bytes,
      network_out_bytes: bytes,
      success: { type: 'boolean' },
      error_message: { type: ['string', 'null'] },
      resource_group: { type: 'string' },
      labels,
    },
  };
  const sample = {
    type: 'object',
    description: 'One sample; standard metric names keep the snapshot bounds; unknown fields are refused',
    additionalProperties: false,
    required: ['metric', 'value'],
    properties: {
      metric: { type: 'string', pattern: '^[A-Za-z_:][A-Za-z0-9_:]*$' },
      labels,
      value: { type: 'number' },
      timestamp,
    },
  };
  const ruleFields = {
    type: 'object',
    description:
      'Rule fields as in the config file (metric, comparison, threshold, for, severity, enabled, match, notification_channels, labels, annotations, …)',
    properties: {
      type: { enum: ['threshold', 'no_data', 'anomaly', 'pattern'] },
      metric: { type: 'string' },
      comparison: { enum: ['>', '>=', '<', '<=', '==', '!='] },
      threshold: { type: 'number' },
      for: { type: 'string', examples: ['5m'] },
      severity: { enum: ['info', 'warning', 'critical', 'emergency', 'auto'] },
      enabled: { type: 'boolean' },
      match: labels,
      notification_channels: { type: 'array', items: { type: 'string' } },
      labels,
      annotations: labels,
    },
  };
  const range = [
    q('from', 'epoch ms or ISO-8601'),
    q('to', 'epoch ms or ISO-8601 (default now)'),
    q('range', 'e.g. 1h, 24h, 7d (default 1h)'),
  ];
  return {
    openapi: '3.1.0',
    info: { title: 'Vigil API', version: '1' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      responses: {
        Error: {
          description: 'JSON error',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  error: {
                    type: 'object',
                    properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
                  },
                },
              },
            },
          },
        },
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/health': { get: { summary: 'Liveness (never needs a token)', security: [], responses: { 200: ok('ok') } } },
      '/api/v1/health': { get: { summary: 'Liveness (alias of /health)', security: [], responses: { 200: ok('ok') } } },
      '/status': {
        get: {
          summary: 'Sources, last cycle, store size, alert counts, version (a token once tokens exist)',
          responses: { 200: ok('status'), 401: err },
        },
      },
      '/api/v1/status': { get: { summary: 'Alias of /status', responses: { 200: ok('status'), 401: err } } },
      '/metrics': {
        get: {
          summary: "Vigil's own metrics (Prometheus text; open, for scrapers)",
          security: [],
          responses: { 200: { description: 'text/plain' } },
        },
      },
      '/api/v1/metrics': {
        get: { summary: 'Alias of /metrics', security: [], responses: { 200: { description: 'text/plain' } } },
      },
      '/api/v1/openapi.json': {
        get: { summary: 'This document', responses: { 200: ok('OpenAPI 3.1') } },
      },
      '/api/v1/whoami': {
        get: { summary: 'The caller: role and tenant', responses: { 200: ok('identity'), 401: err } },
      },
      '/api/v1/vms': {
        get: {
          summary: 'VMs with latest snapshot and last outcome',
          parameters: [q('resource_group', 'filter'), q('source', 'filter')],
          responses: { 200: ok('{vms}'), 401: err },
        },
      },
      '/api/v1/vms/{vm}': {
        get: {
          summary: 'One VM',
          parameters: [path('vm', 'VM name')],
          responses: { 200: ok('row'), 404: err },
        },
      },
      '/api/v1/sparklines': {
        get: {
          summary: 'Last hour per VM, 1-minute buckets',
          parameters: [q('metric', 'default cpu_percent')],
          responses: { 200: ok('{series}') },
        },
      },
      '/api/v1/series': {
        get: {
          summary: 'Query series',
          parameters: [
            q('metric', 'metric name'),
            q('match', 'label matcher name=value, repeatable'),
            q('vm', 'shorthand for match=vm=...'),
            ...range,
            q('resolution', 'raw|hourly|daily|auto'),
            q('aggregation', 'avg|min|max|sum|count|last|p50|p90|p95|p99'),
            q('step', 'bucket width e.g. 5m'),
            q('group_by', 'comma-separated label names'),
          ],
          responses: { 200: ok('{from,to,results}'), 400: err },
        },
      },
      '/api/v1/export.csv': {
        get: {
          summary: 'CSV export (timestamp,vm_name,<metrics>,success,error_message)',
          parameters: [q('vm', 'VM name', true), ...range],
          responses: { 200: { description: 'text/csv' }, 400: err },
        },
      },
      '/api/v1/ingest': {
        post: {
          summary:
            'Push metrics: JSON VM snapshots or samples (one or an array), or Prometheus text (text/plain; labels vm, resource_group, source from the query string). All or nothing. Role operator.',
          parameters: [
            q('vm', 'Prometheus text: label added to every sample'),
            q('resource_group', 'Prometheus text: label added to every sample'),
            q('source', 'Prometheus text: label added to every sample'),
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  oneOf: [snapshot, sample, { type: 'array', minItems: 1, items: { oneOf: [snapshot, sample] } }],
                },
              },
              'text/plain': { schema: { type: 'string', description: 'Prometheus text exposition format' } },
              'application/openmetrics-text': { schema: { type: 'string' } },
            },
          },
          responses: {
            200: ok('{accepted, outcomes, dropped} (dropped: NaN/Inf Prometheus values)'),
            400: err,
            403: err,
            413: err,
            415: err,
          },
        },
      },
      '/api/v1/events': {
        get: {
          summary:
            'Server-sent events: `vms` (per-VM updates), `alert` (transitions). EventSource may pass access_token=.',
          responses: { 200: { description: 'text/event-stream' } },
        },
      },
      '/api/v1/alerts': {
        get: {
          summary: 'Active alerts',
          parameters: [q('status', 'pending|firing|acknowledged|suppressed'), q('severity', 'filter')],
          responses: { 200: ok('{alerts}'), 503: err },
        },
      },
      '/api/v1/alerts/{id}': {
        get: {
          summary: 'One alert (active or stored) with its transition history',
          parameters: alertId,
          responses: { 200: ok('alert with history'), 404: err },
        },
      },
      '/api/v1/alerts/{id}/ack': {
        post: {
          summary: 'Acknowledge (operator); body {notes}',
          parameters: alertId,
          requestBody: notesBody,
          responses: { 200: ok('alert'), 403: err, 404: err, 409: err },
        },
      },
      '/api/v1/alerts/{id}/resolve': {
        post: {
          summary: 'Resolve by hand (operator); body {notes}',
          parameters: alertId,
          requestBody: notesBody,
          responses: { 200: ok('alert'), 403: err, 404: err, 409: err },
        },
      },
      '/api/v1/alerts/{id}/suppress': {
        post: {
          summary: 'Silence this alert (operator); body {notes, duration}',
          parameters: alertId,
          requestBody: body({
            type: 'object',
            properties: { notes: { type: ['string', 'null'] }, duration: { type: 'string', examples: ['24h'] } },
          }),
          responses: { 200: ok('silence'), 403: err, 404: err },
        },
      },
      '/api/v1/rules': {
        get: { summary: "Alert rules in effect (the token's tenant's)", responses: { 200: ok('{rules}'), 503: err } },
      },
      '/api/v1/rules/{name}': {
        put: {
          summary: "Add or replace a rule in the YAML config (admin; a tenant's admin writes its own tenant's rules)",
          parameters: ruleName,
          requestBody: body(ruleFields, true),
          responses: { 200: ok('{rules}'), 400: err, 403: err, 409: err, 503: err },
        },
        patch: {
          summary: 'Change some fields of a rule (admin); null removes a field',
          parameters: ruleName,
          requestBody: body(ruleFields, true),
          responses: { 200: ok('{rules}'), 400: err, 403: err, 404: err, 503: err },
        },
        delete: {
          summary: 'Remove a rule from the config file (admin)',
          parameters: ruleName,
          responses: { 200: ok('{rules}'), 403: err, 404: err },
        },
      },
      '/api/v1/rules/{name}/enable': {
        post: { summary: 'Enable a rule (admin)', parameters: ruleName, responses: { 200: ok('{rules}'), 404: err } },
      },
      '/api/v1/rules/{name}/disable': {
        post: { summary: 'Disable a rule (admin)', parameters: ruleName, responses: { 200: ok('{rules}'), 404: err } },
      },
      '/api/v1/test-alert': {
        post: {
          summary: 'Send a [TEST] notification through one or every configured channel (operator)',
          requestBody: body({
            type: 'object',
            additionalProperties: false,
            properties: { channel: { type: 'string', description: 'default: every configured channel' } },
          }),
          responses: {
            200: ok('{ok, results: [{channel, ok, retryable, detail}]}'),
            403: err,
            404: err,
            409: err,
            502: err,
            503: err,
          },
        },
      },
      '/api/v1/alerts/history': {
        get: {
          summary: 'Resolved alerts',
          parameters: [q('since', 'epoch ms')],
          responses: { 200: ok('{alerts}'), 503: err },
        },
      },
      '/api/v1/silences': {
        get: {
          summary: 'Silences (all=true includes ended)',
          parameters: [q('all', 'true to include ended silences')],
          responses: { 200: ok('{silences}') },
        },
        post: {
          summary: 'Add a silence (operator); body {matchers:["vm=web-01"], duration:"2h", reason}',
          requestBody: body(
            {
              type: 'object',
              required: ['matchers'],
              properties: {
                matchers: { type: 'array', minItems: 1, items: { type: 'string', examples: ['vm=web-01'] } },
                duration: { type: 'string', examples: ['2h'] },
                startsAt: { type: 'number', description: 'epoch ms' },
                endsAt: { type: 'number', description: 'epoch ms (instead of duration)' },
                reason: { type: 'string' },
              },
            },
            true,
          ),
          responses: { 201: ok('silence'), 400: err, 403: err, 413: err },
        },
      },
      '/api/v1/silences/{id}': {
        delete: {
          summary: 'Expire a silence (operator)',
          parameters: [path('id', 'silence id')],
          responses: { 200: ok('silence'), 404: err },
        },
      },
      '/api/v1/forecasts': {
        get: {
          summary: 'Capacity forecasts, at-risk first',
          parameters: [
            q('vm', 'VM name'),
            q('metric', 'default cpu, memory and disk percent'),
            q('days', 'horizon, default 7'),
            q('at_risk_only', 'true to filter'),
          ],
          responses: { 200: ok('{forecasts}') },
        },
      },
      '/api/v1/anomalies': {
        get: {
          summary: 'Anomalies over the last days with per-VM rates',
          parameters: [q('vm', 'VM name'), q('days', 'default 1')],
          responses: { 200: ok('{from,to,anomalies,vms}') },
        },
      },
      '/api/v1/patterns': {
        get: {
          summary: 'Fleet failure patterns (default-tenant admin)',
          responses: { 200: ok('{patterns}'), 403: err },
        },
      },
      '/api/v1/audit': {
        get: {
          summary: 'Audit log of writes (admin)',
          parameters: [q('since', 'epoch ms')],
          responses: { 200: ok('{entries}'), 403: err },
        },
      },
    },
  };
}
