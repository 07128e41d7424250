/** The `prometheus` source: scrapes node_exporter-style targets and maps them to the standard VM metrics. */
import { readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse as parseYaml } from 'yaml';
import type { PrometheusSourceConfig } from '../../config/sections/sources.ts';
import type { Labels, Sample } from '../../model/index.ts';
import { METRIC_NAME_RE } from '../../model/index.ts';
import type { CollectContext, Source, Target, TargetResult } from '../source.ts';
import { type Exposition, ExpositionError, parseExposition } from './exposition.ts';
import { deriveHostMetrics, type HostReading } from './host-metrics.ts';
import { readingFromExposition } from './node-exporter.ts';

export interface PrometheusSourceOptions {
  /** Resolves `targets_file` relative to the config file's folder. */
  readonly baseDir?: string;
  /** Performs one HTTP GET; injectable for tests. Defaults to global fetch. */
  readonly fetch?: typeof fetch;
}

interface Previous {
  readonly reading: HostReading;
  readonly at: number;
}

const RESERVED_LABELS = new Set(['vm', 'source', 'tenant']);

export class PrometheusSource implements Source {
  readonly name: string;
  readonly type = 'prometheus';
  private readonly config: PrometheusSourceConfig;
  private readonly keep: RegExp | null;
  private readonly fetchFn: typeof fetch;
  private readonly baseDir: string;
  private readonly previous = new Map<string, Previous>();
  private fileTargets: { key: string; targets: Target[] } | null = null;
  private counts = {
    targets: 0,
    scrapes: 0,
    successes: 0,
    failures: 0,
    parse_errors: 0,
    targets_file_reads: 0,
    targets_file_errors: 0,
  };

  constructor(config: PrometheusSourceConfig, opts: PrometheusSourceOptions = {}) {
    this.config = config;
    this.name = config.name ?? 'prometheus';
    this.keep = config.keep ? new RegExp(`^(?:${config.keep})$`) : null;
    this.fetchFn = opts.fetch ?? fetch;
    this.baseDir = opts.baseDir ?? process.cwd();
  }

  async discover(_ctx: CollectContext): Promise<Target[]> {
    const targets: Target[] = this.config.targets.map((t) =>
      typeof t === 'string' ? this.target(t, undefined, {}) : this.target(t.target, t.vm, t.labels),
    );
    if (this.config.targets_file) {
      try {
        targets.push(...(await this.readTargetsFile(this.config.targets_file)));
      } catch (e) {
        // As Prometheus' file_sd: a file that cannot be read or parsed keeps the last good targets (the error
        // surfaces when there are none yet).
        this.counts.targets_file_errors++;
        if (!this.fileTargets) throw e;
        targets.push(...this.fileTargets.targets);
      }
    }
    const seen = new Set<string>();
    const unique: Target[] = [];
    for (const t of targets) {
      if (seen.has(t.address!)) continue;
      seen.add(t.address!);
      unique.push(t);
    }
    for (const key of this.previous.keys()) if (!seen.has(key)) this.previous.delete(key);
    this.counts.targets = unique.length;
    return unique;
  }

  async collect(targets: readonly Target[], ctx: CollectContext): Promise<TargetResult[]> {
    return Promise.all(targets.map((t) => this.scrapeTarget(t, ctx)));
  }

  stats(): Record<string, number> {
    return { ...this.counts };
  }

  private target(address: string, vm: string | undefined, labels: Record<string, string>): Target {
    const url = toUrl(address, this.config.scheme, this.config.metrics_path);
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return {
      vm: vm ?? labels.vm ?? host,
      address: url,
      labels: {
        ...this.config.labels,
        ...Object.fromEntries(Object.entries(labels).filter(([k]) => k !== 'vm')),
        source: this.name,
        tenant: this.config.tenant,
      },
    };
  }

