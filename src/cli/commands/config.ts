import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Document, isMap, isNode, isScalar, isSeq, stringify } from 'yaml';
import { DEFAULT_RULE_INPUTS, DEFAULT_RULES } from '../../alerting/default-rules.ts';
import { rulesInForce } from '../../alerting/rule.ts';
import { toFileForm } from '../../config/file-form.ts';
import { type ConfigProblem, formatProblem, maskSecrets, parseConfig, type VigilConfig } from '../../config/index.ts';
import { configObjectSchema } from '../../config/schema.ts';
import type { RuleConfig, RuleInput } from '../../config/sections/rules.ts';
import { type CliIo, loadEffectiveConfig, UserError } from '../context.ts';

/** Comments the starter file puts after a field of a default rule. */
const RULE_COMMENTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  vm_unreachable: { type: 'a VM whose collection fails or that stops reporting' },
};

/** YAML for a list of rules (one `- name:` block each, in field order, lists in flow style), with comments. */
export function rulesYaml(rules: readonly RuleInput[], indent = '  '): string {
  const lines: string[] = [];
  for (const rule of rules) {
    let first = true;
    for (const [key, value] of Object.entries(rule)) {
      if (value === undefined) continue;
      const text = `${indent}${first ? '- ' : '  '}${key}: ${stringify(value, { collectionStyle: 'flow', flowCollectionPadding: false }).trimEnd()}`;
      const comment = RULE_COMMENTS[rule.name]?.[key];
      lines.push(comment ? `${text.padEnd(29)} # ${comment}` : text);
      first = false;
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The commented starter config written by `vigil config init`; it must validate as is and equal the defaults. */
export const STARTER_CONFIG = `# Vigil configuration. Every field is optional; the values below are the defaults.
# Durations: 30s, 5m, 1h, 7d. Environment: \${VAR} or \${VAR:-default}. Reference: docs/configuration.md.

storage:
  path: ~/.vigil/metrics.db   # SQLite file
  retention:
    raw: 7d                   # raw samples
    hourly: 30d               # hourly rollups
    daily: 90d                # daily rollups

collection:
  interval: 60s               # 10s to 1h
  timeout: 30s                # per VM (per batch)
  max_workers: 10             # batches collected in parallel

# Where metrics come from. host = this machine, demo = a simulated fleet (labelled source=demo).
# Also: azure, ssh, prometheus (docs/sources.md).
sources:
  - type: host
  - type: demo

# Alert rules: the built-in defaults (the seed design's five, plus the no-data rule) (docs/alerting.md).
# They name the email and slack channels: configure those below, or change the rules' notification_channels.
rules:
${rulesYaml(DEFAULT_RULE_INPUTS)}  # - name: cpu_anomaly       # behaviour abnormal for the VM, even below thresholds
  #   type: anomaly
  #   metric: cpu_percent
  #   threshold: 0.9          # anomaly score 0-1
  # - name: fleet_partition   # fleet failure patterns (cascades, partitions, ...)
  #   type: pattern
  #   pattern: network_partition

alerting:
  renotify: { emergency: 5m, critical: 5m, warning: 30m, info: 1h }
  min_renotify_interval: 15m
  flapping: { threshold: 3, window: 1h }

# HTTP API and web dashboard. Any address other than loopback needs an API token (vigil token create).
server:
  host: 127.0.0.1
  port: 7070

# Notification channels. Keep secrets in the environment, never in this file (docs/notifications.md):
# notification_config:
#   slack:
#     webhook_url: \${SLACK_WEBHOOK_URL}
#   email:
#     smtp_host: smtp.example.com
#     smtp_port: 587
#     username: vigil@example.com
#     password: \${SMTP_PASSWORD}
#     from_address: vigil@example.com
#     to_addresses: [ops@example.com]
# notifications:
#   routes:
#     - severities: [critical, emergency]
#       channels: [slack, email]
`;

/** The rules in force, as config entries, each with why it is there when the file did not list it. */
export function effectiveRuleEntries(config: VigilConfig): { rule: RuleConfig; builtIn: string | null }[] {
  const why = {
    listed: null,
    default: 'built-in default rule',
    builtin: 'built in: alerting.vm_unreachable is on and no no_data rule is listed',
  } as const;
  return rulesInForce(config.rules, config.alerting, DEFAULT_RULES).map((e) => ({
    rule: e.rule,
    builtIn: why[e.origin],
  }));
}

/**
 * The effective config as a config file: durations as text, the rules in force (built-in ones marked),
 * includes inlined, secrets masked. Reading it back gives the same effective config (but for masked secrets).
 */
export function showConfig(config: VigilConfig, format: 'yaml' | 'json', raw: unknown = {}): string {
  const entries = effectiveRuleEntries(config);
  const data = toFileForm(
    { ...config, include: [], rules: entries.map((e) => e.rule) },
    configObjectSchema,
    raw && typeof raw === 'object' ? { ...raw, include: undefined, rules: undefined } : undefined,
  ) as Record<string, unknown>;
  const masked = maskSecrets(data) as Record<string, unknown>;
  if (format === 'json') return `${JSON.stringify(masked, null, 2)}\n`;
  const doc = new Document(masked);
  const rulesNode = doc.get('rules', true);
  if (isSeq(rulesNode)) {
    rulesNode.items.forEach((item, i) => {
      const why = entries[i]?.builtIn;
      if (why && isNode(item)) item.commentBefore = ` ${why}`;
    });
  }
  const notes: string[] = [];
  if (config.rules.length === 0) notes.push(' No rules are configured: the built-in default rules below apply.');
  if (config.include.length > 0)
    notes.push(` The rules and channels of the included files (${config.include.join(', ')}) are shown inline.`);
  if (notes.length > 0 && isMap(doc.contents)) {
    const pair = doc.contents.items.find((p) => isScalar(p.key) && p.key.value === 'rules');
    if (pair && isScalar(pair.key)) pair.key.commentBefore = notes.join('\n');
  }
  return doc.toString();
}

function summary(config: VigilConfig): string {
  const rules = effectiveRuleEntries(config).map((e) => e.rule);
  const enabled = rules.filter((r) => r.enabled).length;
  const sources = config.sources.map((s) => s.type).join(', ') || 'none';
  const channels = Object.keys(config.notification_config).length;
  return `${rules.length} rules (${enabled} enabled${config.rules.length === 0 ? ', built-in defaults' : ''}), sources: ${sources}, ${channels} notification channels, storage: ${config.storage.url ? 'postgres' : config.storage.path}`;
}

export function register(program: Command, io: CliIo): void {
  const group = program.command('config').description('create, check and show the configuration');

  group
    .command('init')
    .description('write a commented starter vigil.yaml')
    .option('--path <file>', 'where to write it', 'vigil.yaml')
    .option('--force', 'overwrite an existing file')
    .action((opts: { path: string; force?: boolean }) => {
      const file = resolve(io.cwd, opts.path);
      if (existsSync(file) && !opts.force)
        throw new UserError(`${opts.path} already exists (use --force to overwrite)`);
      writeFileSync(file, STARTER_CONFIG);
      io.stdout.write(`wrote ${opts.path}\n`);
    });

  group
    .command('validate')
    .description('check a config file (default: the one Vigil would load); exit 2 on errors')
    .argument('[file]', 'config file')
    .action((file: string | undefined, _opts: unknown, cmd: Command) => {
      let config: VigilConfig;
      let shown: string;
      let warnings: readonly ConfigProblem[] = [];
      if (file) {
        const path = resolve(io.cwd, file);
        let text: string;
        try {
          text = readFileSync(path, 'utf8');
        } catch (e) {
          throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        ({ config, warnings } = parseConfig(text, path, { env: io.env, home: io.env.HOME }));
        shown = file;
      } else {
        const loaded = loadEffectiveConfig(cmd, io);
        config = loaded.config;
        warnings = loaded.warnings ?? [];
        shown = loaded.path ?? 'built-in defaults';
      }
      for (const w of warnings) io.stderr.write(`warning: ${formatProblem(w)}\n`);
      io.stdout.write(`ok ${shown}: ${summary(config)}\n`);
    });

  group
    .command('show')
    .description('print the effective configuration with secrets masked')
    .option('--json', 'print JSON instead of YAML')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const { config, raw } = loadEffectiveConfig(cmd, io);
      io.stdout.write(showConfig(config, opts.json ? 'json' : 'yaml', raw));
    });
}
