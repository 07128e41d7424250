/**
 * What `vigil up` logs about its sources: a source-level error once when it appears or changes (not every cycle
 * while it stands), one line when it clears, and every one-time notice.
 */
import type { CycleResult } from './scheduler.ts';

export interface SourceLogLine {
  readonly level: 'warn' | 'info';
  readonly message: string;
}

export class SourceProblemLog {
  private readonly standing = new Map<string, string>();

  lines(result: Pick<CycleResult, 'sourceErrors' | 'notices'>): SourceLogLine[] {
    const out: SourceLogLine[] = [];
    const now = new Map<string, string>();
    for (const e of result.sourceErrors) if (!now.has(e.source)) now.set(e.source, e.message);
    for (const [source, message] of now) {
      if (this.standing.get(source) !== message) out.push({ level: 'warn', message: `source ${source}: ${message}` });
      this.standing.set(source, message);
    }
    for (const source of [...this.standing.keys()]) {
      if (now.has(source)) continue;
      this.standing.delete(source);
      out.push({ level: 'info', message: `source ${source}: recovered` });
    }
    for (const n of result.notices ?? []) out.push({ level: 'info', message: `source ${n.source}: ${n.message}` });
    return out;
  }
}
