/** Access tokens and the default subscription from the Azure CLI (`az`), cached until 5 minutes before expiry. */
import { execFile } from 'node:child_process';
import { AzureCliError, sanitizeRemoteMessage } from './errors.ts';

export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
/** After a failure, do not spawn `az` again for this long (one clear error, not one per VM or per batch). */
export const FAILURE_BACKOFF_MS = 60_000;

export interface AzRunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the executable could not be started (e.g. ENOENT). */
  readonly spawnError?: string;
}

export type AzRunner = (args: readonly string[]) => Promise<AzRunResult>;

/** Runs the real executable (no shell), with a timeout so a hung `az` cannot stall collection. */
export function execRunner(azPath: string, env?: NodeJS.ProcessEnv, timeoutMs = 60_000): AzRunner {
  return (args) =>
    new Promise((resolve) => {
      execFile(
        azPath,
        [...args],
        { env: env ?? process.env, timeout: timeoutMs, maxBuffer: 1 << 20 },
        (err, stdout, stderr) => {
          const e = err as (NodeJS.ErrnoException & { code?: string | number; killed?: boolean }) | null;
          if (e && typeof e.code === 'string') {
            resolve({ code: 127, stdout: '', stderr: '', spawnError: e.code });
            return;
          }
          if (e?.killed) {
            resolve({ code: 124, stdout, stderr: `az timed out after ${timeoutMs / 1000}s` });
            return;
          }
          resolve({ code: e ? Number(e.code ?? 1) : 0, stdout, stderr });
        },
      );
    });
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/** Turns `az` failures into the one message the user needs. */
export function explainAzFailure(r: AzRunResult): AzureCliError {
  if (r.spawnError === 'ENOENT' || r.code === 127 || /az:.*not found|is not recognized/i.test(r.stderr)) {
    return new AzureCliError(
      'Azure CLI (az) not found: install it (https://aka.ms/azure-cli), then run `az login`, or set az_path',
    );
  }
  if (r.spawnError) return new AzureCliError(`cannot run the Azure CLI (${r.spawnError})`);
  if (/az login|AADSTS/i.test(r.stderr)) {
    return new AzureCliError('Azure CLI is not logged in (or its session expired): run `az login`');
  }
  const first = r.stderr.trim().split('\n')[0] ?? '';
  return new AzureCliError(`Azure CLI failed (exit ${r.code})${first ? `: ${sanitizeRemoteMessage(first)}` : ''}`);
}

/** Expiry in epoch ms: `expires_on` (POSIX seconds) when present, else `expiresOn` (local time, no zone). */
export function tokenExpiry(json: { expires_on?: unknown; expiresOn?: unknown }): number | undefined {
  const n = typeof json.expires_on === 'string' ? Number(json.expires_on) : json.expires_on;
  if (typeof n === 'number' && Number.isFinite(n) && n > 0) return n * 1000;
  if (typeof json.expiresOn === 'string') {
    const t = new Date(json.expiresOn.replace(' ', 'T')).getTime();
    if (Number.isFinite(t)) return t;
  }
  return undefined;
}

export class AzCliCredential {
  private readonly run: AzRunner;
  private readonly cache = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<string>>();
  private failure: { error: AzureCliError; at: number } | null = null;
  invocations = 0;
  refreshes = 0;

  constructor(run: AzRunner) {
    this.run = run;
  }

  /** A bearer token for `resource`, valid for at least 5 more minutes at `now`. */
  async token(resource: string, now: number): Promise<string> {
    const cached = this.cache.get(resource);
    if (cached && now < cached.expiresAt - REFRESH_BEFORE_EXPIRY_MS) return cached.token;
    if (this.failure && now - this.failure.at < FAILURE_BACKOFF_MS) throw this.failure.error;
    let pending = this.inflight.get(resource);
    if (!pending) {
      pending = this.fetchToken(resource, now).finally(() => this.inflight.delete(resource));
      this.inflight.set(resource, pending);
    }
    return pending;
  }

  /** Forgets a token Azure rejected (401), so the next `token()` asks `az` again. */
  invalidate(resource: string): void {
    this.cache.delete(resource);
    this.failure = null;
  }

  async defaultSubscription(): Promise<string> {
    const r = await this.invoke(['account', 'show', '--output', 'json']);
    const id = (parseJson(r.stdout) as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'string' || !id) {
      throw new AzureCliError(
        '`az account show` gave no subscription id: run `az account set --subscription <id>` or set subscription_id',
      );
    }
    return id;
  }

  private async fetchToken(resource: string, now: number): Promise<string> {
    try {
      const r = await this.invoke(['account', 'get-access-token', '--resource', resource, '--output', 'json']);
      const json = parseJson(r.stdout) as
        | { accessToken?: unknown; expires_on?: unknown; expiresOn?: unknown }
        | undefined;
      if (!json || typeof json.accessToken !== 'string') {
        throw new AzureCliError('no access token from `az account get-access-token`: run `az login`');
      }
      const expiresAt = tokenExpiry(json);
      if (expiresAt === undefined) {
        throw new AzureCliError(
          `unexpected output from \`az account get-access-token\`: cannot read expiresOn "${String(json.expiresOn)}"`,
        );
      }
      this.refreshes++;
      this.cache.set(resource, { token: json.accessToken, expiresAt });
      this.failure = null;
      return json.accessToken;
    } catch (e) {
      const error = e instanceof AzureCliError ? e : new AzureCliError((e as Error).message);
      this.failure = { error, at: now };
      throw error;
    }
  }

  private async invoke(args: readonly string[]): Promise<AzRunResult> {
    this.invocations++;
    const r = await this.run(args);
    if (r.code !== 0 || r.spawnError) throw explainAzFailure(r);
    return r;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
