/**
 * Replaces `${NAME}` and `${NAME:-default}` in every string of a parsed document.
 * Returns the problems (missing variables) with the path where each was found; `$${` escapes a literal `${`.
 */
export function interpolateEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: PropertyKey[] = [],
  missing: { path: PropertyKey[]; name: string }[] = [],
): { value: unknown; missing: { path: PropertyKey[]; name: string }[] } {
  const walk = (v: unknown, p: PropertyKey[]): unknown => {
    if (typeof v === 'string') {
      return v.replace(/\$?\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (whole, name: string, dflt?: string) => {
        if (whole.startsWith('$$')) return whole.slice(1);
        const got = env[name];
        if (got !== undefined && got !== '') return got;
        if (dflt !== undefined) return dflt;
        missing.push({ path: p, name });
        return '';
      });
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...p, i]));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = walk(item, [...p, k]);
      return out;
    }
    return v;
  };
  return { value: walk(value, path), missing };
}
