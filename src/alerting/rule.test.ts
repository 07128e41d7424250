import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ruleSchema } from '../config/sections/rules.ts';
import { DEFAULT_RULES } from './default-rules.ts';
import { compileRule, DuplicateRuleError, effectiveRules, matchersFromMapping, recovered } from './rule.ts';

const cpu = ruleSchema.parse({ name: 'high_cpu', metric: 'cpu_percent', threshold: 80 });

test('effective rules: defaults when none configured, vm_unreachable on unless disabled or replaced', () => {
  assert.deepEqual(
    effectiveRules([], { vm_unreachable: true }, DEFAULT_RULES).map((r) => r.name),
    ['high_cpu', 'critical_cpu', 'high_memory', 'critical_memory', 'disk_space', 'vm_unreachable'],
  );
  assert.deepEqual(
    effectiveRules([], { vm_unreachable: false }, DEFAULT_RULES).map((r) => r.name),
    ['high_cpu', 'critical_cpu', 'high_memory', 'critical_memory', 'disk_space'],
  );
  assert.deepEqual(
    effectiveRules([cpu], { vm_unreachable: true }, DEFAULT_RULES).map((r) => [r.name, r.forMs]),
    [
      ['high_cpu', 0],
      ['vm_unreachable', 300_000],
    ],
  );
  const own = ruleSchema.parse({ name: 'down', type: 'no_data', for: '10m' });
  assert.deepEqual(
    effectiveRules([cpu, own], { vm_unreachable: true }, DEFAULT_RULES).map((r) => r.name),
    ['high_cpu', 'down'],
  );
  assert.throws(() => effectiveRules([cpu, cpu], { vm_unreachable: true }, DEFAULT_RULES), DuplicateRuleError);
});

test('match mappings: plain values are equality, prefixes select the operator', () => {
  assert.deepEqual(matchersFromMapping({ vm: 'web-01', rg: '=~prod-.*', env: '!=dev', zone: '!~eu-.*' }), [
    { name: 'vm', op: '=', value: 'web-01' },
    { name: 'rg', op: '=~', value: 'prod-.*' },
    { name: 'env', op: '!=', value: 'dev' },
    { name: 'zone', op: '!~', value: 'eu-.*' },
  ]);
  const r = compileRule(ruleSchema.parse({ name: 'x', metric: 'm', threshold: 1, match: { vm: '=~web-.*' } }));
  assert.equal(r.matches({ vm: 'web-07' }), true);
  assert.equal(r.matches({ vm: 'db-01' }), false);
});

test('recovered: strictly past the recovery threshold, else the plain condition', () => {
  const h = compileRule(ruleSchema.parse({ name: 'x', metric: 'cpu_percent', threshold: 80, recovery_threshold: 70 }));
  assert.equal(recovered(70, h), false);
  assert.equal(recovered(69.9, h), true);
  const plain = compileRule(cpu);
  assert.equal(recovered(80, plain), true);
  assert.equal(recovered(80.1, plain), false);
});
