import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { type Document, isMap, isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem, formatPath } from './errors.ts';
import { expandHome, relativeToConfig } from './file-paths.ts';
import { findConfigPath, type LoadOptions } from './find.ts';
import { coerceEnvScalar, interpolateEnv } from './interpolate.ts';
import { isSecretKey } from './mask.ts';
import { configObjectSchema, configSchema, type VigilConfig } from './schema.ts';
import { channelNameIssues } from './sections/notifications.ts';
import { sourceSchema } from './sections/sources.ts';

/** Valid `sources[].type` values, listed when a source has an unknown type. */
const SOURCE_TYPES: readonly string[] = sourceSchema.options.map((o) => String(o.shape.type.value));

export interface LoadedConfig {
  readonly config: VigilConfig;
  /** The file read, or null when built-in defaults are in force. */
  readonly path: string | null;
  /** Problems that do not stop Vigil (e.g. a rule naming a channel type that is not configured). */
  readonly warnings?: readonly ConfigProblem[];
  /** The main file's data as read (after `${ENV}` interpolation), for writing the config back out. */
  readonly raw?: unknown;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const home = opts.home ?? homedir();
  const path = findConfigPath(opts);
  if (!path) return { config: finish(configSchema.parse({}), home), path: null, raw: {} };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError([
      {
        file: path,
        path: '',
        message: `cannot read config file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      },
    ]);
  }
  return { ...parseConfig(text, path, { env, home }), path };
}

interface ParseOptions {
  env?: Readonly<Record<string, string | undefined>>;
  home?: string;
}

/** Parses and validates config text; `file` is used for error locations and for resolving `include`. */
export function parseConfigText(text: string, file: string, opts: ParseOptions = {}): VigilConfig {
  return parseConfig(text, file, opts).config;
}

/** As `parseConfigText`, also returning the warnings (located like errors). */
export function parseConfig(
  text: string,
  file: string,
  opts: ParseOptions = {},
): { config: VigilConfig; warnings: ConfigProblem[]; raw: unknown } {
  const env = opts.env ?? process.env;
  const home = opts.home ?? homedir();
  const main = readDocument(text, file, env);
  const data = (main.data ?? {}) as Record<string, unknown>;
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([
      {
        file,
        line: 1,
        col: 1,
        path: '',
        message: 'expected a mapping of sections (storage, collection, sources, rules, ...)',
      },
    ]);
  }
  const problems: ConfigProblem[] = [];
  // Channel names are cross-checked below, once the included files' rules and channels are merged in.
  let result = configObjectSchema.safeParse(data, { reportInput: true });
  if (!result.success && coerceWholeReferences(data, main.whole, result.error.issues)) {
    result = configObjectSchema.safeParse(data, { reportInput: true });
  }
  if (!result.success) problems.push(...issuesToProblems(result.error.issues, main));
  if (problems.length > 0) throw new ConfigError(problems);
  const config = result.data!;
  const ruleOrigins: RuleOrigin[] = config.rules.map((_, index) => ({ read: main, index }));
  for (const inc of config.include) mergeInclude(config, resolve(dirname(file), inc), env, problems, ruleOrigins);
  if (problems.length > 0) throw new ConfigError(problems);
  const warnings: ConfigProblem[] = [];
  for (const issue of channelNameIssues(config)) {
    const [section, ruleIndex, ...rest] = issue.path;
    const origin = section === 'rules' && typeof ruleIndex === 'number' ? ruleOrigins[ruleIndex] : undefined;
    const where = origin ? locate(origin.read, ['rules', origin.index, ...rest]) : locate(main, issue.path);
    (issue.level === 'error' ? problems : warnings).push({ ...where, message: issue.message });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  resolveRelativePaths(config, dirname(file));
  return { config: finish(config, home), warnings, raw: data };
}

/** Where a merged rule was written: its document and its index in that document's `rules:`. */
interface RuleOrigin {
  readonly read: ReadDocument;
  readonly index: number;
}

/** Every file path of the config made relative to the config file's folder (see relativeToConfig). */
function resolveRelativePaths(config: VigilConfig, baseDir: string): void {
  const rel = <T extends string | undefined>(p: T): T => (p === undefined ? p : relativeToConfig(p, baseDir)) as T;
  config.storage.path = rel(config.storage.path);
  for (const s of config.sources) {
    if (s.type === 'azure') s.ca_file = rel(s.ca_file);
    if (s.type === 'prometheus') s.targets_file = rel(s.targets_file);
    if (s.type === 'ssh') {
      s.key_file = rel(s.key_file);
      s.known_hosts = rel(s.known_hosts);
      for (const h of s.hosts) {
        h.key_file = rel(h.key_file);
        if (h.jump) h.jump.key_file = rel(h.jump.key_file);
      }
    }
  }
  for (const [name, settings] of Object.entries(config.notification_config)) {
    if ((settings.type ?? name) === 'file' && typeof settings.path === 'string') settings.path = rel(settings.path);
  }
}

const includeSchema = configObjectSchema.pick({ rules: true, notification_config: true });

function mergeInclude(
  config: VigilConfig,
  file: string,
  env: Readonly<Record<string, string | undefined>>,
  problems: ConfigProblem[],
  ruleOrigins: RuleOrigin[],
): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    problems.push({
      file,
      path: '',
      message: `cannot read included file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    });
    return;
  }
  const doc = readDocument(text, file, env);
  const result = includeSchema.safeParse(doc.data ?? {}, { reportInput: true });
  if (!result.success) {
    problems.push(...issuesToProblems(result.error.issues, doc));
    return;
  }
  for (const [index, rule] of result.data.rules.entries()) {
    config.rules.push(rule);
    ruleOrigins.push({ read: doc, index });
  }
  for (const [name, settings] of Object.entries(result.data.notification_config)) {
    config.notification_config[name] ??= settings;
  }
}

