import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type Document, isMap, isSeq, parseDocument } from 'yaml';
import { DEFAULT_RULE_INPUTS, DEFAULT_RULES } from '../../alerting/default-rules.ts';
import { type AlertRule, compileRule, effectiveRules, VM_UNREACHABLE_RULE } from '../../alerting/rule.ts';
import { formatDuration } from '../../config/duration-text.ts';
import { ConfigError, findConfigPath, keepLayout, parseConfigText, type VigilConfig } from '../../config/index.ts';
import { COMPARISONS, type RuleInput, ruleSchema, SEVERITIES } from '../../config/sections/rules.ts';
import { type CliIo, globalOptions, loadEffectiveConfig, UserError } from '../context.ts';
import { table } from './alerts.ts';

function condition(r: AlertRule): string {
  if (r.type === 'no_data') return 'no data';
  const agg = r.aggregate ? `${r.aggregate.fn}(${r.metric}[${formatDuration(r.aggregate.windowMs)}])` : r.metric;
  return `${agg} ${r.comparison} ${r.threshold}`;
}

interface EditableConfig {
  readonly path: string;
  readonly doc: Document.Parsed;
  /** The file's text as read, whose untouched lines the saved file keeps byte for byte. */
  readonly original: string;
}

function openForEdit(cmd: Command, io: CliIo, createIfMissing: boolean): EditableConfig {
  const explicit = globalOptions(cmd).config;
  const path = explicit ? resolve(io.cwd, explicit) : findConfigPath({ cwd: io.cwd, home: io.env.HOME });
  if (!path)
    throw new UserError(
      'no config file found (./vigil.yaml or ~/.vigil/config.yaml); run `vigil config init` or pass --config FILE',
    );
  if (path.endsWith('.json'))
    throw new UserError(`${path}: editing rules is supported for YAML config files only; edit the JSON by hand`);
  if (!existsSync(path)) {
    if (!createIfMissing) throw new UserError(`config file ${path} does not exist`);
    return { path, doc: parseDocument('rules: []\n'), original: 'rules: []\n' };
  }
  const original = readFileSync(path, 'utf8');
  const doc = parseDocument(original);
  if (doc.errors.length > 0) throw new UserError(`${path}: ${doc.errors[0]!.message.split('\n')[0]}`);
  return { path, doc, original };
}

/**
 * The index of a rule in the file's `rules:` list, or -1. Seeds the defaults first when the file lists none
 * (without the no-data rule when `alerting.vm_unreachable` is off: a listed rule would turn it back on).
 */
function ruleIndex(doc: Document.Parsed, name: string, seedDefaults: boolean, noDataOn = true): number {
  let rules = doc.get('rules', true);
  if (!isSeq(rules) || rules.items.length === 0) {
    if (!seedDefaults) return -1;
    const seed = DEFAULT_RULE_INPUTS.filter((r) => noDataOn || r.type !== 'no_data').map((r) => ({ ...r }));
    doc.set('rules', doc.createNode(seed));
    rules = doc.get('rules', true);
  }
  if (!isSeq(rules)) return -1;
  return rules.items.findIndex((item) => isMap(item) && item.get('name') === name);
}

