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
      for (const d of items) calls.push({ ...base, deliveries: [d], body: JSON.stringify(d.message) });
      continue;
    }
    for (const d of items.filter((x) => !batchable.includes(x)))
      calls.push({ ...base, deliveries: [d], body: JSON.stringify(d.message) });
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
      const text = JSON.stringify(d.message);
      const bytes = Buffer.byteLength(text) + (parts.length > 0 ? 1 : 0);
      if (size + bytes > maxBatchBytes) flush();
      chunk.push(d);
      parts.push(text);
      size += Buffer.byteLength(text) + (parts.length > 1 ? 1 : 0);
    }
    flush();
  }
  return calls;
}
