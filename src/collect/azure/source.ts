/**
 * The `azure` source: VMs discovered through ARM Compute, metrics through Azure Monitor's batch endpoint
 * (≤ 50 VMs of one region per call), falling back to the per-resource ARM metrics API.
 */
import { readFileSync } from 'node:fs';
import { systemClock } from '../../clock.ts';
import type { AzureSourceConfig } from '../../config/sections/sources.ts';
import type { CollectContext, Source, Target, TargetResult } from '../source.ts';
import { type ArmCall, type AzureVm, listSizeMemory, listVmAddresses, listVms, matchesTags } from './arm.ts';
import { AzCliCredential, type AzRunner, execRunner } from './az-cli.ts';
import { AzureApiError, AzureCliError, describeAzureError, vmNameProblem } from './errors.ts';
import { AzureHttp, type Sleep } from './http.ts';
import {
  type ApiMetric,
  batchQuery,
  indexMetrics,
  METRIC,
  metricNames,
  type QueryWindow,
  queryWindow,
  resourceQuery,
  StoredPoints,
  vmSamples,
} from './metrics.ts';

export interface AzureSourceOptions {
  /** Runs `az` (tests inject a fake); default: the configured executable. */
  readonly az?: AzRunner;
  /** Environment for the `az` process (default: this process's). */
  readonly azEnv?: NodeJS.ProcessEnv;
  /** Waits for throttling and backoff; default: real timers. */
  readonly sleep?: Sleep;
  /** Extra CA (PEM) in memory, in addition to `ca_file`. */
  readonly ca?: string;
  /** First backoff step for 5xx/529 (default 1 s). */
  readonly backoffBaseMs?: number;
  readonly random?: () => number;
  /** Parallel per-resource calls in fallback mode (default 8). */
  readonly fallbackConcurrency?: number;
}

const SKU_TTL_MS = 24 * 3_600_000;
/** After this many batch calls in a row exhausted their retries on 529 in one region, pause that region... */
const BREAKER_FAILURES = 3;
/** ...for this long (the next window still covers the gap). */
const BREAKER_OPEN_MS = 120_000;
/**
 * After the batch endpoint refused a subscription with 401 while per-resource calls with the same token worked
 * (no Monitoring Reader on the subscription), that subscription uses per-resource calls for this long, then the
 * batch endpoint is tried again (the role may have been granted).
 */
export const BATCH_UNAUTHORIZED_MS = 3_600_000;
/** What each VM says when `az` cannot give a token (the source's error says why and how to fix it). */
export const AZ_PROBLEM_VM_MESSAGE = 'no Azure access token (see the source error)';

/** A discovered VM and where to reach it, for sources that log in to VMs (`ssh` with `from: azure`). */
export interface AzureVmEndpoint {
  readonly vm: string;
  readonly labels: Target['labels'];
  readonly privateIp: string | null;
  readonly publicIp: string | null;
}
/** Errors that mean "the batch endpoint is not there", so per-resource calls are the way. */
const BATCH_UNAVAILABLE = new Set(['HostNotFound', 'ConnectionRefused', 'HTTP404', 'HTTP405', 'HTTP501', 'NotFound']);

interface VmState {
  readonly vm: AzureVm;
  readonly stored: StoredPoints;
}

interface BatchValue {
  resourceid?: string;
  value?: ApiMetric[];
  error?: { code?: string; message?: string };
}

export class AzureSource implements Source {
  readonly name: string;
  readonly type = 'azure';
  readonly batchSize: number;
  readonly discoverEveryMs: number;
  private readonly config: AzureSourceConfig;
  private readonly credential: AzCliCredential;
  private readonly http: AzureHttp;
  private readonly fallbackConcurrency: number;
  private subscription: string | undefined;
  private readonly vms = new Map<string, VmState>();
  private readonly sizeMemory = new Map<string, { fetchedAt: number; memory: Map<string, number> }>();
  /** Regions where the batch endpoint proved unavailable: per-resource calls there. */
  private readonly batchUnavailable = new Set<string>();
  /** Subscription (lower-case) → until when the batch endpoint is skipped because it answered 401. */
  private readonly batchUnauthorized = new Map<string, number>();
  /** Subscriptions already told about (one note per subscription per run). */
  private readonly notedUnauthorized = new Set<string>();
  /** An `az` failure met while collecting (logged out mid-run): the source's error until a call works again. */
  private cliProblem: string | null = null;
  /** One-time notes for the log, taken by the scheduler. */
  private notices: string[] = [];
  private withMemoryPercent = true;
  private endpointCache: { discovery: number; endpoints: AzureVmEndpoint[] } | null = null;
  /** Per region: consecutive batch calls that ended in 529, and until when calls are paused. */
  private readonly breakers = new Map<string, { failures: number; openUntil: number }>();
  private counts = {
    targets: 0,
    successes: 0,
    failures: 0,
    batch_calls: 0,
    fallback_calls: 0,
    discoveries: 0,
    samples: 0,
  };

