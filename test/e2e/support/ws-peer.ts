// A real WebSocket client for protocol tests: connects with a token, records every server message, waits for one.
import WebSocket from 'ws';

/** A server message as JSON. */
export type Message = Record<string, unknown> & { type?: string; userId?: string };

/** One open connection and what it received. */
export class WsPeer {
  readonly messages: Message[] = [];
  closed: { code: number; reason: string } | undefined;
  private waiters: (() => void)[] = [];
  private beat: NodeJS.Timeout | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      try {
        this.messages.push(JSON.parse(data.toString()) as Message);
      } catch {
        this.messages.push({ type: '__raw', raw: data.toString() });
      }
      this.notify();
    });
    socket.on('close', (code, reason) => {
      this.stopHeartbeats();
      this.closed = { code, reason: reason.toString() };
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  /** Opens a connection with the token as a subprotocol (default) or in the query string. */
  static async connect(
    wsUrl: string,
    token: string,
    via: 'subprotocol' | 'query' = 'subprotocol',
    headers: Record<string, string> = {},
  ): Promise<WsPeer> {
    const socket =
      via === 'query'
        ? new WebSocket(`${wsUrl}?Authorization=${encodeURIComponent(token)}`, { headers })
        : new WebSocket(wsUrl, ['presence.v1', token], { headers });
    const peer = new WsPeer(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) => reject(new HandshakeError(res.statusCode ?? 0)));
      socket.once('error', reject);
    });
    return peer;
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Sends a JSON message (or a raw string). */
  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /**
   * Sends a heartbeat every `everyMs` until the socket closes or `stopHeartbeats` is called. The timer belongs to the
   * peer (and is unref'd), so a test that fails half way cannot leave it running and keep Jest from exiting.
   */
  heartbeatEvery(everyMs: number): void {
    this.stopHeartbeats();
    this.beat = setInterval(() => {
      if (!this.closed && this.socket.readyState === WebSocket.OPEN) this.send({ action: 'heartbeat' });
    }, everyMs);
    this.beat.unref();
  }

  /** Stops the heartbeats started by `heartbeatEvery`. */
  stopHeartbeats(): void {
    if (this.beat) clearInterval(this.beat);
    this.beat = undefined;
  }

  /** Waits for a message matching `predicate` (among all received so far), or throws after `timeoutMs`. */
  async waitFor(predicate: (m: Message) => boolean, timeoutMs = 5000, what = 'message'): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until the socket is closed; returns the close code and reason. */
  async waitForClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('timed out waiting for close');
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.closed;
  }

  /** Messages of `type` about `userId`. */
  about(userId: string, type = 'update-presence'): Message[] {
    return this.messages.filter((m) => m.type === type && m.userId === userId);
  }

  /** Forgets what was received so far. */
  clear(): void {
    this.messages.length = 0;
  }

  /** Closes the connection and waits for the close to complete. */
  async close(code = 1000): Promise<void> {
    this.stopHeartbeats();
    if (this.closed) return;
    this.socket.close(code);
    await this.waitForClose().catch(() => this.socket.terminate());
  }
}

/** A refused upgrade, with the HTTP status. */
export class HandshakeError extends Error {
  constructor(readonly status: number) {
    super(`handshake refused with ${status}`);
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
