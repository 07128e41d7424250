import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { parseConfigText, type VigilConfig } from '../../config/index.ts';
import { type CliIo, loadEffectiveConfig, UserError } from '../context.ts';

/** The commented starter config written by `vigil config init`; it must validate as is. */
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

# Alert rules: the seed design's five, plus the no-data rule (docs/alerting.md).
rules:
  - name: high_cpu
    metric: cpu_percent
    threshold: 80
    comparison: ">"
    for: 1m
    severity: warning
  - name: critical_cpu
    metric: cpu_percent
    threshold: 95
    comparison: ">"
    for: 1m
    severity: critical
  - name: high_memory
    metric: memory_percent
    threshold: 85
    comparison: ">"
    for: 1m
    severity: warning
  - name: critical_memory
    metric: memory_percent
    threshold: 95
    comparison: ">"
    for: 1m
    severity: critical
  - name: disk_space
    metric: disk_percent
    threshold: 90
    comparison: ">"
    for: 1m
    severity: warning
  - name: vm_unreachable
    type: no_data             # a VM whose collection fails or that stops reporting
    for: 5m
    severity: warning
  # - name: cpu_anomaly       # behaviour abnormal for the VM, even below thresholds
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
#     to: [ops@example.com]
# notifications:
#   routes:
#     - severities: [critical, emergency]
#       channels: [slack, email]
`;

const SECRET_KEY_RE = /password|secret|token|webhook_url|api_key|routing_key|auth/i;
const URL_CREDENTIALS_RE = /^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i;

/** Returns a copy with secret-looking keys and credentials inside URLs replaced by `****`. */
export function maskSecrets(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, key));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskSecrets(v, k);
    return out;
  }
  if (key && SECRET_KEY_RE.test(key) && value !== undefined && value !== null && value !== '') return '****';
  if (typeof value === 'string' && URL_CREDENTIALS_RE.test(value)) return value.replace(URL_CREDENTIALS_RE, '$1****@');
  return value;
}

function summary(config: VigilConfig): string {
  const enabled = config.rules.filter((r) => r.enabled).length;
  const sources = config.sources.map((s) => s.type).join(', ') || 'none';
  const channels = Object.keys(config.notification_config).length;
  return `${config.rules.length} rules (${enabled} enabled), sources: ${sources}, ${channels} notification channels, storage: ${config.storage.url ? 'postgres' : config.storage.path}`;
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
      if (file) {
        const path = resolve(io.cwd, file);
        let text: string;
        try {
          text = readFileSync(path, 'utf8');
        } catch (e) {
          throw new UserError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        config = parseConfigText(text, path, { env: io.env, home: io.env.HOME });
        shown = file;
      } else {
        const loaded = loadEffectiveConfig(cmd, io);
        config = loaded.config;
        shown = loaded.path ?? 'built-in defaults';
      }
      io.stdout.write(`ok ${shown}: ${summary(config)}\n`);
    });

  group
    .command('show')
    .description('print the effective configuration with secrets masked')
    .option('--json', 'print JSON instead of YAML')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const { config } = loadEffectiveConfig(cmd, io);
      const masked = maskSecrets(config);
      io.stdout.write(opts.json ? `${JSON.stringify(masked, null, 2)}\n` : stringify(masked));
    });
}
