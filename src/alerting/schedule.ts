/**
 * A small cron subset for recurring maintenance windows, evaluated in UTC:
 * five fields `minute hour day-of-month month day-of-week`, each `*`, a number, a list `1,15`, a range `1-5`,
 * or a step `*\/15` / `0-30/10`. Day-of-week 0-7 (0 and 7 are Sunday). As in cron, when both day fields are
 * restricted a day matches if either does.
 */
export interface CronSchedule {
  readonly text: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly doms: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly dows: ReadonlySet<number>;
  readonly domAny: boolean;
  readonly dowAny: boolean;
}

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleError';
  }
}

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day-of-week', min: 0, max: 7 },
] as const;

function parseField(text: string, f: (typeof FIELDS)[number], schedule: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new ScheduleError(`invalid ${f.name} field "${part}" in schedule "${schedule}"`);
    let lo: number = f.min;
    let hi: number = f.max;
    if (m[1] !== '*') {
      lo = Number(m[2]);
      hi = m[3] !== undefined ? Number(m[3]) : m[4] !== undefined ? f.max : lo;
    }
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (lo < f.min || hi > f.max || lo > hi || step < 1) {
      throw new ScheduleError(`${f.name} "${part}" out of range ${f.min}-${f.max} in schedule "${schedule}"`);
    }
    for (let v = lo; v <= hi; v += step) out.add(f.name === 'day-of-week' && v === 7 ? 0 : v);
  }
  return out;
}

export function parseSchedule(text: string): CronSchedule {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 5) {
    throw new ScheduleError(`schedule "${text}" must have 5 fields: minute hour day-of-month month day-of-week`);
  }
  const [mi, h, dom, mo, dow] = parts.map((p, i) => parseField(p, FIELDS[i]!, text));
  return {
    text,
    minutes: mi!,
    hours: h!,
    doms: dom!,
    months: mo!,
    dows: dow!,
    domAny: parts[2] === '*',
    dowAny: parts[4] === '*',
  };
}

export function scheduleMatches(s: CronSchedule, t: number): boolean {
  const d = new Date(t);
  if (!s.minutes.has(d.getUTCMinutes()) || !s.hours.has(d.getUTCHours()) || !s.months.has(d.getUTCMonth() + 1)) {
    return false;
  }
  const domOk = s.doms.has(d.getUTCDate());
  const dowOk = s.dows.has(d.getUTCDay());
  if (s.domAny && s.dowAny) return true;
  if (s.domAny) return dowOk;
  if (s.dowAny) return domOk;
  return domOk || dowOk;
}

/** Start of the occurrence that covers `now` (a window of `durationMs` opened at a matching minute), or null. */
export function openOccurrence(s: CronSchedule, durationMs: number, now: number): number | null {
  const minute = 60_000;
  for (let t = now - (now % minute); t > now - durationMs; t -= minute) {
    if (scheduleMatches(s, t)) return t;
  }
  return null;
}
