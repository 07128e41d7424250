/**
 * Secret masking for anything that shows config values (`vigil config show`, config error messages).
 * A value is secret when its key looks like a credential (password, token, webhook_url, api keys, `auth`,
 * `Authorization`/`X-Api-Key` headers, signatures, cookies); inside any URL, user info and credential-like query
 * parameters (`?token=`, `?key=`, `?sig=`, `?code=`…) are masked. Masked URLs stay valid URLs.
 */
const SECRET_KEY_RE =
  /pass(word|wd)?$|secret|token|webhook_url|api[-_]?key|[-_]key$|^key$|auth|credential|cookie|signature|session/i;
const SECRET_PARAM_RE = /token|key|sig|code|secret|auth|pass|pwd|credential|session/i;
const URL_RE = /^[a-z][a-z0-9+.-]*:\/\/\S+$/i;
export const MASK = '****';

export function isSecretKey(key: string): boolean {
  return SECRET_KEY_RE.test(key);
}

/** The URL with user info and credential-like query values masked; the text unchanged if it is not a URL. */
export function maskUrl(text: string, wholePath = false): string {
  if (!URL_RE.test(text)) return text;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i, `$1${MASK}@`);
  }
  const hasUser = u.username !== '' || u.password !== '';
  if (hasUser) {
    u.username = MASK;
    u.password = '';
  }
  if (wholePath) {
    // A secret-keyed URL (e.g. a Slack webhook) is a credential as a whole: keep only where it points.
    return `${u.protocol}//${u.username ? `${MASK}@` : ''}${u.host}/${MASK}`;
  }
  const secretParams = [...new Set(u.searchParams.keys())].filter((k) => SECRET_PARAM_RE.test(k));
  if (!hasUser && secretParams.length === 0) return text; // unchanged, not even normalised
  for (const k of secretParams) u.searchParams.set(k, MASK);
  return u.href.replaceAll(encodeURIComponent(MASK), MASK);
}

/** Returns a copy with secret-keyed values and credentials inside URLs replaced by `****`. */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, key));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskSecrets(v, k);
    return out;
  }
  if (typeof value !== 'string' || value === '') return value;
  if (key && isSecretKey(key)) return URL_RE.test(value) ? maskUrl(value, true) : MASK;
  return maskUrl(value);
}
