import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_FLEET_PATTERN_CONFIG } from '../../analyze/patterns/fleet-patterns.ts';
import { ConfigError, parseConfigText } from '../index.ts';

const parse = (text: string) => parseConfigText(text, 'vigil.yaml', { env: {}, home: '/h' });
function errorOf(text: string): string {
  try {
    parse(text);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail('expected a ConfigError');
}

test('analytics.patterns defaults are the detectors defaults', () => {
  assert.deepEqual(parse('').analytics.patterns, DEFAULT_FLEET_PATTERN_CONFIG);
});

test('analytics.patterns: snake_case YAML, durations, switches', () => {
  const cfg = parse(
    [
      'analytics:',
      '  patterns:',
      '    cascading_failures:',
      '      window: 10m',
      '      min_vms: 4',
      '    network_partition:',
      '      enabled: false',
      '      group_labels: [region]',
      '    heartbeat_degradation:',
      '      min_increase: 2s',
      '      min_ratio: 2',
      '    disk_io_contention:',
      '      lookback: 2h',
      '      io_factor: 5',
      '',
    ].join('\n'),
  ).analytics.patterns;
  assert.deepEqual(cfg.cascading, { ...DEFAULT_FLEET_PATTERN_CONFIG.cascading, windowMs: 600_000, minVms: 4 });
  assert.equal(cfg.networkPartition.enabled, false);
  assert.deepEqual(cfg.networkPartition.groupLabels, ['region']);
  assert.equal(cfg.heartbeat.minIncreaseMs, 2000);
  assert.equal(cfg.heartbeat.minRatio, 2);
  assert.equal(cfg.diskContention.lookbackMs, 7_200_000);
  assert.equal(cfg.diskContention.ioFactor, 5);
  assert.deepEqual(cfg.loadImbalance, DEFAULT_FLEET_PATTERN_CONFIG.loadImbalance);
});

test('analytics.patterns errors are located: file:line:col path: message', () => {
  assert.match(
    errorOf('analytics:\n  patterns:\n    heartbeat_degradation:\n      min_ratio: 0.5\n'),
    /^vigil\.yaml:4:18 analytics\.patterns\.heartbeat_degradation\.min_ratio: /m,
  );
  assert.match(
    errorOf('analytics:\n  patterns:\n    cascading_failures:\n      window: soon\n'),
    /^vigil\.yaml:4:15 analytics\.patterns\.cascading_failures\.window: expected a duration/m,
  );
  assert.match(
    errorOf('analytics:\n  patterns:\n    load_imbalanse:\n      window: 5m\n'),
    /^vigil\.yaml:\d+:\d+ analytics\.patterns.*load_imbalanse/m,
  );
  assert.match(
    errorOf('analytics:\n  patterns:\n    disk_io_contention:\n      window: 1h\n      lookback: 30m\n'),
    /analytics\.patterns\.disk_io_contention\.lookback: must be longer than window/,
  );
  assert.match(
    errorOf('analytics:\n  patterns:\n    network_partition:\n      min_share: 1.5\n'),
    /^vigil\.yaml:4:18 analytics\.patterns\.network_partition\.min_share: /m,
  );
});
