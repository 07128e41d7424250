const WHOLE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

/**
 * Replaces `${NAME}` and `${NAME:-default}` in every string of a parsed document.
 * Returns the problems (missing variables) with the path where each was found; `$${` escapes a literal `${`.
 * `whole` lists the paths whose value was one reference and nothing else (`smtp_port: ${SMTP_PORT}`): an
 * environment variable is text, so those are the values the schema may read as a number or boolean.
 */
export function interpolateEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: PropertyKey[] = [],
  missing: { path: PropertyKey[]; name: string }[] = [],
): { value: unknown; missing: { path: PropertyKey[]; name: string }[]; whole: PropertyKey[][] } {
  const whole: PropertyKey[][] = [];
  const walk = (v: unknown, p: PropertyKey[]): unknown => {
    if (typeof v === 'string') {
      if (WHOLE_REFERENCE.test(v)) whole.push(p);
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
  return { value: walk(value, path), missing, whole };
}

/**
 * The value a whole `${...}` reference stands for where the schema wants a number or a boolean: `"587"` → 587,
 * `"true"` → true; undefined when the text is neither (the schema's error then names the text).
 */
export function coerceEnvScalar(text: string, expected: string): number | boolean | undefined {
  if (expected === 'number' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text.trim())) return Number(text);
  if (expected === 'boolean' && /^(true|false)$/i.test(text.trim())) return text.trim().toLowerCase() === 'true';
  return undefined;
}
