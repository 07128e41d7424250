/** Vigil's own HTTP counters and latency histogram, rendered in Prometheus text format. */
const BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class HttpMetrics {
  private readonly requests = new Map<string, number>();
  private readonly buckets = new Array<number>(BUCKETS_S.length).fill(0);
  private count = 0;
  private sumS = 0;
  ingestedSamples = 0;
  ingestRequests = 0;
  ingestRejected = 0;
  sseClients = 0;

  observe(route: string, method: string, status: number, seconds: number): void {
    const key = `method="${method}",route="${route.replace(/["\\]/g, '')}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    this.count++;
    this.sumS += seconds;
    for (let i = 0; i < BUCKETS_S.length; i++) if (seconds <= BUCKETS_S[i]!) this.buckets[i]!++;
  }

  render(): string {
    const out: string[] = [];
    out.push('# HELP vigil_http_requests_total HTTP requests served.', '# TYPE vigil_http_requests_total counter');
    for (const [k, v] of this.requests) out.push(`vigil_http_requests_total{${k}} ${v}`);
    out.push(
      '# HELP vigil_http_request_duration_seconds HTTP request latency.',
      '# TYPE vigil_http_request_duration_seconds histogram',
    );
    BUCKETS_S.forEach((b, i) => {
      out.push(`vigil_http_request_duration_seconds_bucket{le="${b}"} ${this.buckets[i]}`);
    });
    out.push(`vigil_http_request_duration_seconds_bucket{le="+Inf"} ${this.count}`);
    out.push(`vigil_http_request_duration_seconds_sum ${this.sumS}`);
    out.push(`vigil_http_request_duration_seconds_count ${this.count}`);
    out.push('# TYPE vigil_push_samples_total counter', `vigil_push_samples_total ${this.ingestedSamples}`);
    out.push('# TYPE vigil_push_requests_total counter', `vigil_push_requests_total ${this.ingestRequests}`);
    out.push('# TYPE vigil_push_rejected_total counter', `vigil_push_rejected_total ${this.ingestRejected}`);
    out.push('# TYPE vigil_live_clients gauge', `vigil_live_clients ${this.sseClients}`);
    return `${out.join('\n')}\n`;
  }
}
