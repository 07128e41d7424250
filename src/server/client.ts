/** A small client of a running `vigil up`'s HTTP API, for the CLI and the terminal dashboard in --server mode. */

/** A request that could not be made or was refused; the message names the URL and the reason, for the user. */
export class ApiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClient {
  /** The base URL without a trailing slash. */
  readonly url: string;
  /** The Authorization header when a token was given (no secret is ever put into a message). */
  readonly headers: Readonly<Record<string, string>>;
  /** GETs a JSON document; rejects with an ApiError on a network failure or a non-2xx answer. */
  get<T>(path: string): Promise<T>;
}

export function apiClient(base: string, token?: string, opts: { timeoutMs?: number } = {}): ApiClient {
  const url = base.replace(/\/+$/, '');
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const timeoutMs = opts.timeoutMs ?? 15_000;
  return {
    url,
    headers,
    async get<T>(path: string): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`${url}${path}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
      } catch (e) {
        throw new ApiError(`cannot reach Vigil at ${url} (${networkCause(e)}); is \`vigil up\` running there?`);
      }
      if (res.status === 401 || res.status === 403)
        throw new ApiError(`${url} refused the request (${res.status}): pass an API token with --token or VIGIL_TOKEN`);
      if (!res.ok) throw new ApiError(`${url}${path} answered ${res.status}${await errorMessage(res)}`);
      try {
        return (await res.json()) as T;
      } catch {
        throw new ApiError(`${url}${path} did not answer JSON; is this the address of \`vigil up\`?`);
      }
    },
  };
}

/** The network reason of a failed fetch (ECONNREFUSED, ENOTFOUND, a timeout, ...), else its message. */
export function networkCause(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: unknown };
  if (err.name === 'TimeoutError') return 'no answer in time';
  const c = err.cause as { code?: string; message?: string; errors?: { code?: string }[] } | undefined;
  return c?.code ?? c?.errors?.[0]?.code ?? c?.message ?? err.message ?? String(e);
}

/** `: <message>` of a JSON error body `{error: {message}}`, else nothing. */
async function errorMessage(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { message?: unknown } };
    return typeof body.error?.message === 'string' ? `: ${body.error.message}` : '';
  } catch {
    return '';
  }
}