  constructor(config: AzureSourceConfig, opts: AzureSourceOptions = {}) {
    this.config = config;
    this.name = config.name ?? 'azure';
    this.batchSize = config.batch ? config.batch_size : 1;
    this.discoverEveryMs = config.discover_every;
    this.fallbackConcurrency = opts.fallbackConcurrency ?? 8;
    let ca: string | undefined = opts.ca;
    if (config.ca_file) {
      try {
        ca = `${readFileSync(config.ca_file, 'utf8')}\n${ca ?? ''}`;
      } catch (e) {
        throw new Error(
          `source ${this.name}: cannot read ca_file ${config.ca_file}: ${(e as NodeJS.ErrnoException).code}`,
        );
      }
    }
    this.credential = new AzCliCredential(opts.az ?? execRunner(config.az_path, opts.azEnv));
    this.http = new AzureHttp({
      tokens: this.credential,
      sleep: opts.sleep ?? systemClock.sleep,
      ...(ca ? { ca } : {}),
      ...(opts.backoffBaseMs !== undefined ? { backoffBaseMs: opts.backoffBaseMs } : {}),
      ...(opts.random ? { random: opts.random } : {}),
    });
  }

  async discover(ctx: CollectContext): Promise<Target[]> {
    this.counts.discoveries++;
    try {
      this.subscription ??= this.config.subscription_id ?? (await this.credential.defaultSubscription());
      const call = this.armCall(ctx);
      const all = await listVms(this.http, this.subscription, this.config.resource_groups, call);
      const wanted = all.filter(
        (vm) =>
          matchesTags(vm.tags, this.config.tags) &&
          (this.config.include_stopped || vm.powerState === null || vm.powerState === 'running'),
      );
      await this.refreshSizeMemory(wanted, ctx);
      const keep = new Set<string>();
      for (const vm of wanted) {
        const key = vm.id.toLowerCase();
        keep.add(key);
        const existing = this.vms.get(key);
        this.vms.set(key, { vm, stored: existing?.stored ?? new StoredPoints() });
      }
      for (const key of this.vms.keys()) if (!keep.has(key)) this.vms.delete(key);
      // Region-sorted, so the scheduler's consecutive groups of `batchSize` share a region (one call each).
      const targets = wanted
        .sort((a, b) => a.location.localeCompare(b.location) || a.id.localeCompare(b.id))
        .map((vm) => this.target(vm));
      this.counts.targets = targets.length;
      return targets;
    } catch (e) {
      if (e instanceof AzureCliError) throw e;
      const error: Error & { retryAtMs?: number } = new Error(`Azure discovery failed: ${describeAzureError(e)}`);
      // Throttled with a long Retry-After: the scheduler does not try again before Azure allows it.
      if (e instanceof AzureApiError && e.blockedUntilMs !== undefined) error.retryAtMs = e.blockedUntilMs;
      throw error;
    }
  }

  async collect(targets: readonly Target[], ctx: CollectContext): Promise<TargetResult[]> {
    const window = queryWindow(ctx.now, ctx.intervalMs, this.config.window);
    const results: TargetResult[] = [];
    const byRegion = new Map<string, { target: Target; state: VmState }[]>();
    for (const target of targets) {
      const nameProblem = vmNameProblem(target.vm);
      if (nameProblem) {
        results.push(this.fail(target, nameProblem));
        continue;
      }
      const state = this.vms.get((target.address ?? '').toLowerCase());
      if (!state) {
        results.push(this.fail(target, 'VM is no longer in the Azure inventory'));
        continue;
      }
      state.stored.prune(window.startMs);
      const key = `${state.vm.subscription.toLowerCase()}/${state.vm.location}`;
      let group = byRegion.get(key);
      if (!group) {
        group = [];
        byRegion.set(key, group);
      }
      group.push({ target, state });
    }
    const chunks: { target: Target; state: VmState }[][] = [];
    for (const group of byRegion.values()) {
      // Per-resource mode takes the whole group as one chunk, so `collectEach` bounds its concurrency.
      const size = this.batchEnabled(group[0]!.state.vm, ctx.now) ? this.config.batch_size : group.length;
      for (let i = 0; i < group.length; i += size) chunks.push(group.slice(i, i + size));
    }
    const perChunk = await Promise.all(
      chunks.map((chunk) =>
        this.batchEnabled(chunk[0]!.state.vm, ctx.now)
          ? this.collectBatch(chunk, window, ctx)
          : this.collectEach(chunk, window, ctx),
      ),
    );
    for (const r of perChunk) results.push(...r);
    return results;
  }

