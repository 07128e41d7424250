/**
 * A local fake of the Azure endpoints Vigil's Azure source talks to, built from
 * ../shared/reference/azure-monitor.md: ARM Compute VM lists (nextLink paging, statusOnly, $expand=instanceView),
 * Resource SKUs, the per-resource ARM metrics API (2018-01-01, unwrapped errors), and the data-plane
 * `metrics:getBatch` (2023-10-01: ≤ 50 resource ids, one subscription, one region, wrapped errors with
 * `x-ms-error-code`). Bearer tokens come from the fake `az` (`fake|<audience>|<expires_on>`) and are checked for
 * audience and expiry. ARM reads draw from a token bucket and report
 * `x-ms-ratelimit-remaining-subscription-reads`; an empty bucket answers 429 with `Retry-After`.
 * Metrics newer than the ingestion lag come back as `timeStamp`-only points, as Azure does.
 * Serves HTTPS when given a key and certificate (see tls.ts), else HTTP; listens on 127.0.0.1 only.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface FakeVm {
  readonly name: string;
  readonly resourceGroup: string;
  readonly location: string;
  readonly size: string;
  readonly tags?: Record<string, string>;
  readonly powerState?: 'running' | 'stopped' | 'deallocated' | 'starting';
  /** Emits Available Memory Percentage (newer agents); default true. */
  readonly memoryPercent?: boolean;
  /**
   * The caller has no read role on this VM (per-resource metrics: 403 AuthorizationFailed). It then cannot hold
   * Monitoring Reader on the subscription either, so the batch endpoint answers 401 (see `monitoringReader`).
   */
  readonly denied?: boolean;
  /** Primary NIC's private IP (default derived from the name, 10.x.y.z). */
  readonly privateIp?: string;
  /** Public IP, when the VM has one. */
  readonly publicIp?: string;
}

export interface Fault {
  /** Matched against the request path (without the query). */
  readonly path: RegExp;
  readonly method?: 'GET' | 'POST';
  readonly status: number;
  readonly code?: string;
  readonly message?: string;
  readonly headers?: Record<string, string>;
  /** How many matching requests fail (default 1). */
  readonly times?: number;
  /**
   * A throttle that lasts: every matching request fails until this time of the fake's clock (ignoring `times`),
   * with `Retry-After` counting down to it, as ARM does (retrying earlier is rejected again).
   */
  readonly untilMs?: number;
  /** `details` of the error body (Compute's throttling names its policy there). */
  readonly details?: readonly unknown[];
  /** Send the error body unwrapped, `{code, message, details}` (as Compute's throttling doc shows it). */
  readonly unwrapped?: boolean;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly status: number;
  readonly body?: unknown;
}

export interface FakeAzureOptions {
  readonly subscription: string;
  readonly vms: readonly FakeVm[];
  /** Items per page of VM and SKU lists (Azure's page size is undocumented). */
  readonly pageSize?: number;
  /** Added before every response. */
  readonly latencyMs?: number;
  readonly tls?: { readonly key: string; readonly cert: string };
  /** The fake's clock (token expiry, ingestion lag); default real time. */
  readonly now?: () => number;
  /** Points younger than this are `timeStamp`-only (default 2 min). */
  readonly lagMs?: number;
  /**
   * Buckets ending within this long after the lag are still being ingested: they come back partial, their totals
   * growing from 0 to the final value as the fake's clock advances (default 0: a bucket appears complete).
   */
  readonly partialMs?: number;
  /** False: the metric Available Memory Percentage is unknown to this cloud (400 on request). */
  readonly supportsMemoryPercentage?: boolean;
  /**
   * Where the caller holds Monitoring Reader: `subscription` (default, unless a VM is `denied`) or only on
   * `resources`. Without it on the subscription, `metrics:getBatch` answers 401 (reference §4: resource-level roles
   * are not enough) while the per-resource ARM metrics API works for the VMs the caller may read.
   */
  readonly monitoringReader?: 'subscription' | 'resources';
  /** ARM read budget: bucket size and refill per second (default 250 / 25). */
  readonly reads?: { readonly size: number; readonly refillPerSec: number };
}

