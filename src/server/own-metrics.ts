/** Vigil's own metrics (`GET /metrics`), kept by the server and rendered in Prometheus text format. */

/** Prometheus label value escaping (backslash, quote, newline). */
function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function labelText(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${labelValue(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** A cumulative histogram per label set (the label sets seen so far). */
export class Histogram {
  readonly name: string;
  readonly help: string;
  readonly bucketsS: readonly number[];
  private readonly series = new Map<
    string,
    { labels: Record<string, string>; counts: number[]; sum: number; n: number }
  >();

  constructor(name: string, help: string, bucketsS: readonly number[]) {
    this.name = name;
    this.help = help;
    this.bucketsS = bucketsS;
  }

  observe(labels: Record<string, string>, value: number): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: new Array<number>(this.bucketsS.length).fill(0), sum: 0, n: 0 };
      this.series.set(key, s);
    }
    s.n++;
    s.sum += value;
    for (let i = 0; i < this.bucketsS.length; i++) if (value <= this.bucketsS[i]!) s.counts[i]!++;
  }

  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.bucketsS.forEach((b, i) => {
        out.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`);
      });
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.n}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.n}`);
    }
    return out;
  }
}

/** A counter per label set. */
export class Counter {
  readonly name: string;
  readonly help: string;
  private readonly values = new Map<string, number>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  inc(labels: Record<string, string>, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.values) out.push(`${this.name}${k} ${v}`);
    return out;
  }
}

const HTTP_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const CYCLE_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** What the server counts itself: HTTP requests and latency, push ingest, ingest by origin, cycles, alert transitions. */
export class HttpMetrics {
  readonly requests = new Counter('vigil_http_requests_total', 'HTTP requests served.');
  readonly latency = new Histogram(
    'vigil_http_request_duration_seconds',
    'HTTP request latency by method, route and status.',
    HTTP_BUCKETS_S,
  );
  readonly cycleDuration = new Histogram(
    'vigil_collection_cycle_duration_seconds',
    'Duration of collection cycles.',
    CYCLE_BUCKETS_S,
  );
  readonly ingested = new Counter(
    'vigil_ingest_samples_total',
    'Samples stored, by origin (collect, push, import, derived).',
  );
  readonly outcomes = new Counter(
    'vigil_ingest_outcomes_total',
    'Collection outcomes stored, by origin and result (success, failure).',
  );
  readonly sourceCollections = new Counter(
    'vigil_source_collections_total',
    'Collection attempts per source, by outcome (success, failure).',
  );
  readonly alertTransitions = new Counter('vigil_alert_events_total', 'Alert events by kind (fired, resolved, …).');
  ingestedSamples = 0;
  ingestRequests = 0;
  ingestRejected = 0;
  sseClients = 0;

  observe(route: string, method: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.latency.observe(labels, seconds);
  }

  render(): string {
    const out: string[] = [
      ...this.requests.render(),
      ...this.latency.render(),
      ...this.cycleDuration.render(),
      ...this.ingested.render(),
      ...this.outcomes.render(),
      ...this.sourceCollections.render(),
      ...this.alertTransitions.render(),
    ];
    out.push('# TYPE vigil_push_samples_total counter', `vigil_push_samples_total ${this.ingestedSamples}`);
    out.push('# TYPE vigil_push_requests_total counter', `vigil_push_requests_total ${this.ingestRequests}`);
    out.push('# TYPE vigil_push_rejected_total counter', `vigil_push_rejected_total ${this.ingestRejected}`);
    out.push('# TYPE vigil_live_clients gauge', `vigil_live_clients ${this.sseClients}`);
    return `${out.join('\n')}\n`;
  }
}
