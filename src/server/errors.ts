/** An error the API answers with as `{error:{code,message,details}}` and the given HTTP status. */
export class ApiError extends Error {
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 500 | 502 | 503;
  readonly code: string;
  readonly details: unknown;
  constructor(status: ApiError['status'], code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details ?? null;
  }
}

/** Refusal to start the server (e.g. public bind without tokens); the message says why and what to do. */
export class ServerStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerStartError';
  }
}