const ARM_AUDIENCE = 'https://management.azure.com';
const METRICS_AUDIENCE = 'https://metrics.monitor.azure.com';
const VM_NAMESPACE = 'microsoft.compute/virtualmachines';
const BATCH_API_VERSIONS = new Set(['2023-10-01', '2024-02-01']);
const GRAINS: Record<string, number> = {
  PT1M: 60_000,
  PT5M: 300_000,
  PT15M: 900_000,
  PT30M: 1_800_000,
  PT1H: 3_600_000,
  PT6H: 21_600_000,
  PT12H: 43_200_000,
  P1D: 86_400_000,
};
const AGGREGATIONS = new Set(['average', 'minimum', 'maximum', 'total', 'count']);

interface MetricDef {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
}

const METRICS: readonly MetricDef[] = [
  {
    name: 'Percentage CPU',
    unit: 'Percent',
    description: 'The percentage of allocated compute units that are currently in use by the Virtual Machine(s)',
  },
  {
    name: 'Available Memory Bytes',
    unit: 'Bytes',
    description: 'Amount of physical memory, in bytes, immediately available for allocation',
  },
  {
    name: 'Available Memory Percentage',
    unit: 'Percent',
    description: 'Amount of physical memory, in percentage, immediately available for allocation',
  },
  { name: 'Disk Read Bytes', unit: 'Bytes', description: 'Bytes read from disk during monitoring period' },
  { name: 'Disk Write Bytes', unit: 'Bytes', description: 'Bytes written to disk during monitoring period' },
  { name: 'Network In Total', unit: 'Bytes', description: 'The number of bytes received on all network interfaces' },
  { name: 'Network Out Total', unit: 'Bytes', description: 'The number of bytes out on all network interfaces' },
  { name: 'Disk Read Operations/Sec', unit: 'CountPerSecond', description: 'Disk Read IOPS' },
  { name: 'Disk Write Operations/Sec', unit: 'CountPerSecond', description: 'Disk Write IOPS' },
  { name: 'OS Disk Read Bytes/sec', unit: 'BytesPerSecond', description: 'Bytes/Sec read from a single disk' },
  { name: 'VmAvailabilityMetric', unit: 'Count', description: 'Measure of Availability of Virtual machines over time' },
];

/** Sizes the fake's Resource SKUs API knows: name → [vCPUs, MemoryGB]. */
export const FAKE_SIZES: Record<string, [number, number]> = {
  Standard_B1s: [1, 1],
  Standard_B2s: [2, 4],
  Standard_D2s_v3: [2, 8],
  Standard_D4s_v3: [4, 16],
  Standard_E2s_v3: [2, 16],
  Standard_F2s_v2: [2, 4],
};

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The fake's deterministic metric value of a VM at a bucket start (per-minute totals for byte metrics). */
export function fakeMetricValue(vm: FakeVm, metric: string, ts: number): number {
  const h = hash(vm.name);
  const wave = Math.sin(ts / 600_000 + (h % 100));
  const memBytes = (FAKE_SIZES[vm.size]?.[1] ?? 4) * 2 ** 30;
  const availFraction = 0.2 + (h % 60) / 100 + 0.05 * wave;
  switch (metric) {
    case 'Percentage CPU':
      return Math.round((15 + (h % 70) + 10 * wave) * 100) / 100;
    case 'Available Memory Bytes':
      return Math.round(memBytes * availFraction);
    case 'Available Memory Percentage':
      return Math.round(availFraction * 10_000) / 100;
    case 'Disk Read Bytes':
      return 1_000_000 + (h % 1000) * 1000;
    case 'Disk Write Bytes':
      return 500_000 + (h % 777) * 1000;
    case 'Network In Total':
      return 2_000_000 + (h % 333) * 1000;
    case 'Network Out Total':
      return 800_000 + (h % 555) * 1000;
    default:
      return h % 100;
  }
}

