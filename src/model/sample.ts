import type { Labels } from './labels.ts';

/** One observation: a float value of a series at a timestamp (epoch ms). */
export interface Sample {
  readonly metric: string;
  readonly labels: Labels;
  readonly ts: number;
  readonly value: number;
}

export interface Point {
  readonly ts: number;
  readonly value: number;
}