  /**
   * The VMs of the latest discovery (discovering first if none ran yet) with their private and public IPs,
   * from the Network API (two paged ARM lists per call).
   */
  async endpoints(ctx: CollectContext): Promise<AzureVmEndpoint[]> {
    if (this.vms.size === 0) await this.discover(ctx);
    // Addresses are read once per discovery, not on every call.
    if (this.endpointCache?.discovery === this.counts.discoveries) return this.endpointCache.endpoints;
    const bySubscription = new Map<string, VmState[]>();
    for (const state of this.vms.values()) {
      const list = bySubscription.get(state.vm.subscription) ?? [];
      list.push(state);
      bySubscription.set(state.vm.subscription, list);
    }
    const out: AzureVmEndpoint[] = [];
    for (const [subscription, states] of bySubscription) {
      const addresses = await listVmAddresses(this.http, subscription, this.armCall(ctx));
      for (const { vm } of states) {
        const a = addresses.get(vm.id.toLowerCase());
        const t = this.target(vm);
        out.push({ vm: t.vm, labels: t.labels, privateIp: a?.privateIp ?? null, publicIp: a?.publicIp ?? null });
      }
    }
    this.endpointCache = { discovery: this.counts.discoveries, endpoints: out };
    return out;
  }

  stats(): Record<string, number> {
    const h = this.http.stats;
    return {
      ...this.counts,
      api_calls: h.api_calls,
      api_calls_arm: h.api_calls_arm,
      api_calls_metrics: h.api_calls_metrics,
      retries: h.retries,
      throttle_waits: h.throttle_waits,
      throttle_wait_ms: h.throttle_wait_ms,
      token_retries: h.token_retries,
      remaining_reads: h.remaining_reads,
      throttle_skips: h.throttle_skips,
      az_invocations: this.credential.invocations,
    };
  }

  async close(): Promise<void> {
    this.http.close();
  }

  problem(): string | null {
    return this.cliProblem;
  }

  takeNotices(): string[] {
    const out = this.notices;
    this.notices = [];
    return out;
  }

  private batchEnabled(vm: AzureVm, now: number): boolean {
    if (!this.config.batch || this.batchUnavailable.has(vm.location)) return false;
    const until = this.batchUnauthorized.get(vm.subscription.toLowerCase());
    return until === undefined || now >= until;
  }

  private armCall(ctx: CollectContext): ArmCall {
    return {
      armEndpoint: this.config.arm_endpoint,
      audience: this.config.arm_audience,
      now: ctx.now,
      signal: ctx.signal,
    };
  }

  private target(vm: AzureVm): Target {
    return {
      vm: vm.name,
      address: vm.id,
      labels: {
        ...this.config.labels,
        resource_group: vm.resourceGroup,
        location: vm.location,
        subscription: vm.subscription,
        ...(vm.size ? { vm_size: vm.size } : {}),
        source: this.name,
        tenant: this.config.tenant,
      },
    };
  }

  /** Memory per VM size, per region: from the Resource SKUs API once a day. */
  private async refreshSizeMemory(vms: readonly AzureVm[], ctx: CollectContext): Promise<void> {
    const regions = new Map<string, string>();
    for (const vm of vms) regions.set(vm.location, vm.subscription);
    await Promise.all(
      [...regions].map(async ([location, subscription]) => {
        const cached = this.sizeMemory.get(location);
        if (cached && ctx.now - cached.fetchedAt < SKU_TTL_MS) return;
        try {
          const memory = await listSizeMemory(this.http, subscription, location, this.armCall(ctx));
          this.sizeMemory.set(location, { fetchedAt: ctx.now, memory });
        } catch (e) {
          // Without sizes, memory % still comes from Available Memory Percentage; keep any older data.
          if (e instanceof AzureCliError) throw e;
        }
      }),
    );
  }