class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  details?: readonly unknown[];
  unwrapped?: boolean;
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

export class FakeAzure {
  readonly requests: LoggedRequest[] = [];
  vms: FakeVm[];
  url = '';
  private readonly opts: FakeAzureOptions;
  private readonly server: http.Server;
  private faults: (Fault & { left: number })[] = [];
  private bucket: { tokens: number; at: number };
  /** Number of getBatch calls being served right now, and the most seen at once. */
  inflight = 0;
  maxInflight = 0;

  private constructor(opts: FakeAzureOptions) {
    this.opts = opts;
    this.vms = [...opts.vms];
    this.bucket = { tokens: opts.reads?.size ?? 250, at: this.now() };
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    this.server = opts.tls
      ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler)
      : http.createServer(handler);
    this.server.keepAliveTimeout = 30_000;
  }

  static async start(opts: FakeAzureOptions): Promise<FakeAzure> {
    const fake = new FakeAzure(opts);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    const { port } = fake.server.address() as AddressInfo;
    fake.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return fake;
  }

  /** Value for the source's `arm_endpoint`. */
  get armEndpoint(): string {
    return this.url;
  }

  /** Value for the source's `metrics_endpoint` (regions become a path prefix on this one server). */
  get metricsEndpoint(): string {
    return `${this.url}/regions/{region}`;
  }

  resourceId(vm: FakeVm): string {
    return `/subscriptions/${this.opts.subscription}/resourceGroups/${vm.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${vm.name}`;
  }

  failNext(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Requests whose path matches, optionally only those answered with `status`. */
  count(path: RegExp, status?: number): number {
    return this.requests.filter((r) => path.test(r.path) && (status === undefined || r.status === status)).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const isBatch = /\/metrics:getBatch$/i.test(url.pathname);
    if (isBatch) this.maxInflight = Math.max(this.maxInflight, ++this.inflight);
    let status = 200;
    let payload: unknown;
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'x-ms-request-id': String(this.requests.length + 1),
    };
    try {
      if (this.opts.latencyMs) await new Promise((r) => setTimeout(r, this.opts.latencyMs));
      const now = this.now();
      const fault = this.faults.find(
        (f) =>
          (f.untilMs !== undefined ? now < f.untilMs : f.left > 0) &&
          f.path.test(url.pathname) &&
          (!f.method || f.method === req.method),
      );
      if (fault) {
        fault.left--;
        const faultHeaders = { ...fault.headers };
        if (fault.untilMs !== undefined) faultHeaders['retry-after'] = String(Math.ceil((fault.untilMs - now) / 1000));
        const err = new HttpError(
          fault.status,
          fault.code ?? 'InternalServerError',
          fault.message ?? 'Injected failure',
          faultHeaders,
        );
        if (fault.details) err.details = fault.details;
        if (fault.unwrapped) err.unwrapped = true;
        throw err;
      }
      if (isBatch) {
        this.checkToken(req, METRICS_AUDIENCE);
        payload = this.getBatch(req.method ?? 'GET', url, rawBody);
      } else {
        this.checkToken(req, ARM_AUDIENCE);
        this.spendRead(headers);
        payload = this.arm(req.method ?? 'GET', url);
      }
    } catch (e) {
      const err = e instanceof HttpError ? e : new HttpError(500, 'InternalServerError', (e as Error).message);
      status = err.status;
      Object.assign(headers, err.headers);
      headers['x-ms-error-code'] = err.code;
      // The ARM metrics API answers unwrapped `{code, message}`; ARM and the batch API wrap them in `error`.
      const unwrapped = err.unwrapped || /\/providers\/microsoft\.insights\/metrics$/i.test(url.pathname);
      const fields = { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
      payload = unwrapped ? fields : { error: fields };
    } finally {
      if (isBatch) this.inflight--;
    }
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, status });
    const body = JSON.stringify(payload);
    res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  }

  private checkToken(req: http.IncomingMessage, audience: string): void {
    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ')) {
      throw new HttpError(
        401,
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing.",
        {
          'www-authenticate':
            'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"',
        },
      );
    }
    const [kind, aud, exp] = auth.slice(7).split('|');
    if (kind !== 'fake' || !aud || !exp || !Number.isFinite(Number(exp))) {
      throw new HttpError(401, 'InvalidAuthenticationToken', 'The access token is invalid.');
    }
    if (aud.replace(/\/+$/, '').replace(/\/\.default$/, '') !== audience) {
      throw new HttpError(
        401,
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${aud}'. It should exactly match with one of the allowed audiences '${audience}','${audience}/'.`,
      );
    }
    const expMs = Number(exp) * 1000;
    const now = this.now();
    if (expMs <= now) {
      const fmt = (ms: number) => new Date(ms).toLocaleString('en-US', { timeZone: 'UTC' }).replace(',', '');
      throw new HttpError(
        401,
        'ExpiredAuthenticationToken',
        `The access token expiry UTC time '${fmt(expMs)}' is earlier than current UTC time '${fmt(now)}'.`,
      );
    }
  }

  private spendRead(headers: Record<string, string>): void {
    const size = this.opts.reads?.size ?? 250;
    const refill = this.opts.reads?.refillPerSec ?? 25;
    const now = this.now();
    this.bucket.tokens = Math.min(size, this.bucket.tokens + ((now - this.bucket.at) / 1000) * refill);
    this.bucket.at = now;
    if (this.bucket.tokens < 1) {
      const retry = Math.max(1, Math.ceil((1 - this.bucket.tokens) / refill));
      throw new HttpError(
        429,
        'TooManyRequests',
        'The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00.',
        {
          'retry-after': String(retry),
          'x-ms-ratelimit-remaining-subscription-reads': '0',
        },
      );
    }
    this.bucket.tokens -= 1;
    headers['x-ms-ratelimit-remaining-subscription-reads'] = String(Math.floor(this.bucket.tokens));
  }

  private checkSubscription(sub: string): void {
    if (sub.toLowerCase() !== this.opts.subscription.toLowerCase()) {
      throw new HttpError(404, 'SubscriptionNotFound', `The subscription '${sub}' could not be found.`);
    }
  }

  private requireApiVersion(url: URL): string {
    const v = url.searchParams.get('api-version');
    if (!v)
      throw new HttpError(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    return v;
  }

  private arm(method: string, url: URL): unknown {
    if (method !== 'GET')
      throw new HttpError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
    const p = url.pathname;
    let m = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines$/i.exec(p);
    if (m) {
      this.checkSubscription(m[1]!);
      this.requireApiVersion(url);
      if (url.searchParams.has('$expand') && !url.searchParams.has('$filter')) {
        throw new HttpError(
          400,
          'BadRequest',
          "The $expand option 'instanceView' can only be specified if a valid $filter option is specified.",
        );
      }
      const statusOnly = url.searchParams.get('statusOnly') === 'true';
      return this.page(
        url,
        this.vms.map((vm) => this.armVm(vm, statusOnly ? 'status' : 'model')),
      );
    }
    m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines$/i.exec(p);
    if (m) {
      this.checkSubscription(m[1]!);
      this.requireApiVersion(url);
      const rg = decodeURIComponent(m[2]!).toLowerCase();
      const inRg = this.vms.filter((vm) => vm.resourceGroup.toLowerCase() === rg);
      if (inRg.length === 0 && !this.opts.vms.some((vm) => vm.resourceGroup.toLowerCase() === rg)) {
        throw new HttpError(
          404,
          'ResourceGroupNotFound',
          `Resource group '${decodeURIComponent(m[2]!)}' could not be found.`,
        );
      }
      const expand = url.searchParams.get('$expand') === 'instanceView';
      return this.page(
        url,
        inRg.map((vm) => this.armVm(vm, expand ? 'both' : 'model')),
      );
    }
    m = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Network\/(networkInterfaces|publicIPAddresses)$/i.exec(p);
    if (m) {
      this.checkSubscription(m[1]!);
      this.requireApiVersion(url);
      const net = (vm: FakeVm, kind: string, suffix: string) =>
        `/subscriptions/${this.opts.subscription}/resourceGroups/${vm.resourceGroup}/providers/Microsoft.Network/${kind}/${vm.name}-${suffix}`;
      if (m[2]!.toLowerCase() === 'publicipaddresses') {
        return this.page(
          url,
          this.vms
            .filter((vm) => vm.publicIp)
            .map((vm) => ({
              id: net(vm, 'publicIPAddresses', 'pip'),
              name: `${vm.name}-pip`,
              location: vm.location,
              properties: {
                ipAddress: vm.publicIp,
                publicIPAllocationMethod: 'Static',
                provisioningState: 'Succeeded',
              },
            })),
        );
      }
      return this.page(
        url,
        this.vms.map((vm) => {
          const h = hash(vm.name);
          return {
            id: net(vm, 'networkInterfaces', 'nic'),
            name: `${vm.name}-nic`,
            location: vm.location,
            properties: {
              primary: true,
              virtualMachine: { id: this.resourceId(vm) },
              ipConfigurations: [
                {
                  name: 'ipconfig1',
                  properties: {
                    primary: true,
                    privateIPAllocationMethod: 'Dynamic',
                    privateIPAddress: vm.privateIp ?? `10.${(h >> 16) & 255}.${(h >> 8) & 255}.${(h & 250) + 4}`,
                    ...(vm.publicIp ? { publicIPAddress: { id: net(vm, 'publicIPAddresses', 'pip') } } : {}),
                  },
                },
              ],
            },
          };
        }),
      );
    }
    m = /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Compute\/skus$/i.exec(p);
    if (m) {
      this.checkSubscription(m[1]!);
      this.requireApiVersion(url);
      const filter = /^location eq '([^']+)'$/.exec(url.searchParams.get('$filter') ?? '');
      const locations = filter ? [filter[1]!] : [...new Set(this.vms.map((v) => v.location))];
      const items = Object.entries(FAKE_SIZES).flatMap(([name, [cpus, mem]]) => [
        {
          resourceType: 'disks',
          name: 'Premium_LRS',
          tier: 'Premium',
          locations,
          capabilities: [{ name: 'MaxSizeGiB', value: '4' }],
        },
        {
          resourceType: 'virtualMachines',
          name,
          tier: 'Standard',
          size: name.replace(/^Standard_/, ''),
          family: 'standardFamily',
          locations,
          capabilities: [
            { name: 'vCPUs', value: String(cpus) },
            { name: 'MemoryGB', value: String(mem) },
            { name: 'MaxDataDiskCount', value: '4' },
          ],
        },
      ]);
      return this.page(url, items);
    }
    m =
      /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)\/providers\/microsoft\.insights\/metrics$/i.exec(
        p,
      );
    if (m) {
      this.checkSubscription(m[1]!);
      const version = this.requireApiVersion(url);
      if (!/^20\d\d-\d\d-\d\d(-preview)?$/.test(version))
        throw new HttpError(400, 'InvalidApiVersionParameter', `The api-version '${version}' is invalid.`);
      const vm = this.vms.find(
        (v) => v.resourceGroup.toLowerCase() === m![2]!.toLowerCase() && v.name.toLowerCase() === m![3]!.toLowerCase(),
      );
      if (!vm) {
        throw new HttpError(
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.Compute/virtualMachines/${m[3]}' under resource group '${m[2]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
        );
      }
      if (vm.denied) throw this.denied(`${this.resourceId(vm)}`);
      const timespan = (url.searchParams.get('timespan') ?? '').split('/');
      if (timespan.length !== 2) throw new HttpError(400, 'BadRequest', 'Invalid timespan: expected start/end');
      const q = this.metricQuery(
        url.searchParams.get('metricnames'),
        url.searchParams.get('interval'),
        url.searchParams.get('aggregation'),
        timespan[0]!,
        timespan[1]!,
      );
      return {
        cost: 0,
        timespan: `${timespan[0]}/${timespan[1]}`,
        interval: q.grain,
        namespace: 'Microsoft.Compute/virtualMachines',
        resourceregion: vm.location,
        value: q.metrics.map((def) => this.metric(vm, def, q)),
      };
    }
    throw new HttpError(
      404,
      'InvalidResourceType',
      `The resource type could not be found in the namespace for path '${p}'.`,
    );
  }

  private denied(scope: string): HttpError {
    return new HttpError(
      403,
      'AuthorizationFailed',
      `The client 'aaaaaaaa-0000-0000-0000-000000000000' with object id 'aaaaaaaa-0000-0000-0000-000000000000' does not have authorization to perform action 'Microsoft.Insights/metrics/read' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
  }

  private page(url: URL, items: unknown[]): unknown {
    const size = this.opts.pageSize ?? 100;
    const skip = Number(url.searchParams.get('$skiptoken') ?? '0');
    const value = items.slice(skip, skip + size);
    if (skip + size >= items.length) return { value };
    const next = new URL(`${this.url}${url.pathname}${url.search}`);
    next.searchParams.set('$skiptoken', String(skip + size));
    return { value, nextLink: next.href };
  }

  private armVm(vm: FakeVm, view: 'model' | 'status' | 'both'): unknown {
    const statuses = [
      {
        code: 'ProvisioningState/succeeded',
        level: 'Info',
        displayStatus: 'Provisioning succeeded',
        time: '2026-01-01T00:00:00.0000000+00:00',
      },
      {
        code: `PowerState/${vm.powerState ?? 'running'}`,
        level: 'Info',
        displayStatus: `VM ${vm.powerState ?? 'running'}`,
      },
    ];
    const base = {
      id: this.resourceId(vm),
      name: vm.name,
      type: 'Microsoft.Compute/virtualMachines',
      location: vm.location,
    };
    if (view === 'status') return { ...base, properties: { instanceView: { statuses } } };
    const properties = {
      vmId: `00000000-0000-4000-8000-${hash(vm.name).toString(16).padStart(12, '0')}`,
      hardwareProfile: { vmSize: vm.size },
      provisioningState: 'Succeeded',
      ...(view === 'both' ? { instanceView: { statuses } } : {}),
    };
    return { ...base, tags: vm.tags ?? {}, properties };
  }

  private metricQuery(
    names: string | null,
    interval: string | null,
    aggregation: string | null,
    start: string,
    end: string,
  ) {
    if (!names) throw new HttpError(400, 'BadRequest', 'metricnames is required');
    const list = names.split(',').map((n) => n.trim());
    if (list.length > 20)
      throw new HttpError(400, 'BadRequest', `Requested metrics count: ${list.length} bigger than allowed max: 20`);
    const metrics = list.map((n) => {
      const def = METRICS.find((d) => d.name.toLowerCase() === n.toLowerCase());
      const unsupported = def?.name === 'Available Memory Percentage' && this.opts.supportsMemoryPercentage === false;
      if (!def || unsupported) {
        const valid = METRICS.filter(
          (d) => !(d.name === 'Available Memory Percentage' && this.opts.supportsMemoryPercentage === false),
        ).map((d) => d.name);
        throw new HttpError(
          400,
          'BadRequest',
          `Failed to find metric configuration for provider: Microsoft.Compute, resource Type: virtualMachines, metric: ${n}, Valid metrics: ${valid.join(',')}`,
        );
      }
      return def;
    });
    const grain = interval ?? 'PT1M';
    const grainMs = GRAINS[grain.toUpperCase()];
    if (!grainMs)
      throw new HttpError(
        400,
        'BadRequest',
        `Invalid interval '${grain}'. Supported: ${Object.keys(GRAINS).join(', ')}`,
      );
    const aggs = (aggregation ?? 'average').split(',').map((a) => a.trim().toLowerCase());
    for (const a of aggs)
      if (!AGGREGATIONS.has(a)) throw new HttpError(400, 'BadRequest', `Invalid aggregation '${a}'`);
    const startMs = Date.parse(start);
    const endMs = Date.parse(end);
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs))
      throw new HttpError(400, 'BadRequest', `Invalid time range '${start}' - '${end}'`);
    if (startMs >= endMs) throw new HttpError(400, 'BadRequest', 'The start time must be before the end time');
    return { metrics, grain: grain.toUpperCase(), grainMs, aggs, startMs, endMs };
  }

  private metric(vm: FakeVm, def: MetricDef, q: ReturnType<FakeAzure['metricQuery']>): unknown {
    const id = `${this.resourceId(vm)}/providers/Microsoft.Insights/metrics/${def.name}`;
    const head = {
      id,
      type: 'Microsoft.Insights/metrics',
      name: { value: def.name, localizedValue: def.name },
      displayDescription: def.description,
      unit: def.unit,
    };
    if (def.name === 'Available Memory Percentage' && vm.memoryPercent === false) {
      return { ...head, errorCode: 'Success', timeseries: [] };
    }
    const data: Record<string, unknown>[] = [];
    const settled = this.now() - (this.opts.lagMs ?? 120_000);
    const first = Math.ceil(q.startMs / q.grainMs) * q.grainMs;
    for (let ts = first; ts < q.endMs; ts += q.grainMs) {
      const point: Record<string, unknown> = { timeStamp: new Date(ts).toISOString().replace('.000Z', 'Z') };
      const end = ts + q.grainMs;
      const partialMs = this.opts.partialMs ?? 0;
      // Share of the bucket ingested so far: 1 once settled, growing during `partialMs` before that.
      const ingested = end <= settled ? 1 : partialMs > 0 ? 1 - (end - settled) / partialMs : 0;
      if (ingested > 0 && (vm.powerState ?? 'running') === 'running') {
        const minutes = q.grainMs / 60_000;
        const v = fakeMetricValue(vm, def.name, ts);
        // Per-minute values: a coarser bucket averages them and totals them over its minutes.
        for (const a of q.aggs) {
          if (a === 'average') point.average = v;
          else if (a === 'total') point.total = v * minutes * ingested;
          else if (a === 'count') point.count = minutes * ingested;
          else point[a] = v;
        }
      }
      data.push(point);
    }
    return { ...head, errorCode: 'Success', timeseries: [{ metadatavalues: [], data }] };
  }

  private getBatch(method: string, url: URL, rawBody: string): unknown {
    if (method !== 'POST') throw new HttpError(405, 'MethodNotAllowed', 'metrics:getBatch only supports POST');
    const m = /^\/regions\/([^/]+)\/subscriptions\/([^/]+)\/metrics:getBatch$/i.exec(url.pathname);
    if (!m)
      throw new HttpError(404, 'NotFound', 'Unknown batch endpoint (expected /subscriptions/{sub}/metrics:getBatch)');
    const region = m[1]!.toLowerCase();
    const sub = m[2]!;
    const q = url.searchParams;
    const version = q.get('api-version');
    if (!version)
      throw new HttpError(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.',
      );
    if (!BATCH_API_VERSIONS.has(version))
      throw new HttpError(
        400,
        'InvalidApiVersionParameter',
        `The api-version '${version}' is invalid. The supported versions are '${[...BATCH_API_VERSIONS].join("','")}'.`,
      );
    const ns = q.get('metricnamespace');
    if (!ns) throw new HttpError(400, 'BadRequest', 'The metricnamespace query parameter is required.');
    if (ns.toLowerCase() !== VM_NAMESPACE)
      throw new HttpError(
        400,
        'BadRequest',
        `Metric namespace '${ns}' is not supported by this fake (only ${VM_NAMESPACE}).`,
      );
    let body: { resourceids?: unknown };
    try {
      body = JSON.parse(rawBody) as { resourceids?: unknown };
    } catch {
      throw new HttpError(400, 'BadRequest', 'The request body is not valid JSON.');
    }
    if (!Array.isArray(body?.resourceids) || body.resourceids.some((r) => typeof r !== 'string')) {
      throw new HttpError(400, 'BadRequest', 'The request body must be {"resourceids": ["..."]}.');
    }
    const reader = this.opts.monitoringReader ?? (this.vms.some((v) => v.denied) ? 'resources' : 'subscription');
    if (reader !== 'subscription') {
      // The reference documents the status (401) and the batch API's wrapped envelope; the code and text Azure
      // uses here are not documented, so these are a plausible guess (the source must not depend on them).
      throw new HttpError(
        401,
        'AuthorizationFailed',
        `The client 'aaaaaaaa-0000-0000-0000-000000000000' with object id 'aaaaaaaa-0000-0000-0000-000000000000' does not have authorization to perform action 'Microsoft.Insights/Metrics/Read' over scope '/subscriptions/${sub}'. The metrics batch API requires the Monitoring Reader role on the subscription.`,
      );
    }
    const ids = [...new Set((body.resourceids as string[]).map((r) => r))];
    if (ids.length === 0) throw new HttpError(400, 'BadRequest', 'At least one resource id is required.');
    if (ids.length > 50)
      throw new HttpError(400, 'BadRequest', `The number of resource ids (${ids.length}) exceeds the maximum of 50.`);
    const now = this.now();
    const startMs = q.get('starttime')
      ? Date.parse(q.get('starttime')!)
      : q.get('endtime')
        ? Number.NaN
        : now - 3_600_000;
    const endMs = q.get('endtime') ? Date.parse(q.get('endtime')!) : now;
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs))
      throw new HttpError(
        400,
        'BadRequest',
        'starttime and endtime must be ISO-8601 times (yyyy-MM-ddTHH:mm:ss.fffZ).',
      );
    const query = this.metricQuery(
      q.get('metricnames'),
      q.get('interval'),
      q.get('aggregation'),
      new Date(startMs).toISOString(),
      new Date(endMs).toISOString(),
    );
    const values = ids.map((rid) => {
      const parts =
        /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i.exec(
          rid,
        );
      if (!parts)
        throw new HttpError(400, 'BadRequest', `Resource id '${rid}' is not a Microsoft.Compute/virtualMachines id.`);
      if (parts[1]!.toLowerCase() !== sub.toLowerCase()) {
        throw new HttpError(
          400,
          'BadRequest',
          `Resource '${rid}' is not in subscription '${sub}': all resources of a batch must be in the subscription of the request.`,
        );
      }
      const vm = this.vms.find(
        (v) =>
          v.resourceGroup.toLowerCase() === parts[2]!.toLowerCase() && v.name.toLowerCase() === parts[3]!.toLowerCase(),
      );
      if (vm && vm.location.toLowerCase() !== region) {
        throw new HttpError(
          400,
          'BadRequest',
          `Resource '${rid}' is in region '${vm.location}', not '${region}': all resources of a batch must be in the region of the endpoint.`,
        );
      }
      const common = {
        starttime: new Date(startMs).toISOString(),
        endtime: new Date(endMs).toISOString(),
        interval: query.grain,
        namespace: VM_NAMESPACE,
        resourceregion: region,
        resourceid: rid,
      };
      if (!vm) {
        return {
          ...common,
          value: query.metrics.map((def) => ({
            id: `${rid}/providers/Microsoft.Insights/metrics/${def.name}`,
            type: 'Microsoft.Insights/metrics',
            name: { value: def.name, localizedValue: def.name },
            unit: def.unit,
            errorCode: 'ResourceNotFound',
            errorMessage: `The Resource '${rid}' was not found.`,
            timeseries: [],
          })),
        };
      }
      return { ...common, value: query.metrics.map((def) => this.metric(vm, def, query)) };
    });
    return { values };
  }
}
