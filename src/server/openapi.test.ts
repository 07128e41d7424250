import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../clock.ts';
import { openApiDocument } from './openapi.ts';
import { testServer } from './testing/harness.ts';

type Operation = {
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, unknown> };
};

test('every API route is in the OpenAPI document, with its path parameters and (for writes with a body) its body', () => {
  const doc = openApiDocument();
  const paths = doc.paths as Record<string, Record<string, Operation>>;
  const { server } = testServer({ clock: new FakeClock(0), withAlerts: true });
  const routes = server.app.routes.filter(
    (r) => r.method !== 'ALL' && (r.path.startsWith('/api/') || ['/health', '/status', '/metrics'].includes(r.path)),
  );
  assert.ok(routes.length > 30, String(routes.length));
  for (const r of routes) {
    const templated = r.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const op = paths[templated]?.[r.method.toLowerCase()];
    assert.ok(op, `${r.method} ${templated} is documented`);
    const names = [...templated.matchAll(/\{([A-Za-z_]+)\}/g)].map((m) => m[1]);
    for (const name of names) {
      assert.ok(
        op.parameters?.some((p) => p.in === 'path' && p.name === name && p.required === true),
        `${r.method} ${templated} declares path parameter ${name}`,
      );
    }
  }
  for (const [p, ops] of Object.entries(paths))
    for (const [method, op] of Object.entries(ops)) {
      const declared = (op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name);
      const inPath = [...p.matchAll(/\{([A-Za-z_]+)\}/g)].map((m) => m[1]);
      assert.deepEqual(declared.sort(), inPath.sort(), `${method} ${p}: path parameters match the template`);
    }
  for (const [p, method] of [
    ['/api/v1/ingest', 'post'],
    ['/api/v1/alerts/{id}/ack', 'post'],
    ['/api/v1/alerts/{id}/resolve', 'post'],
    ['/api/v1/alerts/{id}/suppress', 'post'],
    ['/api/v1/rules/{name}', 'put'],
    ['/api/v1/rules/{name}', 'patch'],
    ['/api/v1/silences', 'post'],
    ['/api/v1/test-alert', 'post'],
  ] as const) {
    assert.ok(paths[p]![method]!.requestBody?.content['application/json'], `${method} ${p} has a JSON body schema`);
  }
  assert.ok(paths['/api/v1/ingest']!.post!.requestBody!.content['text/plain'], 'ingest takes Prometheus text');
});
