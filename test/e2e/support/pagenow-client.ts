// A client that speaks exactly PageNow's presence protocol, as its Chrome extension's background script does (unchanged).
import WebSocket from 'ws';
import type { Message } from './ws-peer';

/** The origin of PageNow's published extension (its background script's WebSocket sends it). */
export const PAGENOW_ORIGIN = 'chrome-extension://lplobiaakhgkjcldopgkbcibeilddbmc';

/**
 * PageNow's background script, reduced to its presence part: `new WebSocket(`${host}?Authorization=${jwt}`)` with a
 * host ending in `/` (its API Gateway stage URL), `{"action":"heartbeat","jwt"}` from a once-a-minute Chrome alarm, and
 * `{"action":"update-presence","url","title","jwt"}` where `url` is a `URL` object (or '' when its own filter hides the
 * page). It reads `type`, `userId`, `url`, `title` and `domain` of what it receives.
 */
export class PageNowClient {
  readonly messages: Message[] = [];
  /** Epoch ms of every heartbeat sent. */
  readonly beats: number[] = [];
  /** Epoch ms of every alarm (a beat is sent only while the socket is open, as PageNow does). */
  readonly alarms: number[] = [];
  closed: { code: number; reason: string; at: number } | undefined;
  private alarm: NodeJS.Timeout | undefined;

  private constructor(
    readonly socket: WebSocket,
    private readonly jwt: string,
  ) {
    socket.on('message', (data) => {
      try {
        this.messages.push(JSON.parse(data.toString()) as Message);
      } catch {
        this.messages.push({ type: '__raw', raw: data.toString() });
      }
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString(), at: Date.now() };
    });
    socket.on('error', () => undefined);
  }

  /** Connects as PageNow does: `${presenceWsHost}?Authorization=${jwt}`, the token not URL-encoded. */
  static async connect(presenceWsHost: string, jwt: string): Promise<PageNowClient> {
    const socket = new WebSocket(`${presenceWsHost}?Authorization=${jwt}`, { origin: PAGENOW_ORIGIN });
    const client = new PageNowClient(socket, jwt);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused with ${res.statusCode}`)));
      socket.once('error', reject);
    });
    return client;
  }

  /** `sendPresenceWebsocket(url, title)`: PageNow sends the URL object itself (JSON turns it into its href). */
  sendPresence(url: string, title: string): void {
    const data = { action: 'update-presence', url: url ? new URL(url) : '', title, jwt: this.jwt };
    this.socket.send(JSON.stringify(data));
  }

  /** The `pagenow-heartbeat` alarm's message, sent only while the socket is open. */
  heartbeat(at = Date.now()): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.beats.push(at);
    this.socket.send(JSON.stringify({ action: 'heartbeat', jwt: this.jwt }));
  }

  /** Starts the once-a-"minute" alarm (`periodMs`, scaled down in tests); `delays` overrides the gaps one by one. */
  startAlarm(periodMs: number, delays: number[] = []): void {
    this.stopAlarm();
    const schedule = () => {
      this.alarm = setTimeout(() => {
        const at = Date.now();
        this.alarms.push(at);
        this.heartbeat(at);
        schedule();
      }, delays.shift() ?? periodMs);
    };
    schedule();
  }

  stopAlarm(): void {
    if (this.alarm) clearTimeout(this.alarm);
    this.alarm = undefined;
  }

  /** Messages of `type` about `userId`, reduced to what PageNow's background script reads. */
  seen(userId: string, type = 'update-presence'): Pick<Message, 'type' | 'userId' | 'url' | 'title' | 'domain'>[] {
    return this.messages
      .filter((m) => m.type === type && m.userId === userId)
      .map(({ type: t, userId: u, url, title, domain }) => ({ type: t, userId: u, url, title, domain }));
  }

  /** Waits until a message matches, or throws after `timeoutMs`. */
  async waitFor(predicate: (m: Message) => boolean, timeoutMs = 5000, what = 'message'): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** `disconnectPresenceWebsocket()`. */
  async close(): Promise<void> {
    this.stopAlarm();
    if (this.closed) return;
    this.socket.close();
    const deadline = Date.now() + 3000;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!this.closed) this.socket.terminate();
  }
}
