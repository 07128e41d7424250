/** ARM Compute reads: VM inventory (paged, with power state) and VM size memory from the Resource SKUs API. */
import { AzureApiError } from './errors.ts';
import type { AzureHttp } from './http.ts';

export const COMPUTE_API_VERSION = '2024-07-01';
export const SKUS_API_VERSION = '2021-07-01';
const MAX_PAGES = 1000;

export interface AzureVm {
  /** Full ARM resource id, as Azure spells it. */
  readonly id: string;
  readonly name: string;
  readonly resourceGroup: string;
  readonly subscription: string;
  readonly location: string;
  readonly size: string | null;
  readonly tags: Readonly<Record<string, string>>;
  /** `running`, `deallocated`, ... or null when unknown. */
  readonly powerState: string | null;
}

interface ArmVm {
  id?: string;
  name?: string;
  location?: string;
  tags?: Record<string, string>;
  properties?: {
    hardwareProfile?: { vmSize?: string };
    instanceView?: { statuses?: { code?: string }[] };
  };
}

interface Page<T> {
  value?: T[];
  nextLink?: string | null;
}

export interface ArmCall {
  readonly armEndpoint: string;
  readonly audience: string;
  readonly now: number;
  readonly signal: AbortSignal;
}

/** GETs a list and follows `nextLink` verbatim until it is absent. */
export async function listAll<T>(http: AzureHttp, url: string, call: ArmCall): Promise<T[]> {
  const out: T[] = [];
  const origin = new URL(url).origin;
  let next: string | null | undefined = url;
  for (let page = 0; next && page < MAX_PAGES; page++) {
    // nextLink is followed verbatim, but never to another host: it would receive our bearer token.
    if (new URL(next).origin !== origin) {
      throw new AzureApiError(
        0,
        'InvalidNextLink',
        `Azure returned a nextLink to another host (${new URL(next).host})`,
      );
    }
    const body: Page<T> = await http.json<Page<T>>({
      method: 'GET',
      url: next,
      resource: call.audience,
      now: call.now,
      signal: call.signal,
      plane: 'arm',
    });
    if (Array.isArray(body.value)) out.push(...body.value);
    next = body.nextLink;
  }
  return out;
}

/** `/subscriptions/{sub}/resourceGroups/{rg}/...` → parts (case preserved). */
export function parseResourceId(id: string): { subscription: string; resourceGroup: string; name: string } | null {
  const m =
    /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i.exec(
      id,
    );
  return m ? { subscription: m[1]!, resourceGroup: m[2]!, name: m[3]! } : null;
}

function powerStateOf(vm: ArmVm): string | null {
  const code = vm.properties?.instanceView?.statuses?.find((s) => s.code?.startsWith('PowerState/'))?.code;
  return code ? code.slice('PowerState/'.length) : null;
}

/**
 * The VMs of a subscription (ListAll, joined with its `statusOnly=true` variant for power state: that variant
 * omits tags and sizes) or of resource groups (List with `$expand=instanceView`).
 */
export async function listVms(
  http: AzureHttp,
  subscription: string,
  resourceGroups: readonly string[],
  call: ArmCall,
): Promise<AzureVm[]> {
  const base = call.armEndpoint.replace(/\/+$/, '');
  const raw: ArmVm[] = [];
  const power = new Map<string, string | null>();
  if (resourceGroups.length === 0) {
    const url = `${base}/subscriptions/${encodeURIComponent(subscription)}/providers/Microsoft.Compute/virtualMachines?api-version=${COMPUTE_API_VERSION}`;
    const [full, status] = await Promise.all([
      listAll<ArmVm>(http, url, call),
      listAll<ArmVm>(http, `${url}&statusOnly=true`, call),
    ]);
    raw.push(...full);
    for (const s of status) if (s.id) power.set(s.id.toLowerCase(), powerStateOf(s));
  } else {
    const lists = await Promise.all(
      resourceGroups.map((rg) =>
        listAll<ArmVm>(
          http,
          `${base}/subscriptions/${encodeURIComponent(subscription)}/resourceGroups/${encodeURIComponent(rg)}/providers/Microsoft.Compute/virtualMachines?api-version=${COMPUTE_API_VERSION}&$expand=instanceView`,
          call,
        ),
      ),
    );
    for (const list of lists) {
      for (const vm of list) {
        raw.push(vm);
        if (vm.id) power.set(vm.id.toLowerCase(), powerStateOf(vm));
      }
    }
  }
  const vms: AzureVm[] = [];
  for (const vm of raw) {
    const parts = vm.id ? parseResourceId(vm.id) : null;
    if (!vm.id || !parts || !vm.location) continue;
    vms.push({
      id: vm.id,
      name: vm.name ?? parts.name,
      resourceGroup: parts.resourceGroup,
      subscription: parts.subscription,
      location: vm.location.toLowerCase().replace(/\s+/g, ''),
      size: vm.properties?.hardwareProfile?.vmSize ?? null,
      tags: vm.tags ?? {},
      powerState: power.get(vm.id.toLowerCase()) ?? null,
    });
  }
  return vms;
}