  private memoryGiB(vm: AzureVm): number | undefined {
    return vm.size ? this.sizeMemory.get(vm.location)?.memory.get(vm.size.toLowerCase()) : undefined;
  }

  private metricsHost(location: string): string {
    return this.config.metrics_endpoint.replace('{region}', location).replace(/\/+$/, '');
  }

  private async collectBatch(
    chunk: { target: Target; state: VmState }[],
    window: QueryWindow,
    ctx: CollectContext,
  ): Promise<TargetResult[]> {
    const { vm } = chunk[0]!.state;
    const breaker = this.breakers.get(vm.location);
    if (breaker && ctx.now < breaker.openUntil) {
      const waitSec = Math.ceil((breaker.openUntil - ctx.now) / 1000);
      return chunk.map((c) =>
        this.fail(c.target, `Azure Monitor is throttling ${vm.location} (HTTP 529): paused for ${waitSec}s more`),
      );
    }
    const post = (names: string[]) => {
      this.counts.batch_calls++;
      return this.http.json<{ values?: BatchValue[] }>({
        method: 'POST',
        url: `${this.metricsHost(vm.location)}/subscriptions/${encodeURIComponent(vm.subscription)}/metrics:getBatch?${batchQuery(window, names)}`,
        resource: this.config.metrics_audience,
        body: { resourceids: chunk.map((c) => c.state.vm.id) },
        now: ctx.now,
        signal: ctx.signal,
        plane: 'metrics',
      });
    };
    let response: { values?: BatchValue[] };
    try {
      const askedPercent = this.withMemoryPercent;
      try {
        response = await post(metricNames(askedPercent));
      } catch (e) {
        if (!askedPercent || !isUnknownMetric(e, METRIC.availablePercent)) throw e;
        // This cloud does not know Available Memory Percentage: use Available Memory Bytes and the size's memory.
        this.withMemoryPercent = false;
        response = await post(metricNames(false));
      }
    } catch (e) {
      if (e instanceof AzureApiError && e.status === 529) {
        const b = this.breakers.get(vm.location) ?? { failures: 0, openUntil: 0 };
        b.failures++;
        if (b.failures >= BREAKER_FAILURES) {
          b.failures = 0;
          b.openUntil = ctx.now + BREAKER_OPEN_MS;
        }
        this.breakers.set(vm.location, b);
      }
      if (e instanceof AzureApiError && e.status === 401 && e.blockedUntilMs === undefined) {
        // Still 401 after a fresh token: documented for a caller without Monitoring Reader on the subscription.
        return this.collectAfterBatch401(chunk, window, ctx, e);
      }
      if (e instanceof AzureApiError && BATCH_UNAVAILABLE.has(e.code)) {
        this.batchUnavailable.add(vm.location);
        return this.collectEach(chunk, window, ctx);
      }
      if (e instanceof AzureApiError && (e.status === 403 || e.status === 404) && chunk.length > 1) {
        // One VM can spoil a batch (deleted, or scoped access): isolate it with per-resource calls.
        return this.collectEach(chunk, window, ctx);
      }
      return chunk.map((c) => this.fail(c.target, this.describe(e)));
    }
    this.breakers.delete(vm.location);
    this.cliProblem = null;
    const byId = new Map<string, BatchValue>();
    for (const v of response.values ?? []) if (v.resourceid) byId.set(v.resourceid.toLowerCase(), v);
    return chunk.map((c) => {
      const v = byId.get(c.state.vm.id.toLowerCase());
      if (!v) return this.fail(c.target, 'Azure Monitor returned no data for this VM');
      if (v.error?.code)
        return this.fail(c.target, describeAzureError(new AzureApiError(200, v.error.code, v.error.message ?? '')));
      return this.toResult(c, v.value, window);
    });
  }

