export interface RetryPolicy {
  /**
   * Total attempts including the first. Default 4: the "3 retries, 1 s, 2 s, 4 s". The seed's tests (A37)
   * pin exactly 3 POSTs (two retries, 1 s then 2 s): `max_attempts: 3` restores that.
   */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** ±fraction of random spread applied to each delay (0 for exact 1 s, 2 s, 4 s...). */
  readonly jitterRatio: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 300_000, jitterRatio: 0.1 };

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
