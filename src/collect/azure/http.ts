/**
 * HTTP to ARM and Azure Monitor: bearer tokens, keep-alive, an optional extra CA, and Azure's throttling rules
 * (429/503 `Retry-After`, 529 and 5xx exponential backoff, 401 → refresh the token once, slow down as
 * `x-ms-ratelimit-remaining-subscription-reads` runs low).
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { AzureApiError, parseErrorBody } from './errors.ts';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface TokenSource {
  token(resource: string, now: number): Promise<string>;
  invalidate(resource: string): void;
}

export interface AzureHttpOptions {
  readonly tokens: TokenSource;
  /** Extra trusted CA (PEM), on top of Node's roots and NODE_EXTRA_CA_CERTS. */
  readonly ca?: string | Buffer;
  readonly sleep: Sleep;
  /** Tries per request (first attempt included). */
  readonly maxTries?: number;
  /** First backoff step for 529/5xx; doubles each try, capped at `maxBackoffMs`, with full jitter. */
  readonly backoffBaseMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * Longest Retry-After we wait out inside one cycle. A longer one fails the call and blocks that throttle scope
   * (see `throttleScope`) until the time Azure named: calls to it fail at once, without a request, until then.
   */
  readonly maxRetryAfterMs?: number;
  /** Below this many remaining subscription reads, ARM calls are spaced out. */
  readonly lowReadsThreshold?: number;
  readonly random?: () => number;
  readonly maxSockets?: number;
}

export interface AzureRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  /** Token audience for this call. */
  readonly resource: string;
  readonly body?: unknown;
  readonly now: number;
  readonly signal: AbortSignal;
  /** Counted as `arm` (subscription reads) or `metrics` (data plane). */
  readonly plane: 'arm' | 'metrics';
}

/**
 * What one Azure throttle covers: the plane, the host (for the data plane: the region), the subscription and the
 * resource provider of the path's last `/providers/{ns}` (Compute's `HighCostGet30Min` does not stop
 * `microsoft.insights` reads, and one region's batch throttle does not stop another's).
 */
export function throttleScope(plane: 'arm' | 'metrics', url: string): string {
  const u = new URL(url);
  const path = u.pathname.toLowerCase();
  const m = /^(.*?)\/subscriptions\/([^/]+)/.exec(path);
  const prefix = m ? m[1]! : '';
  const sub = m ? m[2]! : '-';
  const providers = [...path.matchAll(/\/providers\/([^/]+)/g)];
  const provider = providers.length ? providers[providers.length - 1]![1]! : '-';
  return `${plane} ${u.host.toLowerCase()}${prefix} ${sub} ${provider}`;
}

/** A throttle scope Azure told us to leave alone until `untilMs`. */
export interface ThrottleBlock {
  readonly untilMs: number;
  readonly retryAfterSec: number;
}

export interface AzureHttpStats {
  api_calls: number;
  api_calls_arm: number;
  api_calls_metrics: number;
  retries: number;
  throttle_waits: number;
  throttle_wait_ms: number;
  token_retries: number;
  remaining_reads: number;
  /** Calls not sent because their scope was blocked by an earlier long Retry-After. */
  throttle_skips: number;
}

interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export class AzureHttp {
  private readonly opts: AzureHttpOptions;
  private readonly httpsAgent: https.Agent;
  private readonly httpAgent: http.Agent;
  private remainingReads = Number.POSITIVE_INFINITY;
  readonly stats: AzureHttpStats = {
    api_calls: 0,
    api_calls_arm: 0,
    api_calls_metrics: 0,
    retries: 0,
    throttle_waits: 0,
    throttle_wait_ms: 0,
    token_retries: 0,
    remaining_reads: -1,
    throttle_skips: 0,
  };
  /** Throttle scope → until when Azure asked us not to call it (a Retry-After longer than one cycle can wait). */
  private readonly blocks = new Map<string, ThrottleBlock>();

  constructor(opts: AzureHttpOptions) {
    this.opts = opts;
    const maxSockets = opts.maxSockets ?? 32;
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets, ...(opts.ca ? { ca: extraCa(opts.ca) } : {}) });
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
  }

  /** Performs the request with retries; resolves with parsed JSON or rejects with an `AzureApiError`. */
  async json<T>(req: AzureRequest): Promise<T> {
    const maxTries = this.opts.maxTries ?? 3;
    const scope = throttleScope(req.plane, req.url);
    const block = this.blocks.get(scope);
    if (block && req.now < block.untilMs) {
      this.stats.throttle_skips++;
      throw throttledError(block);
    }
    if (block) this.blocks.delete(scope);
    let refreshedToken = false;
    for (let attempt = 1; ; attempt++) {
      if (req.plane === 'arm') await this.paceArmReads(req.signal);
      const token = await this.opts.tokens.token(req.resource, req.now);
      const res = await this.send(req, token);
      const { status } = res;
      if (status >= 200 && status < 300) {
        try {
          return JSON.parse(res.body) as T;
        } catch {
          throw new AzureApiError(status, 'InvalidResponse', 'Azure returned a response that is not JSON');
        }
      }
      const err = parseErrorBody(status, res.body, header(res.headers, 'x-ms-error-code'));
      if (status === 401 && !refreshedToken) {
        // Missing, expired or wrong-audience token: ask az for a fresh one and retry once.
        refreshedToken = true;
        this.stats.token_retries++;
        this.opts.tokens.invalidate(req.resource);
        attempt--;
        continue;
      }
      const retryAfterMs = retryAfter(res.headers, req.now);
      const throttled = status === 429 || status === 503;
      const transient = throttled || status === 529 || status === 500 || status === 502 || status === 504;
      const longWait = throttled && retryAfterMs !== undefined && retryAfterMs > (this.opts.maxRetryAfterMs ?? 60_000);
      if (throttled && retryAfterMs !== undefined && (longWait || attempt >= maxTries)) {
        // Retrying before Retry-After is rejected again: remember it, so no call to this scope is made until then.
        const b: ThrottleBlock = { untilMs: req.now + retryAfterMs, retryAfterSec: Math.ceil(retryAfterMs / 1000) };
        this.blocks.set(scope, b);
        throw throttledError(b, status, err.code);
      }
      if (!transient || attempt >= maxTries) {
        throw new AzureApiError(
          status,
          err.code,
          err.message,
          retryAfterMs !== undefined ? Math.ceil(retryAfterMs / 1000) : undefined,
        );
      }
      let waitMs: number;
      if (throttled && retryAfterMs !== undefined) {
        waitMs = retryAfterMs;
      } else {
        const base = this.opts.backoffBaseMs ?? 1000;
        const cap = Math.min(this.opts.maxBackoffMs ?? 30_000, base * 2 ** (attempt - 1));
        waitMs = Math.round((this.opts.random ?? Math.random)() * cap);
      }
      this.stats.retries++;
      if (throttled || status === 529) {
        this.stats.throttle_waits++;
        this.stats.throttle_wait_ms += waitMs;
      }
      await this.wait(waitMs, req.signal);
    }
  }

  /** Sleeps, turning an abort (the cycle's timeout) into the usual timeout error. */
  private async wait(ms: number, signal: AbortSignal): Promise<void> {
    try {
      await this.opts.sleep(ms, signal);
    } catch {
      throw new AzureApiError(0, 'Timeout', 'Connection timeout');
    }
  }

  close(): void {
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }

  /** As the subscription's read budget runs low, space ARM reads out (the bucket refills ~25 reads/s). */
  private async paceArmReads(signal: AbortSignal): Promise<void> {
    const threshold = this.opts.lowReadsThreshold ?? 100;
    if (this.remainingReads >= threshold) return;
    const waitMs = Math.round(((threshold - this.remainingReads) / threshold) * 4000);
    if (waitMs <= 0) return;
    this.stats.throttle_waits++;
    this.stats.throttle_wait_ms += waitMs;
    await this.wait(waitMs, signal);
    // Assume the bucket refilled while we waited; the next response corrects it.
    this.remainingReads = Math.min(threshold, this.remainingReads + (waitMs / 1000) * 25);
  }

  private send(req: AzureRequest, token: string): Promise<RawResponse> {
    this.stats.api_calls++;
    if (req.plane === 'arm') this.stats.api_calls_arm++;
    else this.stats.api_calls_metrics++;
    const url = new URL(req.url);
    const isHttps = url.protocol === 'https:';
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return new Promise<RawResponse>((resolve, reject) => {
      if (req.signal.aborted) {
        reject(new AzureApiError(0, 'Timeout', 'Connection timeout'));
        return;
      }
      const request = (isHttps ? https : http).request(
        url,
        { method: req.method, headers, agent: isHttps ? this.httpsAgent : this.httpAgent, signal: req.signal },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const remaining = header(res.headers, 'x-ms-ratelimit-remaining-subscription-reads');
            if (remaining !== null && req.plane === 'arm') {
              const n = Number(remaining);
              if (Number.isFinite(n)) {
                this.remainingReads = n;
                this.stats.remaining_reads = n;
              }
            }
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            });
          });
          res.on('error', (e) => reject(networkError(e, req.signal)));
        },
      );
      request.on('error', (e) => reject(networkError(e, req.signal)));
      if (body !== undefined) request.write(body);
      request.end();
    });
  }
}