interface ReadDocument {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  readonly data: unknown;
  /** Paths whose value was one whole `${VAR}` reference (see interpolateEnv). */
  readonly whole?: readonly PropertyKey[][];
}

function readDocument(text: string, file: string, env: Readonly<Record<string, string | undefined>>): ReadDocument {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((err) => {
        const pos = lines.linePos(err.pos[0]);
        return {
          file,
          line: pos.line,
          col: pos.col,
          path: '',
          message: err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
        };
      }),
    );
  }
  const read: ReadDocument = { file, doc, lines, data: doc.toJS({ maxAliasCount: 100 }) };
  const { value, missing, whole } = interpolateEnv(read.data, env);
  if (missing.length > 0) {
    throw new ConfigError(
      missing.map((m) => ({
        ...locate(read, m.path),
        path: formatPath(m.path),
        message: `environment variable ${m.name} is not set`,
      })),
    );
  }
  return { ...read, data: value, whole };
}

/**
 * Where the schema wanted a number or boolean and got the text of a whole `${VAR}` reference, puts the typed value
 * in its place. Returns whether anything changed (then the caller parses again).
 */
function coerceWholeReferences(
  data: Record<string, unknown>,
  whole: readonly PropertyKey[][] | undefined,
  issues: readonly z.core.$ZodIssue[],
): boolean {
  if (!whole?.length) return false;
  const keys = new Set(whole.map((p) => formatPath(p)));
  let changed = false;
  for (const issue of issues) {
    if (issue.code !== 'invalid_type' || !keys.has(formatPath(issue.path))) continue;
    const parent = issue.path.slice(0, -1).reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown>)?.[k], data);
    const key = issue.path[issue.path.length - 1];
    if (!parent || typeof parent !== 'object' || key === undefined) continue;
    const text = (parent as Record<PropertyKey, unknown>)[key];
    const typed = typeof text === 'string' ? coerceEnvScalar(text, String(issue.expected)) : undefined;
    if (typed === undefined) continue;
    (parent as Record<PropertyKey, unknown>)[key] = typed;
    changed = true;
  }
  return changed;
}

function locate(read: ReadDocument, path: readonly PropertyKey[]): ConfigProblem {
  // Walk up the path until a node exists: a missing field is reported at its parent object.
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? read.doc.contents : read.doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) {
      const pos = read.lines.linePos(node.range[0]);
      return { file: read.file, line: pos.line, col: pos.col, path: formatPath(path), message: '' };
    }
  }
  return { file: read.file, path: formatPath(path), message: '' };
}

function issuesToProblems(issues: readonly z.core.$ZodIssue[], read: ReadDocument): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ ...locateKey(read, issue.path, key), message: `unknown field "${key}"` });
      }
      continue;
    }
    out.push({ ...locate(read, issue.path), message: describeIssue(issue) });
  }
  return out;
}

function locateKey(read: ReadDocument, parent: readonly PropertyKey[], key: string): ConfigProblem {
  const node = parent.length === 0 ? read.doc.contents : read.doc.getIn(parent as unknown[], true);
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isNode(pair.key) && (pair.key as { value?: unknown }).value === key && pair.key.range) {
        const pos = read.lines.linePos(pair.key.range[0]);
        return { file: read.file, line: pos.line, col: pos.col, path: formatPath([...parent, key]), message: '' };
      }
    }
  }
  return locate(read, [...parent, key]);
}

function describeFound(input: unknown, secret = false): string {
  if (input === undefined) return 'nothing';
  if (secret && input !== null && typeof input !== 'object') return `a ${typeof input} (value not shown: secret)`;
  if (input === null) return 'null';
  if (typeof input === 'string') return JSON.stringify(input);
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  return String(input);
}

const ARTICLE: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  int: 'a whole number',
};

function describeIssue(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  const key = issue.path.findLast((seg) => typeof seg === 'string');
  const secret = typeof key === 'string' && isSecretKey(key);
  const describeInput = (v: unknown) => describeFound(v, secret);
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined)
        return `required field is missing (expected ${ARTICLE[issue.expected] ?? issue.expected})`;
      return `expected ${ARTICLE[issue.expected] ?? issue.expected}, got ${describeInput(input)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeInput(input)}`;
    case 'invalid_union': {
      const disc = (issue as { discriminator?: string }).discriminator;
      if (disc || (issue as { note?: string }).note === 'No matching discriminator') {
        const found = describeInput(
          input && typeof input === 'object' ? (input as Record<string, unknown>)[disc ?? 'type'] : input,
        );
        const valid = issue.path[0] === 'sources' ? ` (expected one of ${SOURCE_TYPES.join(', ')})` : '';
        return `unknown or missing type ${found}${valid}`;
      }
      return `${issue.message}, got ${describeInput(input)}`;
    }
    case 'too_small':
      return `must be at least ${String(issue.minimum)}${issue.origin === 'string' ? ' characters long' : issue.origin === 'array' ? ' items' : ''}, got ${describeInput(input)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}${issue.origin === 'string' ? ' characters long' : issue.origin === 'array' ? ' items' : ''}, got ${describeInput(input)}`;
    case 'invalid_format':
      return `${issue.message}, got ${describeInput(input)}`;
    default:
      return input !== undefined && issue.code !== 'custom'
        ? `${issue.message}, got ${describeInput(input)}`
        : issue.message;
  }
}

function finish(config: VigilConfig, home: string): VigilConfig {
  config.storage.path = expandHome(config.storage.path, home);
  return config;
}
