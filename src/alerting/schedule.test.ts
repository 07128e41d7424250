import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openOccurrence, parseSchedule, ScheduleError, scheduleMatches } from './schedule.ts';

const at = (iso: string) => Date.parse(iso);

test('cron subset: fields, lists, ranges, steps, day-of-week 7 = Sunday, UTC', () => {
  const s = parseSchedule('*/15 2-4 * * 6,7');
  assert.equal(scheduleMatches(s, at('2026-01-10T02:30:00Z')), true); // Saturday
  assert.equal(scheduleMatches(s, at('2026-01-11T04:45:00Z')), true); // Sunday
  assert.equal(scheduleMatches(s, at('2026-01-10T02:31:00Z')), false);
  assert.equal(scheduleMatches(s, at('2026-01-12T02:30:00Z')), false); // Monday
  // Both day fields restricted: either matches (as cron does).
  const either = parseSchedule('0 0 1 * 1');
  assert.equal(scheduleMatches(either, at('2026-01-01T00:00:00Z')), true); // the 1st (a Thursday)
  assert.equal(scheduleMatches(either, at('2026-01-05T00:00:00Z')), true); // a Monday
  assert.equal(scheduleMatches(either, at('2026-01-06T00:00:00Z')), false);
});

test('a window is open from a matching minute for its duration', () => {
  const s = parseSchedule('0 2 * * 6');
  const h = 3_600_000;
  assert.equal(openOccurrence(s, 2 * h, at('2026-01-10T03:59:00Z')), at('2026-01-10T02:00:00Z'));
  assert.equal(openOccurrence(s, 2 * h, at('2026-01-10T04:00:00Z')), null);
  assert.equal(openOccurrence(s, 2 * h, at('2026-01-10T01:59:59Z')), null);
});

test('bad schedules are rejected with the field named', () => {
  assert.throws(() => parseSchedule('0 2 * *'), /5 fields/);
  assert.throws(
    () => parseSchedule('61 2 * * *'),
    (e: unknown) => e instanceof ScheduleError && /minute "61" out of range 0-59/.test(e.message),
  );
  assert.throws(() => parseSchedule('0 2 * * mon'), /invalid day-of-week field "mon"/);
});
