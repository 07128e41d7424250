import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../config/index.ts';
import { buildSources } from './build-sources.ts';

test('the default config builds the host and demo sources', () => {
  const sources = buildSources(configSchema.parse({}));
  assert.deepEqual(
    sources.map((s) => [s.type, s.name]),
    [
      ['host', 'host'],
      ['demo', 'demo'],
    ],
  );
});

test('disabled sources are skipped, names and order are kept, prometheus and ssh are built', () => {
  const config = configSchema.parse({
    sources: [
      { type: 'demo', name: 'demo-a', vms: 3 },
      { type: 'host', enabled: false },
      { type: 'ssh', hosts: [{ host: '127.0.0.1' }], agent: '/tmp/vigil-test-agent.sock', user: 'u' },
      { type: 'demo', name: 'demo-b' },
      { type: 'prometheus', targets: ['127.0.0.1:9100'] },
    ],
  });
  assert.deepEqual(
    buildSources(config).map((s) => [s.type, s.name]),
    [
      ['demo', 'demo-a'],
      ['ssh', 'ssh'],
      ['demo', 'demo-b'],
      ['prometheus', 'prometheus'],
    ],
  );
});

test('two sources with the same name are refused with a clear message', () => {
  const config = configSchema.parse({ sources: [{ type: 'demo' }, { type: 'demo' }] });
  assert.throws(() => buildSources(config), /two sources are named "demo"/);
});

test('ssh from: azure without an azure source is refused', () => {
  const config = configSchema.parse({ sources: [{ type: 'ssh', from: 'azure' }] });
  assert.throws(() => buildSources(config), /from: azure needs an azure source/);
});