/** The error of a call refused (or not sent) because its throttle scope is blocked. */
function throttledError(b: ThrottleBlock, status = 429, code = 'TooManyRequests'): AzureApiError {
  const e = new AzureApiError(status, code, 'throttled by Azure', b.retryAfterSec);
  e.blockedUntilMs = b.untilMs;
  return e;
}

function extraCa(ca: string | Buffer): (string | Buffer)[] {
  // Passing `ca` replaces Node's trust store, so keep its defaults (bundled roots plus NODE_EXTRA_CA_CERTS).
  const defaults =
    typeof tls.getCACertificates === 'function' ? tls.getCACertificates('default') : tls.rootCertificates;
  return [...defaults, ca];
}

function header(headers: http.IncomingHttpHeaders, name: string): string | null {
  const v = headers[name];
  if (Array.isArray(v)) return v[0] ?? null;
  return v ?? null;
}

/** Retry-After in ms: `retry-after-ms`, `x-ms-retry-after-ms`, then `Retry-After` (seconds, or an HTTP date read against `now`). */
export function retryAfter(headers: http.IncomingHttpHeaders, now?: number): number | undefined {
  for (const h of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const v = header(headers, h);
    if (v !== null && Number.isFinite(Number(v))) return Math.max(0, Number(v));
  }
  const v = header(headers, 'retry-after');
  if (v === null) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v) * 1000;
  const at = Date.parse(v);
  if (now !== undefined && Number.isFinite(at)) return Math.max(0, at - now);
  return undefined;
}

function networkError(e: Error & { code?: string }, signal: AbortSignal): AzureApiError {
  if (signal.aborted || e.name === 'AbortError') return new AzureApiError(0, 'Timeout', 'Connection timeout');
  switch (e.code) {
    case 'ECONNREFUSED':
      return new AzureApiError(0, 'ConnectionRefused', 'Connection refused');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new AzureApiError(0, 'HostNotFound', 'Host not found');
    case 'ECONNRESET':
      return new AzureApiError(0, 'ConnectionReset', 'Connection reset');
    case 'ETIMEDOUT':
      return new AzureApiError(0, 'Timeout', 'Connection timeout');
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'CERT_HAS_EXPIRED':
      return new AzureApiError(
        0,
        'TlsError',
        `TLS certificate not trusted (${e.code}): set ca_file or NODE_EXTRA_CA_CERTS`,
      );
  }
  return new AzureApiError(0, e.code ?? 'NetworkError', e.message);
}