/** Validates the edited text as a whole config, then replaces the file atomically. */
function save(e: EditableConfig, io: CliIo): void {
  const text = keepLayout(e.original, e.doc.toString());
  try {
    parseConfigText(text, e.path, { env: io.env, home: io.env.HOME });
  } catch (err) {
    if (err instanceof ConfigError) throw new UserError(`the change would make the config invalid:\n${err.message}`);
    throw err;
  }
  const tmp = `${e.path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, e.path);
}

/** The built-in no-data rule as YAML input, for an explicit override (`enabled: false`). */
const VM_UNREACHABLE_INPUT: RuleInput = {
  name: VM_UNREACHABLE_RULE.name,
  type: 'no_data',
  for: '5m',
  severity: 'warning',
  enabled: false,
};

/** What is in force for a rule name: listed (in this file or an included one), the built-in no-data rule, or neither. */
function ruleOrigin(config: VigilConfig, name: string): 'listed' | 'default' | 'builtin' | 'builtin-off' | null {
  if (config.rules.some((r) => r.name === name)) return 'listed';
  if (config.rules.length === 0 && DEFAULT_RULES.some((r) => r.name === name && r.type !== 'no_data')) return 'default';
  if (name !== VM_UNREACHABLE_RULE.name || config.rules.some((r) => r.type === 'no_data')) return null;
  return config.alerting.vm_unreachable ? 'builtin' : 'builtin-off';
}

export function register(program: Command, io: CliIo): void {
  const alert = program
    .command('alert')
    .description('Manage alert rules in the config file (a running `vigil up` picks changes up)');

  alert
    .command('list')
    .description('List the alert rules in force')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const { config } = loadEffectiveConfig(cmd, io);
      const rules = effectiveRules(config.rules, config.alerting, DEFAULT_RULES);
      const origin = (r: { name: string }) =>
        config.rules.some((c) => c.name === r.name)
          ? 'config'
          : ruleOrigin(config, r.name) === 'builtin'
            ? 'built-in'
            : 'default';
      // The built-in no-data rule turned off (alerting.vm_unreachable: false) is listed as such, not hidden.
      const off = ruleOrigin(config, VM_UNREACHABLE_RULE.name) === 'builtin-off';
      if (off) rules.push({ ...compileRule(VM_UNREACHABLE_RULE), enabled: false });
      const originOf = (r: { name: string }) =>
        off && r.name === VM_UNREACHABLE_RULE.name ? 'built-in (alerting.vm_unreachable: false)' : origin(r);
      if (opts.json) {
        io.stdout.write(
          `${JSON.stringify(
            rules.map(({ matches: _m, ...r }) => ({ ...r, origin: originOf(r) })),
            null,
            2,
          )}\n`,
        );
        return;
      }
      io.stdout.write(
        table([
          ['NAME', 'CONDITION', 'FOR', 'SEVERITY', 'ENABLED', 'CHANNELS', 'ORIGIN'],
          ...rules.map((r) => [
            r.name,
            condition(r),
            formatDuration(r.forMs),
            r.severity,
            r.enabled ? 'yes' : 'no',
            r.channels.join(',') || '-',
            originOf(r),
          ]),
        ]),
      );
    });

  alert
    .command('add <name>')
    .description('Add a threshold rule, e.g. `vigil alert add high_load --metric load1 --threshold 8 --for 5m`')
    .requiredOption('--metric <metric>', 'metric name, e.g. cpu_percent')
    .requiredOption('--threshold <number>', 'threshold value')
    .option('--comparison <op>', `one of ${COMPARISONS.join(' ')}`, '>')
    .option('--severity <severity>', `one of ${[...SEVERITIES, 'auto'].join(', ')}`, 'warning')
    .option('--for <duration>', 'how long the condition must hold, e.g. 5m')
    .option('--channels <list>', 'notification channels, comma separated, e.g. slack,email')
    .option('--recovery-threshold <number>', 'resolve only once the value crosses this level')
    .option('--aggregate <fn>', 'evaluate avg|min|max|p95|... over --window instead of the latest value')
    .option('--window <duration>', 'aggregation window, e.g. 5m')
    .option('--match <matcher...>', 'label matchers name=value or name=~regex')
    .action(
      (
        name: string,
        opts: {
          metric: string;
          threshold: string;
          comparison: string;
          severity: string;
          for?: string;
          channels?: string;
          recoveryThreshold?: string;
          aggregate?: string;
          window?: string;
          match?: string[];
        },
        cmd: Command,
      ) => {
        const threshold = Number(opts.threshold);
        if (opts.threshold.trim() === '' || !Number.isFinite(threshold))
          throw new UserError(`invalid --threshold "${opts.threshold}": expected a number`);
        const rule: Record<string, unknown> = {
          name,
          metric: opts.metric,
          threshold,
          comparison: opts.comparison,
          severity: opts.severity,
          enabled: true,
        };
        if (opts.for !== undefined) rule.for = opts.for;
        if (opts.aggregate !== undefined) rule.aggregate = opts.aggregate;
        if (opts.window !== undefined) rule.window = opts.window;
        if (opts.recoveryThreshold !== undefined) rule.recovery_threshold = Number(opts.recoveryThreshold);
        if (opts.channels !== undefined)
          rule.notification_channels = opts.channels
            .split(',')
            .map((c) => c.trim())
            .filter(Boolean);
        if (opts.match?.length) {
          const match: Record<string, string> = {};
          for (const m of opts.match) {
            const parsed = /^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)(.*)$/.exec(m);
            if (!parsed)
              throw new UserError(
                `invalid --match "${m}": expected name=value, name!=value, name=~regex or name!~regex`,
              );
            match[parsed[1]!] = parsed[2] === '=' ? parsed[3]! : `${parsed[2]}${parsed[3]}`;
          }
          rule.match = match;
        }
        const checked = ruleSchema.safeParse(rule);
        if (!checked.success) {
          const issue = checked.error.issues[0]!;
          throw new UserError(
            `invalid rule ${name}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`,
          );
        }
        const e = openForEdit(cmd, io, true);
        // Rules from included files count too: defaults are only in force when no file lists any rule.
        const inForce = existsSync(e.path) ? loadEffectiveConfig(cmd, io).config.rules : [];
        if (inForce.some((r) => r.name === name)) throw new UserError(`rule ${name} already exists`);
        const seed = inForce.length === 0;
        if (ruleIndex(e.doc, name, seed) >= 0) throw new UserError(`rule ${name} already exists in ${e.path}`);
        e.doc.addIn(['rules'], e.doc.createNode(rule as RuleInput));
        save(e, io);
        if (seed)
          io.stdout.write(`Wrote the default rules to ${e.path} so they stay in force alongside the new one.\n`);
        io.stdout.write(`Added rule ${name} to ${e.path}\n`);
      },
    );

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    alert
      .command(`${verb} <name>`)
      .description(`${verb === 'enable' ? 'Enable' : 'Disable'} a rule`)
      .action((name: string, _opts: unknown, cmd: Command) => {
        const e = openForEdit(cmd, io, false);
        const { config } = loadEffectiveConfig(cmd, io);
        const origin = ruleOrigin(config, name);
        const noDataOn = config.alerting.vm_unreachable;
        const i = ruleIndex(e.doc, name, origin === 'default' || origin === 'builtin', noDataOn);
        if (i >= 0) {
          e.doc.setIn(['rules', i, 'enabled'], enabled);
          save(e, io);
          io.stdout.write(`Rule ${name} ${enabled ? 'enabled' : 'disabled'} in ${e.path}\n`);
          return;
        }
        if (origin === 'builtin' && !enabled) {
          // The built-in rule is added only while no no-data rule is listed: an explicit disabled one overrides it.
          e.doc.addIn(['rules'], e.doc.createNode(VM_UNREACHABLE_INPUT));
          save(e, io);
          io.stdout.write(
            `Rule ${name} (built in) disabled: added it to ${e.path} with enabled: false (\`vigil alert enable ${name}\` turns it back on)\n`,
          );
          return;
        }
        if (origin === 'builtin-off' && enabled) {
          e.doc.setIn(['alerting', 'vm_unreachable'], true);
          save(e, io);
          io.stdout.write(`Rule ${name} (built in) enabled: set alerting.vm_unreachable: true in ${e.path}\n`);
          return;
        }
        if (origin === 'builtin' || origin === 'builtin-off') {
          io.stdout.write(`Rule ${name} (built in) is already ${enabled ? 'enabled' : 'disabled'}; nothing changed\n`);
          return;
        }
        throw new UserError(`no rule named ${name} in ${e.path} (it may come from an included file)`);
      });
  }

  alert
    .command('remove <name>')
    .alias('delete')
    .description('Remove a rule from the config file')
    .action((name: string, _opts: unknown, cmd: Command) => {
      const e = openForEdit(cmd, io, false);
      const { config } = loadEffectiveConfig(cmd, io);
      const origin = ruleOrigin(config, name);
      const noDataOn = config.alerting.vm_unreachable;
      const i = ruleIndex(e.doc, name, origin === 'default' || origin === 'builtin', noDataOn);
      const inForce = effectiveRules(config.rules, config.alerting, DEFAULT_RULES);
      const wasNoData = inForce.some((r) => r.name === name && r.type === 'no_data');
      // Removing the last no-data rule would bring the built-in vm_unreachable back: turn that off too.
      const builtinComesBack = wasNoData && noDataOn && !inForce.some((r) => r.type === 'no_data' && r.name !== name);
      if (i < 0 && !builtinComesBack) {
        if (origin === 'builtin-off') {
          io.stdout.write(`Rule ${name} (built in) is already off (alerting.vm_unreachable: false); nothing changed\n`);
          return;
        }
        throw new UserError(`no rule named ${name} in ${e.path} (it may come from an included file)`);
      }
      if (i >= 0) e.doc.deleteIn(['rules', i]);
      if (builtinComesBack) e.doc.setIn(['alerting', 'vm_unreachable'], false);
      save(e, io);
      if (i >= 0) io.stdout.write(`Removed rule ${name} from ${e.path}\n`);
      if (builtinComesBack)
        io.stdout.write(
          `The built-in no-data rule ${VM_UNREACHABLE_RULE.name} is off: set alerting.vm_unreachable: false in ${e.path} (\`vigil alert enable ${VM_UNREACHABLE_RULE.name}\` turns it back on)\n`,
        );
    });
}
