import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export type Reply = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number } | 'hang';

/** A local HTTP receiver on 127.0.0.1 that records requests and answers from a script (then 200). For tests and benches. */
export class TestReceiver {
  readonly received: Received[] = [];
  script: Reply[] = [];
  fallback: Reply = { status: 200, body: 'ok' };
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const r = this.script.length ? this.script.shift()! : this.fallback;
        if (r === 'hang') return;
        const reply = () => {
          res.writeHead(r.status, r.headers ?? {});
          res.end(r.body ?? '');
        };
        if (r.delayMs) setTimeout(reply, r.delayMs);
        else reply();
      });
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    this.server = null;
  }
}
