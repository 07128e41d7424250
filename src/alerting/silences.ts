import type { AlertingConfig } from '../config/sections/rules.ts';
import type { Labels, Silence } from '../model/index.ts';
import { compileMatchers } from '../model/index.ts';
import { matchersFromMapping } from './rule.ts';
import { type CronSchedule, openOccurrence, parseSchedule } from './schedule.ts';

/** A recurring maintenance window, compiled. */
export interface MaintenanceWindow {
  readonly name: string;
  readonly schedule: CronSchedule;
  readonly durationMs: number;
  readonly reason: string;
  readonly matches: (labels: Labels) => boolean;
}

/** Something that mutes notifications right now: a silence or an open maintenance window. */
export interface Mute {
  readonly id: string;
  readonly matches: (labels: Labels) => boolean;
}

export function silenceActive(s: Silence, now: number): boolean {
  return s.startsAt <= now && now < s.endsAt && (s.expiredAt === null || s.expiredAt > now);
}

export function compileMaintenanceWindows(c: Pick<AlertingConfig, 'maintenance_windows'>): MaintenanceWindow[] {
  return c.maintenance_windows.map((w) => ({
    name: w.name,
    schedule: parseSchedule(w.schedule),
    durationMs: w.duration,
    reason: w.reason,
    matches: compileMatchers(matchersFromMapping(w.match)),
  }));
}

/** Silences declared in the config file, as Silence values (ids `config-<n>`). */
export function configSilences(c: Pick<AlertingConfig, 'silences'>, now: number): Silence[] {
  return c.silences.map((s, i) => ({
    id: `config-${i + 1}`,
    matchers: matchersFromMapping(s.match),
    startsAt: s.starts ? Date.parse(s.starts) : now - 1,
    endsAt: Date.parse(s.ends),
    createdBy: s.created_by,
    reason: s.reason,
    createdAt: s.starts ? Date.parse(s.starts) : 0,
    expiredAt: null,
  }));
}

/** The mutes in force at `now`: active silences and open maintenance windows. */
export function activeMutes(silences: readonly Silence[], windows: readonly MaintenanceWindow[], now: number): Mute[] {
  const out: Mute[] = [];
  for (const s of silences) {
    if (silenceActive(s, now)) out.push({ id: `silence:${s.id}`, matches: compileMatchers(s.matchers) });
  }
  for (const w of windows) {
    if (openOccurrence(w.schedule, w.durationMs, now) !== null)
      out.push({ id: `maintenance:${w.name}`, matches: w.matches });
  }
  return out;
}

/** Ids of the mutes that silence an alert with these labels. */
export function mutedBy(mutes: readonly Mute[], labels: Labels): string[] {
  const out: string[] = [];
  for (const m of mutes) if (m.matches(labels)) out.push(m.id);
  return out;
}
