import type { Labels } from './labels.ts';
import type { CollectionOutcome } from './outcome.ts';

/** A VM as the store knows it: its labels, when it last reported a sample, and its last collection outcome. */
export interface VmStatus {
  readonly vm: string;
  readonly labels: Labels;
  readonly lastSampleTs: number | null;
  readonly lastOutcome: CollectionOutcome | null;
}
