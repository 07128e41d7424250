export interface RetryPolicy {
  /** Total attempts including the first (3: one try and two retries, as the seed expects). */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** ±fraction of random spread applied to each delay (0 for exact 1 s, 2 s, 4 s...). */
  readonly jitterRatio: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 300_000, jitterRatio: 0.1 };

/** Delay before the next attempt after `attemptsMade` failed attempts; Retry-After wins when given. */
export function backoffDelayMs(
  policy: RetryPolicy,
  attemptsMade: number,
  random: () => number,
  retryAfterMs?: number,
): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), 3_600_000);
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
  const spread = exp * policy.jitterRatio * (random() * 2 - 1);
  return Math.max(0, Math.round(exp + spread));
}