/** True when the VM carries every wanted tag (`*` = any value); tag names compare case-insensitively, as in Azure. */
export function matchesTags(tags: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): boolean {
  const lower = new Map(Object.entries(tags).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(wanted).every(([k, v]) => {
    const have = lower.get(k.toLowerCase());
    return have !== undefined && (v === '*' || have === v);
  });
}

interface Sku {
  resourceType?: string;
  name?: string;
  capabilities?: { name?: string; value?: string }[];
}

/** Memory in GiB per lower-cased VM size, for one location. */
export async function listSizeMemory(
  http: AzureHttp,
  subscription: string,
  location: string,
  call: ArmCall,
): Promise<Map<string, number>> {
  const base = call.armEndpoint.replace(/\/+$/, '');
  const filter = encodeURIComponent(`location eq '${location}'`);
  const skus = await listAll<Sku>(
    http,
    `${base}/subscriptions/${encodeURIComponent(subscription)}/providers/Microsoft.Compute/skus?api-version=${SKUS_API_VERSION}&$filter=${filter}`,
    call,
  );
  const out = new Map<string, number>();
  for (const sku of skus) {
    if (sku.resourceType !== 'virtualMachines' || !sku.name) continue;
    const mem = Number(sku.capabilities?.find((c) => c.name === 'MemoryGB')?.value);
    if (Number.isFinite(mem) && mem > 0) out.set(sku.name.toLowerCase(), mem);
  }
  return out;
}

export const NETWORK_API_VERSION = '2024-05-01';

export interface VmAddresses {
  readonly privateIp: string | null;
  readonly publicIp: string | null;
}

interface ArmNic {
  properties?: {
    virtualMachine?: { id?: string };
    primary?: boolean;
    ipConfigurations?: {
      properties?: { primary?: boolean; privateIPAddress?: string; publicIPAddress?: { id?: string } };
    }[];
  };
}

interface ArmPublicIp {
  id?: string;
  properties?: { ipAddress?: string };
}

/** Private and public IPs per lower-cased VM id: the subscription's network interfaces joined with its public IPs. */
export async function listVmAddresses(
  http: AzureHttp,
  subscription: string,
  call: ArmCall,
): Promise<Map<string, VmAddresses>> {
  const base = `${call.armEndpoint.replace(/\/+$/, '')}/subscriptions/${encodeURIComponent(subscription)}/providers/Microsoft.Network`;
  const [nics, pips] = await Promise.all([
    listAll<ArmNic>(http, `${base}/networkInterfaces?api-version=${NETWORK_API_VERSION}`, call),
    listAll<ArmPublicIp>(http, `${base}/publicIPAddresses?api-version=${NETWORK_API_VERSION}`, call),
  ]);
  const publicById = new Map<string, string>();
  for (const p of pips) if (p.id && p.properties?.ipAddress) publicById.set(p.id.toLowerCase(), p.properties.ipAddress);
  const out = new Map<string, VmAddresses>();
  // Primary NICs first, so a VM's primary NIC wins over its secondary ones.
  const ordered = [...nics].sort(
    (a, b) => Number(b.properties?.primary ?? false) - Number(a.properties?.primary ?? false),
  );
  for (const nic of ordered) {
    const vmId = nic.properties?.virtualMachine?.id?.toLowerCase();
    if (!vmId || out.has(vmId)) continue;
    const configs = [...(nic.properties?.ipConfigurations ?? [])].sort(
      (a, b) => Number(b.properties?.primary ?? false) - Number(a.properties?.primary ?? false),
    );
    const cfg = configs[0]?.properties;
    const pipId = cfg?.publicIPAddress?.id?.toLowerCase();
    out.set(vmId, {
      privateIp: cfg?.privateIPAddress ?? null,
      publicIp: pipId ? (publicById.get(pipId) ?? null) : null,
    });
  }
  return out;
}
