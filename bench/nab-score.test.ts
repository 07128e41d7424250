import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NAB_PROFILES, nabScoreFile, scaledSigmoid } from './nab-score.ts';

const rows = Array.from({ length: 1000 }, (_, i) => i); // timestamps = row index; probation = 150 rows
const win: [number, number][] = [[400, 499]]; // width 100
const det = (...at: number[]) => rows.map((i) => at.includes(i));
const std = NAB_PROFILES.standard;

test('NAB: first row of a window scores A_TP; no detection scores -A_FN; later detections in the window ignored', () => {
  assert.ok(Math.abs(nabScoreFile(rows, win, det(400, 410), std).score - 1) < 1e-12);
  assert.equal(nabScoreFile(rows, win, det(), std).score, -1);
  const mid = nabScoreFile(rows, win, det(450), std);
  assert.ok(Math.abs(mid.score - scaledSigmoid(-50 / 100) / scaledSigmoid(-1)) < 1e-12);
  assert.ok(mid.score > 0 && mid.score < 1);
});

test('NAB: false positives before any window or > 3 widths after cost A_FP; probation ignored', () => {
  const r = nabScoreFile(rows, win, det(100, 200, 400, 850), std);
  // 100 is in probation; 200 precedes the window (-0.11); 850 is 3.51 widths after it (-0.11).
  assert.equal(r.fp, 2);
  assert.ok(Math.abs(r.score - (1 - 0.22)) < 1e-12);
  const near = nabScoreFile(rows, win, det(400, 510), std);
  assert.ok(Math.abs(near.score - (1 + 0.11 * scaledSigmoid(11 / 100))) < 1e-12);
  assert.ok(near.score < 1 && near.score > 1 - 0.11);
});
