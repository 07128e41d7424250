import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isMap, isSeq, parseDocument } from 'yaml';
import { DEFAULT_RULE_INPUTS } from '../alerting/default-rules.ts';
import { ConfigError, keepLayout, parseConfigText, type VigilConfig } from '../config/index.ts';
import { ApiError } from './errors.ts';

/**
 * Rules CRUD on the YAML config file (as `vigil alert add|enable|disable` does): edits keep comments and every
 * untouched line as written (keepLayout), the whole result is validated as a config before the file is replaced
 * atomically, and the new config is returned so the caller can reload the rules in force.
 */
export class RulesFile {
  private readonly path: string;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly home: string | undefined;

  constructor(path: string, env: Readonly<Record<string, string | undefined>> = {}, home?: string) {
    if (!/\.ya?ml$/.test(path)) throw new Error(`${path}: rules can be edited in YAML config files only`);
    this.path = path;
    this.env = env;
    this.home = home;
  }

  private edit(change: (doc: ReturnType<typeof parseDocument>) => void): VigilConfig {
    const original = existsSync(this.path) ? readFileSync(this.path, 'utf8') : 'rules: []\n';
    const doc = parseDocument(original);
    if (doc.errors.length > 0)
      throw new ApiError(409, 'conflict', `${this.path}: ${doc.errors[0]!.message.split('\n')[0]}`);
    const rules = doc.get('rules', true);
    // A file without rules runs the defaults: make them explicit before editing so none disappear.
    if (!isSeq(rules) || rules.items.length === 0)
      doc.set('rules', doc.createNode(DEFAULT_RULE_INPUTS.map((r) => ({ ...r }))));
    change(doc);
    const text = keepLayout(original, doc.toString());
    let config: VigilConfig;
    try {
      config = parseConfigText(text, this.path, { env: this.env, home: this.home });
    } catch (e) {
      if (e instanceof ConfigError)
        throw new ApiError(400, 'invalid_rule', `the change would make the config invalid: ${e.message}`);
      throw e;
    }
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, this.path);
    return config;
  }

  private index(doc: ReturnType<typeof parseDocument>, name: string): number {
    const rules = doc.get('rules', true);
    if (!isSeq(rules)) return -1;
    return rules.items.findIndex((item) => isMap(item) && item.get('name') === name);
  }

  /** The rule named `name` as written in the file (or the defaults a file without rules runs), or null. */
  get(name: string): Record<string, unknown> | null {
    if (!existsSync(this.path)) return DEFAULT_RULE_INPUTS.find((r) => r.name === name) ?? null;
    const doc = parseDocument(readFileSync(this.path, 'utf8'));
    if (doc.errors.length > 0) return null;
    const rules = doc.get('rules', true);
    if (!isSeq(rules) || rules.items.length === 0)
      return (DEFAULT_RULE_INPUTS.find((r) => r.name === name) as Record<string, unknown> | undefined) ?? null;
    const item = rules.items.find((i) => isMap(i) && i.get('name') === name);
    return item ? (item as { toJSON(): Record<string, unknown> }).toJSON() : null;
  }

  /** Adds or replaces the rule with this `name`. */
  upsert(rule: Record<string, unknown>): VigilConfig {
    if (typeof rule.name !== 'string' || !rule.name) throw new ApiError(400, 'invalid_rule', 'name: required');
    return this.edit((doc) => {
      const i = this.index(doc, rule.name as string);
      if (i >= 0) doc.setIn(['rules', i], doc.createNode(rule));
      else doc.addIn(['rules'], doc.createNode(rule));
    });
  }

  /** Changes some fields of an existing rule (a `null` value removes the field); the rest and comments stay. */
  patch(name: string, fields: Record<string, unknown>): VigilConfig {
    if ('name' in fields && fields.name !== name)
      throw new ApiError(400, 'invalid_rule', 'name: a rule cannot be renamed; add a new one and delete this one');
    return this.edit((doc) => {
      const i = this.index(doc, name);
      if (i < 0) throw new ApiError(404, 'not_found', `no rule named "${name}" in ${this.path}`);
      for (const [k, v] of Object.entries(fields)) {
        if (k === 'name') continue;
        if (v === null) doc.deleteIn(['rules', i, k]);
        else doc.setIn(['rules', i, k], doc.createNode(v));
      }
    });
  }

  setEnabled(name: string, enabled: boolean): VigilConfig {
    return this.edit((doc) => {
      const i = this.index(doc, name);
      if (i < 0) throw new ApiError(404, 'not_found', `no rule named "${name}" in ${this.path}`);
      doc.setIn(['rules', i, 'enabled'], enabled);
    });
  }

  remove(name: string): VigilConfig {
    return this.edit((doc) => {
      const i = this.index(doc, name);
      if (i < 0) throw new ApiError(404, 'not_found', `no rule named "${name}" in ${this.path}`);
      doc.deleteIn(['rules', i]);
    });
  }
}
