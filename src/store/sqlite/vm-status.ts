import type { DatabaseSync } from 'node:sqlite';
import type { CollectionOutcome, Labels, VmStatus } from '../../model/index.ts';

export interface OutcomeRow {
  vm: string;
  ts: number;
  success: number;
  error: string | null;
  duration_ms: number;
  labels: string;
}

export function toOutcome(r: OutcomeRow): CollectionOutcome {
  return {
    vm: r.vm,
    labels: JSON.parse(r.labels) as Labels,
    ts: r.ts,
    success: r.success === 1,
    errorMessage: r.error,
    durationMs: r.duration_ms,
  };
}

/** Every known VM with its labels and last collection outcome, by name; `lastSampleTs` from the caller's view. */
export function readVmStatuses(db: DatabaseSync, lastSampleByVm: ReadonlyMap<string, number>): VmStatus[] {
  const rows = db
    .prepare(
      `SELECT v.vm, v.labels AS vm_labels, o.vm AS o_vm, o.ts, o.success, o.error, o.duration_ms, o.labels
       FROM vms v LEFT JOIN outcomes o ON o.id = v.last_outcome_id ORDER BY v.vm`,
    )
    .all() as unknown as (OutcomeRow & { vm_labels: string; o_vm: string | null })[];
  return rows.map((r) => ({
    vm: r.vm,
    labels: JSON.parse(r.vm_labels) as Labels,
    lastSampleTs: lastSampleByVm.get(r.vm) ?? null,
    lastOutcome: r.o_vm === null ? null : toOutcome(r),
  }));
}
