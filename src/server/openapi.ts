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
      '/health': { get: { summary: 'Liveness', responses: { 200: ok('ok') } } },
      '/status': {
        get: { summary: 'Sources, last cycle, store size, alert counts, version', responses: { 200: ok('status') } },
      },
      '/metrics': {
        get: { summary: "Vigil's own metrics (Prometheus text)", responses: { 200: { description: 'text/plain' } } },
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
          parameters: [{ name: 'vm', in: 'path', required: true, schema: { type: 'string' } }],
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
          responses: { 200: ok('{accepted, outcomes}'), 400: err, 403: err, 413: err, 415: err },
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
      '/api/v1/alerts/{id}': { get: { summary: 'One active alert', responses: { 200: ok('alert'), 404: err } } },
      '/api/v1/alerts/{id}/ack': {
        post: {
          summary: 'Acknowledge (operator); body {notes}',
          responses: { 200: ok('alert'), 403: err, 404: err, 409: err },
        },
      },
      '/api/v1/alerts/{id}/resolve': {
        post: {
          summary: 'Resolve by hand (operator); body {notes}',
          responses: { 200: ok('alert'), 403: err, 404: err, 409: err },
        },
      },
      '/api/v1/alerts/{id}/suppress': {
        post: {
          summary: 'Silence this alert (operator); body {notes, duration}',
          responses: { 200: ok('silence'), 403: err, 404: err },
        },
      },
      '/api/v1/rules': { get: { summary: 'Alert rules in effect', responses: { 200: ok('{rules}'), 503: err } } },
      '/api/v1/rules/{name}': {
        put: {
          summary:
            'Add or replace a rule in the YAML config (admin of the default tenant); body: rule fields as in the config',
          responses: { 200: ok('{rules}'), 400: err, 403: err, 503: err },
        },
        delete: { summary: 'Remove a rule from the config file', responses: { 200: ok('{rules}'), 404: err } },
      },
      '/api/v1/rules/{name}/enable': {
        post: { summary: 'Enable a rule', responses: { 200: ok('{rules}'), 404: err } },
      },
      '/api/v1/rules/{name}/disable': {
        post: { summary: 'Disable a rule', responses: { 200: ok('{rules}'), 404: err } },
      },
      '/api/v1/test-alert': {
        post: {
          summary: 'Send a test notification (operator); body {channel?}',
          responses: { 200: ok('{result}'), 503: err },
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
        get: { summary: 'Silences (all=true includes ended)', responses: { 200: ok('{silences}') } },
        post: {
          summary: 'Add a silence (operator); body {matchers:["vm=web-01"], duration:"2h", reason}',
          responses: { 201: ok('silence'), 400: err, 403: err },
        },
      },
      '/api/v1/silences/{id}': {
        delete: { summary: 'Expire a silence (operator)', responses: { 200: ok('silence'), 404: err } },
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
