// A stand-in for API Gateway's @connections management API (AWS cannot run here), mocked at the HTTP boundary only.
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';

/** One request the fake received. */
export interface ConnectionsCall {
  readonly method: string;
  readonly connectionId: string;
  readonly body: string;
  readonly at: number;
}

/** The fake API: records posts and deletes, answers 410 for gone ids, 429 for the first N requests when asked. */
export class FakeConnectionsApi {
  readonly calls: ConnectionsCall[] = [];
  /** Connection ids answered with 410 GoneException. */
  readonly gone = new Set<string>();
  /** Connection ids answered with 500 (a broken delivery). */
  readonly failing = new Set<string>();
  /** How many upcoming requests get 429 TooManyRequestsException. */
  throttleNext = 0;
  /** Every POST answered with 500 (an outage of the management API). */
  failAll = false;
  /** How many upcoming POSTs are never answered (the client's request timeout fires). */
  stallNext = 0;
  /** Milliseconds every answer waits (a slow API: fan-outs stay in flight). */
  delayMs = 0;
  private readonly stalled: ServerResponse[] = [];
  private server: Server | undefined;
  endpoint = '';

  async start(stage = 'test'): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const match = /\/@connections\/([^/?]+)/.exec(req.url ?? '');
        const connectionId = decodeURIComponent(match?.[1] ?? '');
        const body = Buffer.concat(chunks).toString('utf8');
        if (this.throttleNext > 0) {
          this.throttleNext -= 1;
          res.writeHead(429, { 'content-type': 'application/json', 'x-amzn-errortype': 'TooManyRequestsException' });
          res.end(JSON.stringify({ message: 'Too Many Requests' }));
          return;
        }
        if (req.method === 'POST' && this.stallNext > 0) {
          this.stallNext -= 1;
          this.stalled.push(res);
          return;
        }
        if (req.method === 'POST' && this.failAll) {
          res.writeHead(500, {
            'content-type': 'application/json',
            'x-amzn-errortype': 'InternalServerErrorException',
          });
          res.end(JSON.stringify({ message: 'Internal' }));
          return;
        }
        if (this.delayMs > 0) {
          setTimeout(() => this.answer(req.method ?? '', connectionId, body, res), this.delayMs);
          return;
        }
        this.answer(req.method ?? '', connectionId, body, res);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.endpoint = `http://127.0.0.1:${port}/${stage}`;
    return this;
  }

  private answer(method: string, connectionId: string, body: string, res: ServerResponse): void {
    this.calls.push({ method, connectionId, body, at: Date.now() });
    if (this.failing.has(connectionId)) {
      res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalServerErrorException' });
      res.end(JSON.stringify({ message: 'Internal' }));
      return;
    }
    if (this.gone.has(connectionId)) {
      res.writeHead(410, { 'content-type': 'application/json', 'x-amzn-errortype': 'GoneException' });
      res.end(JSON.stringify({ message: 'Gone' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(method === 'GET' ? JSON.stringify({ connectedAt: new Date().toISOString() }) : '');
  }

  /** Parsed JSON messages posted to `connectionId`. */
  messagesTo(connectionId: string): Record<string, unknown>[] {
    return this.calls
      .filter((c) => c.method === 'POST' && c.connectionId === connectionId)
      .map((c) => JSON.parse(c.body) as Record<string, unknown>);
  }

  /** Connection ids that got a DELETE. */
  deleted(): string[] {
    return this.calls.filter((c) => c.method === 'DELETE').map((c) => c.connectionId);
  }

  reset(): void {
    this.calls.length = 0;
    this.gone.clear();
    this.failing.clear();
    this.throttleNext = 0;
    this.failAll = false;
    this.stallNext = 0;
    this.delayMs = 0;
    this.releaseStalled();
  }

  /** Drops the connections of the requests that were never answered. */
  releaseStalled(): void {
    for (const res of this.stalled.splice(0)) res.destroy();
  }

  async stop(): Promise<void> {
    this.releaseStalled();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