  /**
   * The batch endpoint said 401 with a fresh token. One per-resource call tells why: if it is accepted, the token
   * is fine and the subscription lacks Monitoring Reader at subscription level, so this subscription goes
   * per-resource (for `BATCH_UNAUTHORIZED_MS`, with a one-time note); if it is refused with 401 too, the token
   * itself is bad and every VM says so (`az login`).
   */
  private async collectAfterBatch401(
    chunk: { target: Target; state: VmState }[],
    window: QueryWindow,
    ctx: CollectContext,
    batchError: AzureApiError,
  ): Promise<TargetResult[]> {
    const [probe, ...rest] = chunk;
    const { cause, ...first } = await this.collectOne(probe!, window, ctx);
    if (cause instanceof AzureApiError && cause.status === 401) {
      this.counts.failures += rest.length;
      return [first, ...rest.map((c) => ({ target: c.target, samples: [], error: first.error! }))];
    }
    const sub = probe!.state.vm.subscription;
    this.batchUnauthorized.set(sub.toLowerCase(), ctx.now + BATCH_UNAUTHORIZED_MS);
    if (!this.notedUnauthorized.has(sub.toLowerCase())) {
      this.notedUnauthorized.add(sub.toLowerCase());
      this.notices.push(
        `the batch metrics API refused subscription ${sub} (HTTP 401 ${batchError.code}; it needs the Monitoring Reader role on the subscription itself, resource-level roles are not enough): using one ARM metrics call per VM there, which costs subscription reads; grant Monitoring Reader on the subscription to use the batch API`,
      );
    }
    return [first, ...(await this.collectEach(rest, window, ctx))];
  }

  private async collectEach(
    chunk: { target: Target; state: VmState }[],
    window: QueryWindow,
    ctx: CollectContext,
  ): Promise<TargetResult[]> {
    const results: TargetResult[] = new Array(chunk.length);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < chunk.length; i = next++) {
        const c = chunk[i]!;
        const { cause: _cause, ...result } = await this.collectOne(c, window, ctx);
        results[i] = result;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.fallbackConcurrency, chunk.length) }, worker));
    return results;
  }

  private async collectOne(
    c: { target: Target; state: VmState },
    window: QueryWindow,
    ctx: CollectContext,
  ): Promise<TargetResult & { cause?: unknown }> {
    const base = this.config.arm_endpoint.replace(/\/+$/, '');
    const get = (names: string[]) => {
      this.counts.fallback_calls++;
      return this.http.json<{ value?: ApiMetric[] }>({
        method: 'GET',
        url: `${base}${c.state.vm.id}/providers/microsoft.insights/metrics?${resourceQuery(window, names)}`,
        resource: this.config.arm_audience,
        now: ctx.now,
        signal: ctx.signal,
        plane: 'arm',
      });
    };
    try {
      let body: { value?: ApiMetric[] };
      const askedPercent = this.withMemoryPercent;
      try {
        body = await get(metricNames(askedPercent));
      } catch (e) {
        if (!askedPercent || !isUnknownMetric(e, METRIC.availablePercent)) throw e;
        this.withMemoryPercent = false;
        body = await get(metricNames(false));
      }
      this.cliProblem = null;
      return this.toResult(c, body.value, window);
    } catch (e) {
      return { ...this.fail(c.target, this.describe(e)), cause: e };
    }
  }

  private toResult(
    c: { target: Target; state: VmState },
    value: ApiMetric[] | undefined,
    window: QueryWindow,
  ): TargetResult {
    const labels = { ...c.target.labels, vm: c.target.vm };
    const r = vmSamples(indexMetrics(value), this.memoryGiB(c.state.vm), labels, c.state.stored, window);
    if (r.errorCode)
      return this.fail(c.target, describeAzureError(new AzureApiError(200, r.errorCode, 'metric query failed')));
    if (!r.hasData) {
      const power = c.state.vm.powerState;
      if (power && power !== 'running') return this.fail(c.target, `VM is ${power} (no metrics while not running)`);
      return this.fail(c.target, 'No metrics from Azure Monitor in the window (VM starting, or data delayed)');
    }
    this.counts.successes++;
    this.counts.samples += r.samples.length;
    return { target: c.target, samples: r.samples };
  }

  /** A VM's message for a failed call; an `az` failure becomes the source's problem and a short VM message. */
  private describe(e: unknown): string {
    if (e instanceof AzureCliError) {
      this.cliProblem = e.message;
      return AZ_PROBLEM_VM_MESSAGE;
    }
    return describeAzureError(e);
  }

  private fail(target: Target, error: string): TargetResult {
    this.counts.failures++;
    return { target, samples: [], error };
  }
}

function isUnknownMetric(e: unknown, name: string): boolean {
  return e instanceof AzureApiError && e.status === 400 && e.azureMessage.toLowerCase().includes(name.toLowerCase());
}