  /** Re-reads the file only when its size or modification time changed. */
  private async readTargetsFile(file: string): Promise<Target[]> {
    const path = file.startsWith('/') ? file : `${this.baseDir}/${file}`;
    let key: string;
    try {
      const st = await stat(path);
      key = `${st.mtimeMs}:${st.size}`;
    } catch (e) {
      throw new Error(`cannot read targets_file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (this.fileTargets?.key === key) return this.fileTargets.targets;
    const text = await readFile(path, 'utf8');
    this.counts.targets_file_reads++;
    let groups: unknown;
    try {
      groups = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (e) {
      throw new Error(
        `targets_file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
      );
    }
    if (!Array.isArray(groups))
      throw new Error(`targets_file ${path}: expected a list of {targets: [...], labels: {...}}`);
    const targets: Target[] = [];
    groups.forEach((g, i) => {
      const group = g as { targets?: unknown; labels?: unknown };
      if (!Array.isArray(group?.targets) || !group.targets.every((t) => typeof t === 'string')) {
        throw new Error(`targets_file ${path}: entry ${i} needs "targets", a list of "host:port" strings`);
      }
      const labels = (group.labels ?? {}) as Record<string, unknown>;
      if (typeof labels !== 'object' || Object.values(labels).some((v) => typeof v !== 'string')) {
        throw new Error(`targets_file ${path}: entry ${i} "labels" must map names to strings`);
      }
      for (const t of group.targets as string[]) {
        targets.push(this.target(t, undefined, labels as Record<string, string>));
      }
    });
    this.fileTargets = { key, targets };
    return targets;
  }

  private async scrape(url: string, signal: AbortSignal): Promise<Exposition> {
    this.counts.scrapes++;
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        signal,
        headers: { accept: 'text/plain;version=0.0.4;q=0.9,*/*;q=0.1' },
      });
    } catch (e) {
      throw new Error(describeFetchError(e, signal));
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status} from ${url}`);
    }
    const text = await res.text();
    try {
      return parseExposition(text);
    } catch (e) {
      if (e instanceof ExpositionError) {
        this.counts.parse_errors++;
        throw new Error(`invalid exposition format (${e.message})`);
      }
      throw e;
    }
  }

  private async scrapeTarget(target: Target, ctx: CollectContext): Promise<TargetResult> {
    const url = target.address!;
    try {
      let exp = await this.scrape(url, ctx.signal);
      let reading = readingFromExposition(exp);
      let prev = this.previous.get(url);
      let elapsedMs = prev ? ctx.now - prev.at : 0;
      if (!prev && this.config.prime > 0) {
        // First contact: a second scrape shortly after gives rates from the first cycle.
        await sleep(this.config.prime, undefined, { signal: ctx.signal });
        prev = { reading, at: ctx.now };
        exp = await this.scrape(url, ctx.signal);
        reading = readingFromExposition(exp);
        elapsedMs = this.config.prime;
      }
      this.previous.set(url, { reading, at: ctx.now });
      const labels: Labels = { ...target.labels, vm: target.vm };
      const samples: Sample[] = [];
      const derived = deriveHostMetrics(prev?.reading, reading, { intervalMs: ctx.intervalMs, elapsedMs });
      for (const [metric, value] of Object.entries(derived)) samples.push({ metric, labels, ts: ctx.now, value });
      if (this.keep) samples.push(...this.customSamples(exp, labels, ctx.now));
      if (samples.length === 0) throw new Error('the target exposes none of the node_exporter metrics');
      this.counts.successes++;
      return { target, samples };
    } catch (e) {
      this.counts.failures++;
      return { target, samples: [], error: ctx.signal.aborted ? 'Connection timeout' : (e as Error).message };
    }
  }

  private customSamples(exp: Exposition, labels: Labels, now: number): Sample[] {
    const out: Sample[] = [];
    for (const s of exp.samples) {
      if (!this.keep!.test(s.name) || !METRIC_NAME_RE.test(s.name) || !Number.isFinite(s.value)) continue;
      const own: Record<string, string> = {};
      for (const [k, v] of Object.entries(s.labels)) own[RESERVED_LABELS.has(k) ? `exported_${k}` : k] = v;
      out.push({ metric: s.name, labels: { ...own, ...labels }, ts: s.timestampMs ?? now, value: s.value });
    }
    return out;
  }
}

function toUrl(address: string, scheme: string, path: string): string {
  if (/^https?:\/\//.test(address)) return new URL(address).href;
  return new URL(`${scheme}://${address}${path}`).href;
}

/** A short, user-facing reason for a failed request (no stack traces). */
export function describeFetchError(e: unknown, signal?: AbortSignal): string {
  if (signal?.aborted) return 'Connection timeout';
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const code = err.cause?.code;
  if (code === 'ECONNREFUSED') return 'Connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'Host not found';
  if (code === 'ECONNRESET') return 'Connection reset';
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return 'Connection timeout';
  return err.cause?.message ?? err.message;
}
