// Groups deliveries into @connections calls: one message per call, or `presence-batch` messages of at most 32 KB for
// connections that opted in (one element per user: the newest).
import type { Delivery } from './ports';

/** One `@connections` POST. */
export interface Call {
  readonly connectionId: string;
  readonly ownerId: string;
  readonly connectedAt: number;
  /** The deliveries this call carries (one, or a batch's elements). */
  readonly deliveries: readonly Delivery[];
  /** The JSON text posted. */
  readonly body: string;
}

/** Bytes of the batch envelope `{"type":"presence-batch","changes":[]}`. */
const ENVELOPE = Buffer.byteLength('{"type":"presence-batch","changes":[]}');

/** Plans the calls for `deliveries`, keeping their order per connection. */
export function planCalls(deliveries: readonly Delivery[], maxBatchBytes: number): Call[] {
  const byConnection = new Map<string, Delivery[]>();
  for (const d of deliveries) {
    const list = byConnection.get(d.connectionId);
    if (list) list.push(d);
    else byConnection.set(d.connectionId, [d]);
  }
  // A change's message object is shared by every connection it goes to: its JSON text is made once.
  const texts = new Map<Delivery['message'], { text: string; bytes: number }>();
  const textOf = (d: Delivery): { text: string; bytes: number } => {
    let t = texts.get(d.message);
    if (!t) {
      const text = JSON.stringify(d.message);
      t = { text, bytes: Buffer.byteLength(text) };
      texts.set(d.message, t);
    }
    return t;
  };
  const calls: Call[] = [];
  for (const [connectionId, list] of byConnection) {
    const first = list[0] as Delivery;
    const base = { connectionId, ownerId: first.ownerId, connectedAt: first.connectedAt };
    // Only the newest message per user is ever worth sending.
    const newest = new Map<string, Delivery>();
    const loose: Delivery[] = [];
    for (const d of list) {
      if (d.fromUserId === '') loose.push(d);
      else if ((newest.get(d.fromUserId)?.v ?? -1) < d.v) newest.set(d.fromUserId, d);
    }
    const items = [...loose, ...newest.values()];
    const batchable = items.filter((d) => d.batch && d.fromUserId !== '');
    if (!first.batch || batchable.length < 2) {
      for (const d of items) calls.push({ ...base, deliveries: [d], body: textOf(d).text });
      continue;
    }
    const inBatches = new Set(batchable);
    for (const d of items) if (!inBatches.has(d)) calls.push({ ...base, deliveries: [d], body: textOf(d).text });
    let chunk: Delivery[] = [];
    let parts: string[] = [];
    let size = ENVELOPE;
    const flush = () => {
      if (chunk.length === 0) return;
      const body =
        chunk.length === 1 ? (parts[0] as string) : `{"type":"presence-batch","changes":[${parts.join(',')}]}`;
      calls.push({ ...base, deliveries: chunk, body });
      chunk = [];
      parts = [];
      size = ENVELOPE;
    };
    for (const d of batchable) {
      const { text, bytes } = textOf(d);
      if (size + bytes + (parts.length > 0 ? 1 : 0) > maxBatchBytes) flush();
      chunk.push(d);
      parts.push(text);
      size += bytes + (parts.length > 1 ? 1 : 0);
    }
    flush();
  }
  return calls;
}
