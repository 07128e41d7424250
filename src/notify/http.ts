import type { SendResult } from './types.ts';

export interface HttpPost {
  readonly url: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Parses a Retry-After header (seconds or HTTP date) into milliseconds relative to `nowMs`. */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const t = value.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const d = Date.parse(t);
  return Number.isNaN(d) ? undefined : Math.max(0, d - nowMs);
}

/** Classifies an HTTP status: 2xx ok, 408/425/429/5xx retryable, other 4xx permanent. */
export function classifyStatus(status: number): { ok: boolean; retryable: boolean } {
  if (status >= 200 && status < 300) return { ok: true, retryable: false };
  if (status === 408 || status === 425 || status === 429 || status >= 500) return { ok: false, retryable: true };
  return { ok: false, retryable: false };
}

/**
 * POSTs and classifies the answer. Never throws: network errors and timeouts are retryable results.
 * Details name the host only (URLs may carry secrets, e.g. Slack webhook paths).
 */
export async function post(req: HttpPost, nowMs: number): Promise<SendResult> {
  let host = 'endpoint';
  try {
    host = new URL(req.url).host;
  } catch {
    return { ok: false, retryable: false, detail: 'invalid endpoint URL' };
  }
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  try {
    const res = await fetch(req.url, { method: 'POST', body: req.body, headers: req.headers, signal });
    const text = (await res.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ');
    const c = classifyStatus(res.status);
    const retryAfterMs = res.status === 429 ? parseRetryAfterMs(res.headers.get('retry-after'), nowMs) : undefined;
    return {
      ...c,
      statusCode: res.status,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      detail: `HTTP ${res.status} from ${host}${text && !c.ok ? `: ${text}` : ''}`,
    };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; errors?: { code?: string }[] } };
    if (timeout.aborted) return { ok: false, retryable: true, detail: `timed out after ${req.timeoutMs} ms (${host})` };
    const code =
      err.cause?.code ?? err.cause?.errors?.[0]?.code ?? (err.name === 'AbortError' ? 'aborted' : 'network error');
    return { ok: false, retryable: true, detail: `cannot reach ${host}: ${code}` };
  }
}
