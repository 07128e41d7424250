// NAB scoring as the dataset README describes it: probationary period, windows, scaled sigmoid, profiles.

export interface NabProfile {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

export const NAB_PROFILES: Readonly<Record<'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate', NabProfile>> = {
  standard: { tp: 1, fp: 0.11, fn: 1 },
  reward_low_FP_rate: { tp: 1, fp: 0.22, fn: 1 },
  reward_low_FN_rate: { tp: 1, fp: 0.11, fn: 2 },
};

/** σ(y) = 2/(1+e^{5y}) − 1 */
export const scaledSigmoid = (y: number): number => 2 / (1 + Math.exp(5 * y)) - 1;

export interface NabFileScore {
  readonly score: number;
  readonly windows: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

/**
 * Scores one file. `timestamps` per row; `windows` as inclusive [start, end] timestamps; `detections[i]` true when
 * row i's score is at or above the threshold. Rows in the probationary period are ignored.
 */
export function nabScoreFile(
  timestamps: readonly number[],
  windows: readonly (readonly [number, number])[],
  detections: readonly boolean[],
  profile: NabProfile,
): NabFileScore {
  const rows = timestamps.length;
  const probation = Math.min(Math.floor(0.15 * rows), 750);
  // Row-index windows: first row at or after start, last row at or before end.
  const idx = windows
    .map(([s, e]) => {
      let a = -1;
      let b = -1;
      for (let i = 0; i < rows; i++) {
        if (a < 0 && timestamps[i] >= s) a = i;
        if (timestamps[i] <= e) b = i;
      }
      return [a, b] as [number, number];
    })
    .filter(([a, b]) => a >= 0 && b >= a)
    .sort((x, y) => x[0] - y[0]);
  let score = 0;
  let tp = 0;
  let fp = 0;
  const detected = new Array(idx.length).fill(false);
  for (let i = probation; i < rows; i++) {
    if (!detections[i]) continue;
    const w = idx.findIndex(([a, b]) => i >= a && i <= b);
    if (w >= 0) {
      if (detected[w]) continue;
      detected[w] = true;
      const [, end] = idx[w];
      const width = idx[w][1] - idx[w][0] + 1;
      score += (profile.tp * scaledSigmoid(-(end - i + 1) / width)) / scaledSigmoid(-1);
      tp++;
      continue;
    }
    fp++;
    let prev = -1;
    for (let k = 0; k < idx.length; k++) if (idx[k][1] < i) prev = k;
    if (prev < 0) {
      score -= profile.fp;
      continue;
    }
    const width = idx[prev][1] - idx[prev][0] + 1;
    const d = (i - idx[prev][1]) / width;
    score += d > 3 ? -profile.fp : profile.fp * scaledSigmoid(d);
  }
  const fn = detected.filter((x) => !x).length;
  score -= profile.fn * fn;
  return { score, windows: idx.length, tp, fp, fn };
}
