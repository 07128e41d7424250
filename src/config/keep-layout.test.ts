import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDocument } from 'yaml';
import { keepLayout } from './keep-layout.ts';

const ORIGINAL = `# Vigil config
storage:
  path: ~/.vigil/metrics.db     # SQLite file, aligned comment
  retention: { raw: 7d, hourly: '30d' }

rules:
  - name: high_cpu        # busy hosts
    metric: cpu_percent
    threshold: 80
    for: 5m

  - name: disk_space
    metric: disk_percent
    threshold: 90   # full
    enabled: true
`;

test('keepLayout: lines an edit did not touch stay byte-identical; changed and added lines are rendered', () => {
  const doc = parseDocument(ORIGINAL);
  doc.setIn(['rules', 1, 'enabled'], false);
  doc.addIn(['rules'], doc.createNode({ name: 'mem', metric: 'memory_percent', threshold: 85 }));
  assert.notEqual(doc.toString().split('\n')[2], ORIGINAL.split('\n')[2], 'the library alone re-renders line 3');
  const text = keepLayout(ORIGINAL, doc.toString());
  const before = ORIGINAL.split('\n');
  const after = text.split('\n');
  for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]) assert.equal(after[i], before[i], `line ${i + 1}`);
  assert.equal(after[14], '    enabled: false');
  assert.deepEqual(after.slice(15, 18), ['  - name: mem', '    metric: memory_percent', '    threshold: 85']);
  assert.deepEqual(parseDocument(text).toJS(), doc.toJS(), 'the result means what the edited document means');
});

test('keepLayout: removing a rule removes its lines only', () => {
  const doc = parseDocument(ORIGINAL);
  doc.deleteIn(['rules', 0]);
  const text = keepLayout(ORIGINAL, doc.toString());
  assert.ok(text.includes('  path: ~/.vigil/metrics.db     # SQLite file, aligned comment'));
  assert.ok(text.includes('    threshold: 90   # full'));
  assert.ok(!text.includes('high_cpu'));
  assert.deepEqual(parseDocument(text).toJS(), doc.toJS());
});
