import type { Labels } from './labels.ts';

/** The result of one collection attempt of one VM: stored for every attempt, so failures are visible and no-data rules can fire. */
export interface CollectionOutcome {
  readonly vm: string;
  /** The VM's identifying labels (resource_group, source, tenant, ...), without `vm`. */
  readonly labels: Labels;
  readonly ts: number;
  readonly success: boolean;
  readonly errorMessage: string | null;
  readonly durationMs: number;
}
