/** Azure errors as values with codes, and the short per-VM messages users see. */

/** A failed Azure call: HTTP status (0 when no response), Azure error code and message. */
export class AzureApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly azureMessage: string;
  /** Seconds Azure asked us to wait (429/503), when the retries ran out. */
  readonly retryAfterSec?: number;
  /** Set when Azure asked for a wait longer than a cycle: no call to that scope is made before this time. */
  blockedUntilMs?: number;
  constructor(status: number, code: string, azureMessage: string, retryAfterSec?: number) {
    super(`${code}${status ? ` (HTTP ${status})` : ''}: ${azureMessage}`);
    this.name = 'AzureApiError';
    this.status = status;
    this.code = code;
    this.azureMessage = azureMessage;
    if (retryAfterSec !== undefined) this.retryAfterSec = retryAfterSec;
  }
}

/** Azure CLI problems (missing, not logged in): one clear message for the whole source. */
export class AzureCliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AzureCliError';
  }
}

/** Reads both envelopes: ARM/batch `{"error":{"code","message"}}` and the metrics API's unwrapped `{"code","message"}`. */
export function parseErrorBody(
  status: number,
  body: string,
  headerCode?: string | null,
): { code: string; message: string } {
  let code = headerCode ?? '';
  let message = '';
  try {
    const json = JSON.parse(body) as {
      error?: { code?: unknown; message?: unknown };
      code?: unknown;
      message?: unknown;
    };
    const e = json && typeof json === 'object' && json.error && typeof json.error === 'object' ? json.error : json;
    if (typeof e?.code === 'string') code = e.code;
    if (typeof e?.message === 'string') message = e.message;
  } catch {
    message = body.slice(0, 200);
  }
  return { code: code || `HTTP${status}`, message: message || `HTTP ${status}` };
}

/** The user-facing `error_message` for a VM whose collection failed with this error. Never includes secrets. */
export function describeAzureError(e: unknown): string {
  if (e instanceof AzureCliError) return e.message;
  if (!(e instanceof AzureApiError)) return (e as Error)?.message || 'Unknown error';
  switch (e.code) {
    case 'AuthorizationFailed':
      return 'Access denied by Azure (AuthorizationFailed): grant the signed-in identity the Monitoring Reader role on the subscription';
    case 'ResourceNotFound':
      return 'VM not found in Azure (ResourceNotFound): it was deleted or moved';
    case 'ResourceGroupNotFound':
      return 'Resource group not found in Azure (ResourceGroupNotFound)';
    case 'SubscriptionNotFound':
      return 'Subscription not found in Azure (SubscriptionNotFound): check subscription_id';
    case 'ExpiredAuthenticationToken':
      return 'Azure access token expired and could not be refreshed (ExpiredAuthenticationToken): run `az login`';
    case 'AuthenticationFailed':
    case 'InvalidAuthenticationToken':
    case 'InvalidAuthenticationTokenAudience':
      return `Azure rejected the access token (${e.code}): run \`az login\``;
    case 'Timeout':
      return 'Connection timeout';
  }
  if (e.blockedUntilMs !== undefined) {
    return `Azure throttled until ${hhmm(e.blockedUntilMs)} UTC (Retry-After ${e.retryAfterSec ?? '?'} s)`;
  }
  if (e.status === 401) return `Azure rejected the access token (${e.code}): run \`az login\``;
  if (e.status === 429 || e.status === 529 || e.code === 'TooManyRequests') {
    const wait = e.retryAfterSec !== undefined ? `; Azure asked to retry after ${e.retryAfterSec}s` : '';
    return `Azure rate limit exceeded (HTTP ${e.status}, ${e.code})${wait}`;
  }
  if (e.status >= 500) return `Azure service error (HTTP ${e.status}, ${e.code})`;
  if (e.status === 0) return sanitizeRemoteMessage(e.azureMessage);
  return `Azure error ${e.code} (HTTP ${e.status}): ${sanitizeRemoteMessage(e.azureMessage)}`;
}

function hhmm(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}

/**
 * Text that comes from elsewhere (an Azure message, a stderr line) before it is shown as a VM's error:
 * file and resource paths become `[path]`, private IPv4 addresses are masked, at most 100 characters
 * (97 + "..."), and an empty text is "Unknown error" (the seed's rules, A14).
 */
export function sanitizeRemoteMessage(text: string): string {
  let s = text
    .replace(/(?:^|(?<=[\s'"(=]))(?:\/[^\s'"),]+){2,}/g, '[path]')
    .replace(/\b10\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g, '10.x.x.x')
    .replace(/\b172\.(1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}\b/g, '172.x.x.x')
    .replace(/\b192\.168\.\d{1,3}\.\d{1,3}\b/g, '192.168.x.x')
    .trim();
  if (!s) return 'Unknown error';
  if (s.length > 100) s = `${s.slice(0, 97)}...`;
  return s;
}

/** VM names as the seed validated them (A13): letters, digits, `.`, `_`, `-`, at most 64 characters. */
export function vmNameProblem(name: string): string | null {
  if (name.length > 64) return `VM name too long (${name.length} characters, at most 64)`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) return `invalid VM name ${JSON.stringify(name)}`;
  return null;
}
