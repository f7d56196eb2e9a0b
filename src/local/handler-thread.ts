// One handler thread of the local stack (see handler-pool.ts): loads every handler, connects its own stores, runs the
// invocations the main thread sends, and reaches the work queue and the event bus through the main thread.
import './log-defaults';
import { parentPort } from 'node:worker_threads';
import type { EventPublisher, SweepQueue } from '@presence/layer';
import { getRuntime, shutdownRuntime, useLocalAdapters } from '@presence/layer';
import type { FromThread, HostCall, ToThread } from './handler-pool';
import { loadHandlers } from './handler-registry';

const port = parentPort;
if (!port) throw new Error('handler-thread.ts runs inside a handler pool thread only');

const waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
let nextCall = 0;

const post = (message: FromThread): void => port.postMessage(message);

/** One call to a port of the main thread; resolves when the main thread has done it. */
function host(call: HostCall): Promise<void> {
  nextCall += 1;
  const id = nextCall;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    post({ kind: 'host', id, ...call });
  });
}

const queue: SweepQueue = {
  notify: (shards, delayMs) => host({ op: 'notify', shards: [...shards], delayMs }),
  send: (message) => host({ op: 'send', message }),
};
const events: EventPublisher = { publish: (list) => host({ op: 'publish', events: list }) };

async function main(): Promise<void> {
  useLocalAdapters({ queue, events });
  const handlers = await loadHandlers();
  await getRuntime(); // connect now: the first invocation should not pay for it, and a bad setting fails the start
  port!.on('message', (message: ToThread) => {
    if (message.kind === 'host-reply') {
      const w = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error === undefined) w?.resolve();
      else w?.reject(new Error(message.error));
    } else if (message.kind === 'invoke') {
      const context = {
        functionName: message.name,
        awsRequestId: message.requestId,
        getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
      };
      handlers[message.name](message.event, context).then(
        (value) => post({ kind: 'result', id: message.id, value }),
        (error: unknown) => {
          const e = error instanceof Error ? error : new Error(String(error));
          post({ kind: 'error', id: message.id, name: e.name, message: e.message, stack: e.stack });
        },
      );
    } else if (message.kind === 'stop') {
      shutdownRuntime()
        .catch(() => undefined)
        .finally(() => post({ kind: 'stopped' }));
    }
  });
  post({ kind: 'ready' });
}

main().catch((error: unknown) => post({ kind: 'failed-start', error: String(error) }));
